import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {DescribeInstancesCommand} from '@aws-sdk/client-ec2';
import {spawn, spawnSync} from 'node:child_process';
import os from 'node:os';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {cliPath, CliProcess, isolatedEnv, root as repoRoot, runCli, tempDir} from '../helpers/cli.js';
import {ec2, launch, motoEnv, useFaultProxy, useMoto} from '../helpers/moto.js';

/**
 * `envwatch serve` as a process (the built CLI) against moto behind the fault proxy, whose request
 * log shows who polled; its clients are the CLI's own subcommands and raw sockets.
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const moto = useMoto();
// An account with only the watched region enabled: the server's sweep of the regions not watched,
// which no test here is about, lists nothing (see onlyRegions in test/helpers/moto.ts).
const proxy = useFaultProxy(moto, {enabledRegions: ['us-east-1']});
const running: CliProcess[] = [];
const dirs: string[] = [];
let devAgents: string[];

beforeEach(async () => {
	devAgents = await launch(moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'});
	await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'staging', role: 'agent', type: 'm5.large'});
});

afterEach(async () => {
	await Promise.all(running.splice(0).map(async cli => cli.stop('SIGKILL')));
	for (const dir of dirs.splice(0)) {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

function setup(): {env: NodeJS.ProcessEnv; state: string; audit: string} {
	const base = isolatedEnv();
	dirs.push(base['ENVWATCH_CONFIG_DIR']!, base['ENVWATCH_STATE_DIR']!);
	const root = tempDir();
	dirs.push(root);
	// Through the proxy: its request log is every AWS call any envwatch process made.
	const env = motoEnv(proxy.url, {ENVWATCH_CONFIG_DIR: base['ENVWATCH_CONFIG_DIR']!, ENVWATCH_STATE_DIR: base['ENVWATCH_STATE_DIR']!});
	return {env, state: path.join(root, 'state'), audit: path.join(root, 'audit.log')};
}

function readAudit(file: string): Json[] {
	return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(line => JSON.parse(line) as Json) : [];
}

async function serve(args: string[], env: NodeJS.ProcessEnv): Promise<CliProcess> {
	const cli = new CliProcess(['serve', '--region', 'us-east-1', ...args], env);
	running.push(cli);
	await cli.waitForLine(line => line.includes(' poll '), 30_000);
	return cli;
}

// The polls' listings, in the watched region (a sweep of the regions not watched would list others).
const describes = () => proxy.seen.filter(request => request.action === 'DescribeInstances' && request.region === 'us-east-1').length;

async function waitFor(predicate: () => boolean, what: string, deadlineMs = 20_000): Promise<void> {
	const until = Date.now() + deadlineMs;
	while (!predicate()) {
		if (Date.now() > until) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, 50));
	}
}

/** This user, as a client must name itself (the server checks it against the connection's uid). */
const user = os.userInfo().username;

/** A raw client on the server's socket: lines sent as given, answers collected. */
function rawClient(socketPath: string): {socket: net.Socket; lines: Json[]; ready: Promise<void>} {
	const socket = net.createConnection(socketPath);
	const lines: Json[] = [];
	let buffer = '';
	socket.on('data', chunk => {
		buffer += chunk.toString('utf8');
		const parts = buffer.split('\n');
		buffer = parts.pop()!;
		lines.push(...parts.filter(Boolean).map(line => JSON.parse(line) as Json));
	});
	socket.on('error', () => undefined);
	return {socket, lines, ready: new Promise(resolve => socket.once('connect', () => resolve()))};
}

/** Proves who this client is as envwatch's own client does: creates the file the welcome names (source/serve/peer.ts). */
async function prove(client: {lines: Json[]}): Promise<void> {
	await waitFor(() => client.lines.some(line => line['type'] === 'welcome'), 'the welcome');
	fs.writeFileSync(String(client.lines.find(line => line['type'] === 'welcome')!['proof']), '', {flag: 'wx'});
}

describe('envwatch serve', () => {
	it('a cron --once beside serve makes no poll of its own; stop goes through the server; seq stays strictly increasing; status names the engine', async () => {
		const {env, state, audit} = setup();
		// A long interval: after its first poll the server makes no other until the test is over.
		const server = await serve(['--interval', '600', '--state-dir', state, '--audit-log', audit], env);
		expect(server.stderr).toContain(`serving ${path.join(state, 'envwatch.sock')}`);
		const before = describes();

		const once = await runCli(['--once', '--json', '--state-dir', state], {env});
		expect(once.stderr).toBe('');
		expect(once.code).toBe(0);
		const snapshot = JSON.parse(once.stdout) as Json;
		expect(snapshot['servedBy']['pid']).toBe(server.child.pid);
		expect((snapshot['environments'] as Json[]).find(view => view['name'] === 'dev')).toMatchObject({agents: {running: 2}});
		const onlyDev = await runCli(['--once', '--json', '--environments', 'dev', '--state-dir', state], {env});
		expect((JSON.parse(onlyDev.stdout) as Json)['environments'].map((view: Json) => view['name'])).toEqual(['dev']);
		const unknown = await runCli(['--once', '--environments', 'qa', '--state-dir', state], {env});
		expect(unknown.code).toBe(2);
		expect(unknown.stderr).toContain('--environments qa: not an environment the running server');
		expect(describes()).toBe(before);

		const status = await runCli(['status', '--state-dir', state], {env});
		expect(status.code).toBe(0);
		expect(status.stdout).toContain(`engine: serve pid ${server.child.pid} on `);
		expect(status.stdout).toMatch(/last poll: \d{4}-/);

		// Through the server as well, a monitor-only environment is stopped only when named.
		const production = await runCli(['stop', '--environments', 'production', '--yes', '--state-dir', state], {env});
		expect(production.code).toBe(2);
		expect(production.stderr).toContain('--environments production: production is monitor only (onBreach: alert) — name it to stop it: --confirm production (--yes alone is not enough)');

		const stop = await runCli(['--stop-env', 'dev', '--yes', '--state-dir', state], {env});
		expect(stop.stderr).toBe('');
		expect(stop.code).toBe(0);
		expect(stop.stdout).toMatch(/stopped 2\/2 agents in dev/);
		const stops = readAudit(audit).filter(entry => entry.type === 'action' && entry.kind === 'stop');
		expect(stops).toHaveLength(1);
		expect(stops[0]).toMatchObject({environments: ['dev'], outcome: 'executed', via: 'socket'});
		// Who sent it, as the kernel says (the owner of the proof file it made), not as it said: uid, user and its pid.
		expect(stops[0]!['peer']).toMatchObject({uid: process.getuid!(), user, by: 'proof file'});
		expect(stops[0]!['peer']['pid']).toEqual(expect.any(Number));
		expect([...stops[0]!['instanceIds']].sort()).toEqual([...devAgents].sort());
		// The stop was the server's: only one process ever called StopInstances, and the audit log has one writer.
		expect(proxy.seen.filter(request => request.action === 'StopInstances')).toHaveLength(1);
		const seqs = readAudit(audit).map(entry => entry['seq'] as number);
		expect(seqs.length).toBeGreaterThan(1);
		expect(seqs.every((seq, index) => index === 0 || seq > seqs[index - 1]!)).toBe(true);

		// The stop tripped dev's breaker; reset goes through the server too (staging's is not tripped: nothing to reset).
		const reset = await runCli(['reset', '--environments', 'dev', 'staging', '--yes', '--state-dir', state], {env});
		expect(reset.stderr).toBe('');
		expect(reset.code).toBe(0);
		expect(reset.stdout).toContain('dev: breaker reset; agents may run there again.');
		expect(reset.stdout).toContain('staging: not held (its breaker is not tripped); nothing to reset.');
		expect(readAudit(audit).filter(entry => entry.kind === 'reset')).toEqual([expect.objectContaining({environments: ['dev'], via: 'socket', outcome: 'executed'})]);

		// undo through the server: what the dashboard's u does. Bad input is exit 2 naming it; a last stop
		// outside -e is refused (exit 1); then exactly dev's agents start, by the server; again is refused.
		const badUndo = await runCli(['undo', '--count', '2', '-e', 'qa', '--state-dir', state], {env});
		expect(badUndo.code).toBe(2);
		expect(badUndo.stderr).toContain('--count: only with start');
		const unknownUndo = await runCli(['undo', '-e', 'qa', '--yes', '--state-dir', state], {env});
		expect(unknownUndo.code).toBe(2);
		expect(unknownUndo.stderr).toContain('-e qa: not an environment the running server');
		const otherUndo = await runCli(['undo', '-e', 'staging', '--yes', '--state-dir', state], {env});
		expect(otherUndo.code).toBe(1);
		expect(otherUndo.stderr).toMatch(/the last stop is the 2 agents stopped in dev at .*; nothing started/);
		const undo = await runCli(['undo', '--yes', '--state-dir', state], {env});
		expect(undo.stderr).toBe('');
		expect(undo.code).toBe(0);
		expect(undo.stdout).toMatch(/^started 2\/2 agents in dev/);
		const undone = readAudit(audit).filter(entry => entry.type === 'action' && entry.kind === 'undo');
		expect(undone).toEqual([expect.objectContaining({environments: ['dev'], via: 'socket', outcome: 'executed'})]);
		expect([...undone[0]!['instanceIds']].sort()).toEqual([...devAgents].sort());
		expect(proxy.seen.filter(request => request.action === 'StartInstances')).toHaveLength(1);
		const again = await runCli(['undo', '--yes', '--state-dir', state], {env});
		expect(again.code).toBe(1);
		expect(again.stderr).toMatch(/^envwatch: nothing to undo: the last stop was already undone at .* by \S+@\S+ \(started 2\/2 agents in dev/);

		// A second serve on the same state dir refuses, naming the first.
		const second = await runCli(['serve', '--region', 'us-east-1', '--state-dir', state], {env});
		expect(second.code).toBe(1);
		expect(second.stderr).toContain(`already served by pid ${server.child.pid}`);
	}, 60_000);

	it('garbage, a 10 MB line and a client leaving mid-command: the server logs each and goes on; the socket is 0660', async () => {
		const {env, state, audit} = setup();
		const server = await serve(['--interval', '600', '--state-dir', state, '--audit-log', audit, '--socket-group', String(process.getgid!())], env);
		const socketPath = path.join(state, 'envwatch.sock');
		const stat = fs.statSync(socketPath);
		expect(stat.isSocket()).toBe(true);
		expect(stat.mode & 0o777).toBe(0o660);
		expect(stat.gid).toBe(process.getgid!());

		const bad = rawClient(socketPath);
		await bad.ready;
		bad.socket.write('this is not json\n');
		bad.socket.write(`${JSON.stringify({v: 2, type: 'command', id: 1, command: {kind: 'stop', environment: 'dev'}})}\n`);
		bad.socket.write(`{"v":2,"type":"hello","actor":"${'x'.repeat(10 * 1024 * 1024)}"}\n`);
		await waitFor(() => bad.lines.filter(line => line['type'] === 'error').length >= 3, 'three errors');
		const errors = bad.lines.filter(line => line['type'] === 'error').map(line => line['message'] as string);
		expect(errors[0]).toContain('not JSON');
		expect(errors[1]).toContain('before hello');
		expect(errors[2]).toContain('over 1 MiB');
		expect(server.stderr).toContain('rejected a message: not JSON');
		expect(server.stderr).toContain('rejected a line over 1 MiB');
		bad.socket.destroy();

		// Hello, a stop, and gone before the answer: the stop is still carried out and recorded.
		const leaving = rawClient(socketPath);
		await leaving.ready;
		// It hangs up when the server's stop reaches EC2: mid-command.
		proxy.before = request => {
			if (request.action === 'StopInstances') {
				leaving.socket.destroy();
			}
		};
		await prove(leaving);
		leaving.socket.write(`${JSON.stringify({v: 2, type: 'hello', actor: `${user}@jump`, client: 'dashboard', pid: 4242})}\n${JSON.stringify({v: 2, type: 'command', id: 7, command: {kind: 'stop', environment: 'dev'}})}\n`);
		await waitFor(() => readAudit(audit).some(entry => entry.type === 'action' && entry.kind === 'stop'), 'the stop in the audit log');
		expect(readAudit(audit).find(entry => entry.type === 'action' && entry.kind === 'stop')).toMatchObject({actor: `${user}@jump`, via: 'socket', outcome: 'executed', peer: {uid: process.getuid!(), user, by: 'proof file'}});
		expect(leaving.socket.destroyed).toBe(true);
		expect(leaving.lines.some(line => line['type'] === 'result')).toBe(false);

		// The server goes on: a fresh client gets its status.
		const status = await runCli(['status', '--state-dir', state], {env});
		expect(status.code).toBe(0);
		expect(server.child.exitCode).toBeNull();
	}, 60_000);

	it('an attached headless run leaves the server alone when it quits; on the server\'s SIGTERM another attached run takes the engine over and says so', async () => {
		const {env, state, audit} = setup();
		const server = await serve(['--interval', '600', '--state-dir', state, '--audit-log', audit], env);
		const viewer = new CliProcess(['--headless', '--region', 'us-east-1', '--state-dir', state, '--audit-log', audit], env);
		running.push(viewer);
		await viewer.waitForLine(line => line.includes(' poll '));
		expect(viewer.stderr).toContain(`attached to serve pid ${server.child.pid}`);
		let status = await runCli(['status', '--state-dir', state], {env});
		expect(status.stdout).toMatch(new RegExp(`attached: .*@.* \\(dashboard, pid ${viewer.child.pid},`));
		expect(await viewer.stop('SIGTERM')).toBe(143);
		status = await runCli(['status', '--state-dir', state], {env});
		expect(status.code).toBe(0);
		expect(status.stdout).toContain(`engine: serve pid ${server.child.pid}`);
		expect(status.stdout).toContain('attached: nobody');

		const heir = new CliProcess(['--headless', '--region', 'us-east-1', '--state-dir', state, '--audit-log', audit], env);
		running.push(heir);
		await heir.waitForLine(line => line.includes(' poll '));
		const polls = heir.lines().filter(line => line.includes(' poll ')).length;
		expect(await server.stop('SIGTERM')).toBe(143);
		// The heir polls on its own now: its next poll line comes from its own engine.
		await heir.waitForLine(line => line.includes('TAKEOVER'));
		await waitFor(() => heir.lines().filter(line => line.includes(' poll ')).length > polls, 'a poll by the heir');
		expect(readAudit(audit).find(entry => entry.kind === 'takeover')?.['reason']).toContain(`from serve pid ${server.child.pid}`);
		status = await runCli(['status', '--state-dir', state], {env});
		expect(status.stdout).toContain(`engine: headless pid ${heir.child.pid}`);
	}, 60_000);

	it('--pause-env: the server starts with dev paused; an attached run\'s --pause-env pauses staging on the server; an unknown name there is exit 2', async () => {
		const {env, state, audit} = setup();
		const server = await serve(['--interval', '600', '--pause-env', 'dev', '--state-dir', state, '--audit-log', audit], env);
		expect(server.lines().find(line => line.includes(' poll '))).toMatch(/ poll dev \S+ \S+ \S+ 2a PAUSED \| staging \S+ \S+ \S+ 1a \|/);
		const viewer = new CliProcess(['--headless', '--region', 'us-east-1', '--pause-env', 'staging', '--state-dir', state, '--audit-log', audit], env);
		running.push(viewer);
		await viewer.waitForLine(line => line.includes(' poll '));
		await waitFor(() => viewer.stderr.includes('automatic actions paused for staging on the server'), 'the pause sent');
		// The server's own --pause-env dev as it started, then the attached run's, sent over the socket.
		expect(readAudit(audit).filter(entry => entry.kind === 'pause')).toEqual([
			expect.objectContaining({environments: ['dev'], reason: expect.stringContaining('from the start (--pause-env)') as string}),
			expect.objectContaining({environments: ['staging'], via: 'socket', actor: expect.stringMatching(/.+@.+/) as string}),
		]);
		const unknown = await runCli(['--headless', '--region', 'us-east-1', '--pause-env', 'qa', '--state-dir', state, '--audit-log', audit], {env});
		expect(unknown.code).toBe(2);
		expect(unknown.stderr).toContain('--pause-env qa: qa is not a configured environment — expected one of: dev, staging, production (the server\'s configuration)');
		// A --read-only run attached to it changes nothing of its protection, and says why at once.
		const logged = readAudit(audit).length;
		const looking = await runCli(['--headless', '--read-only', '--region', 'us-east-1', '--pause-env', 'production', '--state-dir', state, '--audit-log', audit], {env});
		expect(looking.code).toBe(2);
		expect(looking.stderr).toContain('--pause-env production with --read-only: the engine runs in the server (pid');
		expect(readAudit(audit).slice(logged).filter(entry => entry.kind === 'pause')).toEqual([]);
		// The server goes on, with both paused.
		expect(server.child.exitCode).toBeNull();
	}, 60_000);

	it('a user outside the socket\'s group is told to ask for membership, exit 1', async () => {
		const {env, state, audit} = setup();
		await serve(['--interval', '600', '--state-dir', state, '--audit-log', audit, '--socket-group', String(process.getgid!())], env);
		let result: {status: number | null; stdout: string; stderr: string};
		if (process.getuid!() === 0) {
			// root passes any mode: ask as nobody. The test's dirs (0700) are opened up, so the socket's own mode (0660, root's group) decides.
			// Every dir of this test file's own temporary root down to the state dir.
			for (let dir = state; dir.startsWith(os.tmpdir()); dir = path.dirname(dir)) {
				fs.chmodSync(dir, 0o755);
			}

			// nobody may not reach the checkout (a clone in a 0700 dir): run a copy of the bundle (status
			// loads nothing outside it) with the package.json and config it reads, beside the state dir.
			const copy = path.join(path.dirname(state), 'cli-copy');
			fs.cpSync(path.dirname(cliPath), path.join(copy, 'dist', 'bin'), {recursive: true});
			fs.cpSync(path.join(repoRoot, 'package.json'), path.join(copy, 'package.json'));
			fs.cpSync(path.join(repoRoot, 'config'), path.join(copy, 'config'), {recursive: true});
			spawnSync('chmod', ['-R', 'a+rX', copy]);
			result = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, path.join(copy, 'dist', 'bin', path.basename(cliPath)), 'status', '--state-dir', state], {env, encoding: 'utf8'});
		} else {
			// Not root: the socket's owner without the permission is refused the same way (the group's permission gone too).
			fs.chmodSync(path.join(state, 'envwatch.sock'), 0o060);
			result = spawnSync(process.execPath, [cliPath, 'status', '--state-dir', state], {env, encoding: 'utf8'});
		}

		expect(result.stderr).toContain(`${path.join(state, 'envwatch.sock')}: permission denied — the server's socket is for the members of its group; ask to be added to it`);
		expect(result.status).toBe(1);
	}, 30_000);

	it('a server whose lock was taken (it was hung, another host broke the lock) stops acting, gives up the socket, records its end and exits 1', async () => {
		const {env, state, audit} = setup();
		const server = await serve(['--interval', '600', '--state-dir', state, '--audit-log', audit], env);
		// Another host's engine holds the lock now, heartbeating.
		// Written whole and renamed into place, as envwatch writes its heartbeat: a reader never sees half of it.
		const foreign = () => {
			fs.writeFileSync(path.join(state, 'foreign.tmp'), JSON.stringify({version: 1, pid: 4242, host: 'other-host.example', since: Date.now(), heartbeatAt: Date.now(), mode: 'serve', token: 'foreign'}));
			fs.renameSync(path.join(state, 'foreign.tmp'), path.join(state, 'envwatch.lock'));
		};
		foreign();
		const beating = setInterval(foreign, 1000);
		try {
			await waitFor(() => server.stderr.includes('is now held by pid 4242 on other-host.example: this process stops running the engine'), 'the server to notice');
			await waitFor(() => !fs.existsSync(path.join(state, 'envwatch.sock')), 'the socket to go');
			const stop = await runCli(['stop', '--environments', 'dev', '--yes', '--state-dir', state], {env});
			expect(stop.code).toBe(1);
			expect(stop.stderr).toContain('held by pid 4242 on other-host.example (serve');
			expect(proxy.seen.filter(request => request.action === 'StopInstances')).toHaveLength(0);
			// A guard that is no longer the guard does not linger: exit 1 (a supervisor starts it again), its end recorded.
			expect(await new Promise(resolve => server.child.exitCode === null ? server.child.on('close', resolve) : resolve(server.child.exitCode))).toBe(1);
			expect(readAudit(audit).filter(entry => entry.kind === 'down').map(entry => entry['reason'])).toEqual([`lost the engine lock: the lock of ${state} is now held by pid 4242 on other-host.example`]);
		} finally {
			clearInterval(beating);
		}
	}, 60_000);

	it('a bad --socket-group is refused (exit 2), leaving no lock or socket behind', async () => {
		const {env, state} = setup();
		const result = await runCli(['serve', '--region', 'us-east-1', '--state-dir', state, '--socket-group', 'no-such-group-envwatch'], {env});
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('--socket-group no-such-group-envwatch: no such group on this host');
		expect(fs.readdirSync(state).filter(name => name.startsWith('envwatch.'))).toEqual([]);
	}, 30_000);

	it('SIGTERM during a stop a client asked for: the stop finishes and is recorded, then the socket and the lock are removed', async () => {
		const {env, state, audit} = setup();
		const server = await serve(['--interval', '600', '--state-dir', state, '--audit-log', audit], env);
		let signalled = false;
		proxy.before = async request => {
			if (request.action === 'StopInstances' && !signalled) {
				signalled = true;
				server.child.kill('SIGTERM');
				// The stop call is held up a moment after the signal: the server must wait for it.
				await new Promise(resolve => setTimeout(resolve, 500));
			}
		};

		const stop = runCli(['stop', '--environments', 'dev', '--yes', '--state-dir', state], {env});
		const code = await new Promise(resolve => server.child.on('close', resolve));
		expect(signalled).toBe(true);
		expect(code).toBe(143);
		const action = readAudit(audit).find(entry => entry.type === 'action' && entry.kind === 'stop');
		expect(action).toMatchObject({environments: ['dev'], outcome: 'executed', via: 'socket'});
		const client = ec2(moto.url, 'us-east-1');
		const answer = await client.send(new DescribeInstancesCommand({InstanceIds: devAgents}));
		client.destroy();
		const states = answer.Reservations!.flatMap(reservation => reservation.Instances!).map(instance => instance.State!.Name);
		expect(states).toHaveLength(2);
		expect(states.every(name => name === 'stopping' || name === 'stopped')).toBe(true);
		expect(fs.existsSync(path.join(state, 'envwatch.sock'))).toBe(false);
		expect(fs.existsSync(path.join(state, 'envwatch.lock'))).toBe(false);
		// The client heard the result before the server left.
		const result = await stop;
		expect(result.stdout).toMatch(/stopped 2\/2 agents in dev/);
		expect(result.code).toBe(0);
	}, 60_000);
});

describe('serve --demo', () => {
	it('prints how a dashboard finds it, and a --demo run given that state dir uses its engine', async () => {
		const {env} = setup();
		const server = new CliProcess(['serve', '--demo', 'calm', '--interval', '60'], env);
		running.push(server);
		await server.waitForLine(line => line.includes(' poll '));
		const hint = /attach with: envwatch --demo --state-dir (\S+)/.exec(server.stderr);
		expect(hint).not.toBeNull();
		const state = hint![1]!;
		dirs.push(state);
		expect(fs.existsSync(path.join(state, 'envwatch.sock'))).toBe(true);
		const once = await runCli(['--demo', '--once', '--state-dir', state], {env});
		expect(once.code).toBe(0);
		expect(once.stdout).toContain(`(from the engine of serve pid ${server.child.pid} on ${os.hostname()})`);
		expect(once.stdout).toContain('SIMULATED (calm)');
	}, 30_000);

	it('start through the server checks every environment first: one refused starts none (it used to start dev, then refuse production)', async () => {
		const {env} = setup();
		const state = tempDir();
		dirs.push(state);
		const server = new CliProcess(['serve', '--demo', 'calm', '--interval', '60', '--state-dir', state], env);
		running.push(server);
		await server.waitForLine(line => line.includes(' poll '));
		const both = await runCli(['start', '--environments', 'dev', '--environments', 'production', '--demo', '--yes', '--state-dir', state], {env});
		expect(both.code).toBe(2);
		expect(both.stderr.split('\n').filter(Boolean)).toEqual(['envwatch: start 1 agent in production refused: production is monitor only: no agents are ever started there', 'envwatch: nothing started (not dev either)']);
		expect(both.stdout).toBe('');
		const starts = () => readAudit(path.join(state, 'audit.log')).filter(entry => entry['kind'] === 'start');
		expect(starts()).toEqual([]);
		// Alone, dev starts, through the server.
		const dev = await runCli(['start', '--environments', 'dev', '--demo', '--yes', '--state-dir', state], {env});
		expect(dev.stderr).toBe('');
		expect(dev.code).toBe(0);
		expect(dev.stdout).toMatch(/^started 1 t3\.large agent in dev/);
		expect(starts().find(entry => entry['type'] === 'action')).toMatchObject({environments: ['dev'], via: 'socket'});
	}, 30_000);
});

describe('the engine lock, without a server', () => {
	it('a lock held by a live process whose socket does not answer: --once and status name its pid, exit 1, the lock stays', async () => {
		const {state, env} = setup();
		const holder = spawn('sleep', ['60']);
		try {
			fs.mkdirSync(state, {recursive: true});
			const lock = JSON.stringify({version: 1, pid: holder.pid, host: os.hostname(), since: Date.now(), heartbeatAt: Date.now(), mode: 'serve', token: 'theirs'});
			fs.writeFileSync(path.join(state, 'envwatch.lock'), lock);
			const once = await runCli(['--demo', 'calm', '--once', '--state-dir', state], {env});
			expect(once.code).toBe(1);
			expect(once.stderr).toContain(`held by pid ${holder.pid} on ${os.hostname()} (serve`);
			expect(once.stderr).toContain('does not answer');
			expect(once.stdout).toBe('');
			expect(fs.readFileSync(path.join(state, 'envwatch.lock'), 'utf8')).toBe(lock);
			const status = await runCli(['status', '--state-dir', state], {env});
			expect(status.code).toBe(1);
			expect(status.stdout).toContain(`engine: held by pid ${holder.pid}`);
		} finally {
			holder.kill('SIGKILL');
		}
	}, 30_000);

	it('a lock left by a killed process is taken over; --once records the pauses it drops as resumes (once) and releases the lock when done', async () => {
		const {state, env, audit} = setup();
		const gone = spawn(process.execPath, ['-e', '']);
		await new Promise(resolve => gone.on('close', resolve));
		fs.mkdirSync(state, {recursive: true});
		fs.writeFileSync(path.join(state, 'envwatch.lock'), JSON.stringify({version: 1, pid: gone.pid, host: os.hostname(), since: 1, heartbeatAt: 1, mode: 'serve', token: 'dead'}));
		// The killed engine had everything paused, and dev on its own (p, then P).
		fs.writeFileSync(path.join(state, 'engine.json'), JSON.stringify({version: 1, token: 'dead', pid: gone.pid, host: 'jump-1', mode: 'serve', environments: ['dev', 'staging', 'production'], paused: true, pausedEnvironments: ['dev']}));
		const status = await runCli(['status', '--state-dir', state], {env});
		expect(status.stdout).toContain(`a stale lock is left from pid ${gone.pid}`);
		const once = await runCli(['--demo', 'calm', '--once', '--state-dir', state, '--audit-log', audit], {env});
		expect(once.stderr).toBe('');
		expect(once.code).toBe(0);
		expect(fs.existsSync(path.join(state, 'envwatch.lock'))).toBe(false);
		const resumes = () => readAudit(audit).filter(entry => entry.kind === 'resume').map(entry => [entry['actor'], entry['environments'], entry['reason']]);
		const from = `dropped at the hand-over from serve pid ${gone.pid} on jump-1: a pause is not kept`;
		expect(resumes()).toEqual([['auto', [], expect.stringContaining(from)], ['auto', ['dev'], expect.stringContaining(from)]]);
		// Said once: the next run finds this run's record (nothing paused), not the killed engine's.
		expect((await runCli(['--demo', 'calm', '--once', '--state-dir', state, '--audit-log', audit], {env})).code).toBe(0);
		expect(resumes()).toHaveLength(2);
		// reset without a server takes the lock for its run too, and says when there is nothing to reset.
		const reset = await runCli(['reset', '--environments', 'dev', '--demo', 'calm', '--state-dir', state], {env});
		expect(reset.code).toBe(0);
		expect(reset.stdout).toContain('dev: not held (its breaker is not tripped); nothing to reset.');
		expect(fs.existsSync(path.join(state, 'envwatch.lock'))).toBe(false);
	}, 30_000);
});
