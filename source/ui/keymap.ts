/**
 * Shortcuts are data: one table maps each dashboard command to its keys. The input handler
 * matches with `matchKey` and the key bar and help overlay are drawn from `visibleBindings`, so
 * what is offered is exactly what is bound. Pure: no React, no Ink.
 */

export type UiCommand =
	| 'up'
	| 'down'
	| 'stop'
	| 'cascade'
	| 'emergency'
	| 'undo'
	| 'start'
	| 'reset'
	| 'pause'
	| 'pause-env'
	| 'cancel-pending'
	| 'refresh'
	| 'help'
	| 'quit'
	| 'open-detail'
	| 'open-log'
	| 'open-spend'
	| 'open-region';

/** The parts of Ink's `Key` the matcher looks at. */
export type KeyState = {
	upArrow?: boolean;
	downArrow?: boolean;
	pageUp?: boolean;
	pageDown?: boolean;
	return?: boolean;
	escape?: boolean;
	ctrl?: boolean;
	meta?: boolean;
	backspace?: boolean;
	delete?: boolean;
};

type KeySpec = {input?: string; ctrl?: boolean; upArrow?: true; downArrow?: true; return?: true};

export type Binding = {
	command: UiCommand;
	keys: KeySpec[];
	/** How the key bar and help write the keys. */
	keyLabel: string;
	/** The short word in the key bar. */
	label: string;
	/** The help overlay's sentence. */
	help: string;
	/** Not bound at all, and not shown, under `--read-only`. */
	dangerous: boolean;
	/**
	 * Shown in the key bar (the help overlay lists every bound key); `where-room`: only where the bar
	 * has room for it without taking another row from the dashboard.
	 */
	inBar: boolean | 'where-room';
	/** Bound only while an automatic action waits out its grace period. */
	needsPending?: boolean;
	/** Bound only while the selected environment's breaker is tripped. */
	needsBreaker?: boolean;
};

export const bindings: readonly Binding[] = [
	{command: 'up', keys: [{upArrow: true}, {input: 'k'}], keyLabel: '↑/k', label: 'up', help: 'select the environment above', dangerous: false, inBar: false},
	{command: 'down', keys: [{downArrow: true}, {input: 'j'}], keyLabel: '↓/j', label: 'down', help: 'select the environment below', dangerous: false, inBar: false},
	{command: 'cancel-pending', keys: [{input: 'x'}], keyLabel: 'x', label: 'cancel auto-stop', help: 'cancel the automatic action counting down (and pause automatic actions)', dangerous: false, inBar: true, needsPending: true},
	{command: 'stop', keys: [{input: 's'}], keyLabel: 's', label: 'stop', help: 'stop the selected environment\'s agents', dangerous: true, inBar: true},
	{command: 'cascade', keys: [{input: 'c'}], keyLabel: 'c', label: 'cascade', help: 'one cascade step: stop the lowest-priority environment running agents', dangerous: true, inBar: true},
	{command: 'emergency', keys: [{input: 'E'}], keyLabel: 'E', label: 'emergency', help: 'emergency stop of every agent outside monitor-only environments', dangerous: true, inBar: true},
	{command: 'undo', keys: [{input: 'u'}], keyLabel: 'u', label: 'undo', help: 'undo the last stop: start exactly those instances again', dangerous: true, inBar: true},
	{command: 'start', keys: [{input: 'a'}], keyLabel: 'a', label: 'add agents', help: 'start agents in the selected environment from its launch template', dangerous: true, inBar: 'where-room'},
	{command: 'reset', keys: [{input: 'R'}], keyLabel: 'R', label: 'reset breaker', help: 'reset the selected environment\'s breaker: agents may run there again, no longer stopped as re-spawns (its limits still apply)', dangerous: true, inBar: true, needsBreaker: true},
	{command: 'pause', keys: [{input: 'p'}], keyLabel: 'p', label: 'pause', help: 'pause or resume automatic actions', dangerous: false, inBar: true},
	{command: 'pause-env', keys: [{input: 'P'}], keyLabel: 'P', label: 'pause env', help: 'pause automatic actions for the selected environment only', dangerous: false, inBar: false},
	{command: 'refresh', keys: [{input: 'r'}], keyLabel: 'r', label: 'refresh', help: 'poll now', dangerous: false, inBar: true},
	{command: 'open-detail', keys: [{return: true}], keyLabel: 'Enter', label: 'open', help: 'open the selected environment: its instances (Esc goes back)', dangerous: false, inBar: false},
	{command: 'open-log', keys: [{input: 'l'}], keyLabel: 'l', label: 'log', help: 'the audit log: every decision and action, newest first', dangerous: false, inBar: false},
	{command: 'open-spend', keys: [{input: 't'}], keyLabel: 't', label: 'spend chart', help: 'spend over time: the window\'s $/h against the threshold and cap', dangerous: false, inBar: false},
	{command: 'open-region', keys: [{input: 'g'}], keyLabel: 'g', label: 'regions', help: 'the selected environment\'s $/h and agents by region', dangerous: false, inBar: false},
	{command: 'help', keys: [{input: '?'}], keyLabel: '?', label: 'help', help: 'show or hide this help', dangerous: false, inBar: true},
	{command: 'quit', keys: [{input: 'q'}, {input: 'c', ctrl: true}], keyLabel: 'q', label: 'quit', help: 'quit; automatic guarding stops with it', dangerous: false, inBar: true},
];

export type KeyContext = {
	readOnly: boolean;
	/** An automatic action is counting down its grace period. */
	pending: boolean;
	/** Automatic actions are paused: `p` then resumes. */
	paused?: boolean;
	/** The selected environment's breaker is tripped: `R` resets it. */
	breaker?: boolean;
	/** Automatic actions are paused for the selected environment: `P` then resumes them. */
	envPaused?: boolean;
};

/** The bindings that exist in this context: read-only drops the dangerous ones entirely. */
export function activeBindings(context: KeyContext): Binding[] {
	return bindings.filter(binding => !(context.readOnly && binding.dangerous) && !(binding.needsPending && !context.pending) && !(binding.needsBreaker && !context.breaker));
}

function matches(spec: KeySpec, input: string, key: KeyState): boolean {
	if (spec.upArrow) {
		return Boolean(key.upArrow);
	}

	if (spec.downArrow) {
		return Boolean(key.downArrow);
	}

	if (spec.return) {
		return Boolean(key.return);
	}

	if (Boolean(spec.ctrl) !== Boolean(key.ctrl) || key.meta) {
		return false;
	}

	return spec.input === input;
}

/** The command a key press means in this context, or undefined when the key is not bound. */
export function matchKey(input: string, key: KeyState, context: KeyContext): UiCommand | undefined {
	return activeBindings(context).find(binding => binding.keys.some(spec => matches(spec, input, key)))?.command;
}

/**
 * The dangerous command a key would mean were envwatch not read-only (so pressing it can say
 * why nothing happens), or undefined.
 */
export function readOnlyRefusal(input: string, key: KeyState, context: KeyContext): UiCommand | undefined {
	if (!context.readOnly) {
		return undefined;
	}

	const command = matchKey(input, key, {...context, readOnly: false});
	return command && bindings.find(binding => binding.command === command)?.dangerous ? command : undefined;
}

/** A binding's label in this context (`p` says what it will do). */
export function labelOf(binding: Binding, context: KeyContext): string {
	return binding.command === 'pause' && context.paused ? 'resume' : binding.label;
}

/** The key bar's items, in table order; the arrows are folded into one "select" item. */
export function keyBarItems(context: KeyContext, arrows = '↑↓'): Array<{keys: string; label: string; whereRoom?: true}> {
	const items: Array<{keys: string; label: string; whereRoom?: true}> = [{keys: arrows, label: 'select'}];
	for (const binding of activeBindings(context)) {
		if (binding.inBar) {
			items.push({keys: binding.keyLabel, label: labelOf(binding, context), ...(binding.inBar === 'where-room' ? {whereRoom: true as const} : {})});
		}
	}

	return items;
}

// eslint-disable-next-line no-control-regex -- a CSI sequence: ESC [ parameters/intermediates, then a final byte
const csi = /^\u001B\[[\x20-\x3f]*[\x40-\x7e]/;
// eslint-disable-next-line no-control-regex -- an SS3 sequence: ESC O and one final byte (application-mode arrows)
const ss3 = /^\u001BO[\x40-\x7e]/;

function sequenceKey(sequence: string): [string, KeyState] {
	const final = sequence.at(-1);
	if (final === 'A') {
		return ['', {upArrow: true}];
	}

	if (final === 'B') {
		return ['', {downArrow: true}];
	}

	// Page Up and Page Down (`ESC [5~`, `ESC [6~`): the views scroll by a page.
	if (sequence === '\u001B[5~') {
		return ['', {pageUp: true}];
	}

	if (sequence === '\u001B[6~') {
		return ['', {pageDown: true}];
	}

	// Another cursor or function key: not bound, passed on as nothing printable.
	return ['', {meta: true}];
}

/**
 * One chunk of input as the key presses it holds, in order. Over a slow link several keys arrive
 * together (`y` and Enter as `y\r`, two arrows as `ESC[B ESC[B`, `k` then an arrow): each CSI or
 * SS3 sequence is one press, every other character is one press, and an Esc that starts no
 * sequence is an Esc of its own, never glued to what follows.
 */
export function splitKeys(chunk: string): Array<[string, KeyState]> {
	const presses: Array<[string, KeyState]> = [];
	let rest = chunk;
	while (rest.length > 0) {
		const sequence = csi.exec(rest)?.[0] ?? ss3.exec(rest)?.[0];
		if (sequence) {
			presses.push(sequenceKey(sequence));
			rest = rest.slice(sequence.length);
			continue;
		}

		const char = String.fromCodePoint(rest.codePointAt(0)!);
		rest = rest.slice(char.length);
		if (char === '\u001B') {
			presses.push(['', {escape: true, meta: true}]);
		} else if (char === '\r' || char === '\n') {
			presses.push(['\r', {return: true}]);
		} else if (char === '\u007F' || char === '\b') {
			presses.push(['', {backspace: true}]);
		} else if (char === '\u0003') {
			presses.push(['c', {ctrl: true}]);
		} else {
			presses.push([char, {}]);
		}
	}

	return presses;
}
