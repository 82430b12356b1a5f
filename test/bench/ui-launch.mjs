// Launch to first full frame: `node dist/bin/cli.js --demo calm` (the bundle) in a pseudo-terminal (script(1)) at
// 80x24, timed from spawn until the key bar of the first frame with data has been written.
// Median of N runs after a warm-up, which stores the compiled code as a user's first start does
// (Node 22+'s compile cache, and envwatch's own for Ink and React: source/boot/script-cache.ts); then the
// median of 3 first starts (an empty cache dir each), and one run with module hooks proving the
// AWS SDK is never loaded in demo. On Linux it also reports the CPU the CLI used up to that frame
// (schedstat), which, unlike the wall time, does not grow while a busy machine keeps it waiting.
// Run: npm run build && node test/bench/ui-launch.mjs [runs]; ENVWATCH_BENCH_NODE=/path/to/node runs both the
// CLI and the bare node with that Node (e.g. 22 or 24, whose compile cache the CLI turns on).
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {median} from './ui-fixture.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = path.join(root, 'dist', process.env.ENVWATCH_BENCH_ENTRY ?? 'bin/cli.js');
const guard = fileURLToPath(new URL('ui-sdk-guard.js', import.meta.url));
const node = process.env.ENVWATCH_BENCH_NODE ?? 'node';

/** Temporary dirs of this run, removed at its end (once every child is gone). */
const made = [];

/** `bare`: a bare node printing one line in the same pseudo-terminal, the floor to compare with. */
function launchOnce(extraNodeArgs = [], env = {}, bare = false) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-bench-launch-'));
	made.push(dir);
	const command = bare
		? `stty cols 80 rows 24; exec ${node} -e "console.log('global q quit')"`
		: `stty cols 80 rows 24; exec ${node} ${extraNodeArgs.join(' ')} ${cli} --demo calm --state-dir ${dir}/state`;
	const childEnv = {...process.env, ...env, TERM: 'xterm-256color'};
	delete childEnv.CI;
	delete childEnv.CONTINUOUS_INTEGRATION;
	return new Promise((resolve, reject) => {
		const started = process.hrtime.bigint();
		const child = spawn('script', ['-qfec', command, '/dev/null'], {env: childEnv, stdio: ['pipe', 'pipe', 'inherit']});
		let output = '';
		let seen = false;
		child.stdin.on('error', () => undefined);
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`no full frame within 20 s; got:\n${output}`));
		}, 20_000);
		child.stdout.on('data', chunk => {
			output += chunk.toString('utf8');
			// The first frame with data ends with the key bar; "waiting for the first poll" has none.
			if (!seen && /global/.test(output) && /q.*quit/.test(output)) {
				seen = true;
				const ms = Number(process.hrtime.bigint() - started) / 1e6;
				const cpu = bare ? undefined : cpuOf(child.pid);
				globalThis.clearTimeout(timer);
				child.stdin.write('q');
				child.once('exit', () => resolve({ms, ...cpu}));
			}
		});
	});
}

/**
 * The CPU the CLI has used so far (ms), all its threads and its main thread alone, from Linux's
 * schedstat (nanoseconds on a CPU): unlike the wall time, it does not grow while the process waits
 * for a core, so it compares builds on a busy machine. The CLI is the one child of script(1) (sh
 * execs node). Undefined where /proc has no schedstat.
 */
function cpuOf(scriptPid) {
	try {
		const [pid] = fs.readFileSync(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8').trim().split(/\s+/);
		const onCpu = task => Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
		const tasks = fs.readdirSync(`/proc/${pid}/task`);
		return {cpu: tasks.reduce((sum, task) => sum + onCpu(task), 0), mainCpu: onCpu(pid)};
	} catch {
		return undefined;
	}
}

function nodeVersion() {
	return spawnSync(node, ['--version'], {encoding: 'utf8'}).stdout.trim();
}

export async function run(runs = Number(process.env.ENVWATCH_BENCH_RUNS ?? 9)) {
	if (!fs.existsSync(cli)) {
		throw new Error('run npm run build first');
	}

	await launchOnce();
	const launches = [];
	for (let index = 0; index < runs; index++) {
		launches.push(await launchOnce());
	}

	const times = launches.map(launch => launch.ms);
	const cpu = launches.map(launch => launch.cpu).filter(value => value !== undefined);
	const mainCpu = launches.map(launch => launch.mainCpu).filter(value => value !== undefined);

	const cold = [];
	for (let index = 0; index < 3; index++) {
		const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-bench-cache-'));
		made.push(cache);
		cold.push((await launchOnce([], {XDG_CACHE_HOME: cache})).ms);
	}

	const bare = [];
	for (let index = 0; index < runs; index++) {
		bare.push((await launchOnce([], {}, true)).ms);
	}

	const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-bench-sdk-'));
	made.push(logDir);
	const log = path.join(logDir, 'sdk.log');
	await launchOnce([`--import ${guard}`], {ENVWATCH_SDK_LOG: log});
	const sdk = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
	for (const dir of made.splice(0)) {
		fs.rmSync(dir, {recursive: true, force: true});
	}

	return [
		`launch to first full frame (--demo, 80x24, ${runs} runs after a warm-up): median ${median(times).toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}) on ${os.cpus().length} cores, Node ${nodeVersion()}; bare node printing one line: median ${median(bare).toFixed(0)} ms; ratio ${(median(times) / median(bare)).toFixed(1)}x`,
		...(cpu.length > 0 ? [`CPU to that frame (the same runs, not counting waits for a core): median ${median(cpu).toFixed(0)} ms in all threads, ${median(mainCpu).toFixed(0)} ms on the main thread; load average ${os.loadavg().map(load => load.toFixed(2)).join(' ')}`] : []),
		`first start, nothing cached yet: median ${median(cold).toFixed(0)} ms of 3`,
		`AWS SDK modules loaded in demo: ${sdk.length}${sdk.length > 0 ? ` (${sdk.slice(0, 3).join(', ')})` : ''}`,
	];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
	console.log((await run(Number(process.argv[2] ?? 9))).join('\n'));
}
