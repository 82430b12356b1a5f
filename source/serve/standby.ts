import {describeLease, LeaseWatch, messageOf, readLease, readMirrored, refusedSnapshot, SnapshotMirror, TableAudit, TableLease, type AuditLog, type CoordinationTable, type EngineLock, type LeaseInfo, type Monitor, type Pauses, type Snapshot, type SnapshotStore, type TableMedium} from '../engine/index.js';
import {printable} from '../domain/index.js';
import {EngineServer} from './server.js';

/** The engine this process runs: its monitor, the snapshots it publishes, its audit log. */
export type LocalEngine = {monitor: Monitor; store: SnapshotStore; audit: AuditLog; monitored?: readonly string[]; pausedAtStart?: Pauses};

// A session's parts beyond one host (`coordination.dynamodb`, docs/design.md "Beyond one host"):
// the engine's share of the table while it leads, and the standby while another host's engine does.

/**
 * `coordination.dynamodb`: the single-enforcer lease and the engine's state in the table, beside
 * the state dir's lock (which still keeps one process per state dir on this host).
 */
export type SessionCoordination = {table: CoordinationTable; durationMs: number};

/** The engine's parts in the table: the lease, the audit entries, the snapshot standbys show. */
export type Shared = {lease: TableLease; medium: TableMedium; audit: TableAudit; mirror: SnapshotMirror; detach: () => void};

/** A coordinated engine's parts in the table: its audit entries, the snapshot standbys show, the lease's heartbeat. */
export function shareEngine(
	table: CoordinationTable,
	engine: LocalEngine,
	held: {lease: TableLease; medium: TableMedium},
	options: {version: string; log: (line: string) => void; lost: (why: string) => void; trouble: (why: string) => void},
): Shared {
	const {lease, medium} = held;
	const log = (line: string) => options.log(line.replace(/^envwatch: /, ''));
	const audit = new TableAudit(table, lease.info.holder, log);
	const detach = audit.attach(engine.audit);
	const mirror = new SnapshotMirror(table, engine.store, () => lease.condition(), options.version, lease.info.token, log);
	mirror.start();
	lease.hold({lost: options.lost, trouble: options.trouble});
	return {lease, medium, audit, mirror, detach};
}

/** The table's parts of an ending engine: its last figures and audit entries written, the lease released (if still its). */
export async function unshareEngine(shared: Shared | undefined, release: boolean): Promise<void> {
	if (!shared) {
		return;
	}

	shared.mirror.stop();
	if (release) {
		await shared.mirror.flush();
		await shared.medium.flush();
	}

	await shared.audit.flush();
	shared.detach();
	if (release) {
		await shared.lease.release();
	}
}

export type StandbyOptions = {
	coordination: SessionCoordination;
	socketPath: string;
	group?: string | undefined;
	mode: string;
	stateDir: string;
	version: string;
	log: (line: string) => void;
	/** Where the leader's figures are published (the session follows it). */
	mirrored: SnapshotStore;
	/** The lease is this process's now: run the engine (the standby has closed its server). Never throws: a start that fails gives the lease back and `reopen`s this standby, or ends the process. */
	takeOver: (lease: TableLease) => Promise<void>;
};

/** The leader as the table names it, for the dashboard (from outside: its text escaped for the terminal). */
export function escapedLeader(leader: LeaseInfo): {pid: number; host: string; mode: string} {
	return {pid: leader.pid, host: printable(leader.host), mode: printable(leader.mode)};
}

/**
 * Another host's engine holds the lease: this process keeps the state dir's lock and serves its
 * socket (so this host's dashboards attach here), shows the leader's figures from the table,
 * refuses commands that act, and watches the lease: once its version has not moved for its
 * duration by this process's clock (or it was released), it takes the lease and runs the engine.
 */
export class Standby {
	private timer: NodeJS.Timeout | undefined;
	private watching = false;
	private problem: string | undefined;
	private ended = false;
	/** The last takeover that failed, as said. */
	private failed: string | undefined;
	private readonly watch = new LeaseWatch();
	/** The leader's last figures that passed their check (with its fencing token), and the refusal said last (snapshot-check.ts). */
	private lastGood: {token: number; snapshot: Snapshot} | undefined;
	private refused: string | undefined;

	private constructor(
		readonly lock: EngineLock,
		private server: EngineServer,
		public leader: LeaseInfo,
		private readonly options: StandbyOptions,
	) {}

	static async open(lock: EngineLock, leader: LeaseInfo, options: StandbyOptions): Promise<Standby> {
		const made: {standby?: Standby} = {};
		let server: EngineServer;
		try {
			server = await listen(lock, options, () => made.standby?.refusal() ?? 'refused: this is a standby');
		} catch (error) {
			lock.release();
			throw error;
		}

		const standby = new Standby(lock, server, leader, options);
		made.standby = standby;
		standby.watch.stale(leader);
		standby.watchLease();
		options.log(`standby: the engine runs on ${leader.host} (${describeLease(leader)}) with the lease of ${options.coordination.table.name}; this process shows its figures and takes over if it stops`);
		await standby.showLeader(leader);
		return standby;
	}

	private watchLease(): void {
		this.timer = setInterval(() => void this.look(), Math.max(250, this.options.coordination.durationMs / 4));
	}

	/**
	 * After a takeover that failed (the lease given back): the socket served again and the lease
	 * watched again, so the next look tries again. Said once while the same failure repeats.
	 * Undefined when it stands by again; else why not (the state dir's lock is then released).
	 */
	async reopen(why: string): Promise<string | undefined> {
		try {
			this.server = await listen(this.lock, this.options, () => this.refusal());
		} catch (error) {
			this.lock.release();
			return messageOf(error);
		}

		this.ended = false;
		this.watchLease();
		const line = `standby: ${why}; the lease is released, and this process stands by again: it tries again at its next look at the lease`;
		if (line !== this.failed) {
			this.options.log(line);
		}

		this.failed = line;
		return undefined;
	}

	/** What a command that acts is answered here. */
	refusal(): string {
		return `refused: this is a standby; the engine runs on ${this.leader.host} (${this.leader.mode} pid ${this.leader.pid}): act there, or wait for it to hand over`;
	}

	/** One look at the lease (a standby's heartbeat): take it over when it is released or stale, else show the leader's latest figures. */
	private async look(): Promise<void> {
		if (this.ended || this.watching) {
			return;
		}

		this.watching = true;
		const {table, durationMs} = this.options.coordination;
		try {
			const info = await readLease(table);
			const stale = info && !info.released ? this.watch.stale(info) : true;
			this.problem = undefined;
			if (info && !info.released && !stale) {
				this.leader = info;
				await this.showLeader(info);
				return;
			}

			const why = info && !info.released ? `no heartbeat for ${Math.round(this.watch.stillFor() / 1000)}s by this process's clock (its version ${info.version} has not moved)` : undefined;
			const acquired = await TableLease.acquire(table, {mode: this.options.mode, durationMs, stale: current => (info && current.token === info.token && current.version === info.version ? why : undefined)});
			if (acquired.kind === 'held') {
				this.leader = acquired.info;
				return;
			}

			// A standby that takes over always says from whom: a lease released is an ended engine's.
			acquired.lease.tookOver ??= {info: info ?? this.leader, why: 'it released the lease (its engine ended)'};
			if (this.ended) {
				await acquired.lease.release();
				return;
			}

			await this.close('this process takes the engine over');
			await this.options.takeOver(acquired.lease);
		} catch (error) {
			// Said once while it lasts (a look every quarter of the lease would repeat it).
			const problem = `standby: cannot look at the lease in ${table.name} (${messageOf(error)}); trying again`;
			if (problem !== this.problem) {
				this.options.log(problem);
			}

			this.problem = problem;
		} finally {
			this.watching = false;
		}
	}

	/** The leader's figures from the table, marked whose they are. */
	private async showLeader(leader: LeaseInfo): Promise<void> {
		const mirrored = await readMirrored(this.options.coordination.table, this.options.version, leader);
		// The leader as the table names it (from outside: its text escaped for the terminal).
		const whose = {leader: escapedLeader(leader)};
		if ('snapshot' in mirrored) {
			this.lastGood = {token: leader.token, snapshot: {...mirrored.snapshot, ...whose}};
			this.options.mirrored.publish(this.lastGood.snapshot);
		} else if (mirrored.refused) {
			// Never shown: the last good figures stay, marked old (or none), saying why; said once in the log while it lasts.
			const last = this.lastGood?.token === leader.token ? this.lastGood.snapshot : undefined;
			const refused = `REFUSED the figures of ${whose.leader.mode} pid ${leader.pid} (${whose.leader.host}) in ${this.options.coordination.table.name}: ${mirrored.refused}`;
			this.options.mirrored.publish({...refusedSnapshot(last, refused, Date.now()), ...whose});
			if (mirrored.problem !== this.refused) {
				this.options.log(`standby: ${mirrored.problem}: not shown`);
			}
		}

		this.refused = 'refused' in mirrored ? mirrored.problem : undefined;
	}

	/** Stops watching and closes the socket (the state dir's lock stays with the caller). */
	async close(reason: string): Promise<void> {
		this.ended = true;
		clearInterval(this.timer);
		await this.server.close(reason);
	}

	/** Ends at once (the process cannot wait): the lock released, the socket removed. */
	abandon(): void {
		this.ended = true;
		clearInterval(this.timer);
		this.lock.release();
		this.server.removeSocket();
	}
}

/** The standby's server on the state dir's socket: this host's dashboards attach here and are shown the leader's figures; commands that act are refused. */
async function listen(lock: EngineLock, options: StandbyOptions, refusal: () => string): Promise<EngineServer> {
	return EngineServer.listen({
		socketPath: options.socketPath,
		group: options.group,
		info: {pid: process.pid, host: lock.info.host, since: lock.info.since, mode: `${options.mode} (standby)`, stateDir: options.stateDir, version: options.version},
		engine: {store: options.mirrored, command: async () => ({outcome: 'refused', summary: refusal()}), cascadeTarget: () => undefined},
		log: options.log,
	});
}
