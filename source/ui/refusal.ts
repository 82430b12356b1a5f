/**
 * What is said when a terminal is too small to ask a confirmation whole (a confirmation is never
 * asked without its blast radius): how many rows it needs, and the CLI command that does the same
 * from a shell (which asks first too). Said in as many words as the status line has room for: the
 * candidates go from the longest to the shortest, and the status line takes the first that fits.
 * Pure: no React, no Ink.
 */
import type {Command, Snapshot} from '../engine/index.js';
import {plural} from '../domain/index.js';
import {wrap} from './cells.js';
import {unknownWhy} from './confirm.js';
import {bindings, type UiCommand} from './keymap.js';

/** The commands a confirmation is asked for, as the table's keys name them. */
export type AskedKind = Extract<UiCommand, 'stop' | 'cascade' | 'emergency' | 'undo' | 'start' | 'reset' | 'pause-env' | 'stop-instances'> | 'guard';

/** The key a command is bound to (`s`, `E` in the table; `x` in the instances), or `:guard`, typed in command mode. */
export function keyOf(kind: AskedKind): string {
	if (kind === 'guard') {
		return ':guard';
	}

	return (bindings.find(binding => binding.scopes.includes('table') && binding.command === kind) ?? bindings.find(binding => binding.command === kind))?.keyLabel ?? kind;
}

/** The environments an emergency stop would stop now: those that stop on breach and run agents (or whose count is unknown). */
function emergencyTargets(snapshot: Snapshot): string[] {
	return snapshot.environments.filter(view => view.policy.onBreach === 'stop' && (view.agents.running > 0 || unknownWhy(view, snapshot, snapshot.at) !== undefined)).map(view => view.name);
}

/**
 * The envwatch command that does what `command` would, from a shell (it asks first, as the
 * dashboard does; a monitor-only environment asks for its name), or undefined where the CLI has
 * none (pausing one environment while running, an instance stop, :guard).
 */
export function cliAlternative(command: Command, snapshot: Snapshot): string | undefined {
	switch (command.kind) {
		case 'stop':
		case 'reset': {
			return `envwatch ${command.kind} -e ${command.environment}`;
		}

		case 'cascade': {
			// A cascade step stops the lowest-priority environment running agents: the one confirmed.
			return command.environment === undefined ? undefined : `envwatch stop -e ${command.environment}`;
		}

		case 'emergency': {
			const names = emergencyTargets(snapshot);
			return names.length === 0 ? undefined : `envwatch stop -e ${names.join(',')}`;
		}

		case 'start': {
			return `envwatch start -e ${command.environment} --count ${command.count}`;
		}

		case 'undo': {
			// The last stop, whichever it is: `envwatch undo` refuses if it changed since, as `u` does.
			return 'envwatch undo';
		}

		default: {
			return undefined;
		}
	}
}

/** What the confirmation was for, in a few words. */
function whatOf(command: Command): string {
	switch (command.kind) {
		case 'stop':
		case 'start':
		case 'reset': {
			return `${command.kind} ${command.environment}`;
		}

		case 'cascade': {
			return 'a cascade step';
		}

		case 'emergency': {
			return 'the emergency stop';
		}

		case 'pause-env': {
			return `pausing ${command.environment}`;
		}

		case 'stop-instances': {
			return `stopping ${plural(command.ids.length, 'instance')} in ${command.environment}`;
		}

		case 'guard': {
			return `guarding ${command.environments.join(', ')}`;
		}

		default: {
			return command.kind;
		}
	}
}

export type SizeRefusal = {
	/** The confirmation's command. */
	command: Command;
	kind: AskedKind;
	/** Rows the confirmation needs, and columns when the width is short too. */
	need: {rows: number; columns?: number | undefined};
	/** From `cliAlternative`. */
	alternative: string | undefined;
	/** A confirmation that was open, withdrawn as the terminal shrank under it. */
	withdrawn?: boolean;
};

/** The refusal in every length it can be said in, longest first; the last is the shortest. */
export function sizeRefusalTexts({command, kind, need, alternative, withdrawn = false}: SizeRefusal): string[] {
	const key = keyOf(kind);
	const what = whatOf(command);
	const needs = `${need.columns === undefined ? '' : `${need.columns} columns and `}${need.rows} rows`;
	const or = alternative === undefined ? [] : [`; or run ${alternative}`, `; ${alternative}`];
	if (withdrawn) {
		return [
			...or.slice(0, 1).map(tail => `terminal too small to confirm ${what} now (it needs ${needs}): cancelled, nothing done${tail}`),
			`terminal too small to confirm ${what} now (it needs ${needs}): cancelled, nothing done`,
			...or.map(tail => `${key} cancelled, nothing done: needs ${needs}${tail}`),
			`${key} cancelled, nothing done: needs ${needs}`,
			`${key} cancelled: needs ${needs}`,
		];
	}

	// Without a command that does the same, what to do instead is a taller terminal.
	const taller = alternative === undefined ? ['; make the terminal taller', ': make it taller'] : [];
	return [
		...or.slice(0, 1).map(tail => `terminal too small to confirm ${what}: it needs ${needs}${tail}`),
		...taller.slice(0, 1).map(tail => `terminal too small to confirm ${what}: it needs ${needs}${tail}`),
		...[...or, ...taller].map(tail => `${key} needs ${needs}${tail}`),
		`terminal too small to confirm ${what}: it needs ${needs}`,
		`${key} needs ${needs}`,
	];
}

/** Whether `text` fits in `lines` lines of `columns`, word-wrapped. */
export function fitsIn(text: string, columns: number, lines = 1): boolean {
	if (lines <= 1) {
		return [...text].length <= columns;
	}

	const wrapped = wrap(text, columns);
	return wrapped.length <= lines && wrapped.every(line => [...line].length <= columns);
}

/**
 * The first of `candidates` (longest first) that fits in `lines` lines of `columns` (word-wrapped),
 * as those lines. When none does, the last (the shortest) in `lines` lines, its last line longer
 * than the width (the line that draws it cuts it, with an ellipsis).
 */
export function fitCandidates(candidates: readonly string[], columns: number, lines = 1): string[] {
	const room = Math.max(1, lines);
	const chosen = candidates.find(candidate => fitsIn(candidate, columns, room));
	if (chosen !== undefined) {
		return room === 1 ? [chosen] : wrap(chosen, columns);
	}

	const last = candidates.at(-1) ?? '';
	const wrapped = room === 1 ? [last] : wrap(last, columns);
	return wrapped.length <= room ? wrapped : [...wrapped.slice(0, room - 1), wrapped.slice(room - 1).join(' ')];
}
