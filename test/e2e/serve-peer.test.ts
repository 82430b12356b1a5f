import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import type {Snapshot} from '../../source/engine/snapshot.js';
import {connectServer, type RemoteEngine} from '../../source/serve/client.js';
import {snapshot, view} from '../component/fixtures.js';
import {isolatedEnv, runCli, tempDir} from '../helpers/cli.js';

/**
 * A socket peer that is not an envwatch server (or a hostile one) on a state dir's socket: what it
 * says of itself is checked before anything of it is trusted or shown on a terminal.
 */
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();

afterEach(async () => {
	for (const socket of sockets) {
		socket.destroy();
	}

	sockets.clear();
	await Promise.all(servers.splice(0).map(async server => new Promise(resolve => server.close(resolve))));
});

/** A fake server on `<dir>/envwatch.sock` that greets every connection with `greet`. */
async function peer(dir: string, greet: (socket: net.Socket) => void): Promise<string> {
	fs.mkdirSync(dir, {recursive: true});
	const socketPath = path.join(dir, 'envwatch.sock');
	const server = net.createServer(socket => {
		sockets.add(socket);
		socket.on('error', () => undefined);
		greet(socket);
	});
	servers.push(server);
	await new Promise<void>(resolve => server.listen(socketPath, resolve));
	return socketPath;
}

const server = {pid: 4242, host: 'jump-1', since: Date.now() - 60_000, mode: 'serve', stateDir: '/var/lib/envwatch', version: '0.1.0'};
const welcome = (fields: Record<string, unknown>) => `${JSON.stringify({v: 2, type: 'welcome', server: {...server, ...fields}})}\n`;

describe('a socket peer\'s welcome', () => {
	it('an impossible or malformed welcome is refused, naming what is wrong; an endless first line is refused without waiting it out', async () => {
		const cases: Array<[Record<string, unknown>, RegExp]> = [
			[{pid: -1}, /refused the server's welcome: its pid -1 is not a process id/],
			[{since: 1e20}, /its start time 100000000000000000000 is not a time this host could have seen/],
			[{host: 'jump\u001B]0;owned\u0007'}, /its host "jump\\u001b]0;owned\\u0007" is not 1 to 255 printable characters/],
			[{mode: 'x'.repeat(5000)}, /its mode "x+ is not 1 to 100 printable characters/],
			[{stateDir: undefined}, /its stateDir null is not/],
		];
		for (const [fields, message] of cases) {
			const socketPath = await peer(tempDir(), socket => socket.write(welcome(fields)));
			const connection = await connectServer(socketPath, {actor: 'someone@host', client: 'status'});
			expect(connection.kind, JSON.stringify(fields).slice(0, 80)).toBe('refused');
			expect((connection as {message: string}).message).toMatch(message);
			expect((connection as {message: string}).message).toContain('nothing of it is trusted');
		}

		// An endless first line: refused once it is past what any welcome is, not buffered up to the snapshot bound.
		const endless = await peer(tempDir(), socket => {
			const chunk = Buffer.alloc(64 * 1024, 'x');
			const pump = () => {
				while (!socket.destroyed && socket.write(chunk)) {
					// Fill until the client stops reading.
				}
			};

			socket.on('drain', pump);
			pump();
		});
		const refused = await connectServer(endless, {actor: 'someone@host', client: 'status'}, 20_000);
		expect(refused).toMatchObject({kind: 'refused', message: expect.stringMatching(/over 64 KB sent before a welcome/) as unknown});
	});

	it('a headless run beside a peer whose welcome carries terminal escapes prints none of them as they are, and neither attaches nor runs an engine there (exit 1)', async () => {
		const dir = tempDir();
		const state = path.join(dir, 'state');
		const socketPath = await peer(state, socket => socket.write(welcome({host: 'jump\u001B[2J\u001B]0;owned\u0007', mode: 'serve\u001B[31m'})));
		const run = await runCli(['--headless', '--demo', '--state-dir', state], {env: isolatedEnv()});
		expect(run.code).toBe(1);
		expect(run.stderr).toContain(`${socketPath}: refused the server's welcome: its host "jump\\u001b[2J`);
		expect(run.stderr).toContain('end what listens there (or remove the socket if nothing should)');
		expect(run.stderr).not.toContain('\u001B');
		expect(run.stdout).toBe('');
		expect(fs.existsSync(path.join(state, 'envwatch.lock'))).toBe(false);
	});
});

/** A peer that welcomes, then answers the hello with these snapshot lines. */
async function serving(dir: string, figures: unknown[]): Promise<string> {
	return peer(dir, socket => {
		socket.write(welcome({}));
		socket.once('data', () => socket.write(figures.map(value => `${JSON.stringify({v: 2, type: 'snapshot', snapshot: value, cascadeTarget: 'dev'})}\n`).join('')));
	});
}

describe('a socket peer\'s snapshots', () => {
	it('a malformed snapshot is never shown: the attached dashboard keeps the last good figures marked old (STALE), or none, saying whose were refused and which field', async () => {
		const good = snapshot();
		const lying = {...good, environments: [view('dev', {hourlyUsd: -5}), ...good.environments.slice(1)]};
		const connection = await connectServer(await serving(tempDir(), [good, lying]), {actor: 'someone@host', client: 'dashboard'});
		expect(connection.kind).toBe('attached');
		const {remote} = connection as {remote: RemoteEngine};
		const seen: Snapshot[] = [];
		remote.store.subscribe(() => seen.push(remote.store.getSnapshot()!));
		await until(() => seen.length >= 2 || seen.some(item => item.refused !== undefined), 'the second snapshot');
		const shown = remote.store.getSnapshot()!;
		expect(shown.refused).toBe('REFUSED the figures of serve pid 4242 (jump-1): environments[0].hourlyUsd is -5, expected an amount from $0 to $416,667/h');
		expect(shown.environments.map(row => [row.name, row.status, row.hourlyUsd])).toEqual([['dev', 'STALE', 2.34], ['staging', 'STALE', 1.85], ['production', 'STALE', 0.15]]);
		expect(shown).toMatchObject({at: good.at, lastSuccessAt: good.lastSuccessAt, attachedTo: {pid: 4242, host: 'jump-1'}, error: expect.stringContaining('the last good figures are shown, marked old') as unknown});
		expect(remote.cascadeTarget()).toBeUndefined();
		remote.close();

		// Its first snapshot already a lie (a row named with an escape sequence): no figures at all, and why.
		const first = await connectServer(await serving(tempDir(), [{...good, environments: [view('dev\u001B[2J')]}]), {actor: 'someone@host', client: 'dashboard'});
		const remoteFirst = (first as {remote: RemoteEngine}).remote;
		const none = await remoteFirst.firstSnapshot(10_000);
		expect(none).toMatchObject({environments: [], lastSuccessAt: null, refused: 'REFUSED the figures of serve pid 4242 (jump-1): environments[0].name is "dev\\u001b[2J", expected a name of 1 to 200 printable characters'});
		remoteFirst.close();
	});

	it('--once beside a peer whose snapshot cannot be true exits 1 naming the field, and prints no figures', async () => {
		const state = path.join(tempDir(), 'state');
		await serving(state, [{...snapshot(), at: Date.now() + 86_400_000}]);
		const run = await runCli(['--once', '--demo', '--state-dir', state], {env: isolatedEnv()});
		expect(run.stderr).toMatch(/REFUSED the figures of serve pid 4242 \(jump-1\): at is \d+, expected a time \(epoch ms\) from 2001 to .* \(not in the future\): nothing judged or acted on here/);
		expect(run.code).toBe(1);
		expect(run.stdout).toBe('');
		expect(fs.existsSync(path.join(state, 'envwatch.lock'))).toBe(false);
	});
});

async function until(predicate: () => boolean, what: string, ms = 10_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!predicate()) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, 20));
	}
}
