import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {cliNode} from './node.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const cliPath = path.join(root, 'dist', 'bin', 'cli.js');

if (!fs.existsSync(cliPath)) {
	throw new Error(`The built CLI is missing at ${cliPath}: run \`npm run build\` first (npm test does).`);
}

/**
 * A fresh directory under the temporary directory, which under vitest is the test file's own
 * temporary root (test/helpers/tmp-root.ts): removed with everything in it after the file.
 */
export function tempDir(prefix = 'envwatch-test-'): string {
	return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * An environment with no user config or state from the machine running the tests. It keeps this
 * process's TMPDIR (the test file's temporary root), so what the CLI makes there (demo state dirs)
 * is removed with the root.
 */
export function isolatedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
	const {AWS_PROFILE: _profile, NO_COLOR: _noColor, ...rest} = process.env;
	return {...rest, ENVWATCH_CONFIG_DIR: tempDir('envwatch-config-'), ENVWATCH_STATE_DIR: tempDir('envwatch-state-'), ...extra};
}

export type Run = {code: number | null; stdout: string; stderr: string};

/** Runs the built CLI to completion (stdin closed: not a terminal), with the tests' CLI Node (test/helpers/node.ts). */
export async function runCli(args: string[], options: {env?: NodeJS.ProcessEnv; input?: string} = {}): Promise<Run> {
	const child = spawn(cliNode, [cliPath, ...args], {env: options.env ?? isolatedEnv(), cwd: root});
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', chunk => (stdout += chunk));
	child.stderr.on('data', chunk => (stderr += chunk));
	child.stdin.end(options.input ?? '');
	const code = await new Promise<number | null>(resolve => child.on('close', resolve));
	return {code, stdout, stderr};
}

/** A long-running CLI whose output lines can be awaited. */
export class CliProcess {
	readonly child: ChildProcessWithoutNullStreams;
	stdout = '';
	stderr = '';
	private readonly exited: Promise<number | null>;

	constructor(args: string[], env: NodeJS.ProcessEnv) {
		this.child = spawn(cliNode, [cliPath, ...args], {env, cwd: root});
		this.child.stdout.on('data', chunk => (this.stdout += chunk));
		this.child.stderr.on('data', chunk => (this.stderr += chunk));
		this.exited = new Promise(resolve => this.child.on('close', resolve));
	}

	lines(): string[] {
		return this.stdout.split('\n').filter(Boolean);
	}

	/** Waits until a stdout line satisfies `predicate` (fails after `deadlineMs`, with the output). */
	async waitForLine(predicate: (line: string) => boolean, deadlineMs = 20_000): Promise<string> {
		const until = Date.now() + deadlineMs;
		while (Date.now() < until) {
			const line = this.lines().find(predicate);
			if (line) {
				return line;
			}

			await new Promise(resolve => setTimeout(resolve, 50));
		}

		throw new Error(`no such line within ${deadlineMs} ms; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
	}

	/** Its exit code once it has ended by itself. */
	async exit(): Promise<number | null> {
		return this.exited;
	}

	async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
		this.child.kill(signal);
		return this.exited;
	}
}
