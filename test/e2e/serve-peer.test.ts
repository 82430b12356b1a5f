import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {connectServer} from '../../source/serve/client.js';
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
