/**
 * The drill-down views' state and keys (k9s-style: Enter opens, Esc goes back, `/` filters).
 * Pure: a key and the view in, the view after it and what the app must do out.
 */
import type {AuditTail} from '../engine/audit-reader.js';
import type {KeyState} from './keymap.js';
import {defaultSort, nextSort, shiftSort, sortColumnOf, type ColumnKey, type Sort} from './views.js';

type Listing = {filter: string; editing: boolean; cursor: number; help?: boolean};

export type View =
	| ({kind: 'detail'; environment: string; sort: Sort} & Listing)
	| ({kind: 'log'; tail: AuditTail} & Listing)
	/** `target`: an environment's name, or `global`. */
	| {kind: 'spend'; target: string; help?: boolean}
	| {kind: 'region'; environment: string; help?: boolean};

export type ViewEffect =
	| {kind: 'stop'; environment: string}
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
};

/** A view's key bar items, and the help's lines. */
export function viewKeys(view: View, up: string, down: string, readOnly = false): Array<{keys: string; label: string}> {
	if ('editing' in view && view.editing) {
		return [{keys: 'type', label: 'filter'}, {keys: 'Enter', label: 'keep'}, {keys: 'Esc', label: 'clear'}];
	}

	const arrows = `${up}${down}`;
	switch (view.kind) {
		case 'detail': {
			return [{keys: arrows, label: 'select'}, {keys: '/', label: 'filter'}, {keys: '<>', label: 'sort'}, ...(readOnly ? [] : [{keys: 's', label: 'stop env'}]), {keys: 'Esc', label: 'back'}, {keys: '?', label: 'help'}, {keys: 'q', label: 'quit'}];
		}

		case 'log': {
			return [{keys: arrows, label: 'select'}, {keys: '/', label: 'filter'}, {keys: 'r', label: 'reload'}, {keys: 'Esc', label: 'back'}, {keys: '?', label: 'help'}, {keys: 'q', label: 'quit'}];
		}

		default: {
			return [{keys: arrows, label: 'environment'}, {keys: 'Esc', label: 'back'}, {keys: '?', label: 'help'}, {keys: 'q', label: 'quit'}];
		}
	}
}

/** The longer help of a view (`?`). */
export function viewHelp(view: View): string[] {
	const common = ['Esc      back to the table (or close this help)', 'q ^C     quit; automatic guarding stops with it'];
	switch (view.kind) {
		case 'detail': {
			return [
				'↑↓ jk    select an instance (PgUp PgDn: a page)',
				'/        filter: every word must appear in a cell; Enter keeps, Esc clears',
				'< >      sort by the column to the left or right; again reverses',
				'I N T Z  sort by ID, NAME, TYPE, REGION/AZ',
				'L S A B  sort by LIFE(cycle), STATE, AGE, BY (envwatch:launched-by)',
				'O P      sort by ROLE, $/H (unpriced: billed at a price not known)',
				's        stop this environment\'s agents (same confirmation as the table)',
				...common,
			];
		}

		case 'log': {
			return [
				'↑↓ jk    select an entry, newest first (PgUp PgDn: a page)',
				'/        filter by kind, environment, actor, reason, outcome, instance ID',
				'r        read the audit log again',
				...common,
			];
		}

		case 'spend': {
			return ['↑↓ jk    the environment (or global) charted', 'The axis starts at $0; the cap and the threshold are lines', ...common];
		}

		case 'region': {
			return ['↑↓ jk    the environment shown', 'Billed $/h, agents and instances running per region', ...common];
		}
	}
}

export type ViewStep = {view: View | undefined; effect?: ViewEffect};

function move(view: View, step: number, context: ViewContext): View {
	if (view.kind === 'spend' || view.kind === 'region') {
		const list = view.kind === 'spend' ? [...context.environments, 'global'] : context.environments;
		const current = view.kind === 'spend' ? view.target : view.environment;
		const index = Math.max(0, list.indexOf(current));
		const next = list[Math.min(list.length - 1, Math.max(0, index + Math.sign(step)))] ?? current;
		return view.kind === 'spend' ? {...view, target: next} : {...view, environment: next};
	}

	return {...view, cursor: Math.min(Math.max(0, context.count - 1), Math.max(0, view.cursor + step))};
}

/** One key in an open view. */
export function reduceView(view: View, input: string, key: KeyState, context: ViewContext): ViewStep {
	if ('editing' in view && view.editing) {
		if (key.escape) {
			return {view: {...view, editing: false, filter: '', cursor: 0}};
		}

		if (key.return) {
			return {view: {...view, editing: false}};
		}

		if (key.backspace || key.delete) {
			return {view: {...view, filter: [...view.filter].slice(0, -1).join(''), cursor: 0}};
		}

		if (input && !key.ctrl && !key.meta && input >= ' ' && view.filter.length < 60) {
			return {view: {...view, filter: view.filter + input, cursor: 0}};
		}

		if (key.ctrl && input === 'c') {
			return {view, effect: {kind: 'quit'}};
		}

		return {view};
	}

	if (view.help) {
		if (key.escape || input === '?') {
			return {view: {...view, help: false}};
		}

		if (input === 'q' || (key.ctrl && input === 'c')) {
			return {view, effect: {kind: 'quit'}};
		}

		return {view};
	}

	if (key.escape) {
		// A filter in place is cleared first; the next Esc goes back.
		if ('filter' in view && view.filter !== '') {
			return {view: {...view, filter: '', cursor: 0}};
		}

		return {view: undefined};
	}

	if (key.upArrow || input === 'k') {
		return {view: move(view, -1, context)};
	}

	if (key.downArrow || input === 'j') {
		return {view: move(view, 1, context)};
	}

	if (key.pageUp || key.pageDown) {
		return {view: move(view, (key.pageUp ? -1 : 1) * Math.max(1, context.page ?? 10), context)};
	}

	if (input === 'q' || (key.ctrl && input === 'c')) {
		return {view, effect: {kind: 'quit'}};
	}

	if (input === '?') {
		return {view: {...view, help: true}};
	}

	if (key.ctrl || key.meta) {
		return {view};
	}

	if (input === '/' && 'editing' in view) {
		return {view: {...view, editing: true}};
	}

	if (view.kind === 'detail') {
		if (input === 's') {
			return {view, effect: {kind: 'stop', environment: view.environment}};
		}

		if (input === '<' || input === '>') {
			return {view: {...view, sort: shiftSort(view.sort, context.shown ?? [], input === '<' ? -1 : 1), cursor: 0}};
		}

		const column = sortColumnOf(input);
		if (column) {
			return {view: {...view, sort: nextSort(view.sort, column), cursor: 0}};
		}
	}

	if (view.kind === 'log' && input === 'r') {
		return {view, effect: {kind: 'reload'}};
	}

	return {view};
}

/** A fresh detail view of an environment. */
export function detailView(environment: string): View {
	return {kind: 'detail', environment, sort: defaultSort, filter: '', editing: false, cursor: 0};
}
