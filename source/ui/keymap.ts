/**
 * Shortcuts are data: one table maps every key of the dashboard to its action, for the table and
 * for each drill-down view, the filter being typed and an open confirmation (k9s's KeyAction:
 * keys, a description, the action, whether it is dangerous). The reducers match keys with
 * `matchKey`; the key bar, the help and docs/dashboard.md are drawn from the same rows, so what is
 * offered is exactly what is bound. Under `--read-only` the dangerous rows are not bound at all.
 * Pure: no React, no Ink.
 */

/** Where a key is pressed: the table, a drill-down view, a filter or a command being typed, a confirmation. */
export type Scope = 'table' | 'detail' | 'describe' | 'log' | 'entry' | 'spend' | 'region' | 'account' | 'events' | 'filter' | 'command' | 'confirm' | 'confirm-typed';

export type UiCommand =
	// The table.
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
	| 'open-region'
	| 'open-events'
	/** The by-account view (not `open-`: the help's title names those, and this one is there only with accounts). */
	| 'by-account'
	| 'command-mode'
	// The views (with up, down, help and quit).
	| 'back'
	| 'page-up'
	| 'page-down'
	| 'filter'
	| 'sort-left'
	| 'sort-right'
	| 'sort-column'
	| 'stop-env'
	| 'reload'
	| 'open-entry'
	| 'mark'
	| 'stop-instances'
	| 'describe'
	| 'copy-link'
	| 'range-shorter'
	| 'range-longer'
	// A command being typed (after `:`).
	| 'command-type'
	| 'command-erase'
	| 'command-complete'
	| 'command-run'
	| 'command-leave'
	// A filter being typed.
	| 'filter-type'
	| 'filter-erase'
	| 'filter-keep'
	| 'filter-clear'
	// A confirmation.
	| 'yes'
	| 'no'
	| 'count'
	| 'erase'
	| 'type-word'
	| 'confirm-word'
	| 'cancel';

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
	tab?: boolean;
};

/**
 * One key: a character (`input`, with Ctrl or not), a named key, or a class of characters
 * (`printable`: any character that is typed rather than a control; `digit`: 0 to 9).
 */
export type KeySpec = {
	input?: string;
	ctrl?: boolean;
	upArrow?: true;
	downArrow?: true;
	pageUp?: true;
	pageDown?: true;
	return?: true;
	escape?: true;
	/** Backspace or Delete. */
	backspace?: true;
	tab?: true;
	printable?: true;
	digit?: true;
};

export type Binding = {
	command: UiCommand;
	/** Where the keys are bound. */
	scopes: readonly Scope[];
	keys: readonly KeySpec[];
	/** How help and docs/dashboard.md write the keys (`↑↓` become the theme's arrows). */
	keyLabel: string;
	/** The keys as the key bar writes them. @default keyLabel */
	barKeys?: string;
	/** The short word in the key bar (and in the help where it is short of rows). */
	label: string;
	/** The help's sentence. */
	help: string;
	/** Changes the fleet or its guard: not bound at all, and not shown, under `--read-only`. */
	dangerous: boolean;
	/**
	 * Shown in the key bar; `where-room`: only where the bar has room for it without taking
	 * another row from the dashboard.
	 */
	inBar: boolean | 'where-room';
	/** Written with the row before it (`↓` under `↑↓ jk`, `>` under `< >`): no help line of its own. */
	folded?: true;
	/** No help line of its own: the help's title names it, or another line says it. */
	unlisted?: true;
	/** A line of the help after this binding's (what the view shows). */
	note?: string;
	/** Bound only while an automatic action waits out its grace period. */
	needsPending?: true;
	/** Bound only while the selected environment's breaker is tripped. */
	needsBreaker?: true;
	/** Bound only in a confirmation that takes a count (a start). */
	needsCount?: true;
	/** Bound only with `accounts` configured (the snapshot lists accounts). */
	needsAccounts?: true;
};

const views: readonly Scope[] = ['detail', 'log', 'spend', 'region', 'account', 'events'];
/** The views, and an audit entry opened in full from the log (its keys scroll it). */
const scrolled: readonly Scope[] = [...views, 'entry'];
const up: KeySpec[] = [{upArrow: true}, {input: 'k'}];
const down: KeySpec[] = [{downArrow: true}, {input: 'j'}];
const quitKeys: KeySpec[] = [{input: 'q'}, {input: 'c', ctrl: true}];
const quitHelp = 'quit; automatic guarding stops with it';

export const bindings: readonly Binding[] = [
	// ------------------------------------------------------------------ the table
	{command: 'up', scopes: ['table'], keys: up, keyLabel: '↑↓ jk', barKeys: '↑↓', label: 'select', help: 'select an environment', dangerous: false, inBar: true},
	{command: 'down', scopes: ['table'], keys: down, keyLabel: '↓ j', label: 'down', help: 'select the environment below', dangerous: false, inBar: false, folded: true},
	{command: 'cancel-pending', scopes: ['table'], keys: [{input: 'x'}], keyLabel: 'x', label: 'cancel auto-stop', help: 'cancel the automatic action counting down (and pause automatic actions)', dangerous: false, inBar: true, needsPending: true},
	{command: 'stop', scopes: ['table'], keys: [{input: 's'}], keyLabel: 's', label: 'stop', help: 'stop the selected environment\'s agents', dangerous: true, inBar: true},
	{command: 'cascade', scopes: ['table'], keys: [{input: 'c'}], keyLabel: 'c', label: 'cascade', help: 'one cascade step: stop the lowest-priority environment running agents', dangerous: true, inBar: true},
	{command: 'emergency', scopes: ['table'], keys: [{input: 'E'}], keyLabel: 'E', label: 'emergency', help: 'emergency stop of every agent outside monitor-only environments', dangerous: true, inBar: true},
	{command: 'undo', scopes: ['table'], keys: [{input: 'u'}], keyLabel: 'u', label: 'undo', help: 'undo the last stop: start exactly those instances again', dangerous: true, inBar: true},
	{command: 'start', scopes: ['table'], keys: [{input: 'a'}], keyLabel: 'a', label: 'add agents', help: 'start agents in the selected environment from its launch template', dangerous: true, inBar: 'where-room'},
	{command: 'reset', scopes: ['table'], keys: [{input: 'R'}], keyLabel: 'R', label: 'reset breaker', help: 'reset the selected environment\'s breaker: agents may run there again, no longer stopped as re-spawns (its limits still apply)', dangerous: true, inBar: true, needsBreaker: true},
	{command: 'pause', scopes: ['table'], keys: [{input: 'p'}], keyLabel: 'p', label: 'pause', help: 'pause or resume automatic actions', dangerous: false, inBar: true},
	// The help writes it on p's line: all automatic actions, or the selected environment's only.
	{command: 'pause-env', scopes: ['table'], keys: [{input: 'P'}], keyLabel: 'P', label: 'pause env', help: 'pause automatic actions for the selected environment only (asks first), or resume them (at once)', dangerous: false, inBar: false, unlisted: true},
	{command: 'refresh', scopes: ['table'], keys: [{input: 'r'}], keyLabel: 'r', label: 'refresh', help: 'poll now', dangerous: false, inBar: true},
	// `/` and `:` have no help line (every row of the help is taken at 80x24): docs/dashboard.md has them.
	{command: 'filter', scopes: ['table'], keys: [{input: '/'}], keyLabel: '/', label: 'filter', help: 'filter the table: every word must appear in the row (its name, status, HELD or PAUSED); Enter keeps, Esc clears. What is guarded does not change', dangerous: false, inBar: false, unlisted: true},
	{command: 'command-mode', scopes: ['table'], keys: [{input: ':'}], keyLabel: ':', label: 'command', help: 'command mode, as in k9s: `:env NAME...`, `:region NAME`, `:account NAME` change what the table and views show (`all`: everything again); `:guard NAME...` changes what the engine guards, after a confirmation; `:quit`. Tab completes, Esc leaves', dangerous: false, inBar: false, unlisted: true},
	// The help's title names the views' keys (every row below it is taken at 80x24).
	{command: 'open-detail', scopes: ['table'], keys: [{return: true}], keyLabel: 'Enter', label: 'instances', help: 'open the selected environment: its instances (Esc goes back)', dangerous: false, inBar: false, unlisted: true},
	{command: 'open-log', scopes: ['table'], keys: [{input: 'l'}], keyLabel: 'l', label: 'log', help: 'the audit log: every decision and action, newest first', dangerous: false, inBar: false, unlisted: true},
	{command: 'open-spend', scopes: ['table'], keys: [{input: 't'}], keyLabel: 't', label: 'chart', help: 'spend over time, 1h to 7d, against the cap, with envwatch\'s stops marked', dangerous: false, inBar: false, unlisted: true},
	{command: 'open-region', scopes: ['table'], keys: [{input: 'g'}], keyLabel: 'g', label: 'regions', help: 'the selected environment\'s $/h and agents by region', dangerous: false, inBar: false, unlisted: true},
	{command: 'open-events', scopes: ['table'], keys: [{input: 'e'}], keyLabel: 'e', label: 'events', help: 'the events, newest first, on the whole screen: where the pane has no room (a small terminal) and for more than it shows (Esc goes back)', dangerous: false, inBar: false, unlisted: true},
	{command: 'by-account', scopes: ['table'], keys: [{input: 'A'}], keyLabel: 'A', label: 'accounts', help: 'the selected environment by account: $/h, agents, and each account\'s state (Esc goes back)', dangerous: false, inBar: false, needsAccounts: true},
	{command: 'help', scopes: ['table'], keys: [{input: '?'}], keyLabel: '?', label: 'help', help: 'show or hide this help', dangerous: false, inBar: true, unlisted: true},
	{command: 'back', scopes: ['table'], keys: [{escape: true}], keyLabel: 'Esc', label: 'close', help: 'close the help, or clear a kept `/` filter', dangerous: false, inBar: false, unlisted: true},
	{command: 'quit', scopes: ['table'], keys: quitKeys, keyLabel: 'q ^C', barKeys: 'q', label: 'quit', help: quitHelp, dangerous: false, inBar: true},

	// ------------------------------------------------------------------ the views
	{command: 'up', scopes: ['detail'], keys: up, keyLabel: '↑↓ jk', barKeys: '↑↓', label: 'select', help: 'select an instance (PgUp PgDn: a page)', dangerous: false, inBar: true},
	{command: 'up', scopes: ['log'], keys: up, keyLabel: '↑↓ jk', barKeys: '↑↓', label: 'select', help: 'select an entry, newest first (PgUp PgDn: a page)', dangerous: false, inBar: true},
	{command: 'up', scopes: ['spend'], keys: up, keyLabel: '↑↓ jk', barKeys: '↑↓', label: 'environment', help: 'the environment (or global) charted', dangerous: false, inBar: true, note: 'The axis starts at $0; the cap and the threshold are lines'},
	{command: 'up', scopes: ['region'], keys: up, keyLabel: '↑↓ jk', barKeys: '↑↓', label: 'environment', help: 'the environment shown', dangerous: false, inBar: true, note: 'Billed $/h, agents and instances running per region'},
	{command: 'up', scopes: ['account'], keys: up, keyLabel: '↑↓ jk', barKeys: '↑↓', label: 'environment', help: 'the environment shown', dangerous: false, inBar: true, note: 'Billed $/h, agents and instances running per account; an account that could not be listed is STALE, with why'},
	{command: 'up', scopes: ['events'], keys: up, keyLabel: '↑↓ jk', barKeys: '↑↓', label: 'scroll', help: 'scroll, newest first (PgUp PgDn: a page)', dangerous: false, inBar: true, note: 'A decision and the action that carried it out are one event, as in the pane; the log (l) has every entry in full'},
	{command: 'up', scopes: ['entry'], keys: up, keyLabel: '↑↓ jk', barKeys: '↑↓', label: 'scroll', help: 'scroll the entry (PgUp PgDn: a page)', dangerous: false, inBar: true},
	{command: 'down', scopes: scrolled, keys: down, keyLabel: '↓ j', label: 'down', help: 'the next one down', dangerous: false, inBar: false, folded: true},
	{command: 'page-up', scopes: scrolled, keys: [{pageUp: true}], keyLabel: 'PgUp', label: 'page up', help: 'a page up', dangerous: false, inBar: false, folded: true},
	{command: 'page-down', scopes: scrolled, keys: [{pageDown: true}], keyLabel: 'PgDn', label: 'page down', help: 'a page down', dangerous: false, inBar: false, folded: true},
	{command: 'filter', scopes: ['detail'], keys: [{input: '/'}], keyLabel: '/', label: 'filter', help: 'filter: every word must appear in a cell; Enter keeps, Esc clears', dangerous: false, inBar: true},
	{command: 'filter', scopes: ['log'], keys: [{input: '/'}], keyLabel: '/', label: 'filter', help: 'filter by kind, environment, actor, reason, outcome, instance ID', dangerous: false, inBar: true},
	{command: 'sort-left', scopes: ['detail'], keys: [{input: '<'}], keyLabel: '< >', barKeys: '<>', label: 'sort', help: 'sort by the column to the left or right; again reverses', dangerous: false, inBar: true},
	{command: 'sort-right', scopes: ['detail'], keys: [{input: '>'}], keyLabel: '>', label: 'sort right', help: 'sort by the column to the right', dangerous: false, inBar: false, folded: true},
	// Each column's sort key (the instance columns' `sortKey`, shifted so it never clashes with a view key).
	{command: 'sort-column', scopes: ['detail'], keys: [{input: 'I'}, {input: 'N'}, {input: 'T'}, {input: 'Z'}], keyLabel: 'I N T Z', label: 'sort by', help: 'sort by ID, NAME, TYPE, REGION/AZ', dangerous: false, inBar: false},
	{command: 'sort-column', scopes: ['detail'], keys: [{input: 'L'}, {input: 'S'}, {input: 'A'}, {input: 'B'}], keyLabel: 'L S A B', label: 'sort by', help: 'sort by LIFE(cycle), STATE, AGE, BY (envwatch:launched-by)', dangerous: false, inBar: false},
	{command: 'sort-column', scopes: ['detail'], keys: [{input: 'O'}, {input: 'P'}], keyLabel: 'O P', label: 'sort by', help: 'sort by ROLE, $/H (unpriced: billed at a price not known)', dangerous: false, inBar: false},
	{command: 'sort-column', scopes: ['detail'], keys: [{input: 'C'}], keyLabel: 'C', label: 'sort by', help: 'sort by ACCOUNT', dangerous: false, inBar: false, needsAccounts: true},
	{command: 'mark', scopes: ['detail'], keys: [{input: ' '}], keyLabel: 'Space', label: 'mark', help: 'mark or unmark the instance (running agents only); Esc clears marks', dangerous: true, inBar: true},
	{command: 'stop-instances', scopes: ['detail'], keys: [{input: 'x'}], keyLabel: 'x', label: 'stop', help: 'stop the marked instances, or the one under the cursor (asks first)', dangerous: true, inBar: true},
	{command: 'describe', scopes: ['detail'], keys: [{input: 'd'}], keyLabel: 'd', label: 'describe', help: 'describe it: tags, AMI, launch, price and source, volumes, link', dangerous: false, inBar: true},
	{command: 'copy-link', scopes: ['detail'], keys: [{input: 'c'}], keyLabel: 'c', label: 'copy link', help: 'copy its EC2 console link (OSC 52) and show it whole', dangerous: false, inBar: 'where-room'},
	{command: 'stop-env', scopes: ['detail'], keys: [{input: 's'}], keyLabel: 's', label: 'stop env', help: 'stop this environment\'s agents (same confirmation as the table)', dangerous: true, inBar: 'where-room'},
	{command: 'range-shorter', scopes: ['spend'], keys: [{input: '<'}], keyLabel: '< >', barKeys: '<>', label: 'range', help: 'a shorter or longer range: 1h, 6h (polls), 24h, 7d (hourly rollup)', dangerous: false, inBar: true},
	{command: 'range-longer', scopes: ['spend'], keys: [{input: '>'}], keyLabel: '>', label: 'longer', help: 'a longer range', dangerous: false, inBar: false, folded: true},
	{command: 'open-entry', scopes: ['log'], keys: [{return: true}], keyLabel: 'Enter', label: 'entry', help: 'the selected entry in full, every line of it (it scrolls where it is longer than the screen)', dangerous: false, inBar: true},
	{command: 'reload', scopes: ['log'], keys: [{input: 'r'}], keyLabel: 'r', label: 'reload', help: 'read the audit log again', dangerous: false, inBar: true},
	{command: 'up', scopes: ['describe'], keys: up, keyLabel: '↑↓ jk', barKeys: '↑↓', label: 'scroll', help: 'scroll (PgUp PgDn: a page)', dangerous: false, inBar: true, note: 'The console link is written whole, to select by hand'},
	{command: 'down', scopes: ['describe'], keys: down, keyLabel: '↓ j', label: 'down', help: 'scroll down', dangerous: false, inBar: false, folded: true},
	{command: 'page-up', scopes: ['describe'], keys: [{pageUp: true}], keyLabel: 'PgUp', label: 'page up', help: 'a page up', dangerous: false, inBar: false, folded: true},
	{command: 'page-down', scopes: ['describe'], keys: [{pageDown: true}], keyLabel: 'PgDn', label: 'page down', help: 'a page down', dangerous: false, inBar: false, folded: true},
	{command: 'copy-link', scopes: ['describe'], keys: [{input: 'c'}], keyLabel: 'c', label: 'copy link', help: 'copy the console link (OSC 52)', dangerous: false, inBar: true},
	{command: 'stop-instances', scopes: ['describe'], keys: [{input: 'x'}], keyLabel: 'x', label: 'stop', help: 'stop this instance (asks first)', dangerous: true, inBar: true},
	{command: 'back', scopes: ['describe'], keys: [{escape: true}], keyLabel: 'Esc', label: 'back', help: 'back to the instances (or close this help)', dangerous: false, inBar: true},
	{command: 'help', scopes: ['describe'], keys: [{input: '?'}], keyLabel: '?', label: 'help', help: 'show or hide the view\'s keys', dangerous: false, inBar: true, unlisted: true},
	{command: 'quit', scopes: ['describe'], keys: quitKeys, keyLabel: 'q ^C', barKeys: 'q', label: 'quit', help: quitHelp, dangerous: false, inBar: true},
	{command: 'back', scopes: views, keys: [{escape: true}], keyLabel: 'Esc', label: 'back', help: 'back to the table (or close this help)', dangerous: false, inBar: true},
	{command: 'back', scopes: ['entry'], keys: [{escape: true}], keyLabel: 'Esc', label: 'back', help: 'back to the log\'s list (or close this help)', dangerous: false, inBar: true},
	{command: 'help', scopes: scrolled, keys: [{input: '?'}], keyLabel: '?', label: 'help', help: 'show or hide the view\'s keys', dangerous: false, inBar: true, unlisted: true},
	{command: 'quit', scopes: scrolled, keys: quitKeys, keyLabel: 'q ^C', barKeys: 'q', label: 'quit', help: quitHelp, dangerous: false, inBar: true},

	// ------------------------------------------------------------------ a filter being typed
	{command: 'filter-type', scopes: ['filter'], keys: [{printable: true}], keyLabel: 'type', label: 'filter', help: 'the filter (every key is typed, q and s included)', dangerous: false, inBar: true},
	{command: 'filter-keep', scopes: ['filter'], keys: [{return: true}], keyLabel: 'Enter', label: 'keep', help: 'keep the filter', dangerous: false, inBar: true},
	{command: 'filter-clear', scopes: ['filter'], keys: [{escape: true}], keyLabel: 'Esc', label: 'clear', help: 'clear the filter', dangerous: false, inBar: true},
	{command: 'filter-erase', scopes: ['filter'], keys: [{backspace: true}], keyLabel: 'Backspace', label: 'erase', help: 'erase the last character', dangerous: false, inBar: false},
	{command: 'quit', scopes: ['filter'], keys: [{input: 'c', ctrl: true}], keyLabel: '^C', label: 'quit', help: quitHelp, dangerous: false, inBar: false},

	// ------------------------------------------------------------------ a command being typed (`:`)
	{command: 'command-type', scopes: ['command'], keys: [{printable: true}], keyLabel: 'type', label: 'command', help: 'the command: env NAME... (all), region NAME (all), account NAME (all), guard NAME..., quit', dangerous: false, inBar: false},
	{command: 'command-complete', scopes: ['command'], keys: [{tab: true}], keyLabel: 'Tab', label: 'complete', help: 'complete the command, or the environment, region or account name being typed', dangerous: false, inBar: true},
	{command: 'command-run', scopes: ['command'], keys: [{return: true}], keyLabel: 'Enter', label: 'run', help: 'run it (an unknown command says which are known; :guard asks first)', dangerous: false, inBar: true},
	{command: 'command-leave', scopes: ['command'], keys: [{escape: true}], keyLabel: 'Esc', label: 'leave', help: 'leave command mode: nothing is run', dangerous: false, inBar: true},
	{command: 'command-erase', scopes: ['command'], keys: [{backspace: true}], keyLabel: 'Backspace', label: 'erase', help: 'erase the last character', dangerous: false, inBar: false},
	{command: 'quit', scopes: ['command'], keys: [{input: 'c', ctrl: true}], keyLabel: '^C', label: 'quit', help: quitHelp, dangerous: false, inBar: false},

	// ------------------------------------------------------------------ a confirmation
	{command: 'count', scopes: ['confirm'], keys: [{digit: true}], keyLabel: '0-9', label: 'count', help: 'how many agents to start (any other key is refused, naming it)', dangerous: false, inBar: true, needsCount: true},
	{command: 'erase', scopes: ['confirm'], keys: [{backspace: true}], keyLabel: 'Backspace', label: 'erase', help: 'erase the count\'s last digit', dangerous: false, inBar: false, needsCount: true},
	{command: 'yes', scopes: ['confirm'], keys: [{input: 'y'}, {input: 'Y'}], keyLabel: 'y', label: 'yes', help: 'do it', dangerous: false, inBar: true},
	{command: 'no', scopes: ['confirm'], keys: [{input: 'n'}, {input: 'N'}, {escape: true}, {return: true}, {input: 'c', ctrl: true}], keyLabel: 'n/Esc/Enter', label: 'no', help: 'cancel, the default: nothing is done (so is Ctrl-C)', dangerous: false, inBar: true},
	{command: 'type-word', scopes: ['confirm-typed'], keys: [{printable: true}], keyLabel: 'type', label: 'the word', help: 'the word asked for (`stop all`, or a monitor-only environment\'s name)', dangerous: false, inBar: false},
	{command: 'erase', scopes: ['confirm-typed'], keys: [{backspace: true}], keyLabel: 'Backspace', label: 'erase', help: 'erase the last character', dangerous: false, inBar: false},
	{command: 'confirm-word', scopes: ['confirm-typed'], keys: [{return: true}], keyLabel: 'Enter', label: 'confirm', help: 'do it, if the word is right (a wrong word is refused, and nothing is done)', dangerous: false, inBar: true},
	{command: 'cancel', scopes: ['confirm-typed'], keys: [{escape: true}, {input: 'c', ctrl: true}], keyLabel: 'Esc', label: 'cancel', help: 'cancel: nothing is done (so is Ctrl-C)', dangerous: false, inBar: true},
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
	/** The open confirmation takes a count (a start). */
	count?: boolean;
	/** Keys whose confirmation this terminal is too small to show whole: still bound (they say so), never in the key bar. */
	cramped?: readonly UiCommand[];
	/** `accounts` is configured: the by-account view and the account column are there. */
	accounts?: boolean;
};

/** The bindings that exist in this scope and context: read-only drops the dangerous ones entirely. */
export function activeBindings(context: KeyContext, scope: Scope = 'table'): Binding[] {
	return bindings.filter(binding => binding.scopes.includes(scope)
		&& !(context.readOnly && binding.dangerous)
		&& !(binding.needsPending && !context.pending)
		&& !(binding.needsBreaker && !context.breaker)
		&& !(binding.needsCount && !context.count)
		&& !(binding.needsAccounts && !context.accounts));
}

/** A character that is typed rather than a control, with no Ctrl or Alt. */
function isTypedText(input: string, key: KeyState): boolean {
	return input !== '' && input >= ' ' && input !== '\u007F' && !key.ctrl && !key.meta && !key.escape && !key.return && !key.backspace && !key.delete && !key.tab;
}

function matches(spec: KeySpec, input: string, key: KeyState): boolean {
	if (spec.upArrow || spec.downArrow || spec.pageUp || spec.pageDown || spec.return || spec.escape || spec.backspace || spec.tab) {
		return Boolean((spec.upArrow && key.upArrow) || (spec.downArrow && key.downArrow) || (spec.pageUp && key.pageUp) || (spec.pageDown && key.pageDown)
			|| (spec.return && key.return) || (spec.escape && key.escape) || (spec.backspace && (key.backspace || key.delete)) || (spec.tab && key.tab));
	}

	if (spec.printable || spec.digit) {
		return isTypedText(input, key) && (!spec.digit || /^\d+$/.test(input));
	}

	if (Boolean(spec.ctrl) !== Boolean(key.ctrl) || key.meta) {
		return false;
	}

	return spec.input === input;
}

/** The binding a key press means in this scope and context, or undefined when the key is not bound. */
export function matchBinding(input: string, key: KeyState, context: KeyContext, scope: Scope = 'table'): Binding | undefined {
	return activeBindings(context, scope).find(binding => binding.keys.some(spec => matches(spec, input, key)));
}

/** The command a key press means in this scope and context, or undefined when the key is not bound. */
export function matchKey(input: string, key: KeyState, context: KeyContext, scope: Scope = 'table'): UiCommand | undefined {
	return matchBinding(input, key, context, scope)?.command;
}

/**
 * The dangerous command a key would mean were envwatch not read-only (so pressing it can say
 * why nothing happens), or undefined.
 */
export function readOnlyRefusal(input: string, key: KeyState, context: KeyContext, scope: Scope = 'table'): UiCommand | undefined {
	if (!context.readOnly) {
		return undefined;
	}

	const binding = matchBinding(input, key, {...context, readOnly: false}, scope);
	return binding?.dangerous ? binding.command : undefined;
}

/** A binding's label in this context (`p` says what it will do). */
export function labelOf(binding: Binding, context: KeyContext): string {
	return binding.command === 'pause' && context.paused ? 'resume' : binding.label;
}

/** Keys as written in this theme: `↑↓` become its arrows (`UpDn` under --ascii). */
export function keysIn(label: string, arrows = '↑↓'): string {
	return label.replace('↑↓', arrows);
}

export type BarItem = {keys: string; label: string; whereRoom?: true};

/** The key bar's items for a scope, in table order. */
export function keyBarItems(context: KeyContext, arrows = '↑↓', scope: Scope = 'table'): BarItem[] {
	return activeBindings(context, scope).filter(binding => binding.inBar && !context.cramped?.includes(binding.command)).map(binding => ({
		keys: keysIn(binding.barKeys ?? binding.keyLabel, arrows),
		label: labelOf(binding, context),
		...(binding.inBar === 'where-room' ? {whereRoom: true as const} : {}),
	}));
}

/** A help line: the keys, and what they do (`keys` empty: a note). */
export type HelpRow = {keys: string; text: string};

/** The help's lines for a scope: each listed binding's keys and sentence, then its note. */
export function helpRows(context: KeyContext, scope: Scope, arrows = '↑↓'): HelpRow[] {
	return activeBindings(context, scope).filter(binding => !binding.folded && !binding.unlisted).flatMap(binding => [
		{keys: keysIn(binding.keyLabel, arrows), text: binding.help},
		...(binding.note ? [{keys: '', text: binding.note}] : []),
	]);
}
