import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The Node the end-to-end tests run the built CLI with: `ENVWATCH_TEST_NODE` (a path to a node
 * binary; scripts/test-nodes.mjs sets it to Node 22 and 24 in turn), else the Node running the
 * tests. One that is not there, or is not a node, fails the test file at once: never a quiet run
 * on another Node.
 */
export const cliNode = process.env['ENVWATCH_TEST_NODE'] || process.execPath;

function versionOf(node: string): string {
	const probe = spawnSync(node, ['--version'], {encoding: 'utf8', timeout: 30_000});
	const version = probe.stdout?.trim() ?? '';
	if (probe.error || probe.status !== 0 || !/^v\d+\.\d+\.\d+$/.test(version)) {
		throw new Error(`ENVWATCH_TEST_NODE=${node}: not a node binary that runs (${probe.error ? (probe.error as NodeJS.ErrnoException).code ?? probe.error.message : `exit ${probe.status}, printed ${JSON.stringify(version.slice(0, 80))}`}) — expected the path of the node to run the CLI with, e.g. <dir>/node_modules/.bin/node after npm install --prefix <dir> node@22`);
	}

	return version;
}

/** `process.version` of the CLI's Node (`v22.23.3`). */
export const cliNodeVersion = cliNode === process.execPath ? process.version : versionOf(cliNode);

/**
 * A directory whose `node` is the CLI's Node, for PATH in the terminal tests (which type `node ...`
 * into a shell); undefined when that is the Node running the tests. Made once per test file, in its
 * temporary root.
 */
export function cliNodeBinDir(): string | undefined {
	if (cliNode === process.execPath) {
		return undefined;
	}

	const dir = path.join(os.tmpdir(), 'envwatch-test-node-bin');
	if (!fs.existsSync(path.join(dir, 'node'))) {
		fs.mkdirSync(dir, {recursive: true});
		fs.symlinkSync(path.resolve(cliNode), path.join(dir, 'node'));
	}

	return dir;
}
