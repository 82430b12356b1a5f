import path from 'node:path';
import type {CommandName, Options} from '../app/args.js';
import {actorName, type Io} from '../app/io.js';
import {createRuntime, flushNotifications, type Runtime} from '../app/runtime.js';
import {stateDirCheck} from '../app/state-dir.js';
import {describeHolder, leaseTakenOver, readAuditTail, type EngineLock} from '../engine/index.js';
import {attachOrLock, dropPausesForOneOff, type SessionCoordination} from '../serve/index.js';
import {heldElsewhere, holdForOneOff, openCoordination, type OneOffLease} from '../app/coordination.js';
import {exitCodes} from '../domain/index.js';
import type {CoordinationTable, LeaseInfo} from '../engine/index.js';
import {localSide} from './local.js';
import {onceFromTable, onceRemote, runOnce} from './once.js';
import {terminalPrompts} from './prompts.js';
import {remoteSide} from './remote.js';
import {resetEach} from './reset.js';
import type {CommandIo, CommandSide, Prompts} from './side.js';
import {startEach} from './start.js';
import {stopEach} from './stop.js';
import {undoLast, type UndoContext} from './undo.js';

type Action = Extract<CommandName, 'stop' | 'start' | 'reset' | 'undo'>;

/** The audit log's last entries, newest first, for `undo` (an undo done before this engine's run). */
const historyOf = (file: string) => () => readAuditTail(file, 200).entries;

/**
 * `--once`, `stop`, `start`, `reset` and `undo`: through the running server when there is one (no second
 * poll, no race), else with the engine lock taken for this run.
 */
export async function runCommand(options: Options, io: Io, stateDir: string): Promise<number> {
	const command = options.command as 'once' | Action;
	const checkState = stateDirCheck(options, io, stateDir);
	// An undo starts instances: to a server it is a `start` client (its hello names no other kind).
	const found = await attachOrLock({stateDir, mode: command, client: command === 'undo' ? 'start' : command, actor: actorName(), beforeLock: checkState});
	const prompts = terminalPrompts(io, options);
	if (found.kind === 'attached') {
		const {remote} = found;
		try {
			if (command === 'once') {
				return await onceRemote(remote, options, io);
			}

			// The same confirmations on the server's figures; its enforcer lists and checks afresh.
			const {names, side} = await remoteSide(remote, options);
			return await each(command, names, side, options, io, prompts, {remote: true, history: historyOf(options.auditLog ?? path.join(stateDir, 'audit.log'))});
		} finally {
			remote.close();
		}
	}

	// `coordination.dynamodb`: this run acts only holding the lease (else it says who does, and does nothing).
	let coordination: SessionCoordination | undefined;
	let held: OneOffLease | undefined;
	let runtime: Runtime | undefined;
	try {
		const opened = await openCoordination(options, io.env);
		coordination = opened.coordination;
		if (coordination) {
			const taken = await holdForOneOff(coordination, command, found.lock);
			if (taken.kind === 'held') {
				return command === 'once' ? await onceFromTable(coordination.table, taken.info, options, io) : refuseHeld(coordination.table, taken.info, io);
			}

			held = taken.held;
		}

		runtime = await createRuntime(options, io, stateDir, checkState, undefined, held?.hold, opened.config);
		held?.audit(runtime.audit);
		noteStaleLock(runtime, found.lock, stateDir);
		noteStaleLease(runtime, held, coordination);
		// The pauses of the engine before this run (a person's p, P or --pause-env) end here: said as resumes.
		dropPausesForOneOff({monitor: runtime.monitor, monitored: runtime.monitored, stateDir, medium: held?.medium, token: held ? `lease-${held.lease.info.token}` : found.lock.info.token, lock: found.lock, mode: command, kept: {paused: false, pausedEnvironments: options.pauseEnv ?? []}});
		if (command === 'once') {
			return await runOnce(runtime, io);
		}

		const names = command === 'undo' ? options.environments : runtime.monitored;
		const code = await each(command, names ?? [], localSide(runtime.monitor, runtime.config, options.dryRun), options, io, prompts, {remote: false, history: historyOf(runtime.audit.file)});
		await runtime.monitor.stop();
		return code;
	} finally {
		await runtime?.monitor.stop().catch(() => undefined);
		// The command's output is written and its actions done: only now wait for its notifications.
		await flushNotifications(runtime, io).catch(() => undefined);
		await held?.end();
		runtime?.audit.close();
		coordination?.table.close();
		found.lock.release();
	}
}

/** `stop`, `start` or `reset` of each named environment, or `undo` (of the last stop, in those named), wherever the engine runs. */
export async function each(command: Action, names: string[], side: CommandSide, options: Options, io: CommandIo, prompts: Prompts, undo: Omit<UndoContext, 'side'> = {remote: false, history: () => []}): Promise<number> {
	switch (command) {
		case 'stop': {
			return stopEach(names, side, options, io, prompts);
		}

		case 'start': {
			return startEach(names, side, options, io, prompts.confirm);
		}

		case 'reset': {
			return resetEach(names, side, io, prompts.confirm);
		}

		case 'undo': {
			return undoLast(options.environments === undefined ? undefined : names, {side, ...undo}, options, io, prompts.confirm);
		}
	}
}

/** A stale engine lock this run broke to take it: the takeover line says whose it was and why it was stale. */
function noteStaleLock(runtime: Runtime, lock: EngineLock, stateDir: string): void {
	if (lock.tookOver) {
		runtime.monitor.note({type: 'decision', actor: actorName(), kind: 'takeover', environments: [...runtime.monitored], reason: `took over the engine lock of ${stateDir} from ${describeHolder(lock.tookOver.info)}: ${lock.tookOver.why}`, instanceIds: []});
	}
}

/** A lease this run took over from an engine that stopped writing it: said as the takeover line. */
function noteStaleLease(runtime: Runtime, held: OneOffLease | undefined, coordination: SessionCoordination | undefined): void {
	const stale = held?.lease.tookOver;
	if (stale && coordination) {
		runtime.monitor.note({type: 'decision', actor: actorName(), kind: 'takeover', environments: [...runtime.monitored], reason: leaseTakenOver(coordination.table.name, stale), instanceIds: []});
	}
}

/** `stop`, `start`, `reset` or `undo` while another host's engine holds the lease: nothing done, exit 1, saying where to act. */
function refuseHeld(table: CoordinationTable, info: LeaseInfo, io: Io): number {
	io.stderr.write(`envwatch: refused: ${heldElsewhere(table, info)}\n`);
	return exitCodes.failure;
}
