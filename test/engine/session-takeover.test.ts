import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {EngineLock} from '../../source/engine/state/lock.js';
import {EngineSession} from '../../source/serve/session.js';

/**
 * An attached session whose server goes away while a live process holds the engine lock without
 * answering on the socket (hung, or not serving): the session says so where a person looks, and
 * gives up after its bound instead of retrying for ever.
 */
const cleanup: Array<() => Promise<void> | void> = [];

afterEach(async () => {
	for (const step of cleanup.splice(0).reverse()) {
		await step();
	}
});

describe('an attached session taking over', () => {
	it('a live lock holder that never answers: the trouble is shown on the snapshot, and the session gives up after its bound (onStopped), never running an engine', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-takeover-'));
		cleanup.push(() => fs.rmSync(dir, {recursive: true, force: true}));
		const stateDir = path.join(dir, 'state');
		fs.mkdirSync(stateDir);
		// The server: welcomes, sends one snapshot after the hello, and goes away when told.
		const sockets = new Set<net.Socket>();
		const server = net.createServer(socket => {
			sockets.add(socket);
			socket.on('error', () => undefined);
			socket.write(`${JSON.stringify({v: 2, type: 'welcome', server: {pid: process.pid, host: 'jump-1', since: Date.now(), mode: 'serve', stateDir, version: 'test'}})}\n`);
			socket.once('data', () => socket.write(`${JSON.stringify({v: 2, type: 'snapshot', snapshot: {at: Date.now(), environments: [], global: {}, events: [], mode: {}, decisions: [], error: null}, cascadeTarget: null})}\n`));
		});
		await new Promise<void>(resolve => server.listen(path.join(stateDir, 'envwatch.sock'), resolve));
		// The lock: held by a live process (this one) that will not answer once the socket is gone.
		const lock = EngineLock.acquire(stateDir, 'serve');
		expect(lock).toBeInstanceOf(EngineLock);
		cleanup.push(() => (lock as EngineLock).release());

		const stopped: string[] = [];
		const logs: string[] = [];
		let built = 0;
		const session = new EngineSession({
			stateDir,
			mode: 'dashboard',
			client: 'dashboard',
			actor: `${os.userInfo().username}@host`,
			version: 'test',
			async createEngine() {
				built++;
				throw new Error('no engine in this test');
			},
			log: line => logs.push(line),
			onStopped: reason => stopped.push(reason),
			takeover: {patienceMs: 300, giveUpMs: 1500},
		});
		cleanup.push(async () => session.stop());
		expect(await session.open()).toBe('attached');
		const deadline = Date.now() + 10_000;
		while (!session.store.getSnapshot() && Date.now() < deadline) {
			await new Promise(resolve => setTimeout(resolve, 20));
		}

		for (const socket of sockets) {
			socket.destroy();
		}

		await new Promise(resolve => server.close(resolve));
		while (stopped.length === 0 && Date.now() < deadline) {
			await new Promise(resolve => setTimeout(resolve, 20));
		}

		expect(stopped).toEqual([expect.stringMatching(/^the server this process was attached to went away \(.+\) and it could not take the engine over in \d+s: the engine of .* is held by pid \d+ .*end it \(kill \d+\).*; this process guards nothing, so it ends$/)]);
		expect(logs.some(line => /cannot take the engine over yet \(\d+s\): .*trying again, for up to 2s/.test(line))).toBe(true);
		expect(session.store.getSnapshot()!.error).toMatch(/^the server went away .*cannot take the engine over yet/);
		expect(built).toBe(0);
	});
});
