import type {Options} from '../app/args.js';
import {exitCodes, money, plural} from '../domain/index.js';
import type {AuditEntry, Snapshot} from '../engine/index.js';
import type {CommandIo, CommandSide, Confirm} from './side.js';

/** Where `undo` runs: the engine's side, and what it reads beside the engine's snapshot. */
export type UndoContext = {
	side: CommandSide;
	/** The engine runs in a server this run is attached to (a --read-only run sends it nothing that acts). */
	remote: boolean;
	/** The audit log's recent entries, newest first: an undo done before this engine's run is found there. */
	history: () => readonly AuditEntry[];
};

const clock = (ms: number | string) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** Why there is nothing to undo: the last stop already undone (when, by whom), or no stop recorded at all. */
function nothingToUndo(snapshot: Snapshot, history: readonly AuditEntry[]): string {
	const undone = [...snapshot.events, ...history].find(entry => entry.type === 'action' && entry.kind === 'undo' && entry.outcome === 'executed');
	return undone
		? `nothing to undo: the last stop was already undone at ${clock(undone.at)} UTC by ${undone.actor} (${undone.reason})`
		: 'nothing to undo: envwatch has not stopped anything on this state dir (no last stop recorded)';
}

/**
 * `envwatch undo [-e ENV]`, wherever the engine runs: what the dashboard's `u` does. It starts
 * exactly the instances of the last stop, after a confirmation naming them and what they add back,
 * through the engine's undo command (the same re-check, audit lines and `undo` notification). With
 * `-e`, the last stop must be of those environments (an undo starts all of it, never a part).
 * Nothing to undo, or a last stop of other environments: exit 1, saying so, nothing started.
 */
export async function undoLast(names: string[] | undefined, {side, remote, history}: UndoContext, options: Options, io: CommandIo, confirm: Confirm): Promise<number> {
	const snapshot = await side.prepare();
	const last = snapshot.lastStop;
	if (!last) {
		io.stderr.write(`envwatch: ${nothingToUndo(snapshot, history())}; nothing started\n`);
		return exitCodes.failure;
	}

	const what = `the ${plural(last.count, 'agent')} stopped in ${last.environments.join(', ')} at ${clock(last.at)} UTC`;
	const outside = last.environments.filter(name => !(names ?? last.environments).includes(name));
	if (outside.length > 0) {
		io.stderr.write(`envwatch: undo ${options.environmentsFlag} ${names!.join(',')}: the last stop is ${what}, and an undo starts all of it — run envwatch undo ${options.environmentsFlag} ${last.environments.join(',')} (or without ${options.environmentsFlag}); nothing started\n`);
		return exitCodes.failure;
	}

	const ids = last.ids ?? [];
	const shown = ids.length > 0 ? ` (${ids.slice(0, 3).join(', ')}${last.count > 3 ? `, +${last.count - 3} more` : ''})` : '';
	const adds = last.usdPerHour === null || last.usdPerHour === undefined ? 'adding back an unpriced amount' : `adding back ${money(last.usdPerHour)}/h`;
	if (!(await confirm(`Undo: start ${what} again${shown}, ${adds}${side.asOf}? Exactly those instances start, nothing else.`, `undo: refusing to start ${what}`))) {
		io.stdout.write('Not undone.\n');
		return exitCodes.ok;
	}

	if (remote && options.readOnly) {
		// The server's own mode is the server's: a --read-only run sends it nothing that acts.
		io.stdout.write(`read-only: undo not sent (${what} stay stopped)\n`);
		return exitCodes.ok;
	}

	// `stopAt`: the engine refuses if another stop happened since this one was confirmed.
	const result = await side.command({kind: 'undo', stopAt: last.at});
	if (!result) {
		io.stderr.write('envwatch: undo: the engine gave no answer; check the audit log before trying again\n');
		return exitCodes.failure;
	}

	if (result.outcome === 'refused' || result.outcome === 'nothing-to-do') {
		io.stderr.write(`envwatch: undo not done: ${result.summary}\n`);
		return exitCodes.failure;
	}

	io.stdout.write(`${side.dryRun ? '[dry run] ' : ''}${result.summary}\n`);
	return result.outcome === 'failed' ? exitCodes.failure : exitCodes.ok;
}
