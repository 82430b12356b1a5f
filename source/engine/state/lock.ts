import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Exactly one engine (poll loop and enforcer) per state dir: an O_EXCL lock file naming its
 * holder (pid, host, since, mode, and on Linux the process's start time and the host's boot id)
 * with a heartbeat the holder rewrites. A lock is stale when its holder is gone: on this host its
 * pid no longer exists, or the pid is not that process any more (its start time is another, or,
 * with the heartbeat old, the host restarted since or the process started after the lock was
 * taken); from another host (a shared state dir) its heartbeat is older than `staleMs`. A live
 * holder's lock is never broken.
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
	/**
	 * The holder's start time as the kernel counts it (Linux: field 22 of /proc/<pid>/stat, clock
	 * ticks since boot): a pid given to another process since has another start time.
	 */
	pidStart?: string;
	/** The host's boot id (Linux: /proc/sys/kernel/random/boot_id): another one means it restarted since. */
	bootId?: string;
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
	const optional = (key: string) => record[key] === undefined || typeof record[key] === 'string';
	if (record['version'] === 1 && Number.isInteger(record['pid']) && (record['pid'] as number) > 0 && typeof record['host'] === 'string'
		&& Number.isFinite(record['since']) && Number.isFinite(record['heartbeatAt']) && typeof record['mode'] === 'string' && typeof record['token'] === 'string'
		&& optional('pidStart') && optional('bootId')) {
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

/**
 * What this host says about its processes (Linux's /proc; elsewhere each answer is undefined, and
 * only whether the pid exists decides). Tests replace it.
 */
export type HostFacts = {
	/** The start time of the process `pid` now is (clock ticks since boot), undefined when unknown. */
	processStart(pid: number): string | undefined;
	bootId(): string | undefined;
	/** When this host started (epoch ms), undefined when unknown. */
	bootTime(): number | undefined;
};

function readProc(file: string): string | undefined {
	try {
		return fs.readFileSync(file, 'utf8');
	} catch {
		return undefined;
	}
}

export const procFacts: HostFacts = {
	processStart(pid) {
		const stat = readProc(`/proc/${pid}/stat`);
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count from the last ")".
		// Field 22, starttime, is the 20th after it (the state is field 3).
		const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
		const start = fields?.[19];
		return start !== undefined && /^\d+$/.test(start) ? start : undefined;
	},
	bootId() {
		const id = readProc('/proc/sys/kernel/random/boot_id')?.trim();
		return id ? id : undefined;
	},
	bootTime() {
		const seconds = /^btime (\d+)$/m.exec(readProc('/proc/stat') ?? '')?.[1];
		return seconds === undefined ? undefined : Number(seconds) * 1000;
	},
};

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The kernel counts a process's start time (/proc/<pid>/stat) in USER_HZ clock ticks since boot,
 * which is 100 a second on every architecture Linux runs on today.
 */
const ticksPerSecond = 100;
/**
 * How much later than the lock's `since` a process may seem to have started and still be its
 * holder: the boot time is known to the second, and the wall clock may have been slewed since.
 */
const startSlackMs = 2000;

/**
 * Why a lock on this host whose pid exists is stale anyway, or undefined when it is held. A pid
 * whose start time is not the holder's is another process, however fresh the heartbeat (a pid can
 * be given out again within seconds). Otherwise only a lock without a heartbeat for `staleMs` can
 * be: a live holder rewrites it every 2 s.
 */
function notThatProcess(info: LockInfo, now: number, facts: HostFacts): string | undefined {
	const silent = `no heartbeat for ${Math.round((now - info.heartbeatAt) / 1000)}s`;
	const start = facts.processStart(info.pid);
	const bootId = facts.bootId();
	const sameBoot = info.bootId === undefined || bootId === undefined || info.bootId === bootId;
	if (info.pidStart !== undefined && start !== undefined && start !== info.pidStart && sameBoot) {
		const heartbeat = now - info.heartbeatAt <= staleMs ? `its heartbeat is ${Math.max(0, Math.round((now - info.heartbeatAt) / 1000))}s old, but not that process's` : silent;
		return `pid ${info.pid} is another process now (it started at tick ${start}, the lock's holder at tick ${info.pidStart}; ${heartbeat})`;
	}

	if (now - info.heartbeatAt <= staleMs) {
		return undefined;
	}

	if (!sameBoot) {
		return `${info.host} restarted since pid ${info.pid} took the lock (another boot id; ${silent}): pid ${info.pid} is another process now`;
	}

	const bootTime = facts.bootTime();
	if (bootTime !== undefined && info.heartbeatAt < bootTime) {
		return `its last heartbeat (${iso(info.heartbeatAt)}) is older than ${info.host}'s start (${iso(bootTime)}): pid ${info.pid} is another process now`;
	}

	// A lock written before start times were recorded (an older envwatch, killed with -9): a process
	// that started after the lock was taken cannot be the one that took it.
	if (info.pidStart === undefined && start !== undefined && bootTime !== undefined) {
		const startedAt = bootTime + (Number(start) * 1000 / ticksPerSecond);
		if (startedAt > info.since + startSlackMs) {
			return `pid ${info.pid} is another process now (it started at ${iso(startedAt)}, after the lock was taken at ${iso(info.since)}; ${silent})`;
		}
	}

	return undefined;
}

/** Who holds the lock of `stateDir`, if anyone, and whether that holder is gone. */
export function inspectLock(stateDir: string, now = Date.now(), facts: HostFacts = procFacts): LockState {
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

		const why = notThatProcess(info, now, facts);
		return why ? {kind: 'stale', info, why} : {kind: 'held', info};
	}

	if (now - info.heartbeatAt > staleMs) {
		return {kind: 'stale', info, why: `no heartbeat from pid ${info.pid} on ${info.host} for ${Math.round((now - info.heartbeatAt) / 1000)}s`};
	}

	return {kind: 'held', info};
}

/** What a lock's holder hears about it while it runs. */
export type LockListener = {
	/** A heartbeat found the lock is no longer this process's (another holder, or the file removed). */
	lost?: (why: string) => void;
	/** A heartbeat could not read or write the lock (EMFILE, EIO...): missed, not lost; once per streak. */
	trouble?: (why: string) => void;
};

/** A lock this process holds: heartbeats until released; `lost` when another process took it. */
export class EngineLock {
	/** The stale lock this one replaced, and why it was stale (for the audit log's takeover line). */
	tookOver: {info: LockInfo; why: string} | undefined;
	private timer: NodeJS.Timeout | undefined;
	private released = false;
	/** The heartbeats missed in a row (the lock could not be read or written). */
	private missed = 0;

	private constructor(readonly stateDir: string, readonly info: LockInfo, private readonly listener: LockListener) {}

	/**
	 * Takes the lock, breaking a stale one. Returns the state that stopped it otherwise (held by a
	 * live process, or unreadable). `listener.lost` runs when a heartbeat finds the lock is no
	 * longer ours; `listener.trouble` when a heartbeat fails (the lock is still ours).
	 */
	static acquire(stateDir: string, mode: string, listener: LockListener | ((why: string) => void) = {}, facts: HostFacts = procFacts): EngineLock | LockState {
		try {
			// Not recursive (Node 20's recursive mkdir can spin under /proc): the caller made the state dir.
			if (!fs.existsSync(stateDir)) {
				fs.mkdirSync(stateDir, {mode: 0o700});
			}
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code ?? String(error);
			return {kind: 'unreadable', why: `${stateDir}: cannot create it (${code})`, cannotCreate: code};
		}

		let broken: {info: LockInfo; why: string} | undefined;
		for (let attempt = 0; attempt < 3; attempt++) {
			const now = Date.now();
			const pidStart = facts.processStart(process.pid);
			const bootId = facts.bootId();
			const info: LockInfo = {version: 1, pid: process.pid, host: os.hostname(), since: now, heartbeatAt: now, mode, token: `${process.pid}-${now}-${Math.random().toString(36).slice(2)}`, ...(pidStart ? {pidStart} : {}), ...(bootId ? {bootId} : {})};
			try {
				const fd = fs.openSync(lockPath(stateDir), fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644);
				try {
					fs.writeSync(fd, JSON.stringify(info));
					fs.fsyncSync(fd);
				} finally {
					fs.closeSync(fd);
				}

				const lock = new EngineLock(stateDir, info, typeof listener === 'function' ? {lost: listener} : listener);
				lock.tookOver = broken;
				lock.timer = setInterval(() => lock.beat(), heartbeatMs);
				lock.timer.unref();
				return lock;
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
					const code = (error as NodeJS.ErrnoException).code ?? String(error);
					return {kind: 'unreadable', why: `${lockPath(stateDir)}: cannot create it (${code})`, cannotCreate: code};
				}
			}

			const state = inspectLock(stateDir, Date.now(), facts);
			if (state.kind !== 'stale') {
				if (state.kind === 'free') {
					continue;
				}

				return state;
			}

			if (breakStale(stateDir, state.info)) {
				broken = {info: state.info, why: state.why};
			}
		}

		return inspectLock(stateDir, Date.now(), facts);
	}

	/**
	 * Rewrites the heartbeat, after checking the lock is still this one's. A lock that cannot be
	 * read (too many open files, an I/O error) is a missed heartbeat, never a lock taken or removed:
	 * reported once per streak, and tried again at the next beat.
	 */
	beat(): void {
		if (this.released) {
			return;
		}

		let current: LockInfo | undefined;
		try {
			current = parseLock(fs.readFileSync(lockPath(this.stateDir), 'utf8'));
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
				this.miss(`cannot read the lock file ${lockPath(this.stateDir)} (${describeCode(error)})`);
				return;
			}

			current = undefined;
		}

		if (current?.token !== this.info.token) {
			this.stopBeating();
			this.listener.lost?.(current ? `the lock of ${this.stateDir} is now held by pid ${current.pid} on ${current.host}` : `the lock file ${lockPath(this.stateDir)} was removed or is not a lock any more`);
			return;
		}

		const temporary = `${lockPath(this.stateDir)}.${process.pid}.tmp`;
		const now = Date.now();
		try {
			fs.writeFileSync(temporary, JSON.stringify({...this.info, heartbeatAt: now}));
			fs.renameSync(temporary, lockPath(this.stateDir));
		} catch (error) {
			fs.rmSync(temporary, {force: true});
			// Three missed in a row make it stale to other hosts (this host goes by the pid).
			this.miss(`cannot write the heartbeat to ${lockPath(this.stateDir)} (${describeCode(error)})`);
			return;
		}

		this.info.heartbeatAt = now;
		if (this.missed > 0) {
			this.listener.trouble?.(`the engine lock's heartbeat works again after ${this.missed} missed`);
			this.missed = 0;
		}
	}

	private miss(why: string): void {
		this.missed++;
		if (this.missed === 1) {
			this.listener.trouble?.(`${why}: a heartbeat missed; the lock is still this process's and the engine goes on`);
		}
	}

	private stopBeating(): void {
		this.released = true;
		clearInterval(this.timer);
	}

	/**
	 * Before a stop batch (the enforcer's fence): resolves while the lock file still names this
	 * process, rejects saying why not (another holder took it, or the file is gone). A file that
	 * cannot be read right now (too many open files, an I/O error) does not hold a stop up: the
	 * heartbeat reports it, and a lock taken over is seen at the next batch or heartbeat.
	 */
	async fence(): Promise<void> {
		if (this.released) {
			throw new Error('refused: this process no longer holds the engine lock');
		}

		let text: string;
		try {
			text = fs.readFileSync(lockPath(this.stateDir), 'utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
				throw new Error(`refused: the engine lock ${lockPath(this.stateDir)} was removed`);
			}

			return;
		}

		const current = parseLock(text);
		if (current?.token !== this.info.token) {
			throw new Error(`refused: the engine lock of ${this.stateDir} is ${current ? `held by pid ${current.pid} on ${current.host} now` : 'not this process\'s any more'}`);
		}
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

function describeCode(error: unknown): string {
	return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
}

/**
 * Removes a stale lock so that two processes breaking it at once cannot both remove a fresh one:
 * the stale file is renamed aside first (only one rename wins), and if what was renamed turns out
 * to be a newer lock, it is put back.
 */
function breakStale(stateDir: string, stale: LockInfo): boolean {
	const aside = `${lockPath(stateDir)}.stale.${process.pid}`;
	try {
		fs.renameSync(lockPath(stateDir), aside);
	} catch {
		return false;
	}

	let moved: LockInfo | undefined;
	try {
		moved = parseLock(fs.readFileSync(aside, 'utf8'));
	} catch {
		moved = undefined;
	}

	const same = moved?.token === stale.token;
	if (!same) {
		try {
			fs.linkSync(aside, lockPath(stateDir));
		} catch {
			// Someone took the lock meanwhile: theirs stands.
		}
	}

	fs.rmSync(aside, {force: true});
	return same;
}

export function describeHolder(info: LockInfo): string {
	return `pid ${info.pid} on ${info.host} (${info.mode}, since ${iso(info.since)})`;
}
