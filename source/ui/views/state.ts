/**
 * The drill-down views' state and keys (k9s-style: Enter opens, Esc goes back, `/` filters), the
 * keys being the keymap's rows for each view. Pure: a key and the view in, the view after it and
 * what the app must do out.
 */
import {chartRanges, type ChartRange, type InstanceRow} from '../../domain/index.js';
import type {AuditTail} from '../../engine/index.js';
import {pad} from '../cells.js';
import {markRefusal} from '../instance-actions.js';
import {helpRows, keyBarItems, matchKey, type BarItem, type KeyState, type Scope, type UiCommand} from '../keymap.js';
import {defaultSort, nextSort, shiftSort, sortColumnOf, type ColumnKey, type DetailView} from './instances.js';
import type {Listing} from './parts.js';

export type {DetailView};

export type View =
	| DetailView
	/** `entry`: the selected entry opened in full (Enter), scrolled this many lines down; undefined: the list. */
	| ({kind: 'log'; tail: AuditTail; entry?: number} & Listing)
	/** `target`: an environment's name, or `global`; `range`: the time charted. @default '1h' */
	| {kind: 'spend'; target: string; range?: ChartRange; help?: boolean}
	| {kind: 'region'; environment: string; help?: boolean}
	| {kind: 'account'; environment: string; help?: boolean}
	/** The events on the whole screen (`e`); `cursor`: the first event shown (newest first). */
	| {kind: 'events'; cursor: number; help?: boolean}
	/** One instance described (`d`), over the detail view it was opened from (Esc goes back to it); `cursor`: the first line shown. */
	| {kind: 'describe'; environment: string; id: string; cursor: number; from: DetailView; help?: boolean};

export type ViewEffect =
	| {kind: 'stop'; environment: string}
	/** Stop these instances of the environment (asks first). */
	| {kind: 'stop-instances'; environment: string; ids: string[]}
	/** Copy the instance's console link (and the describe shows it). */
	| {kind: 'copy'; environment: string; id: string}
	/** Nothing done; said why (an instance that cannot be marked or stopped). */
	| {kind: 'say'; text: string}
	| {kind: 'reload'}
	| {kind: 'quit'};

export type ViewContext = {
	/** Rows the list shows now (after the filter): the cursor stays among them. */
	count: number;
	/** The environments, in table order (↑↓ in the spend and region views). */
	environments: readonly string[];
	/** The detail view's columns as shown, for `<` and `>`. */
	shown?: readonly ColumnKey[];
	/** Rows Page Up and Page Down move by. @default 10 */
	page?: number;
	/** `--read-only`: the view's dangerous keys (`s`) are not bound. @default false */
	readOnly?: boolean;
	/** The log's open entry: its lines at this width, and the rows that show them (the scroll stops at its end). */
	entry?: {lines: number; rows: number};
	/** `accounts` is configured: the account column's sort key is bound. @default false */
	accounts?: boolean;
	/** The detail view's rows as shown (filtered, sorted): the one under the cursor is acted on. */
	instances?: readonly InstanceRow[];
};

/** Where a view's keys are looked up in the keymap: the view's own rows, or the filter's while one is typed. */
export function viewScope(view: View): Scope {
	if ('editing' in view && view.editing) {
		return 'filter';
	}

	return view.kind === 'log' && view.entry !== undefined ? 'entry' : view.kind;
}

/** A view's key bar items, from the keymap (`arrows`: the theme's). */
export function viewBarItems(view: View, arrows: string, readOnly: boolean, cramped?: readonly UiCommand[]): BarItem[] {
	return keyBarItems({readOnly, pending: false, ...(cramped ? {cramped} : {})}, arrows, viewScope(view));
}

/** The longer help of a view (`?`), from the keymap: a line a key, the view's notes without keys. */
export function viewHelp(view: View, readOnly: boolean, arrows = '↑↓'): string[] {
	const scope = viewScope(view);
	return helpRows({readOnly, pending: false}, scope === 'filter' ? view.kind : scope, arrows).map(row => (row.keys ? `${pad(row.keys, 8)} ${row.text}` : row.text));
}

export type ViewStep = {view: View | undefined; effect?: ViewEffect};

/**
 * What `x` stops in a view: the described instance; in the detail view every mark (shown under the
 * filter or not: the confirmation names them all), else the row under the cursor (`rows`: the
 * view's rows as shown, asked for only then).
 */
export function stopTargets(view: View, rows: () => readonly {id: string}[]): {environment: string; ids: string[]} | undefined {
	if (view.kind === 'describe') {
		return {environment: view.environment, ids: [view.id]};
	}

	if (view.kind !== 'detail') {
		return undefined;
	}

	if ((view.marked?.length ?? 0) > 0) {
		return {environment: view.environment, ids: [...view.marked!]};
	}

	const shown = rows();
	const row = shown[Math.min(view.cursor, shown.length - 1)];
	return row ? {environment: view.environment, ids: [row.id]} : undefined;
}

/** The detail view's instance keys: Space marks, x stops, d describes, c copies the console link. */
function instanceKey(view: DetailView, command: UiCommand, context: ViewContext): ViewStep {
	const rows = context.instances ?? [];
	const row = rows[Math.min(view.cursor, rows.length - 1)];
	if (!row) {
		return {view};
	}

	switch (command) {
		case 'mark': {
			const marked = view.marked ?? [];
			if (marked.includes(row.id)) {
				return {view: {...view, marked: marked.filter(id => id !== row.id)}};
			}

			const refused = markRefusal(row);
			// Marked, the cursor moves on to the next row, so Space Space marks two (as in k9s).
			return refused ? {view, effect: {kind: 'say', text: refused}} : {view: {...move(view, 1, context) as DetailView, marked: [...marked, row.id]}};
		}

		case 'stop-instances': {
			// The row under the cursor, when nothing is marked, may be one that cannot be stopped.
			const refused = (view.marked?.length ?? 0) > 0 ? undefined : markRefusal(row);
			return refused ? {view, effect: {kind: 'say', text: refused}} : {view, effect: {kind: 'stop-instances', ...stopTargets(view, () => rows)!}};
		}

		case 'describe':
		case 'copy-link': {
			const describe: View = {kind: 'describe', environment: view.environment, id: row.id, cursor: 0, from: view};
			return command === 'describe' ? {view: describe} : {view: describe, effect: {kind: 'copy', environment: view.environment, id: row.id}};
		}

		default: {
			return {view};
		}
	}
}

/** A key in the describe view: its lines scroll; c copies the link again, x stops the instance. */
function describeKey(view: Extract<View, {kind: 'describe'}>, command: UiCommand | undefined, context: ViewContext): ViewStep {
	switch (command) {
		case 'back': {
			return {view: view.from};
		}

		case 'up':
		case 'down':
		case 'page-up':
		case 'page-down': {
			return {view: move(view, stepOf(command, context), context)};
		}

		case 'copy-link': {
			return {view, effect: {kind: 'copy', environment: view.environment, id: view.id}};
		}

		case 'stop-instances': {
			return {view, effect: {kind: 'stop-instances', ...stopTargets(view, () => [])!}};
		}

		case 'help': {
			return {view: {...view, help: true}};
		}

		case 'quit': {
			return {view, effect: {kind: 'quit'}};
		}

		default: {
			return {view};
		}
	}
}

/** `<` and `>` in the spend view: the next shorter or longer range. */
function shiftRange(view: Extract<View, {kind: 'spend'}>, step: -1 | 1): View {
	const index = chartRanges.indexOf(view.range ?? '1h');
	return {...view, range: chartRanges[Math.min(chartRanges.length - 1, Math.max(0, index + step))]!};
}

/** How far ↑↓ (a row) and PgUp PgDn (a page) move. */
function stepOf(command: 'up' | 'down' | 'page-up' | 'page-down', context: ViewContext): number {
	return (command === 'up' || command === 'page-up' ? -1 : 1) * (command.startsWith('page') ? Math.max(1, context.page ?? 10) : 1);
}

function move(view: View, step: number, context: ViewContext): View {
	if (view.kind === 'account') {
		const index = Math.max(0, context.environments.indexOf(view.environment));
		return {...view, environment: context.environments[Math.min(context.environments.length - 1, Math.max(0, index + Math.sign(step)))] ?? view.environment};
	}

	if (view.kind === 'spend' || view.kind === 'region') {
		const list = view.kind === 'spend' ? [...context.environments, 'global'] : context.environments;
		const current = view.kind === 'spend' ? view.target : view.environment;
		const index = Math.max(0, list.indexOf(current));
		const next = list[Math.min(list.length - 1, Math.max(0, index + Math.sign(step)))] ?? current;
		return view.kind === 'spend' ? {...view, target: next} : {...view, environment: next};
	}

	return {...view, cursor: Math.min(Math.max(0, context.count - 1), Math.max(0, view.cursor + step))};
}

/** One key while a filter is typed: printable keys (q and s included) go into it. */
function editFilter(view: Extract<View, {kind: 'detail' | 'log'}>, command: UiCommand | undefined, input: string): ViewStep {
	switch (command) {
		case 'filter-clear': {
			return {view: {...view, editing: false, filter: '', cursor: 0}};
		}

		case 'filter-keep': {
			return {view: {...view, editing: false}};
		}

		case 'filter-erase': {
			return {view: {...view, filter: [...view.filter].slice(0, -1).join(''), cursor: 0}};
		}

		case 'filter-type': {
			return view.filter.length < 60 ? {view: {...view, filter: view.filter + input, cursor: 0}} : {view};
		}

		case 'quit': {
			return {view, effect: {kind: 'quit'}};
		}

		default: {
			return {view};
		}
	}
}

/** One key in an open view, matched against the keymap's rows for it. */
export function reduceView(view: View, input: string, key: KeyState, context: ViewContext): ViewStep {
	const command = matchKey(input, key, {readOnly: context.readOnly ?? false, pending: false, ...(context.accounts ? {accounts: true} : {})}, viewScope(view));
	if ('editing' in view && view.editing) {
		return editFilter(view, command, input);
	}

	if (view.help) {
		// Esc or ? closes the help; q still quits; nothing else is bound under it.
		return command === 'back' || command === 'help' ? {view: {...view, help: false}} : command === 'quit' ? {view, effect: {kind: 'quit'}} : {view};
	}

	if (view.kind === 'describe') {
		return describeKey(view, command, context);
	}

	if (view.kind === 'log' && view.entry !== undefined) {
		const scrolled = scrollEntry(view, view.entry, command, context);
		if (scrolled) {
			return scrolled;
		}
	}

	switch (command) {
		case 'back': {
			// A filter in place is cleared first, then the marks; the next Esc goes back.
			if ('filter' in view && view.filter !== '') {
				return {view: {...view, filter: '', cursor: 0}};
			}

			return view.kind === 'detail' && (view.marked?.length ?? 0) > 0 ? {view: {...view, marked: []}, effect: {kind: 'say', text: 'marks cleared'}} : {view: undefined};
		}

		case 'mark':
		case 'stop-instances':
		case 'describe':
		case 'copy-link': {
			return view.kind === 'detail' ? instanceKey(view, command, context) : {view};
		}

		case 'range-shorter':
		case 'range-longer': {
			return view.kind === 'spend' ? {view: shiftRange(view, command === 'range-shorter' ? -1 : 1)} : {view};
		}

		case 'up':
		case 'down':
		case 'page-up':
		case 'page-down': {
			return {view: move(view, stepOf(command, context), context)};
		}

		case 'quit': {
			return {view, effect: {kind: 'quit'}};
		}

		case 'help': {
			return {view: {...view, help: true}};
		}

		case 'filter': {
			return 'editing' in view ? {view: {...view, editing: true}} : {view};
		}

		case 'stop-env': {
			return view.kind === 'detail' ? {view, effect: {kind: 'stop', environment: view.environment}} : {view};
		}

		case 'sort-left':
		case 'sort-right': {
			return view.kind === 'detail' ? {view: {...view, sort: shiftSort(view.sort, context.shown ?? [], command === 'sort-left' ? -1 : 1), cursor: 0}} : {view};
		}

		case 'sort-column': {
			const column = sortColumnOf(input);
			return view.kind === 'detail' && column ? {view: {...view, sort: nextSort(view.sort, column), cursor: 0}} : {view};
		}

		case 'reload': {
			return {view, effect: {kind: 'reload'}};
		}

		case 'open-entry': {
			return view.kind === 'log' && context.count > 0 ? {view: {...view, entry: 0}} : {view};
		}

		default: {
			return {view};
		}
	}
}

/** ↑↓, PgUp PgDn and Esc in an entry opened in full: it scrolls, never past its end; Esc goes back to the list. */
function scrollEntry(view: Extract<View, {kind: 'log'}>, offset: number, command: UiCommand | undefined, context: ViewContext): ViewStep | undefined {
	const rows = Math.max(1, context.entry?.rows ?? 1);
	const last = Math.max(0, (context.entry?.lines ?? 0) - rows);
	const to = (next: number): ViewStep => ({view: {...view, entry: Math.min(last, Math.max(0, next))}});
	switch (command) {
		case 'back': {
			const {entry: _entry, ...list} = view;
			return {view: list};
		}

		case 'up':
		case 'down': {
			return to(Math.min(offset, last) + (command === 'up' ? -1 : 1));
		}

		case 'page-up':
		case 'page-down': {
			return to(Math.min(offset, last) + (command === 'page-up' ? -rows : rows));
		}

		default: {
			return undefined;
		}
	}
}

/** A fresh detail view of an environment. */
export function detailView(environment: string): View {
	return {kind: 'detail', environment, sort: defaultSort, filter: '', editing: false, cursor: 0};
}
