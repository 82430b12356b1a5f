import {messageOf, SnapshotStore, type AuditEntry, type Command, type EngineLock, type LeaseInfo, type Monitor, type TableLease} from '../engine/index.js';
import {errorMessage, UsageError} from '../domain/index.js';
import {attachOrLock, sleep, socketPathOf} from './attach.js';
import type {RemoteEngine} from './client.js';
import {acquireLease, startEngine, type EngineOptions, type Running} from './engine-start.js';
import type {ClientKind, ServerInfo} from './protocol.js';
import type {EngineServer} from './server.js';
import {escapedLeader, Standby, unshareEngine} from './standby.js';
import {Undo} from './undo.js';

/**
 * What running the engine in this process takes (built by main's createRuntime): `monitored`, the
 * environments it guards, and `pausedAtStart`, what it starts with paused (`--pause-env`).
 */
export type {LocalEngine} from './standby.js';

export type {SessionCoordination} from './standby.js';
export {attachOrLock, EngineBusy, lockProblem, socketPathOf} from './attach.js';

export type {EngineHold} from './engine-start.js';

export type SessionOptions = EngineOptions & {
	/** What this process says it is when it attaches. */
	client: ClientKind;
	/**
	 * The engine this process ran stopped by itself (it lost the engine lock; the `down` line is
	 * written), or the server refused this client: the process should end, non-zero (a supervisor
	 * starts it again).
	 */
	onStopped?: (reason: string) => void;
	/** Throws a UsageError when the state dir or the audit log cannot be written (before the lock is taken). */
	beforeLock?: () => void;
	/** Never attach: run the engine or fail (`envwatch serve`). */
	serveOnly?: boolean;
	/** `--read-only` on an attached dashboard: it sends no command that acts (the server's own mode is the server's). */
	readOnly?: boolean;
	/** How long a takeover waits for a live lock holder, and when it gives up (takeoverLimits). */
	takeover?: {patienceMs: number; giveUpMs: number};
};

/**
 * An attached session whose server went away: each try waits up to `patienceMs` for a live holder
 * of the lock (it may be starting its server); after `giveUpMs` of tries it ends, saying why.
 */
export const takeoverLimits = {patienceMs: 60_000, giveUpMs: 300_000};

/** What a --read-only dashboard does not send: what acts on the fleet, and what changes the guard's protection. */
const acting = new Set<Command['kind']>(['stop', 'stop-instances', 'cascade', 'emergency', 'undo', 'reset', 'start', 'pause', 'resume', 'pause-env', 'resume-env', 'cancel-pending', 'guard']);

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
	private standing: Standby | undefined;
	/** The leader's figures a standby shows (its session store follows this one). */
	private readonly mirrored = new SnapshotStore();
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
			onTrouble: (why: string) => this.troubled(why),
		};
	}

	/** The lock's or the lease's heartbeat failed (or works again): said and recorded. */
	private troubled(why: string): void {
		this.options.log(why);
		this.note({type: 'decision', actor: 'auto', kind: 'lock', environments: [], reason: why, instanceIds: []});
	}

	/** The leader as the dashboard names it while this process stands by (from the table: escaped), before its figures come too. */
	standingBy(): {pid: number; host: string; mode: string} | undefined {
		const leader = this.standing?.leader;
		return leader ? escapedLeader(leader) : undefined;
	}

	/** Attaches, starts the engine (not its loop: `start`), or, coordinated and another engine holding the lease, stands by. */
	async open(): Promise<'attached' | 'running' | 'standby'> {
		const found = await attachOrLock({...this.options, ...this.lockListener()});
		if (found.kind === 'attached') {
			this.attach(found.remote);
			return 'attached';
		}

		return this.lead(found.lock);
	}

	/** With the state dir's lock: the engine runs here, unless the table's lease is another engine's (then a standby). */
	private async lead(lock: EngineLock, from?: {server: ServerInfo; reason: string}): Promise<'running' | 'standby'> {
		const coordination = this.options.coordination;
		if (!coordination) {
			await this.runHere(lock, from).catch((error: unknown) => {
				lock.release();
				throw error;
			});
			return 'running';
		}

		const acquired = await acquireLease(coordination, this.options.mode).catch((error: unknown) => {
			lock.release();
			throw error;
		});

		if (acquired.kind === 'taken') {
			await this.runHere(lock, from, acquired.lease).catch((error: unknown) => {
				lock.release();
				throw error;
			});
			return 'running';
		}

		await this.standBy(lock, acquired.info);
		return 'standby';
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

	/**
	 * The engine run here (engine-start.ts). A start that fails part way gives back all it took but
	 * the state dir's lock (the caller's): the lease released, no heartbeat left without a poll.
	 */
	private async runHere(lock: EngineLock, from?: {server: ServerInfo; reason: string}, lease?: TableLease): Promise<void> {
		const undo = new Undo(this.options.log);
		try {
			const local = await startEngine(this.options, {lock, from, lease, undo, lost: (why, what) => this.lost(why, what), troubled: why => this.troubled(why)});
			this.local = local;
			undo.push(() => {
				if (this.local === local) {
					this.local = undefined;
				}
			});
			// The events pane keeps what it showed before the hand-over (the stop just made, say).
			this.follow(local.store, from ? this.store.getSnapshot()?.events ?? [] : []);
			if (this.started) {
				local.monitor.start();
			}
		} catch (error) {
			await undo.run();
			throw error;
		}
	}

	/** Another host's engine holds the lease: this process stands by (standby.ts) until it takes the lease over. */
	private async standBy(lock: EngineLock, leader: LeaseInfo): Promise<void> {
		const standby: Standby = await Standby.open(lock, leader, {
			coordination: this.options.coordination!,
			socketPath: socketPathOf(this.options.stateDir),
			group: this.options.group,
			mode: this.options.mode,
			stateDir: this.options.stateDir,
			version: this.options.version,
			log: this.options.log,
			mirrored: this.mirrored,
			takeOver: async lease => {
				this.standing = undefined;
				if (this.stopping) {
					await lease.release();
					return;
				}

				this.takingOver = this.runHere(lock, undefined, lease).catch(async (error: unknown) => this.standAgain(standby, messageOf(error)));
				await this.takingOver;
			},
		});
		this.standing = standby;
		this.follow(this.mirrored);
	}

	/**
	 * A takeover that failed (the start gave the lease back): this process stands by again, and its
	 * next look tries again; if it cannot even do that, it ends (`onStopped`, exit 1): never a
	 * process that guards nothing and says nothing.
	 */
	private async standAgain(standby: Standby, why: string): Promise<void> {
		if (this.stopping) {
			standby.lock.release();
			return;
		}

		const problem = await standby.reopen(`could not take the engine over (${why})`);
		if (problem === undefined) {
			this.standing = standby;
			this.follow(this.mirrored);
			return;
		}

		const message = `could not take the engine over (${why}), nor stand by again (${problem}); this process guards nothing, so it ends`;
		this.options.log(message);
		this.options.onStopped?.(message);
	}

	/** The server this one was attached to went away: attach to whoever took over, or take over. */
	private async takeOver(previous: ServerInfo, reason: string): Promise<void> {
		this.remote = undefined;
		const limits = this.options.takeover ?? takeoverLimits;
		const started = Date.now();
		for (;;) {
			if (this.stopping) {
				return;
			}

			try {
				const found = await attachOrLock({...this.options, patienceMs: limits.patienceMs, ...this.lockListener()});
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
					await this.lead(found.lock, {server: previous, reason});
				}

				return;
			} catch (error) {
				const why = errorMessage(error);
				const waited = Math.round((Date.now() - started) / 1000);
				// A live process holding the lock without answering (hung), or a state dir this user cannot
				// write: said where the person looks, and given up on after a bound (not retried for ever).
				if (error instanceof UsageError || Date.now() - started >= limits.giveUpMs) {
					const message = `the server this process was attached to went away (${reason}) and it could not take the engine over in ${waited}s: ${why}; this process guards nothing, so it ends`;
					this.options.log(message);
					this.options.onStopped?.(message);
					return;
				}

				const message = `the server went away (${reason}); cannot take the engine over yet (${waited}s): ${why}; trying again, for up to ${Math.round(limits.giveUpMs / 1000)}s`;
				this.options.log(message);
				const last = this.store.getSnapshot();
				if (last) {
					// The dashboard's status line says it (its figures are stale meanwhile).
					this.store.publish({...last, error: message});
				}

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
	private lost(why: string, what = 'lost the engine lock'): void {
		const standing = this.standing;
		if (standing && !this.stopping) {
			// A standby whose state dir lock was taken: it shows nothing that is true any more.
			this.standing = undefined;
			this.takingOver = (async () => {
				await standing.close('this process lost the engine lock');
				this.options.onStopped?.(`${what}: ${why}`);
			})();
			return;
		}

		const local = this.local;
		if (!local || this.stopping) {
			return;
		}

		this.options.log(`${why}: this process stops running the engine`);
		this.local = undefined;
		local.server.beginShutdown();
		this.takingOver = (async () => {
			await local.monitor.stop().catch(() => undefined);
			this.writeDown(local, `${what}: ${why}`);
			await unshareEngine(local.shared, false);
			await local.server.close(`this process ${what}`);
			local.audit.close();
			local.lock.release();
			this.options.onStopped?.(`${what}: ${why}`);
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

		if (this.standing) {
			return {outcome: 'refused', summary: this.standing.refusal()};
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
		const standing = this.standing;
		if (standing) {
			this.standing = undefined;
			await standing.close(`the standby stopped (${reason})`);
			standing.lock.release();
		}

		const local = this.local;
		if (local) {
			local.server.beginShutdown();
			await local.server.drain();
			await local.monitor.stop().catch(() => undefined);
			this.writeDown(local, reason);
			// The next engine takes the lease at once (no wait for it to go stale), with this one's last state.
			await unshareEngine(local.shared, true);
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
		const standing = this.standing;
		standing?.abandon();

		const local = this.local;
		if (local) {
			local.server.beginShutdown();
			this.writeDown(local, reason);
			local.lock.release();
			local.server.removeSocket();
			// Let go without waiting (the process ends now): if it is not written, the lease goes stale instead.
			void local.shared?.lease.release();
		}
	}
}
