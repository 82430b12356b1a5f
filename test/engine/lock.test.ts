import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {EngineLock, inspectLock, lockPath, procFacts, staleMs} from '../../source/engine/state/lock.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
	vi.restoreAllMocks();
	for (const child of children.splice(0)) {
		child.kill('SIGKILL');
	}

	for (const dir of dirs.splice(0)) {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

function stateDir(): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-lock-'));
	dirs.push(dir);
	return dir;
}

/** A minute ago, or just after this host started when that is more recent (a heartbeat a live process could have written). */
function sinceBoot(): number {
	return Math.max(procFacts.bootTime()! + 1000, Date.now() - 60_000);
}

function writeLock(dir: string, fields: Record<string, unknown>): void {
	const now = Date.now();
	fs.writeFileSync(lockPath(dir), JSON.stringify({version: 1, pid: 1, host: os.hostname(), since: now, heartbeatAt: now, mode: 'serve', token: 'other', ...fields}));
}

async function deadPid(): Promise<number> {
	const child = spawn(process.execPath, ['-e', '']);
	await new Promise(resolve => child.on('close', resolve));
	return child.pid!;
}

describe('EngineLock', () => {
	it('one holder at a time: a second acquire sees the first (pid, host, mode); release frees it', () => {
		const dir = stateDir();
		const lock = EngineLock.acquire(dir, 'serve');
		expect(lock).toBeInstanceOf(EngineLock);
		const second = EngineLock.acquire(dir, 'dashboard');
		expect(second).toMatchObject({kind: 'held', info: {pid: process.pid, host: os.hostname(), mode: 'serve'}});
		(lock as EngineLock).release();
		expect(fs.existsSync(lockPath(dir))).toBe(false);
		const third = EngineLock.acquire(dir, 'dashboard');
		expect(third).toBeInstanceOf(EngineLock);
		(third as EngineLock).release();
	});

	it('a live process\'s lock is never broken, however old its heartbeat on this host', () => {
		const dir = stateDir();
		const child = spawn('sleep', ['30']);
		children.push(child);
		writeLock(dir, {pid: child.pid, heartbeatAt: Date.now() - 10 * staleMs});
		expect(EngineLock.acquire(dir, 'once')).toMatchObject({kind: 'held', info: {pid: child.pid}});
		expect(JSON.parse(fs.readFileSync(lockPath(dir), 'utf8'))).toMatchObject({pid: child.pid, token: 'other'});
	});

	it('a lock whose process is gone (kill -9) is stale and taken over', async () => {
		const dir = stateDir();
		const pid = await deadPid();
		writeLock(dir, {pid});
		expect(inspectLock(dir)).toMatchObject({kind: 'stale', why: `pid ${pid} on ${os.hostname()} is gone`});
		const lock = EngineLock.acquire(dir, 'dashboard');
		expect(lock).toBeInstanceOf(EngineLock);
		expect(JSON.parse(fs.readFileSync(lockPath(dir), 'utf8'))).toMatchObject({pid: process.pid, mode: 'dashboard'});
		(lock as EngineLock).release();
	});

	it('another host\'s lock is held while it heartbeats and stale after missed heartbeats', () => {
		const dir = stateDir();
		writeLock(dir, {pid: 4242, host: 'other-host.example'});
		expect(inspectLock(dir)).toMatchObject({kind: 'held'});
		writeLock(dir, {pid: 4242, host: 'other-host.example', heartbeatAt: Date.now() - staleMs - 1000});
		expect(inspectLock(dir)).toMatchObject({kind: 'stale'});
	});

	it('a file that is not a lock is reported, not removed', () => {
		const dir = stateDir();
		fs.writeFileSync(lockPath(dir), 'garbage');
		expect(EngineLock.acquire(dir, 'serve')).toMatchObject({kind: 'unreadable'});
		expect(fs.readFileSync(lockPath(dir), 'utf8')).toBe('garbage');
	});

	it('a holder whose lock was taken by another notices at its next heartbeat and does not remove the new one', () => {
		const dir = stateDir();
		const lost: string[] = [];
		const lock = EngineLock.acquire(dir, 'serve', why => lost.push(why)) as EngineLock;
		writeLock(dir, {pid: 4242, host: 'other-host.example', token: 'newer'});
		lock.beat();
		expect(lost).toEqual([`the lock of ${dir} is now held by pid 4242 on other-host.example`]);
		lock.release();
		expect(JSON.parse(fs.readFileSync(lockPath(dir), 'utf8'))).toMatchObject({token: 'newer'});
	});

	it('records the holder\'s process start time and the host\'s boot id (Linux /proc)', () => {
		const dir = stateDir();
		const lock = EngineLock.acquire(dir, 'serve') as EngineLock;
		const written = JSON.parse(fs.readFileSync(lockPath(dir), 'utf8')) as Record<string, unknown>;
		expect(written['pidStart']).toMatch(/^\d+$/);
		expect(written['pidStart']).toBe(procFacts.processStart(process.pid));
		expect(written['bootId']).toBe(fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
		lock.release();
	});

	it('a lock whose pid now belongs to an unrelated process (another start time), its heartbeat old, is stale and taken over, saying why', () => {
		const dir = stateDir();
		const unrelated = spawn('sleep', ['30']);
		children.push(unrelated);
		writeLock(dir, {pid: unrelated.pid, heartbeatAt: sinceBoot(), pidStart: '1', bootId: procFacts.bootId()});
		const state = inspectLock(dir);
		expect(state).toMatchObject({kind: 'stale'});
		expect((state as {why: string}).why).toMatch(new RegExp(`^pid ${unrelated.pid} is another process now \\(it started at tick \\d+, the lock's holder at tick 1; no heartbeat for \\d+s\\)$`));
		const lock = EngineLock.acquire(dir, 'serve');
		expect(lock).toBeInstanceOf(EngineLock);
		expect((lock as EngineLock).tookOver).toMatchObject({info: {pid: unrelated.pid, token: 'other'}, why: expect.stringContaining('is another process now') as string});
		(lock as EngineLock).release();
		// The unrelated process is left alone.
		expect(unrelated.exitCode).toBeNull();
	});

	it('a lock left by a reboot (written before start times were recorded): its last heartbeat is older than the host\'s start, so its pid is another process: stale', () => {
		const dir = stateDir();
		const unrelated = spawn('sleep', ['30']);
		children.push(unrelated);
		const booted = procFacts.bootTime()!;
		writeLock(dir, {pid: unrelated.pid, heartbeatAt: booted - 3_600_000});
		expect(inspectLock(dir)).toMatchObject({kind: 'stale', why: `its last heartbeat (${new Date(booted - 3_600_000).toISOString()}) is older than ${os.hostname()}'s start (${new Date(booted).toISOString()}): pid ${unrelated.pid} is another process now`});
		// Another boot id says the same.
		writeLock(dir, {pid: unrelated.pid, heartbeatAt: Date.now() - 60_000, bootId: 'another-boot'});
		expect(inspectLock(dir)).toMatchObject({kind: 'stale', why: expect.stringContaining(`${os.hostname()} restarted since pid ${unrelated.pid} took the lock`) as string});
	});

	it('the same process (its start time matches) is held however old its heartbeat since the host started: a hung holder is never broken', () => {
		const dir = stateDir();
		const holder = spawn('sleep', ['30']);
		children.push(holder);
		writeLock(dir, {pid: holder.pid, heartbeatAt: sinceBoot(), pidStart: procFacts.processStart(holder.pid!), bootId: procFacts.bootId()});
		expect(inspectLock(dir)).toMatchObject({kind: 'held', info: {pid: holder.pid}});
	});

	it('a pid whose start time is not the holder\'s is not the holder, however fresh the heartbeat (killed -9 and the pid given out at once): stale, never "kill it"', () => {
		const dir = stateDir();
		const unrelated = spawn('sleep', ['30']);
		children.push(unrelated);
		writeLock(dir, {pid: unrelated.pid, pidStart: '1', bootId: procFacts.bootId()});
		const state = inspectLock(dir);
		expect(state).toMatchObject({kind: 'stale'});
		expect((state as {why: string}).why).toMatch(new RegExp(`^pid ${unrelated.pid} is another process now \\(it started at tick \\d+, the lock's holder at tick 1; its heartbeat is \\d+s old, but not that process's\\)$`));
		expect(unrelated.exitCode).toBeNull();
	});

	it('a lock in the format before start times were recorded, its heartbeat old, whose pid started after the lock was taken: another process, stale; one started before is held', () => {
		const dir = stateDir();
		const unrelated = spawn('sleep', ['30']);
		children.push(unrelated);
		const since = sinceBoot();
		writeLock(dir, {pid: unrelated.pid, since, heartbeatAt: since});
		const state = inspectLock(dir);
		expect(state).toMatchObject({kind: 'stale'});
		expect((state as {why: string}).why).toMatch(new RegExp(`^pid ${unrelated.pid} is another process now \\(it started at \\S+, after the lock was taken at ${new Date(since).toISOString()}; no heartbeat for \\d+s\\)$`));
		const lock = EngineLock.acquire(dir, 'serve');
		expect(lock).toBeInstanceOf(EngineLock);
		(lock as EngineLock).release();
		expect(unrelated.exitCode).toBeNull();
		// This process started before its lock was taken: a hung holder in the old format is never broken.
		writeLock(dir, {pid: process.pid, since: Date.now(), heartbeatAt: sinceBoot()});
		expect(inspectLock(dir)).toMatchObject({kind: 'held', info: {pid: process.pid}});
	});

	it('a heartbeat that cannot read the lock (EMFILE) is a missed heartbeat, not a removed lock: said once, the lock stays, and the next beat goes on', () => {
		const dir = stateDir();
		const lost: string[] = [];
		const trouble: string[] = [];
		const lock = EngineLock.acquire(dir, 'serve', {lost: why => lost.push(why), trouble: why => trouble.push(why)}) as EngineLock;
		// The real case is thousands of idle socket clients using every descriptor (test/faults/process.test.ts
		// floods a server for it); here a spy makes the read fail the same way, twice.
		const emfile = Object.assign(new Error('EMFILE: too many open files, open'), {code: 'EMFILE'});
		const read = fs.readFileSync;
		let failures = 2;
		vi.spyOn(fs, 'readFileSync').mockImplementation(((file: fs.PathOrFileDescriptor, options?: unknown) => {
			if (file === lockPath(dir) && failures-- > 0) {
				throw emfile;
			}

			return read(file, options as BufferEncoding);
		}) as typeof fs.readFileSync);
		lock.beat();
		lock.beat();
		expect(lost).toEqual([]);
		expect(trouble).toEqual([`cannot read the lock file ${lockPath(dir)} (EMFILE): a heartbeat missed; the lock is still this process's and the engine goes on`]);
		const before = lock.info.heartbeatAt;
		lock.beat();
		expect(lost).toEqual([]);
		expect(trouble[1]).toBe('the engine lock\'s heartbeat works again after 2 missed');
		expect(lock.info.heartbeatAt).toBeGreaterThanOrEqual(before);
		expect(JSON.parse(read(lockPath(dir), 'utf8')) as Record<string, unknown>).toMatchObject({pid: process.pid, token: lock.info.token});
		lock.release();
		expect(fs.existsSync(lockPath(dir))).toBe(false);
	});
});

describe('the lock\'s fence (before each stop batch)', () => {
	it('passes while the file names this holder; refuses once another holder has it or it is gone', async () => {
		const dir = stateDir();
		const lock = EngineLock.acquire(dir, 'serve') as EngineLock;
		await lock.fence();
		writeLock(dir, {pid: 4242, host: 'other-host', token: 'theirs'});
		await expect(lock.fence()).rejects.toThrow(/refused: the engine lock of .* is held by pid 4242 on other-host now/);
		fs.rmSync(lockPath(dir));
		await expect(lock.fence()).rejects.toThrow(/refused: the engine lock .*envwatch\.lock was removed/);
		lock.release();
		await expect(lock.fence()).rejects.toThrow(/no longer holds the engine lock/);
	});
});
