import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {EngineLock, inspectLock, lockPath, staleMs} from '../../source/engine/lock.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
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
});
