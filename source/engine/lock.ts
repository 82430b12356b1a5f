import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Exactly one engine (poll loop and enforcer) per state dir: an O_EXCL lock file naming its
 * holder (pid, host, since, mode) with a heartbeat the holder rewrites. A lock is stale when its
 * holder is gone: on this host its pid no longer exists; from another host (a shared state dir)
 * its heartbeat is older than `staleMs`. A live holder's lock is never broken.
 */
export type LockInfo = {
	version: 1;
	pid: number;
	host: string;
	/** Epoch ms the holder took the lock. */
	since: number;
	/** Epoch ms of the holder's last heartbeat. */
	heartbeatAt: number;
	/** What runs the engine: `serve`, `dashboard`, `once`, `stop`, `start`, `reset`. */
	mode: string;
	/** Unique per acquisition: tells this holder's lock from a later one with a reused pid. */
	token: string;
};

export const lockFileName = 'envwatch.lock';
export const heartbeatMs = 2000;
/** Three missed heartbeats. */
export const staleMs = heartbeatMs * 3 + 1000;

export type LockState =
	| {kind: 'free'}
	| {kind: 'held'; info: LockInfo}
	| {kind: 'stale'; info: LockInfo; why: string}
	/** Present but not a lock file this version wrote: reported, never removed. */
	| {kind: 'unreadable'; why: string; cannotCreate?: string};

export function lockPath(stateDir: string): string {
	return path.join(stateDir, lockFileName);
}

function parseLock(text: string): LockInfo | undefined {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		return undefined;
	}

	if (typeof value !== 'object' || value === null) {
		return undefined;
	}

	const record = value as Record<string, unknown>;
	if (record['version'] === 1 && Number.isInteger(record['pid']) && (record['pid'] as number) > 0 && typeof record['host'] === 'string'
		&& Number.isFinite(record['since']) && Number.isFinite(record['heartbeatAt']) && typeof record['mode'] === 'string' && typeof record['token'] === 'string') {
		return record as LockInfo;
	}

	return undefined;
}

function pidAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		// EPERM: it exists, it is just not ours.
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** Who holds the lock of `stateDir`, if anyone, and whether that holder is gone. */
export function inspectLock(stateDir: string, now = Date.now()): LockState {
	let text: string;
	try {
		text = fs.readFileSync(lockPath(stateDir), 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			return {kind: 'free'};
		}

		return {kind: 'unreadable', why: `${lockPath(stateDir)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`};
	}

	const info = parseLock(text);
	if (!info) {
		// A holder may be between creating the file and writing it: a moment later it is readable.
		return {kind: 'unreadable', why: `${lockPath(stateDir)}: not an envwatch lock file (remove it by hand if no envwatch runs on this state dir)`};
	}

	if (info.host === os.hostname()) {
		if (!pidAlive(info.pid)) {
			return {kind: 'stale', info, why: `pid ${info.pid} on ${info.host} is gone`};
		}

		return {kind: 'held', info};
	}

	if (now - info.heartbeatAt > staleMs) {
		return {kind: 'stale', info, why: `no heartbeat from pid ${info.pid} on ${info.host} for ${Math.round((now - info.heartbeatAt) / 1000)}s`};
	}

	return {kind: 'held', info};
}

/** A lock this process holds: heartbeats until released; `lost` when another process took it. */
export class EngineLock {
	private timer: NodeJS.Timeout | undefined;
	private released = false;

	private constructor(readonly stateDir: string, readonly info: LockInfo, private readonly onLost: (why: string) => void) {}

	/**
	 * Takes the lock, breaking a stale one. Returns the state that stopped it otherwise (held by a
	 * live process, or unreadable). `onLost` runs when a heartbeat finds the lock is no longer ours.
	 */
	static acquire(stateDir: string, mode: string, onLost: (why: string) => void = () => undefined): EngineLock | LockState {
		try {
			// Not recursive (Node 20's recursive mkdir can spin under /proc): the caller made the state dir.
			if (!fs.existsSync(stateDir)) {
				fs.mkdirSync(stateDir, {mode: 0o700});
			}
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code ?? String(error);
			return {kind: 'unreadable', why: `${stateDir}: cannot create it (${code})`, cannotCreate: code};
		}

		for (let attempt = 0; attempt < 3; attempt++) {
			const now = Date.now();
			const info: LockInfo = {version: 1, pid: process.pid, host: os.hostname(), since: now, heartbeatAt: now, mode, token: `${process.pid}-${now}-${Math.random().toString(36).slice(2)}`};
			try {
				const fd = fs.openSync(lockPath(stateDir), fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644);
				try {
					fs.writeSync(fd, JSON.stringify(info));
					fs.fsyncSync(fd);
				} finally {
					fs.closeSync(fd);
				}

				const lock = new EngineLock(stateDir, info, onLost);
				lock.timer = setInterval(() => lock.beat(), heartbeatMs);
				lock.timer.unref();
				return lock;
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
					const code = (error as NodeJS.ErrnoException).code ?? String(error);
					return {kind: 'unreadable', why: `${lockPath(stateDir)}: cannot create it (${code})`, cannotCreate: code};
				}
			}

			const state = inspectLock(stateDir);
			if (state.kind !== 'stale') {
				if (state.kind === 'free') {
					continue;
				}

				return state;
			}

			breakStale(stateDir, state.info);
		}

		return inspectLock(stateDir);
	}

	/** Rewrites the heartbeat, after checking the lock is still this one's. */
	beat(): void {
		if (this.released) {
			return;
		}

		let current: LockInfo | undefined;
		try {
			current = parseLock(fs.readFileSync(lockPath(this.stateDir), 'utf8'));
		} catch {
			current = undefined;
		}

		if (current?.token !== this.info.token) {
			this.stopBeating();
			this.onLost(current ? `the lock of ${this.stateDir} is now held by pid ${current.pid} on ${current.host}` : `the lock file ${lockPath(this.stateDir)} was removed`);
			return;
		}

		this.info.heartbeatAt = Date.now();
		const temporary = `${lockPath(this.stateDir)}.${process.pid}.tmp`;
		try {
			fs.writeFileSync(temporary, JSON.stringify(this.info));
			fs.renameSync(temporary, lockPath(this.stateDir));
		} catch {
			// A missed heartbeat; the next one tries again (three missed make it stale to other hosts).
		}
	}

	private stopBeating(): void {
		this.released = true;
		clearInterval(this.timer);
	}

	/** Removes the lock file, if it is still this one's. */
	release(): void {
		if (this.released) {
			return;
		}

		this.stopBeating();
		try {
			const current = parseLock(fs.readFileSync(lockPath(this.stateDir), 'utf8'));
			if (current?.token === this.info.token) {
				fs.rmSync(lockPath(this.stateDir), {force: true});
			}
		} catch {
			// Already gone.
		}
	}
}

/**
 * Removes a stale lock so that two processes breaking it at once cannot both remove a fresh one:
 * the stale file is renamed aside first (only one rename wins), and if what was renamed turns out
 * to be a newer lock, it is put back.
 */
function breakStale(stateDir: string, stale: LockInfo): void {
	const aside = `${lockPath(stateDir)}.stale.${process.pid}`;
	try {
		fs.renameSync(lockPath(stateDir), aside);
	} catch {
		return;
	}

	const moved = parseLock(fs.readFileSync(aside, 'utf8'));
	if (moved?.token !== stale.token) {
		try {
			fs.linkSync(aside, lockPath(stateDir));
		} catch {
			// Someone took the lock meanwhile: theirs stands.
		}
	}

	fs.rmSync(aside, {force: true});
}

export function describeHolder(info: LockInfo): string {
	return `pid ${info.pid} on ${info.host} (${info.mode}, since ${new Date(info.since).toISOString()})`;
}
