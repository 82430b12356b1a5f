/**
 * The dashboard's state and what a key is judged against: what is open (a confirmation, the help,
 * a view, a line typed after `:` or `/`), what the view shows, and the effects a key has. Shared by
 * the reducer (dashboard-reducer.ts) and its steps for the operator's keys (operator-steps.ts).
 * Pure: no React, no Ink.
 */
import type {Command, Snapshot} from '../engine/index.js';
import type {CommandLine} from './command-line.js';
import type {ConfirmRequest, Refused} from './confirm.js';
import type {KeyContext} from './keymap.js';
import {namesOf, noFilter, type TableFilter, type ViewScope} from './scope.js';
import type {View} from './views/state.js';

/** What is open over the table: a confirmation (a request object), or the help. */
export type Panel = {kind: 'confirm'; request: ConfirmRequest} | {kind: 'help'};

export type DashboardState = {
	/** The environment chosen with ↑↓; one that is not (or no longer) listed means the first. */
	selected: string | undefined;
	/** A confirmation or the help, over the table (or over a view: a confirmation asked from it). */
	panel: Panel | undefined;
	/** The open drill-down view (instances, log, spend, regions); undefined: the table. */
	view: View | undefined;
	/** The table's `/` filter (what is shown, never what is guarded). @default none */
	filter?: TableFilter;
	/** The line typed after `:` (command mode); undefined: not in command mode. */
	command?: CommandLine | undefined;
	/** What `:env`, `:region` and `:account` show. @default everything guarded */
	scope?: ViewScope;
};

export const initialState: DashboardState = {selected: undefined, panel: undefined, view: undefined};

/** The filter and the view scope of a state (absent: none). */
export const filterOf = (state: DashboardState): TableFilter => state.filter ?? noFilter;
export const scopeOf = (state: DashboardState): ViewScope => state.scope ?? {};

/** How a flashed line reads: green, yellow or red. */
export type Tone = 'ok' | 'warn' | 'error';

export type Effect =
	/** Send a command to the engine; `label` is said while it runs ("stopping dev"). */
	| {kind: 'run'; command: Command; label: string}
	/** Flash a line on the status line (`shorter`: the same said in fewer words, for a narrow one). */
	| {kind: 'say'; text: string; tone: Tone; shorter?: readonly string[]}
	/** Read the audit log into the open log view (`withAudit`): when it opens, and on `r`. */
	| {kind: 'read-audit'}
	/** Put `text` on the terminal's clipboard (OSC 52). */
	| {kind: 'copy'; text: string}
	| {kind: 'quit'};

export type Step = {state: DashboardState; effects: Effect[]};

/** What a key is judged against, as of the press. */
export type KeyEnv = {
	/** Everything the engine guards (an emergency's blast radius, `:guard`). */
	snapshot: Snapshot | undefined;
	/** What the table and the views show (scope.ts: the filter and `:env`...). @default snapshot */
	shown?: Snapshot | undefined;
	now: number;
	columns: number;
	rows: number;
	/** The environment a cascade step would stop now (the engine's answer). */
	cascadeTarget(): string | undefined;
	/**
	 * Why this confirmation cannot be shown whole at this size (`withdrawn`: one open as the terminal
	 * shrank), in every length it can be said in, longest first; undefined when it fits.
	 */
	confirmRefusal(panel: Extract<Panel, {kind: 'confirm'}>, selected: string | undefined, keys: KeyContext, withdrawn?: boolean): readonly string[] | undefined;
};

/** The selected environment: the one chosen, while it is listed; else the first. */
export function selectedOf(state: DashboardState, snapshot: Snapshot | undefined): string | undefined {
	const names = namesOf(snapshot);
	return state.selected !== undefined && names.includes(state.selected) ? state.selected : names[0];
}

/** The keymap's context with this environment selected (unknown before the first snapshot: read-only). */
export function keysFor(snapshot: Snapshot | undefined, name: string | undefined): KeyContext {
	const view = snapshot?.environments.find(candidate => candidate.name === name);
	return {
		readOnly: snapshot?.mode.readOnly ?? true,
		pending: Boolean(snapshot?.pending),
		paused: snapshot?.mode.paused ?? false,
		breaker: Boolean(view?.breaker),
		envPaused: Boolean(view?.paused),
		...(snapshot?.accounts ? {accounts: true} : {}),
	};
}

export const same = (state: DashboardState): Step => ({state, effects: []});
export const say = (state: DashboardState, text: string, tone: Tone, shorter?: readonly string[]): Step => ({state, effects: [{kind: 'say', text, tone, ...(shorter && shorter.length > 0 ? {shorter} : {})}]});

/** Opens a confirmation, or says why it cannot be asked (refused, or the terminal cannot show it whole). */
export function askRequest(state: DashboardState, request: ConfirmRequest | Refused, selected: string | undefined, env: KeyEnv): Step {
	if ('refused' in request) {
		return say(state, request.refused, 'warn', request.shorter);
	}

	// Never asked without its blast radius: refused when the terminal cannot show it all.
	const panel = {kind: 'confirm' as const, request};
	const tooSmall = env.confirmRefusal(panel, selected, keysFor(env.snapshot, selected));
	return tooSmall ? say(state, tooSmall[0]!, 'warn', tooSmall.slice(1)) : {state: {...state, panel}, effects: []};
}

/** What the table and the views show: the scoped snapshot, else the whole one. */
export const shownOf = (env: KeyEnv): Snapshot | undefined => env.shown ?? env.snapshot;
