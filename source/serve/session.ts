import path from 'node:path';
import {describeHolder, droppedPauses, EngineLock, SnapshotStore, type AuditEntry, type AuditLog, type Command, type LockListener, type LockState, type Monitor, type Pauses} from '../engine/index.js';
import {connectServer, type RemoteEngine} from './client.js';
import {guardedBy, guardedNote, readEngineRecord, writeEngineRecord, type EngineRecord} from './handover.js';
import {socketFileName, type ClientKind, type ServerInfo} from './protocol.js';
import {EngineServer} from './server.js';
import {UsageError} from '../domain/index.js';

/**
 * What running the engine in this process takes (built by main's createRuntime): `monitored`, the
 * environments it guards, and `pausedAtStart`, what it starts with paused (`--pause-env`).
 */
export type LocalEngine = {monitor: Monitor; store: SnapshotStore; audit: AuditLog; monitored?: readonly string[]; pausedAtStart?: Pauses};

/** The engine this process runs: its lock and socket, whether its `down` line is written, and the stop of its engine.json updates. */
type Running = LocalEngine & {lock: EngineLock; server: EngineServer; down: boolean; unrecord: () => void};

export type SessionOptions = {
	stateDir: string;
	/** `serve`, `dashboard`, `headless`: what this process is, in the lock and the server's welcome. */
	mode: string;
	/** What this process says it is when it attaches. */
	client: ClientKind;
	actor: string;
	version: string;
	group?: string | undefined;
	/**
	 * Builds the engine from the persisted state (called once the lock is this process's).
	 * `guard`: at a hand-over, the environments the engine before guarded, to guard them too.
	 */
	createEngine: (guard?: readonly string[]) => Promise<LocalEngine>;
	/** This run named its environments (`--environments`): a hand-over does not replace them (it says so if they differ). */
	environmentsNamed?: boolean;
	/**
	 * The engine this process ran stopped by itself (it lost the engine lock; the `down` line is
	 * written), or the server refused this client: the process should end, non-zero (a supervisor
	 * starts it again).
	 */
	onStopped?: (reason: string) => void;
	/** Where the server and hand-overs say what happened (stderr when headless; nowhere under the dashboard). */
	log: (line: string) => void;
	/** Throws a UsageError when the state dir or the audit log cannot be written (before the lock is taken). */
	beforeLock?: () => void;
	/** Never attach: run the engine or fail (`envwatch serve`). */
	serveOnly?: boolean;
	/** `--read-only` on an attached dashboard: it sends no command that acts (the server's own mode is the server's). */
	readOnly?: boolean;
};

/** What a --read-only dashboard does not send: what acts on the fleet, and what changes the guard's protection. */
const acting = new Set<Command['kind']>(['stop', 'stop-instances', 'cascade', 'emergency', 'undo', 'reset', 'start', 'pause', 'resume', 'pause-env', 'resume-env', 'cancel-pending', 'guard']);

/** Why the engine could not be found nor run: the message names the holder; exit 1. */
export class EngineBusy extends Error {}

export function socketPathOf(stateDir: string): string {
	return path.join(stateDir, socketFileName);
}

const sleep = async (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Lock holders that finish by themselves: waited for rather than reported. */
const shortLived = new Set(['once', 'stop', 'start', 'reset']);

export function lockProblem(state: LockState, stateDir: string): string {
	if (state.kind === 'held') {
		return `the engine of ${stateDir} is held by ${describeHolder(state.info)}, but its socket ${socketPathOf(stateDir)} does not answer; if that process is hung, end it (kill ${state.info.pid}) — envwatch never breaks a live process's lock`;
	}

	if (state.kind === 'unreadable') {
		return `cannot take the engine lock: ${state.why}`;
	}

	return `cannot take the engine lock of ${stateDir}`;
}

type Found = {kind: 'attached'; remote: RemoteEngine} | {kind: 'lock'; lock: EngineLock};

/**
 * Finds the server on a state dir or takes the engine lock, whichever comes first. A short-lived
 * holder (a `--once` from cron) is waited for; a live holder whose socket does not answer, after a
 * grace of `patienceMs` (it may be starting its server), is an EngineBusy naming it.
 */
export async function attachOrLock(options: {stateDir: string; mode: string; client: ClientKind; actor: string; serveOnly?: boolean; patienceMs?: number; onLost?: (why: string) => void; onTrouble?: (why: string) => void; beforeLock?: () => void}): Promise<Found> {
	const socketPath = socketPathOf(options.stateDir);
	const started = Date.now();
	for (;;) {
		const connection = await connectServer(socketPath, {actor: options.actor, client: options.client});
		if (connection.kind === 'attached') {
			if (options.serveOnly) {
				connection.remote.close();
				throw new EngineBusy(`${options.stateDir} is already served by pid ${connection.remote.server.pid} on ${connection.remote.server.host} (${connection.remote.server.mode}, since ${new Date(connection.remote.server.since).toISOString()}): attach to it with envwatch --state-dir ${options.stateDir}`);
			}

			return connection;
		}

		if (connection.kind === 'denied') {
			throw new EngineBusy(connection.message);
		}

		// No server: this process will run the engine, so the state dir must be writable (checked
		// only now: attaching needs no write access, as an on-call engineer's to a service's state).
		options.beforeLock?.();
		const listener: LockListener = {...(options.onLost ? {lost: options.onLost} : {}), ...(options.onTrouble ? {trouble: options.onTrouble} : {})};
		const taken = EngineLock.acquire(options.stateDir, options.mode, listener);
		if (taken instanceof EngineLock) {
			return {kind: 'lock', lock: taken};
		}

		if (taken.kind === 'unreadable' && taken.cannotCreate) {
			// Not a busy engine: a state dir this user cannot write (and no server to attach to).
			throw new UsageError(`the state dir ${options.stateDir}: cannot create the engine lock in it (${taken.cannotCreate}) — expected a writable directory${connection.kind === 'silent' ? `; ${connection.message}` : ''}`);
		}

		const waited = Date.now() - started;
		const patient = taken.kind === 'held' && shortLived.has(taken.info.mode) ? 120_000 : options.patienceMs ?? 3000;
		if (waited > patient) {
			throw new EngineBusy(connection.kind === 'silent' ? `${connection.message}; ${lockProblem(taken, options.stateDir)}` : lockProblem(taken, options.stateDir));
		}

		await sleep(300);
	}
}

/**
 * The engine as the dashboard (or `serve`, or headless) uses it, wherever it runs: attached to the
 * server on the state dir, or run here and served on the same socket. When the server this one is
 * attached to goes away, this one takes the engine over from the persisted state and says so.
 * `store` is the one snapshot source for the views; `command` the one way in.
 */
export class EngineSession {
	readonly store = new SnapshotStore();
	private remote: RemoteEngine | undefined;
	private local: Running | undefined;
	private unsubscribe: (() => void) | undefined;
	private started = false;
	private stopping = false;
	private takingOver: Promise<void> | undefined;

	constructor(private readonly options: SessionOptions) {}

	/** Where the engine runs now. */
	get attachedTo(): ServerInfo | undefined {
		return this.remote?.server;
	}

	get monitor(): Monitor | undefined {
		return this.local?.monitor;
	}

	get server(): EngineServer | undefined {
		return this.local?.server;
	}

	/** The lock's listener: lost (the engine stops, the process ends) or in trouble (said and recorded). */
	private lockListener() {
		return {
			onLost: (why: string) => this.lost(why),
			onTrouble: (why: string) => {
				this.options.log(why);
				this.note({type: 'decision', actor: 'auto', kind: 'lock', environments: [], reason: why, instanceIds: []});
			},
		};
	}

	/** Attaches or starts the engine (not its loop: `start`). */
	async open(): Promise<'attached' | 'running'> {
		const found = await attachOrLock({...this.options, ...this.lockListener()});
		if (found.kind === 'attached') {
			this.attach(found.remote);
			return 'attached';
		}

		await this.runHere(found.lock);
		return 'running';
	}

	/** Publishes `store`'s snapshots as this session's; `carried`: the events seen before a hand-over, kept below the new engine's. */
	private follow(store: SnapshotStore, carried: readonly AuditEntry[] = []): void {
		this.unsubscribe?.();
		const forward = () => {
			const snapshot = store.getSnapshot();
			if (snapshot) {
				const oldest = Math.min(...snapshot.events.map(entry => entry.seq));
				const events = carried.length === 0 ? snapshot.events : [...snapshot.events, ...carried.filter(entry => entry.seq < oldest)].slice(0, Math.max(50, snapshot.events.length));
				this.store.publish(events === snapshot.events ? snapshot : {...snapshot, events});
			}
		};

		this.unsubscribe = store.subscribe(forward);
		forward();
	}

	private attach(remote: RemoteEngine): void {
		this.remote = remote;
		this.follow(remote.store);
		remote.onClose(reason => {
			if (this.stopping) {
				return;
			}

			if (remote.refused !== undefined) {
				// Refused, not gone: the server is there, and taking over would be refused the lock.
				this.options.log(reason);
				this.options.onStopped?.(reason);
				return;
			}

			this.takingOver = this.takeOver(remote.server, reason);
		});
	}

	private async runHere(lock: EngineLock, from?: {server: ServerInfo; reason: string}): Promise<void> {
		// The engine before this one, as it last said what it guarded and what was paused.
		const before = readEngineRecord(this.options.stateDir);
		const previous = before?.token === lock.info.token ? undefined : before;
		const handover = from !== undefined || lock.tookOver !== undefined;
		let engine: LocalEngine;
		try {
			engine = await this.options.createEngine(handover && previous && !this.options.environmentsNamed ? previous.environments : undefined);
		} catch (error) {
			lock.release();
			throw error;
		}

		let server: EngineServer;
		try {
			server = await EngineServer.listen({
				socketPath: socketPathOf(this.options.stateDir),
				group: this.options.group,
				info: {pid: process.pid, host: lock.info.host, since: lock.info.since, mode: this.options.mode, stateDir: this.options.stateDir, version: this.options.version},
				engine: {store: engine.store, command: async (command, actor) => engine.monitor.command(command, actor), cascadeTarget: () => engine.monitor.cascadeTarget(), note: entry => engine.monitor.note(entry)},
				log: this.options.log,
			});
		} catch (error) {
			await engine.monitor.stop().catch(() => undefined);
			engine.audit.close();
			lock.release();
			throw error;
		}

		const local: Running = {...engine, lock, server, down: false, unrecord: () => undefined};
		this.local = local;
		this.handOver(local, previous, handover ? from : undefined);
		// engine.json follows what this engine guards and what is paused, for the one after it.
		const record = this.recordOf(local);
		let written = '';
		const write = (part: Pick<EngineRecord, 'environments' | 'paused' | 'pausedEnvironments'>) => {
			const text = JSON.stringify(part);
			if (text !== written && writeEngineRecord(this.options.stateDir, {...record, ...part})) {
				written = text;
			}
		};

		write({environments: [...(engine.monitored ?? [])], paused: engine.pausedAtStart?.paused ?? false, pausedEnvironments: [...(engine.pausedAtStart?.pausedEnvironments ?? [])]});
		local.unrecord = engine.store.subscribe(() => {
			const snapshot = engine.store.getSnapshot();
			if (snapshot && !snapshot.attachedTo) {
				write(guardedBy(snapshot));
			}
		});

		// The events pane keeps what it showed before the hand-over (the stop just made, say).
		this.follow(engine.store, from ? this.store.getSnapshot()?.events ?? [] : []);
		if (this.started) {
			engine.monitor.start();
		}
	}

	private recordOf(local: {lock: EngineLock}): Omit<EngineRecord, 'environments' | 'paused' | 'pausedEnvironments'> {
		return {version: 1, token: local.lock.info.token, pid: process.pid, host: local.lock.info.host, mode: this.options.mode};
	}

	/**
	 * A hand-over (from a server that went away, or a stale lock broken): the takeover line, saying
	 * why and what is guarded now (loudly when the set differs from the engine before's); and, at
	 * any start after another engine, each pause that engine had and this one drops, as a resume.
	 */
	private handOver(local: Running, previous: EngineRecord | undefined, from: {server: ServerInfo; reason: string} | undefined): void {
		const stale = local.lock.tookOver;
		const guards = local.monitored;
		const note = previous && guards && (from || stale) ? guardedNote(previous, guards) : undefined;
		if (from || stale) {
			const what = from
				? `took over the engine from ${from.server.mode} pid ${from.server.pid} on ${from.server.host} (${from.reason})`
				: `took over the engine lock of ${this.options.stateDir} from ${describeHolder(stale!.info)}: ${stale!.why}`;
			const message = `${what}; carrying on from the persisted state${note ? `; ${note.text}` : ''}`;
			local.monitor.note({type: 'decision', actor: this.options.actor, kind: 'takeover', environments: [...(guards ?? [])], reason: message, instanceIds: []});
			this.options.log(message);
		}

		if (previous) {
			const kept: Pauses = local.pausedAtStart ?? {paused: false, pausedEnvironments: []};
			for (const entry of droppedPauses(previous, kept, `${previous.mode} pid ${previous.pid} on ${previous.host}`)) {
				local.monitor.note(entry);
				this.options.log(entry.reason);
			}
		}
	}

	/** The server this one was attached to went away: attach to whoever took over, or take over. */
	private async takeOver(previous: ServerInfo, reason: string): Promise<void> {
		this.remote = undefined;
		for (;;) {
			if (this.stopping) {
				return;
			}

			try {
				const found = await attachOrLock({...this.options, patienceMs: 60_000, ...this.lockListener()});
				if (this.stopping) {
					if (found.kind === 'attached') {
						found.remote.close();
					} else {
						found.lock.release();
					}

					return;
				}

				if (found.kind === 'attached') {
					this.attach(found.remote);
				} else {
					await this.runHere(found.lock, {server: previous, reason});
				}

				return;
			} catch (error) {
				this.options.log(`cannot take over the engine yet: ${error instanceof Error ? error.message : String(error)}`);
				await sleep(1000);
			}
		}
	}

	/**
	 * Another process holds the lock now (this one was hung long enough for its lock to be taken
	 * from another host), or the lock file is gone: stop acting at once, give the socket up, record
	 * the end, and end the process (`onStopped`): a guard that is no longer the guard must not look
	 * like one, and a supervisor starts it again.
	 */
	private lost(why: string): void {
		const local = this.local;
		if (!local || this.stopping) {
			return;
		}

		this.options.log(`${why}: this process stops running the engine`);
		this.local = undefined;
		local.server.beginShutdown();
		this.takingOver = (async () => {
			await local.monitor.stop().catch(() => undefined);
			this.writeDown(local, `lost the engine lock: ${why}`);
			await local.server.close('this process lost the engine lock');
			local.audit.close();
			this.options.onStopped?.(`lost the engine lock: ${why}`);
		})();
	}

	/** The one `down` line of an engine's end: what it guarded and why it ended. */
	private writeDown(local: Running, reason: string): void {
		if (local.down) {
			return;
		}

		local.down = true;
		local.unrecord();
		local.monitor.note({type: 'decision', actor: 'auto', kind: 'down', environments: [...(local.monitored ?? [])], reason, instanceIds: []});
	}

	/** An entry in the audit log of the engine this process runs (nothing when attached). */
	note(entry: Parameters<Monitor['note']>[0]): void {
		this.local?.monitor.note(entry);
	}

	start(): void {
		this.started = true;
		this.local?.monitor.start();
	}

	async command(command: Command): Promise<{outcome: string; summary: string} | undefined> {
		if (this.local) {
			return this.local.monitor.command(command);
		}

		if (this.remote) {
			if (this.options.readOnly && acting.has(command.kind)) {
				return {outcome: 'refused', summary: `refused: this dashboard is --read-only; it sends no ${command.kind} to the server`};
			}

			return this.remote.command(command);
		}

		throw new Error('no engine right now (taking over from the one that went away): nothing done, try again in a moment');
	}

	cascadeTarget(): string | undefined {
		return this.local ? this.local.monitor.cascadeTarget() : this.remote?.cascadeTarget();
	}

	/**
	 * Finishes: an attached session just hangs up (the server goes on); a running one stops taking
	 * commands, lets those in flight finish and be recorded, stops the loop, records its end (the
	 * `down` line, with `reason`), says bye to its clients (one of them takes over), and removes its
	 * lock and socket.
	 */
	async stop(reason = 'stopped'): Promise<void> {
		this.stopping = true;
		this.remote?.close();
		await this.takingOver;
		const local = this.local;
		if (local) {
			local.server.beginShutdown();
			await local.server.drain();
			await local.monitor.stop().catch(() => undefined);
			this.writeDown(local, reason);
			local.lock.release();
			await local.server.close(`the engine stopped (${reason})`);
			local.audit.close();
			this.local = undefined;
		}

		this.unsubscribe?.();
	}

	/**
	 * Ends at once, for a process that cannot wait (a second signal, a crash that will not finish):
	 * the `down` line, then the lock and the socket are removed, synchronously. An action under way
	 * is abandoned: its batches done so far are recorded, and the next start reports it cut short.
	 */
	abandon(reason: string): void {
		this.stopping = true;
		const local = this.local;
		if (local) {
			local.server.beginShutdown();
			this.writeDown(local, reason);
			local.lock.release();
			local.server.removeSocket();
		}
	}
}
