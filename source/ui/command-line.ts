/**
 * Command mode (`:`, as in k9s): a line typed at the bottom of the dashboard and run on Enter.
 * `:env`, `:region` and `:account` change what the dashboard shows; `:guard` changes what the
 * engine guards, and only through a confirmation. Tab completes the word being typed. Pure: the
 * line and the snapshot in, what to do out.
 */
import type {Snapshot} from '../engine/index.js';
import type {ConfirmRequest} from './confirm.js';
import {accountsOf, namesOf, regionsOf, type ViewScope} from './scope.js';

/** The line being typed after `:`; `hint`: what Tab found when it could not choose. */
export type CommandLine = {text: string; hint?: string};

/** The commands, each with what it takes (said when a command is not known). */
export const commandUsage: ReadonlyArray<[name: string, usage: string]> = [
	['env', 'env NAME... (show these environments; env all: every one)'],
	['region', 'region NAME (show this region\'s instances; region all)'],
	['account', 'account NAME (show this account\'s instances; account all)'],
	['guard', 'guard NAME... (what the engine guards; asks first)'],
	['quit', 'quit'],
];

const knownText = `known: ${commandUsage.map(([, usage]) => usage).join(', ')}`;

export type LineOutcome =
	/** The view changes (`say`: what it shows now). */
	| {kind: 'scope'; scope: ViewScope; say: string}
	/** A confirmation to open (`:guard`). */
	| {kind: 'ask'; request: ConfirmRequest}
	| {kind: 'quit'}
	/** Nothing changes; `say` why. */
	| {kind: 'refused'; say: string};

export type LineContext = {
	snapshot: Snapshot;
	scope: ViewScope;
	readOnly: boolean;
};

const words = (text: string) => text.trim().split(/\s+/).filter(Boolean);
const list = (names: readonly string[]) => names.join(', ') || 'none';
const all = (args: readonly string[]) => args.length === 0 || (args.length === 1 && args[0] === 'all');

/** The command a typed word names: the whole name, or a prefix of only one (`:g` is `:guard`, `:q` is `:quit`). */
function commandOf(word: string): string | undefined {
	const exact = commandUsage.find(([name]) => name === word);
	const prefixed = commandUsage.filter(([name]) => name.startsWith(word));
	return exact?.[0] ?? (prefixed.length === 1 ? prefixed[0]![0] : undefined);
}

function envCommand(args: readonly string[], {snapshot, scope}: LineContext): LineOutcome {
	if (all(args)) {
		const {environments: _environments, ...rest} = scope;
		return {kind: 'scope', scope: rest, say: 'showing every guarded environment'};
	}

	const guarded = namesOf(snapshot);
	const unknown = args.filter(name => !guarded.includes(name));
	if (unknown.length > 0) {
		const configured = snapshot.configured ?? [];
		const why = unknown.every(name => configured.includes(name)) ? `not guarded (:guard guards ${unknown.length === 1 ? 'it' : 'them'})` : 'not configured';
		return {kind: 'refused', say: `env: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} ${why} — guarded: ${list(guarded)}`};
	}

	const environments = guarded.filter(name => args.includes(name));
	return {kind: 'scope', scope: {...scope, environments}, say: `showing ${environments.join(', ')}; still guarding ${list(guarded)}`};
}

function regionCommand(args: readonly string[], {snapshot, scope}: LineContext): LineOutcome {
	if (all(args)) {
		const {region: _region, ...rest} = scope;
		return {kind: 'scope', scope: rest, say: 'showing every region'};
	}

	const regions = regionsOf(snapshot);
	if (args.length > 1 || !regions.includes(args[0]!)) {
		return {kind: 'refused', say: `region ${args.join(' ')}: ${args.length > 1 ? 'one region at a time' : 'not watched here'} — expected one of: ${list(regions)} (or all)`};
	}

	return {kind: 'scope', scope: {...scope, region: args[0]!}, say: `showing ${args[0]}'s instances; the figures stay each environment's whole`};
}

function accountCommand(args: readonly string[], {snapshot, scope}: LineContext): LineOutcome {
	const accounts = accountsOf(snapshot);
	if (accounts.length === 0) {
		return {kind: 'refused', say: 'account: no accounts configured (this run watches one account)'};
	}

	if (all(args)) {
		const {account: _account, ...rest} = scope;
		return {kind: 'scope', scope: rest, say: 'showing every account'};
	}

	const name = args.join(' ');
	if (!accounts.includes(name)) {
		return {kind: 'refused', say: `account ${name}: not one of ${list(accounts)} (or all)`};
	}

	return {kind: 'scope', scope: {...scope, account: name}, say: `showing account ${name}'s instances`};
}

/** `:guard NAMES`: the confirmation that changes what the engine guards, or why it cannot be asked. */
export function guardRequest(snapshot: Snapshot, names: readonly string[], readOnly: boolean): ConfirmRequest | {refused: string} {
	if (readOnly) {
		return {refused: 'read-only: changing what is guarded is off'};
	}

	const guarded = namesOf(snapshot);
	const configured = snapshot.configured ?? guarded;
	if (names.length === 0) {
		return {refused: `guard: name the environments to guard — now guarding ${list(guarded)}; configured: ${list(configured)}`};
	}

	const unknown = names.filter(name => !configured.includes(name));
	if (unknown.length > 0) {
		return {refused: `guard: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not configured — expected one or more of: ${list(configured)}`};
	}

	const next = configured.filter(name => names.includes(name));
	const dropped = guarded.filter(name => !next.includes(name));
	const added = next.filter(name => !guarded.includes(name));
	if (dropped.length === 0 && added.length === 0) {
		return {refused: `guard: already guarding ${list(guarded)}: nothing to change`};
	}

	return {
		command: {kind: 'guard', environments: next, expected: guarded},
		title: `Guard ${next.join(', ')}?`,
		details: [
			`guarding now: ${list(guarded)}`,
			...(added.length > 0 ? [`starts guarding ${added.join(', ')}: polled, evaluated, stopped on a breach as its policy says`] : []),
			...(dropped.length > 0 ? [`STOPS guarding ${dropped.join(', ')}: not polled, evaluated or stopped by envwatch, not by E either (breakers kept)`] : []),
			'recorded in the audit log and engine.json: an engine that takes over guards the same',
		],
		input: '',
		danger: dropped.length > 0,
	};
}

/** Runs the line typed after `:` (Enter). */
export function runLine(text: string, context: LineContext): LineOutcome {
	const [word, ...args] = words(text);
	if (word === undefined) {
		return {kind: 'refused', say: `nothing typed — ${knownText}`};
	}

	switch (commandOf(word)) {
		case 'env': {
			return envCommand(args, context);
		}

		case 'region': {
			return regionCommand(args, context);
		}

		case 'account': {
			return accountCommand(args, context);
		}

		case 'guard': {
			const request = guardRequest(context.snapshot, [...new Set(args)], context.readOnly);
			return 'refused' in request ? {kind: 'refused', say: request.refused} : {kind: 'ask', request};
		}

		case 'quit': {
			return {kind: 'quit'};
		}

		default: {
			return {kind: 'refused', say: `unknown command "${word.slice(0, 20)}" — ${knownText}`};
		}
	}
}

/** What the word being typed may become, for a command's arguments. */
function candidates(command: string | undefined, snapshot: Snapshot): string[] {
	switch (command) {
		case 'env': {
			return [...namesOf(snapshot), 'all'];
		}

		case 'guard': {
			return snapshot.configured ?? namesOf(snapshot);
		}

		case 'region': {
			return [...regionsOf(snapshot), 'all'];
		}

		case 'account': {
			return [...accountsOf(snapshot), 'all'];
		}

		default: {
			return [];
		}
	}
}

/**
 * Tab: the word being typed completed (a command's name, then environment, region or account
 * names), with a space after it when only one fits; where several do, as far as they agree, and
 * `hint` names them.
 */
export function completeLine(line: CommandLine, snapshot: Snapshot): CommandLine {
	const parts = line.text.split(' ');
	const last = parts.at(-1) ?? '';
	const first = parts.length === 1;
	const options = first ? commandUsage.map(([name]) => name) : candidates(commandOf(parts[0]!), snapshot).filter(name => !parts.slice(1, -1).includes(name));
	const matching = options.filter(option => option.startsWith(last));
	if (matching.length === 0) {
		return {text: line.text, hint: first ? knownText : `nothing matches "${last}"`};
	}

	if (matching.length === 1) {
		return {text: [...parts.slice(0, -1), matching[0]!].join(' ') + ' '};
	}

	let common = matching[0]!;
	for (const option of matching) {
		while (!option.startsWith(common)) {
			common = common.slice(0, -1);
		}
	}

	return {text: [...parts.slice(0, -1), common].join(' '), hint: matching.join(' ')};
}
