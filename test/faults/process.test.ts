import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {cliPath, CliProcess, isolatedEnv, root, runCli, tempDir} from '../helpers/cli.js';
import {useTerminals} from '../helpers/tmux.js';
import {readAudit, stackLine, until, type Json} from './harness.js';

// Fault matrix, faults around the process that runs the engine: signals (a hung-up SSH session),
// a stale lock whose pid now names another process, a flood of connections, clients that lie,
// a dashboard whose terminal goes away. The built CLI on the simulated account (--demo): nothing
// here talks to AWS.

const running: CliProcess[] = [];
const others: ChildProcess[] = [];
const sockets: net.Socket[] = [];
const terminals = useTerminals();

afterEach(async () => {
	for (const socket of sockets.splice(0)) {
		socket.destroy();
	}

	for (const child of others.splice(0)) {
		child.kill('SIGKILL');
	}

	await Promise.all(running.splice(0).map(async cli => cli.stop('SIGKILL')));
});

function setup(): {env: NodeJS.ProcessEnv; state: string; audit: string} {
	const state = tempDir('envwatch-fault-state-');
	return {env: isolatedEnv(), state, audit: path.join(state, 'audit.log')};
}

/** `envwatch serve --demo calm` polling every second (a long-running CLI, killed after the test). */
async function serve(state: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<CliProcess> {
	const cli = new CliProcess(['serve', '--demo', 'calm', '--interval', '1', '--state-dir', state, ...extra], env);
	running.push(cli);
	await cli.waitForLine(line => line.includes(' poll '), 30_000);
	return cli;
}

/** A client on the socket as a person would write one by hand: lines sent as given, answers collected. */
function rawClient(socketPath: string): {socket: net.Socket; lines: Json[]; closed: Promise<void>; ready: Promise<void>} {
	const socket = net.createConnection(socketPath);
	sockets.push(socket);
	const lines: Json[] = [];
	let buffer = '';
	socket.on('data', chunk => {
		buffer += chunk.toString('utf8');
		const parts = buffer.split('\n');
		buffer = parts.pop()!;
		lines.push(...parts.filter(Boolean).map(line => JSON.parse(line) as Json));
	});
	socket.on('error', () => undefined);
	return {socket, lines, closed: new Promise(resolve => socket.once('close', () => resolve())), ready: new Promise(resolve => socket.once('connect', () => resolve()))};
}

const user = os.userInfo().username;

describe('fault matrix: signals', () => {
	it('SIGHUP to nohup envwatch serve (the SSH session ends): it keeps running and polling, says so once and records it; SIGTERM then ends it, exit 143, one down line', async () => {
		const {env, state, audit} = setup();
		// As on a jump host: `nohup envwatch serve &`; nohup ignores SIGHUP, which Node used to undo.
		const child = spawn('nohup', [process.execPath, cliPath, 'serve', '--demo', 'calm', '--interval', '1', '--state-dir', state], {env, cwd: root});
		others.push(child);
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', chunk => (stdout += chunk));
		child.stderr.on('data', chunk => (stderr += chunk));
		const exited = new Promise<number | null>(resolve => child.on('close', resolve));
		const pollCount = () => stdout.split('\n').filter(line => line.includes(' poll ')).length;
		await until(() => pollCount() > 0, 'the first poll', 30_000);
		child.kill('SIGHUP');
		child.kill('SIGHUP');
		const before = pollCount();
		await until(() => pollCount() > before + 1, 'polls after the SIGHUPs', 20_000);
		expect(child.exitCode).toBeNull();
		expect(stderr.match(/SIGHUP ignored: a server goes on when the terminal it was started from goes away \(stop it with SIGTERM\)/g)).toHaveLength(1);
		expect(readAudit(audit).filter(entry => entry['kind'] === 'signal')).toHaveLength(1);
		expect(readAudit(audit).filter(entry => entry['kind'] === 'down')).toEqual([]);

		child.kill('SIGTERM');
		expect(await exited).toBe(143);
		expect(readAudit(audit).filter(entry => entry['kind'] === 'down')).toEqual([expect.objectContaining({type: 'decision', actor: 'auto', environments: ['dev', 'staging', 'production'], reason: 'SIGTERM'})]);
		expect(stderr).not.toMatch(stackLine);
		expect(fs.existsSync(path.join(state, 'envwatch.lock'))).toBe(false);
	}, 60_000);

	it('a dashboard whose terminal goes away (the tmux server killed, as a dropped SSH session closes the pty) ends cleanly and records its end', async () => {
		const dir = terminals.dir();
		const state = path.join(dir, 'state');
		const session = await terminals.open(80, 24, {cwd: dir});
		session.run(`node ${cliPath} --demo calm --interval 1 --state-dir ${state}`);
		await session.waitFor(/dev +ACTIVE/);
		const pid = session.foregroundPid()!;
		expect(pid).toBeGreaterThan(0);
		await session.kill();
		await until(() => !fs.existsSync(`/proc/${pid}`), 'the dashboard to end', 20_000);
		const downs = readAudit(path.join(state, 'audit.log')).filter(entry => entry['kind'] === 'down');
		expect(downs).toEqual([expect.objectContaining({actor: 'auto', environments: ['dev', 'staging', 'production'], reason: expect.stringMatching(/the terminal is gone/) as string})]);
		expect(fs.existsSync(path.join(state, 'envwatch.lock'))).toBe(false);
	}, 60_000);
});

describe('fault matrix: a stale lock whose pid now names an unrelated process', () => {
	it('a lock left by a reboot (its pid is another process now, its heartbeat hours old): status says it is stale, and serve takes it over, recording why; the unrelated process is left alone', async () => {
		const {env, state, audit} = setup();
		const unrelated = spawn('sleep', ['120']);
		others.push(unrelated);
		const booted = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))![1]) * 1000;
		// Written as the earlier version wrote it (no start time, no boot id), before this host started.
		fs.writeFileSync(path.join(state, 'envwatch.lock'), JSON.stringify({version: 1, pid: unrelated.pid, host: os.hostname(), since: booted - 7_200_000, heartbeatAt: booted - 3_600_000, mode: 'serve', token: 'before-the-reboot'}));
		const status = await runCli(['status', '--state-dir', state], {env});
		expect(status.code).toBe(1);
		expect(status.stdout).toContain(`a stale lock is left from pid ${unrelated.pid}`);
		expect(status.stdout).toContain(`pid ${unrelated.pid} is another process now (the next run takes it over)`);
		expect(status.stdout + status.stderr).not.toContain(`kill ${unrelated.pid}`);

		const server = await serve(state, env);
		const takeover = readAudit(audit).find(entry => entry['kind'] === 'takeover');
		expect(takeover?.['reason']).toContain(`took over the engine lock of ${state} from pid ${unrelated.pid} on ${os.hostname()} (serve, since`);
		expect(takeover?.['reason']).toContain('is older than');
		expect(JSON.parse(fs.readFileSync(path.join(state, 'envwatch.lock'), 'utf8'))).toMatchObject({pid: server.child.pid});
		expect(unrelated.exitCode).toBeNull();

		// A pid reused without a reboot: the lock's start time is not that process's.
		expect(await server.stop('SIGKILL')).toBeNull();
		const lock = JSON.parse(fs.readFileSync(path.join(state, 'envwatch.lock'), 'utf8')) as Json;
		fs.writeFileSync(path.join(state, 'envwatch.lock'), JSON.stringify({...lock, pid: unrelated.pid, heartbeatAt: Date.now() - 60_000, token: 'reused'}));
		const headless = new CliProcess(['--headless', '--demo', 'calm', '--interval', '1', '--state-dir', state], env);
		running.push(headless);
		await headless.waitForLine(line => line.includes(' poll '), 30_000);
		expect(readAudit(audit).filter(entry => entry['kind'] === 'takeover').at(-1)?.['reason']).toContain(`pid ${unrelated.pid} is another process now (it started at tick`);
		expect(unrelated.exitCode).toBeNull();
	}, 60_000);
});

describe('fault matrix: a connection flood', () => {
	it('300 idle connections to a server allowed 128 descriptors: it refuses those beyond 64, drops the silent ones after 10 s, keeps polling and its lock, and does not die', async () => {
		const {env, state} = setup();
		// A low descriptor limit, so a flood without a bound would exhaust it (it used to: EMFILE, the
		// lock read as removed, the engine stopped, and the process looped taking over from itself).
		const child = spawn('bash', ['-c', `ulimit -n 128 && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} serve --demo calm --interval 1 --state-dir ${JSON.stringify(state)}`], {env, cwd: root});
		others.push(child);
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', chunk => (stdout += chunk));
		child.stderr.on('data', chunk => (stderr += chunk));
		const pollCount = () => stdout.split('\n').filter(line => line.includes(' poll ')).length;
		await until(() => pollCount() > 0, 'the first poll', 30_000);
		const socketPath = path.join(state, 'envwatch.sock');
		const flood: Array<ReturnType<typeof rawClient>> = [];
		for (let batch = 0; batch < 15; batch++) {
			const clients = Array.from({length: 20}, () => rawClient(socketPath));
			flood.push(...clients);
			await Promise.all(clients.map(async client => Promise.race([client.ready, client.closed])));
		}

		await until(() => flood.filter(client => client.lines.some(line => line['type'] === 'error' && String(line['message']).startsWith('too many clients'))).length >= 200, 'the refusals', 20_000);
		expect(stderr).toContain('refusing new clients: 64 are connected, the most this server takes');
		const welcomed = flood.filter(client => client.lines.some(line => line['type'] === 'welcome'));
		expect(welcomed.length).toBeLessThanOrEqual(64);
		const before = pollCount();
		const heartbeat = () => (JSON.parse(fs.readFileSync(path.join(state, 'envwatch.lock'), 'utf8')) as Json)['heartbeatAt'] as number;
		const beat = heartbeat();
		await until(() => pollCount() > before + 2 && heartbeat() > beat, 'polls and a heartbeat during the flood', 20_000);
		// Those that never said hello are dropped after 10 s: their descriptors are not held forever.
		await until(() => welcomed.every(client => client.socket.destroyed || client.socket.readyState === 'closed'), 'the silent clients dropped', 30_000);
		expect(child.exitCode).toBeNull();
		expect(stderr).not.toMatch(/was removed|stops running the engine/);
		const status = await runCli(['status', '--state-dir', state], {env});
		expect(status.code).toBe(0);
		expect(status.stdout).toContain(`engine: serve pid ${child.pid}`);
		child.kill('SIGTERM');
		await new Promise(resolve => child.on('close', resolve));
		expect(stderr).not.toMatch(stackLine);
	}, 90_000);
});

describe('fault matrix: a lying client', () => {
	it('20 bad lines then a hello and a stop in the same packet: closed for real, nothing done; one claiming to be auto is refused; both recorded with who they really are', async () => {
		const {env, state, audit} = setup();
		const server = await serve(state, env);
		const socketPath = path.join(state, 'envwatch.sock');
		expect(fs.statSync(socketPath).mode & 0o777).toBe(0o600);

		const garbage = rawClient(socketPath);
		await garbage.ready;
		const lines = [...Array.from({length: 20}, (_, index) => `garbage ${index}`), JSON.stringify({v: 2, type: 'hello', actor: `${user}@jump`, client: 'dashboard', pid: 4242}), JSON.stringify({v: 2, type: 'command', id: 1, command: {kind: 'stop', environment: 'dev'}})];
		garbage.socket.write(`${lines.join('\n')}\n`);
		await garbage.closed;
		expect(garbage.lines.filter(line => line['type'] === 'error')).toHaveLength(20);
		expect(garbage.lines.at(-1)).toMatchObject({type: 'error', fatal: true, message: expect.stringContaining('20 bad lines: disconnected') as string});
		expect(garbage.lines.some(line => line['type'] === 'result' || line['type'] === 'snapshot')).toBe(false);

		const liar = rawClient(socketPath);
		await until(() => liar.lines.some(line => line['type'] === 'welcome'), 'the welcome');
		// It proves who it is, as envwatch's own client does, and then claims to be the engine.
		fs.writeFileSync(String(liar.lines[0]!['proof']), '', {flag: 'wx'});
		liar.socket.write(`${JSON.stringify({v: 2, type: 'hello', actor: 'auto', client: 'dashboard', pid: process.pid})}\n${JSON.stringify({v: 2, type: 'command', id: 2, command: {kind: 'emergency'}})}\n`);
		await liar.closed;
		expect(liar.lines.at(-1)).toMatchObject({type: 'error', fatal: true, message: expect.stringContaining('"auto" is the engine\'s own name') as string});

		const entries = readAudit(audit);
		expect(entries.filter(entry => entry['type'] === 'action' || ['stop', 'emergency'].includes(entry['kind'] as string))).toEqual([]);
		const clients = entries.filter(entry => entry['kind'] === 'client');
		expect(clients).toHaveLength(2);
		expect(clients[0]).toMatchObject({actor: `${user}@${os.hostname()}`, peer: {uid: process.getuid!(), user, by: 'owner-only socket (its owner, or root)'}});
		expect(clients[0]!['reason']).toContain('sent 20 bad lines');
		expect(clients[1]).toMatchObject({actor: `${user}@${os.hostname()}`, peer: {uid: process.getuid!(), user, pid: process.pid, by: 'proof file'}});
		expect(clients[1]!['reason']).toContain('refused: actor "auto"');

		// The server goes on, nothing stopped: dev's agents are still running.
		const once = await runCli(['--once', '--json', '--demo', 'calm', '--state-dir', state], {env});
		expect(once.code).toBe(0);
		expect(((JSON.parse(once.stdout) as Json)['environments'] as Json[]).find(view => view['name'] === 'dev')!['agents']['running']).toBeGreaterThan(0);
		expect(server.child.exitCode).toBeNull();
	}, 60_000);
});
