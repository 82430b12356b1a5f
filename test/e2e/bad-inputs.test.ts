import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {cliPath, isolatedEnv, root, tempDir, type Run} from '../helpers/cli.js';

/**
 * Inputs that used to hang the CLI, eat its memory or reach the terminal raw: each is exit 2 with a
 * message naming the bad thing and what is expected, and nothing polled or stopped.
 */

/** Runs the built CLI, killed after `deadlineMs` (code null then: it hung). */
async function runFor(args: string[], env: NodeJS.ProcessEnv, deadlineMs = 20_000): Promise<Run> {
	const child = spawn(process.execPath, [cliPath, ...args], {env, cwd: root});
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', chunk => (stdout += chunk));
	child.stderr.on('data', chunk => (stderr += chunk));
	child.stdin.end();
	const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
	const code = await new Promise<number | null>(resolve => child.on('close', resolve));
	clearTimeout(timer);
	return {code, stdout, stderr};
}

describe('--config that is not a JSON file', () => {
	it('a FIFO is refused at once (reading it waited for a writer for ever), exit 2, nothing polled', async () => {
		const fifo = path.join(tempDir(), 'config.json');
		expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
		const env = isolatedEnv();
		const run = await runFor(['--config', fifo, '--once', '--demo', 'dev-spike'], env);
		expect(run.code).toBe(2);
		expect(run.stderr).toBe(`envwatch: --config file ${fifo}: a FIFO, not a regular file — expected a JSON file\n`);
		expect(run.stdout).toBe('');
		expect(fs.readdirSync(env['ENVWATCH_STATE_DIR']!)).toEqual([]);
	});

	it('/dev/zero is refused without reading it (it read 2 GB)', async () => {
		const run = await runFor(['--config', '/dev/zero', '--once', '--demo'], isolatedEnv());
		expect(run.code).toBe(2);
		expect(run.stderr).toBe('envwatch: --config file /dev/zero: a character device, not a regular file — expected a JSON file\n');
	});
});

describe('AWS_ENDPOINT_URL is checked as --endpoint-url is', () => {
	it('AWS_ENDPOINT_URL=ftp://x: exit 2 with the same words as --endpoint-url ftp://x, before any call', async () => {
		const env = isolatedEnv({AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00', AWS_SECRET_ACCESS_KEY: 'not-a-real-secret', AWS_ENDPOINT_URL: 'ftp://x', AWS_EC2_METADATA_DISABLED: 'true'});
		const byVariable = await runFor(['--once', '--region', 'us-east-1'], env);
		expect(byVariable.code).toBe(2);
		expect(byVariable.stderr).toBe('envwatch: AWS_ENDPOINT_URL ftp://x: expected an http(s) URL with a host, e.g. http://127.0.0.1:5000\n');
		const {AWS_ENDPOINT_URL: _unset, ...withoutVariable} = env;
		const byFlag = await runFor(['--once', '--region', 'us-east-1', '--endpoint-url', 'ftp://x'], withoutVariable);
		expect(byFlag.code).toBe(2);
		expect(byFlag.stderr).toBe('envwatch: --endpoint-url ftp://x: expected an http(s) URL with a host, e.g. http://127.0.0.1:5000\n');
	});
});

describe('what a user typed is echoed escaped', () => {
	it('an ESC sequence in a flag value reaches stderr as \\x1b, not as a command to the terminal', async () => {
		const run = await runFor(['--interval', '\u001B[2J\u001B[3J', '--once', '--demo'], isolatedEnv());
		expect(run.code).toBe(2);
		expect(run.stderr).toBe('envwatch: --interval \\x1b[2J\\x1b[3J: expected a number of seconds from 1 to 86400\n');
	});

	it('start --count 99999999999999999999: exit 2 naming the count (it was a RangeError, exit 1)', async () => {
		const run = await runFor(['start', '-e', 'dev', '--count', '99999999999999999999', '--yes', '--demo', 'calm'], isolatedEnv());
		expect(run.code).toBe(2);
		expect(run.stderr).toBe('envwatch: --count 99999999999999999999: expected a whole number of agents from 1 to 10000\n');
	});
});
