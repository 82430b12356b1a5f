import fs from 'node:fs';
import path from 'node:path';
import {isPlainObject} from '../domain/index.js';
import {describeHolder, droppedPauses, leaseTakenOver, type EngineLock, type Monitor, type Pauses, type Snapshot, type TableLease, type TableMedium} from '../engine/index.js';
import type {ServerInfo} from './protocol.js';

/**
 * What the engine running on a state dir guards, kept in `<state-dir>/engine.json` for the one
 * that takes it over: the environments it monitors and what a person paused. Rewritten whenever
 * that changes; read (and checked: it is a file from outside) by the next engine, which keeps the
 * guarded set at a hand-over and records each pause it drops as a resume.
 */
export const engineFileName = 'engine.json';

export type EngineRecord = {
	version: 1;
	/** The lock token of the engine that wrote it (tells the engine before from this one). */
	token: string;
	pid: number;
	host: string;
	mode: string;
	environments: string[];
	/** Automatic actions paused for every environment (`p`). */
	paused: boolean;
	/** Environments whose automatic actions a person paused (`P`, `--pause-env`). */
	pausedEnvironments: string[];
};

const names = (value: unknown): value is string[] => Array.isArray(value) && value.length <= 1000 && value.every(name => typeof name === 'string' && /^[a-z][a-z\d-]{0,62}$/.test(name));

/** The record of the engine that ran last on `stateDir`; undefined when there is none or it is not one (a damaged file says nothing). */
export function readEngineRecord(stateDir: string): EngineRecord | undefined {
	let text: string;
	try {
		text = fs.readFileSync(path.join(stateDir, engineFileName), 'utf8');
	} catch {
		return undefined;
	}

	return parseEngineRecord(text);
}

/** A record read from elsewhere (the coordination table's `engine.json`), checked the same way. */
export function parseEngineRecord(text: string | undefined): EngineRecord | undefined {
	let value: unknown;
	try {
		value = JSON.parse(text ?? '');
	} catch {
		return undefined;
	}

	if (!isPlainObject(value) || value['version'] !== 1 || typeof value['token'] !== 'string' || !Number.isInteger(value['pid']) || typeof value['host'] !== 'string'
		|| typeof value['mode'] !== 'string' || !names(value['environments']) || typeof value['paused'] !== 'boolean' || !names(value['pausedEnvironments'])) {
		return undefined;
	}

	return value as EngineRecord;
}

/**
 * Writes the record: to the coordination table's medium when coordinated (`medium`), else to the
 * state dir's file, whole (a temporary file renamed into place); false when the file could not be.
 */
export function writeEngineRecord(where: {stateDir: string; medium?: TableMedium | undefined}, record: EngineRecord): boolean {
	if (where.medium) {
		where.medium.write(engineFileName, JSON.stringify(record));
		return true;
	}

	const file = path.join(where.stateDir, engineFileName);
	const temporary = `${file}.${process.pid}.tmp`;
	try {
		fs.writeFileSync(temporary, JSON.stringify(record), {mode: 0o600});
		fs.renameSync(temporary, file);
		return true;
	} catch {
		fs.rmSync(temporary, {force: true});
		return false;
	}
}

/** What a snapshot says the engine guards and what is paused. */
export function guardedBy(snapshot: Snapshot): Pick<EngineRecord, 'environments' | 'paused' | 'pausedEnvironments'> {
	return {environments: snapshot.environments.map(view => view.name), paused: snapshot.mode.paused, pausedEnvironments: snapshot.environments.filter(view => view.paused).map(view => view.name)};
}

const list = (items: readonly string[]) => items.join(', ');

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every(name => b.includes(name));

/**
 * What the takeover line says about the guarded set, at a hand-over from `previous`: the same
 * set as before, or, loudly, a different one.
 */
export function guardedNote(previous: EngineRecord, guards: readonly string[]): {text: string; differs: boolean} {
	if (sameSet(previous.environments, guards)) {
		return {text: `guards ${list(guards)}, as the engine before it did`, differs: false};
	}

	return {text: `GUARDS A DIFFERENT SET: ${list(guards)}; the engine before it (pid ${previous.pid}, ${previous.mode}) guarded ${list(previous.environments)}`, differs: true};
}

/** An engine starting on a state dir, as a hand-over names it: its monitor, lock and lease, and where it says what happened. */
export type Starting = {
	monitor: Pick<Monitor, 'note'>;
	monitored?: readonly string[] | undefined;
	pausedAtStart?: Pauses | undefined;
	lock: Pick<EngineLock, 'tookOver'>;
	lease: Pick<TableLease, 'tookOver'> | undefined;
	actor: string;
	stateDir: string;
	/** The coordination table's name, when coordinated. */
	table: string | undefined;
	log: (line: string) => void;
};

/**
 * A hand-over (from a server that went away, or a stale lock or lease broken): the takeover line,
 * saying why and what is guarded now (loudly when the set differs from the engine before's); and,
 * at any start after another engine, each pause that engine had and this one drops, as a resume.
 */
export function handOver(local: Starting, previous: EngineRecord | undefined, from: {server: ServerInfo; reason: string} | undefined): void {
	const stale = local.lock.tookOver;
	const staleLease = local.lease?.tookOver;
	const guards = local.monitored;
	const note = previous && guards && (from || stale || staleLease) ? guardedNote(previous, guards) : undefined;
	if (from || stale || staleLease) {
		const what = staleLease
			? leaseTakenOver(local.table ?? 'the coordination table', staleLease)
			: from
				? `took over the engine from ${from.server.mode} pid ${from.server.pid} on ${from.server.host} (${from.reason})`
				: `took over the engine lock of ${local.stateDir} from ${describeHolder(stale!.info)}: ${stale!.why}`;
		const message = `${what}; carrying on from the persisted state${note ? `; ${note.text}` : ''}`;
		local.monitor.note({type: 'decision', actor: local.actor, kind: 'takeover', environments: [...(guards ?? [])], reason: message, instanceIds: []});
		local.log(message);
	}

	if (previous) {
		const kept: Pauses = local.pausedAtStart ?? {paused: false, pausedEnvironments: []};
		for (const entry of droppedPauses(previous, kept, `${previous.mode} pid ${previous.pid} on ${previous.host}`)) {
			local.monitor.note(entry);
			local.log(entry.reason);
		}
	}
}

/**
 * A one-off run (`--once`, `stop`, `start`, `reset`) holding the engine after another engine ran
 * (ended, or died): each pause that engine had and this run does not keep is recorded as a resume,
 * as a starting engine records it (the run polls, and may act, without it); then engine.json says
 * this run's pauses, so the next engine does not record the same resumes again. `medium`: the
 * coordination table's, when coordinated.
 */
export function dropPausesForOneOff(run: {monitor: Pick<Monitor, 'note'>; monitored: readonly string[]; stateDir: string; medium?: TableMedium | undefined; token: string; lock: Pick<EngineLock, 'info'>; mode: string; kept: Pauses}): void {
	const previous = run.medium ? parseEngineRecord(run.medium.read(engineFileName)) : readEngineRecord(run.stateDir);
	if (!previous || previous.token === run.token) {
		return;
	}

	const dropped = droppedPauses(previous, run.kept, `${previous.mode} pid ${previous.pid} on ${previous.host}`);
	for (const entry of dropped) {
		run.monitor.note(entry);
	}

	if (dropped.length > 0) {
		const record: EngineRecord = {version: 1, token: run.token, pid: process.pid, host: run.lock.info.host, mode: run.mode, environments: [...run.monitored], paused: run.kept.paused, pausedEnvironments: [...run.kept.pausedEnvironments]};
		writeEngineRecord(run, record);
	}
}
