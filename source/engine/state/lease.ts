import os from 'node:os';
import {performance} from 'node:perf_hooks';
import type {CoordinationTable, TableCondition, TableItem, TableKey} from '../../providers/index.js';
import {describeError} from './record.js';
import {printable} from '../../domain/index.js';

/**
 * The single-enforcer lease in the coordination table (see docs/design.md, "Beyond one host"):
 * conditional writes, a heartbeat, a fencing token, and staleness judged without comparing two
 * hosts' clocks.
 */
export const leaseKey: TableKey = {pk: 'lease', sk: 'engine'};
/** A Lambda's last look at a lease held by a long-running engine. */
export const watchKey: TableKey = {pk: 'lease', sk: 'watch'};

/** `coordination.dynamodb.leaseSeconds`: the default, and the most a lease may last (a standby takes over within it). */
export const defaultLeaseMs = 20_000;
export const maxLeaseMs = 30_000;

/** The lease as the table holds it. */
export type LeaseInfo = {
	/** One acquisition: host, pid and a random part. */
	holder: string;
	host: string;
	pid: number;
	/** What holds it: `serve`, `dashboard`, `headless`, `once`, `stop`, `start`, `reset`, `lambda`. */
	mode: string;
	/** When the holder took it, by its clock (shown only). */
	since: number;
	/** The fencing token: one more at every taking, never reset. */
	token: number;
	/** One more at every write of the item (a heartbeat, a fence, a release). */
	version: number;
	/** How long the holder counts it valid after a write, by its own clock. */
	durationMs: number;
	/** The holder let it go: the next engine takes it at once. */
	released: boolean;
	/** The holder's clock at its last write, and that plus `durationMs` (shown; compared only between Lambda invocations). */
	heartbeatAt: number;
	expiresAt: number;
};

/** The lease item is not one envwatch wrote: reported, never taken or removed. */
export class LeaseItemError extends Error {}

/** The last instant a Date can hold (+275760-09-13): times past it cannot be written as dates, nor be true. */
const maxTime = 8.64e15;

/** Reads a lease item (from outside: every field is checked). */
export function leaseOf(item: TableItem, where: string): LeaseInfo {
	const problem = (field: string, expected: string) => new LeaseItemError(`the lease item (pk "lease", sk "engine") in ${where} is not an envwatch lease: ${field} is ${printable(JSON.stringify(item[field] ?? null)?.slice(0, 40) ?? 'undefined')} — expected ${expected}; remove it by hand if no envwatch uses this table`);
	// Holder, host and mode are printed (status, refusals, serve's log): a control character in
	// them (an ESC sequence that clears or retitles the terminal) is no lease envwatch wrote.
	const text = (field: string) => {
		const value = item[field];
		if (typeof value !== 'string' || value.length > 300 || printable(value) !== value) {
			throw problem(field, 'a string of at most 300 printable characters');
		}

		return value;
	};

	const whole = (field: string, min: number, max = Number.MAX_SAFE_INTEGER) => {
		const value = item[field];
		if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
			throw problem(field, max === Number.MAX_SAFE_INTEGER ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`);
		}

		return value;
	};

	const released = item['released'];
	if (typeof released !== 'boolean') {
		throw problem('released', 'true or false');
	}

	const durationMs = whole('durationMs', 1000);
	const heartbeatAt = whole('heartbeatAt', 0, maxTime);
	const expiresAt = whole('expiresAt', 0, maxTime);
	// envwatch writes expiresAt as heartbeatAt plus the duration (heartbeatAt itself on release):
	// an expiry further out than that (a far-future expiresAt) is no lease envwatch wrote.
	if (expiresAt < heartbeatAt || expiresAt - heartbeatAt > durationMs) {
		throw problem('expiresAt', `heartbeatAt (${heartbeatAt}) plus at most durationMs (${durationMs})`);
	}

	return {
		holder: text('holder'),
		host: text('host'),
		pid: whole('pid', 0),
		mode: text('mode'),
		since: whole('since', 0, maxTime),
		token: whole('token', 1),
		version: whole('version', 1),
		// A holder that says it lasts longer than any envwatch would make: a standby waits the most there is.
		durationMs: Math.min(durationMs, maxLeaseMs),
		released,
		heartbeatAt,
		expiresAt,
	};
}

function itemOf(info: LeaseInfo): TableItem {
	return {...leaseKey, ...info};
}

/** Clocks a lease reads: the wall clock (only written, for people) and a monotonic one (measures the holder's own durations). */
export type LeaseClock = {now(): number; monotonic(): number};
export const systemClock: LeaseClock = {now: () => Date.now(), monotonic: () => performance.now()};

/** Who the lease says holds the engine, for `status` and messages. */
export function describeLease(info: LeaseInfo, now = Date.now()): string {
	const beat = Math.round((now - info.heartbeatAt) / 1000);
	// A heartbeat dated ahead of this clock is said as such: the two clocks differ (no decision rests on it).
	const when = beat < -5 ? `dated ${-beat}s ahead of this host's clock (the clocks differ)` : beat <= 0 ? 'now' : `${beat}s ago`;
	return `${info.mode} pid ${info.pid} on ${info.host} (since ${new Date(info.since).toISOString()}, fencing token ${info.token}, last heartbeat ${when} by its clock)`;
}

/** The takeover line's start for a lease taken over from an engine that stopped writing it. */
export function leaseTakenOver(table: string, stale: {info: LeaseInfo; why: string}): string {
	return `took over the lease of ${table} from ${describeLease(stale.info)}: ${stale.why}`;
}

/**
 * Watches a lease someone else holds (a standby's view): it is stale once its `version` has not
 * moved for its `durationMs` by this process's own monotonic clock. No clock of another host is
 * read.
 */
export class LeaseWatch {
	private seen: {token: number; version: number; at: number} | undefined;

	constructor(private readonly clock: LeaseClock = systemClock) {}

	/** Whether `info` (just read) is stale: unchanged since this watch first saw it, for its duration. */
	stale(info: LeaseInfo): boolean {
		const at = this.clock.monotonic();
		if (this.seen && info.token < this.seen.token) {
			throw new LeaseItemError(tokenBackwards(this.seen.token, info.token));
		}

		if (!this.seen || this.seen.token !== info.token || this.seen.version !== info.version) {
			this.seen = {token: info.token, version: info.version, at};
			return false;
		}

		return at - this.seen.at >= info.durationMs;
	}

	/** How long the version has stood still, by this process's clock (ms). */
	stillFor(): number {
		return this.seen ? this.clock.monotonic() - this.seen.at : 0;
	}
}

export type LeaseOptions = {
	mode: string;
	durationMs?: number;
	clock?: LeaseClock;
	host?: string;
	pid?: number;
};

/** What a holder hears: the lease is gone (another engine took it, or it ran out), or a heartbeat failed (said once a streak). */
export type LeaseListener = {lost?: (why: string) => void; trouble?: (why: string) => void};

export type Acquired = {kind: 'taken'; lease: TableLease} | {kind: 'held'; info: LeaseInfo};

/**
 * Holding the lease: a heartbeat every quarter of its duration, a fence before each stop batch, a
 * release at the end. Valid, by the holder's own monotonic clock, for `durationMs` from the start
 * of its last successful write.
 */
export class TableLease {
	/** The lease this one replaced, and why it could be taken (a stale one; absent for a released or new one). */
	tookOver: {info: LeaseInfo; why: string} | undefined;
	private validUntil: number;
	private timer: NodeJS.Timeout | undefined;
	private done = false;
	private lostWhy: string | undefined;
	private missed = 0;
	/** The writes of the lease item, one after another. */
	private writes: Promise<void> = Promise.resolve();
	private listener: LeaseListener = {};

	private constructor(private readonly table: CoordinationTable, readonly info: LeaseInfo, private readonly clock: LeaseClock, startedAt: number) {
		this.validUntil = startedAt + info.durationMs;
	}

	/**
	 * Takes the lease when it is absent, released, or `stale` says so of the holder it has (the
	 * caller's judgment: a standby's LeaseWatch, a Lambda's look); otherwise answers who holds it.
	 * Of two engines taking it at once, exactly one wins (the put is conditioned on what was read).
	 */
	static async acquire(table: CoordinationTable, options: LeaseOptions & {stale?: (info: LeaseInfo) => string | undefined}): Promise<Acquired> {
		const clock = options.clock ?? systemClock;
		const current = await table.get(leaseKey);
		const before = current ? leaseOf(current, table.name) : undefined;
		const why = before && !before.released ? options.stale?.(before) : undefined;
		if (before && !before.released && why === undefined) {
			return {kind: 'held', info: before};
		}

		const host = options.host ?? os.hostname();
		const pid = options.pid ?? process.pid;
		const startedAt = clock.monotonic();
		const now = clock.now();
		const durationMs = Math.min(options.durationMs ?? defaultLeaseMs, maxLeaseMs);
		const info: LeaseInfo = {
			holder: `${host}:${pid}:${Math.random().toString(36).slice(2, 10)}`,
			host,
			pid,
			mode: options.mode,
			since: now,
			token: (before?.token ?? 0) + 1,
			version: (before?.version ?? 0) + 1,
			durationMs,
			released: false,
			heartbeatAt: now,
			expiresAt: now + durationMs,
		};
		const written = await table.put(itemOf(info), before ? {equals: {token: before.token, version: before.version}} : {absent: true});
		if (!written.written) {
			// Another engine took it first (or wrote its heartbeat): it holds it.
			return {kind: 'held', info: written.current ? leaseOf(written.current, table.name) : before ?? info};
		}

		const lease = new TableLease(table, info, clock, startedAt);
		lease.tookOver = before && why !== undefined ? {info: before, why} : undefined;
		return {kind: 'taken', lease};
	}

	/** Starts the heartbeat (every quarter of the duration) and says what happens to the lease. */
	hold(listener: LeaseListener): void {
		this.listener = listener;
		clearInterval(this.timer);
		this.timer = setInterval(() => {
			void this.beat();
		}, Math.max(250, this.info.durationMs / 4));
		this.timer.unref();
	}

	/** The condition a state write holds to: this holder's token and holder id. */
	condition(): TableCondition {
		return {key: leaseKey, equals: {token: this.info.token, holder: this.info.holder}};
	}

	/** Why this process no longer holds the lease, once it does not. */
	get lost(): string | undefined {
		return this.lostWhy;
	}

	/**
	 * Before a stop batch: the lease is written once more, conditioned on this holder's token, and
	 * must still be valid by this holder's clock once that write returns. Rejects, saying why, when
	 * this process may not act (and then it has lost the lease).
	 */
	async fence(): Promise<void> {
		if (this.lostWhy !== undefined || this.done) {
			throw new Error(`refused: ${this.lostWhy ?? 'this engine released the lease'}`);
		}

		await this.renew();
		if (this.lostWhy !== undefined) {
			throw new Error(`refused: ${this.lostWhy}`);
		}

		// A write that took most of the lease's duration (a pause, a stalled network) leaves too little of it to act on.
		if (this.clock.monotonic() > this.validUntil - this.info.durationMs / 2) {
			throw new Error(`refused: the fence of the lease took ${Math.round((this.clock.monotonic() - this.validUntil + this.info.durationMs) / 1000)}s, too close to its end`);
		}
	}

	/** One heartbeat (the timer's; a test may call it). */
	async beat(): Promise<void> {
		if (this.done || this.lostWhy !== undefined) {
			return;
		}

		try {
			await this.renew();
		} catch (error) {
			const expired = this.clock.monotonic() > this.validUntil;
			if (expired) {
				this.lose(`the lease ran out by this engine's clock: no heartbeat written for ${Math.round((this.clock.monotonic() - this.validUntil + this.info.durationMs) / 1000)}s (${describeError(error)})`);
				return;
			}

			this.missed++;
			if (this.missed === 1) {
				this.listener.trouble?.(`cannot write the lease's heartbeat to ${this.table.name} (${describeError(error)}): a heartbeat missed; the lease is this engine's for ${Math.round((this.validUntil - this.clock.monotonic()) / 1000)}s more`);
			}
		}
	}

	/** Writes the lease again (version + 1), if it is still this holder's; one write at a time, in order (a heartbeat and a fence never race each other's version). */
	private async renew(): Promise<void> {
		const write = this.writes.catch(() => undefined).then(async () => this.write());
		this.writes = write;
		return write;
	}

	private async write(): Promise<void> {
		if (this.lostWhy !== undefined) {
			return;
		}

		const startedAt = this.clock.monotonic();
		const now = this.clock.now();
		const next: LeaseInfo = {...this.info, version: this.info.version + 1, heartbeatAt: now, expiresAt: now + this.info.durationMs};
		const written = await this.table.put(itemOf(next), {equals: {token: this.info.token, holder: this.info.holder}});
		if (!written.written) {
			const current = written.current ? leaseOf(written.current, this.table.name) : undefined;
			this.lose(current ? `another engine holds the lease of ${this.table.name} now: ${describeLease(current, now)}` : `the lease item of ${this.table.name} was removed`);
			return;
		}

		Object.assign(this.info, {version: next.version, heartbeatAt: now, expiresAt: next.expiresAt});
		this.validUntil = startedAt + this.info.durationMs;
		if (this.missed > 0) {
			this.listener.trouble?.(`the lease's heartbeat works again after ${this.missed} missed`);
			this.missed = 0;
		}
	}

	private lose(why: string): void {
		if (this.lostWhy !== undefined) {
			return;
		}

		this.lostWhy = why;
		clearInterval(this.timer);
		this.listener.lost?.(why);
	}

	/** Lets the lease go (`released`), so the next engine takes it at once; never throws. */
	async release(): Promise<void> {
		if (this.done) {
			return;
		}

		this.done = true;
		clearInterval(this.timer);
		if (this.lostWhy !== undefined) {
			return;
		}

		await this.writes.catch(() => undefined);
		const now = this.clock.now();
		try {
			await this.table.put(itemOf({...this.info, version: this.info.version + 1, released: true, heartbeatAt: now, expiresAt: now}), {equals: {token: this.info.token, holder: this.info.holder}});
		} catch {
			// Not released: it goes stale instead, and the next engine takes it over after its duration.
		}
	}
}

/**
 * A Lambda invocation's judgment of a lease held by someone else, in one look: a lease of another
 * Lambda invocation is stale once its `expiresAt` has passed by this invocation's clock (both are
 * AWS's clocks); a long-running engine's, once its version has not moved since a Lambda first saw
 * it at least its duration before (the `watch` item, by Lambda clocks). Returns why it is stale,
 * or undefined (then the watch is written when the version is new to it).
 */
export async function lambdaJudgment(table: CoordinationTable, info: LeaseInfo, now: number): Promise<string | undefined> {
	if (info.mode === 'lambda' && now > info.expiresAt) {
		return `the Lambda invocation that held it (${info.holder}) did not release it and it expired ${Math.round((now - info.expiresAt) / 1000)}s ago`;
	}

	// Any other lease (a Lambda's too, whose expiry may be dated by a clock ahead of this one) by the watch.
	const watch = await table.get(watchKey);
	const seenAt = watch?.['seenAt'];
	const watchedToken = watch?.['token'];
	if (typeof watchedToken === 'number' && watchedToken > info.token) {
		throw new LeaseItemError(`${tokenBackwards(watchedToken, info.token)}; if the table was restored or the lease item removed by hand, remove the watch item (pk "lease", sk "watch") too`);
	}

	// A watch dated ahead of this clock is not trusted (it would never age): it is written again.
	if (watch && watchedToken === info.token && watch['version'] === info.version && typeof seenAt === 'number' && Number.isFinite(seenAt) && seenAt <= now) {
		return now - seenAt >= info.durationMs ? `its version (${info.version}) has not moved for ${Math.round((now - seenAt) / 1000)}s (since an earlier invocation saw it), more than its ${info.durationMs / 1000}s` : undefined;
	}

	await table.put({...watchKey, token: info.token, version: info.version, seenAt: now, holder: info.holder});
	return undefined;
}

function tokenBackwards(seen: number, now: number): string {
	return `the lease's fencing token went backwards (from ${seen} to ${now}): the lease item was rewritten by something other than envwatch; not taken over, nothing acted on`;
}

/** The lease as the table holds it now (for `status`); undefined when there is none. */
export async function readLease(table: CoordinationTable): Promise<LeaseInfo | undefined> {
	const item = await table.get(leaseKey);
	return item ? leaseOf(item, table.name) : undefined;
}
