#!/usr/bin/env node
// The end-to-end subset with the built CLI on other Node versions: the tests tagged `nodes` (the CLI
// as a process, a config store command, the dashboard in tmux, a run against moto), each Node in
// turn as ENVWATCH_TEST_NODE (test/helpers/node.ts), the tests themselves on this Node.
//
//   node scripts/test-nodes.mjs [--install] [MAJOR...]      MAJOR: 22 24 unless given
//
// Each Node is npm's `node` package, kept outside the repository (package-lock.json is not
// touched) in $ENVWATCH_NODE_CACHE, else <XDG cache dir>/envwatch-test-nodes/node-MAJOR. With
// --install, the newest release of each major is installed there when it is not already (about 6 s
// and 52 MB of download each). A Node that is missing, or not of its major, is a failure that says
// what to run: never skipped. Needs `npm run build` first (npm run test:nodes builds).
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const install = args.includes('--install');
const majors = args.filter(arg => arg !== '--install');
for (const major of majors) {
	if (!/^\d{2}$/.test(major)) {
		fail(`${major}: expected a Node major version like 22 (usage: node scripts/test-nodes.mjs [--install] [MAJOR...])`, 2);
	}
}

const cacheRoot = process.env.ENVWATCH_NODE_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'envwatch-test-nodes');

function fail(message, code = 1) {
	console.error(`test-nodes: ${message}`);
	process.exit(code);
}

function run(command, commandArgs, options = {}) {
	return spawnSync(command, commandArgs, {encoding: 'utf8', ...options});
}

function versionOf(node) {
	if (!fs.existsSync(node)) {
		return undefined;
	}

	const probe = run(node, ['--version']);
	return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/** The newest release of `major` on the registry (`npm view` lists versions sorted as strings, so sort them here). */
function newest(major) {
	const view = run('npm', ['view', `node@${major}`, 'version', '--json']);
	if (view.status !== 0) {
		return undefined;
	}

	const versions = [].concat(JSON.parse(view.stdout));
	const numeric = version => version.split('.').map(Number);
	return versions.sort((a, b) => {
		const [x, y] = [numeric(a), numeric(b)];
		return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
	}).at(-1);
}

/** The node binary of `major`, installed first with --install when it is not the newest. */
function nodeOf(major) {
	const dir = path.join(cacheRoot, `node-${major}`);
	const node = path.join(dir, 'node_modules', '.bin', 'node');
	const installed = versionOf(node);
	if (install) {
		const latest = newest(major);
		if (latest === undefined && !installed?.startsWith(`v${major}.`)) {
			fail(`Node ${major}: npm view node@${major} failed, and none is installed in ${dir}`);
		}

		if (latest === undefined) {
			console.log(`test-nodes: the registry did not answer; using the installed ${installed}`);
		} else if (installed !== `v${latest}`) {
			console.log(`test-nodes: installing node@${latest} in ${dir}${installed ? ` (was ${installed})` : ''}`);
			fs.rmSync(dir, {recursive: true, force: true});
			fs.mkdirSync(dir, {recursive: true});
			// The package's preinstall script fetches the platform's binary: scripts must run.
			const result = run('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', `node@${latest}`]);
			if (result.status !== 0) {
				fail(`npm install --prefix ${dir} node@${latest} failed (exit ${result.status}):\n${result.stderr}`);
			}
		}
	}

	const version = versionOf(node);
	if (!version?.startsWith(`v${major}.`)) {
		fail(`Node ${major} is not installed at ${node}${version ? ` (that one is ${version})` : ''}: run node scripts/test-nodes.mjs --install ${major} (npm install --prefix ${dir} node@${major})`);
	}

	return {node, version};
}

/** The test files that hold a test tagged `nodes`. */
function taggedFiles() {
	const files = [];
	const walk = dir => {
		for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
			const file = path.join(dir, entry.name);
			if (entry.isDirectory() && entry.name !== 'bench') {
				walk(file);
			} else if (/\.test\.tsx?$/.test(entry.name) && /tags: [^\n]*'nodes'/.test(fs.readFileSync(file, 'utf8'))) {
				files.push(path.relative(root, file));
			}
		}
	};

	walk(path.join(root, 'test'));
	return files.sort();
}

if (!fs.existsSync(path.join(root, 'dist', 'bin', 'cli.js'))) {
	fail('dist/bin/cli.js is missing: run npm run build first (npm run test:nodes does)');
}

const files = taggedFiles();
if (files.length === 0) {
	fail('no test is tagged nodes: expected tests with {tags: [\'nodes\']} under test/');
}

const nodes = (majors.length > 0 ? majors : ['22', '24']).map(major => nodeOf(major));
const summary = [];
for (const {node, version} of nodes) {
	console.log(`\ntest-nodes: the CLI on Node ${version} (${node}): ${files.join(' ')}`);
	const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-test-nodes-')), 'report.json');
	const started = Date.now();
	const result = run(process.execPath, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--tags-filter=nodes', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...files], {cwd: root, stdio: 'inherit', env: {...process.env, ENVWATCH_TEST_NODE: node}});
	const seconds = ((Date.now() - started) / 1000).toFixed(0);
	const counts = fs.existsSync(report) ? JSON.parse(fs.readFileSync(report, 'utf8')) : undefined;
	fs.rmSync(path.dirname(report), {recursive: true, force: true});
	const passed = counts?.numPassedTests ?? 0;
	if (result.status !== 0 || passed === 0 || (counts?.numFailedTests ?? 1) > 0) {
		fail(`Node ${version}: the subset failed (exit ${result.status}, ${passed} passed, ${counts?.numFailedTests ?? '?'} failed) in ${seconds} s`);
	}

	summary.push(`Node ${version}: ${passed} tests passed in ${seconds} s`);
}

console.log(`\ntest-nodes: ${summary.join('; ')}`);
