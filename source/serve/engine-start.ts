import {messageOf, TableLease, TableMedium, type EngineLock} from '../engine/index.js';
import {EngineBusy, socketPathOf} from './attach.js';
import {engineFileName, guardedBy, handOver, parseEngineRecord, readEngineRecord, writeEngineRecord, type EngineRecord} from './handover.js';
import type {ServerInfo} from './protocol.js';
import {EngineServer} from './server.js';
import {shareEngine, unshareEngine, type LocalEngine, type SessionCoordination, type Shared} from './standby.js';
import type {Undo} from './undo.js';

/**
 * What the engine this process runs is given (createEngine): its fence before each stop batch (the
 * state dir's lock, and the lease when coordinated), and the table's medium for its state.
 */
export type EngineHold = {fence: () => Promise<void>; medium?: TableMedium};

/**
 * The table's lease taken for a process in `mode` (a session's engine, or a one-off run), or who
 * holds it; a lease that cannot be read or written is an EngineBusy naming the table.
 */
export async function acquireLease(coordination: SessionCoordination, mode: string): Promise<Awaited<ReturnType<typeof TableLease.acquire>>> {
	try {
		return await TableLease.acquire(coordination.table, {mode, durationMs: coordination.durationMs});
	} catch (error) {
		throw new EngineBusy(`cannot reach the lease in ${coordination.table.name}: ${messageOf(error)}`);
	}
}

/** What running the engine here takes (a session's options, session.ts). */
export type EngineOptions = {
	stateDir: string;
	/** `serve`, `dashboard`, `headless`: what this process is, in the lock and the server's welcome. */
	mode: string;
	actor: string;
	version: string;
	group?: string | undefined;
	/**
	 * Builds the engine from the persisted state (called once the lock is this process's).
	 * `guard`: at a hand-over, the environments the engine before guarded, to guard them too.
	 * `hold`: the engine's fence, and the table's medium for its state when coordinated.
	 */
	createEngine: (guard?: readonly string[], hold?: EngineHold) => Promise<LocalEngine>;
	/** `coordination.dynamodb`: one engine per table (a lease), the others standbys. */
	coordination?: SessionCoordination;
	/** This run named its environments (`--environments`): a hand-over does not replace them (it says so if they differ). */
	environmentsNamed?: boolean;
	/** Where the server and hand-overs say what happened (stderr when headless; nowhere under the dashboard). */
	log: (line: string) => void;
};

/** The engine this process runs: its lock and socket, whether its `down` line is written, and the stop of its engine.json updates. */
export type Running = LocalEngine & {lock: EngineLock; server: EngineServer; down: boolean; unrecord: () => void; shared?: Shared};

/** What starting the engine here takes beyond the session's options. */
export type Start = {
	lock: EngineLock;
	/** The server this process was attached to, gone (a hand-over). */
	from: {server: ServerInfo; reason: string} | undefined;
	/** The table's lease, this process's, when coordinated. */
	lease: TableLease | undefined;
	/** Each part taken is given back here if a later one fails (the caller runs it; the state dir's lock is the caller's). */
	undo: Undo;
	/** The lock or the lease was lost, or its heartbeat is in trouble (the session's handlers). */
	lost: (why: string, what?: string) => void;
	troubled: (why: string) => void;
};

/**
 * The engine run here, from the persisted state (the table's, when coordinated): built, served on
 * the state dir's socket, sharing its state and the lease's heartbeat with the table, its hand-over
 * recorded, and engine.json kept up to date for the engine after it. Whatever fails part way, what
 * was taken so far is in `start.undo` (the lease released first of all, so no heartbeat outlives
 * the engine that would poll).
 */
export async function startEngine(options: EngineOptions, start: Start): Promise<Running> {
	const {lock, from, lease, undo} = start;
	const coordination = options.coordination;
	if (lease) {
		// Given back last (pushed first): the lease is released once nothing of the engine is left.
		undo.push(async () => lease.release());
	}

	let medium: TableMedium | undefined;
	if (lease && coordination) {
		try {
			// The state in the table, every write fenced by the lease; a refused write is a lost lease.
			medium = await TableMedium.open(coordination.table, {fence: () => lease.condition(), onFenced: why => start.lost(why, 'lost the lease')});
		} catch (error) {
			throw new EngineBusy(`cannot read the state in ${coordination.table.name}: ${messageOf(error)}`);
		}
	}

	// The engine before this one, as it last said what it guarded and what was paused (the table's, when coordinated).
	const read = medium ? readTableRecord(medium, Date.now()) : {record: readEngineRecord(options.stateDir)};
	const token = lease ? `lease-${lease.info.token}` : lock.info.token;
	const previous = read.record?.token === token ? undefined : read.record;
	const handover = from !== undefined || lock.tookOver !== undefined || lease?.tookOver !== undefined;
	const fence = async () => {
		await lock.fence();
		if (lease && medium) {
			// The stop under way written first, then the lease's conditional write.
			await medium.flush();
			await lease.fence();
		}
	};

	const hold: EngineHold = {fence, ...(medium ? {medium} : {})};
	const engine = await options.createEngine(handover && previous && !options.environmentsNamed ? previous.environments : undefined, hold);
	undo.push(() => engine.audit.close());
	// Stopped once, before the table's parts are given back (as an engine that ends stops).
	let stopping: Promise<void> | undefined;
	const stopEngine = async () => {
		stopping ??= engine.monitor.stop();
		await stopping;
	};

	undo.push(stopEngine);
	if (read.damaged) {
		options.log(read.damaged);
		engine.monitor.note({type: 'decision', actor: 'auto', kind: 'state', environments: [], reason: read.damaged, instanceIds: []});
	}

	const server = await EngineServer.listen({
		socketPath: socketPathOf(options.stateDir),
		group: options.group,
		info: {pid: process.pid, host: lock.info.host, since: lock.info.since, mode: options.mode, stateDir: options.stateDir, version: options.version},
		engine: {store: engine.store, command: async (command, actor) => engine.monitor.command(command, actor), cascadeTarget: () => engine.monitor.cascadeTarget(), note: entry => engine.monitor.note(entry)},
		log: options.log,
	});
	undo.push(async () => server.close('the engine could not start'));
	const shared = lease && medium && coordination ? shareEngine(coordination.table, engine, {lease, medium}, {version: options.version, log: options.log, lost: why => start.lost(why, 'lost the lease'), trouble: why => start.troubled(why)}) : undefined;
	// The heartbeat stops (the lease released) with the engine it stood for, once its loop has stopped.
	undo.push(async () => {
		await stopEngine();
		await unshareEngine(shared, true);
	});
	const local: Running = {...engine, lock, server, down: false, unrecord: () => undefined, ...(shared ? {shared} : {})};
	handOver({...local, lease: shared?.lease, actor: options.actor, stateDir: options.stateDir, table: coordination?.table.name, log: options.log}, previous, handover ? from : undefined);
	// engine.json follows what this engine guards and what is paused, for the one after it (in the table, when coordinated).
	const record: Omit<EngineRecord, 'environments' | 'paused' | 'pausedEnvironments'> = {version: 1, token, pid: process.pid, host: lock.info.host, mode: options.mode};
	let written = '';
	const write = (part: Pick<EngineRecord, 'environments' | 'paused' | 'pausedEnvironments'>) => {
		const text = JSON.stringify(part);
		if (text === written) {
			return;
		}

		if (writeEngineRecord({stateDir: options.stateDir, medium}, {...record, ...part})) {
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
	undo.push(() => local.unrecord());
	return local;
}

/**
 * The table's engine.json: a damaged item (it does not inflate) is handled as a damaged state file
 * is: moved aside for a person to look at, said (`damaged`, once, by the caller), and the engine
 * starts as if there were none (it does not know what the engine before guarded or paused).
 */
export function readTableRecord(medium: TableMedium, now: number): {record?: EngineRecord | undefined; damaged?: string} {
	try {
		return {record: parseEngineRecord(medium.read(engineFileName))};
	} catch (error) {
		const movedTo = `${engineFileName}.damaged-${new Date(now).toISOString().replaceAll(':', '')}`;
		let aside = `moved it aside to ${medium.locate(movedTo)}`;
		try {
			medium.rename(engineFileName, movedTo);
		} catch (renameError) {
			aside = `cannot move it aside (${messageOf(renameError)})`;
		}

		return {damaged: `${medium.describe(engineFileName)} is damaged (${messageOf(error)}); ${aside}; the engine before this one is not known: this one guards what it is configured to, with no pause carried over`};
	}
}
