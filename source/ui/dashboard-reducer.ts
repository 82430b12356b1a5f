/**
 * The dashboard's key handling as a pure reducer: a key press and the state in, the state after
 * it and what the app must do out (send a command to the engine, flash a line, read the audit
 * log, quit). Keys are matched against the keymap's rows (keymap.ts); a confirmation is a request
 * object in state, and Esc cancels it (confirm.ts); the drill-down views reduce their own keys
 * (views/state.ts). No React, no Ink: App.tsx wires this to the store, the engine's controller
 * and Ink, and the tests drive it press by press.
 */
import type {AuditTail, Command, Snapshot} from '../engine/index.js';
import {buildConfirmation, reduceConfirm, type ConfirmRequest} from './confirm.js';
import type {Press} from './key-presses.js';
import {matchKey, readOnlyRefusal, type KeyContext, type UiCommand} from './keymap.js';
import {entryLines, entryRows} from './views/audit.js';
import {shownColumns} from './views/instances.js';
import {viewRows} from './views/lines.js';
import {detailView, reduceView, viewScope, type View} from './views/state.js';

/** What is open over the table: a confirmation (a request object), or the help. */
export type Panel = {kind: 'confirm'; request: ConfirmRequest} | {kind: 'help'};

export type DashboardState = {
	/** The environment chosen with ↑↓; one that is not (or no longer) listed means the first. */
	selected: string | undefined;
	/** A confirmation or the help, over the table (or over a view: a confirmation asked from it). */
	panel: Panel | undefined;
	/** The open drill-down view (instances, log, spend, regions); undefined: the table. */
	view: View | undefined;
};

export const initialState: DashboardState = {selected: undefined, panel: undefined, view: undefined};

/** How a flashed line reads: green, yellow or red. */
export type Tone = 'ok' | 'warn' | 'error';

export type Effect =
	/** Send a command to the engine; `label` is said while it runs ("stopping dev"). */
	| {kind: 'run'; command: Command; label: string}
	/** Flash a line on the status line (`shorter`: the same said in fewer words, for a narrow one). */
	| {kind: 'say'; text: string; tone: Tone; shorter?: readonly string[]}
	/** Read the audit log into the open log view (`withAudit`): when it opens, and on `r`. */
	| {kind: 'read-audit'}
	| {kind: 'quit'};

export type Step = {state: DashboardState; effects: Effect[]};

/** What a key is judged against, as of the press. */
export type KeyEnv = {
	snapshot: Snapshot | undefined;
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

/** The environments' names, in table order. */
const namesOf = (snapshot: Snapshot | undefined) => snapshot?.environments.map(view => view.name) ?? [];

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

/** What the status line says while a command runs. */
export function busyText(command: Command, cascadeTarget: string | undefined): string {
	switch (command.kind) {
		case 'stop': {
			return `stopping ${command.environment}`;
		}

		case 'cascade': {
			return `cascade: stopping ${cascadeTarget ?? 'the next environment'}`;
		}

		case 'emergency': {
			return 'EMERGENCY: stopping every agent';
		}

		case 'undo': {
			return 'undo: starting the stopped agents';
		}

		case 'start': {
			return `starting ${command.count} agent${command.count === 1 ? '' : 's'} in ${command.environment}`;
		}

		case 'reset': {
			return `resetting ${command.environment}'s breaker`;
		}

		case 'pause-env': {
			return `pausing ${command.environment}`;
		}

		default: {
			return command.kind;
		}
	}
}

/** What is flashed once a command is done: the engine's summary, or what the command did. */
export function resultFlash(command: Command, result: {summary: string; outcome: string} | undefined): {text: string; tone: Tone} | undefined {
	if (result) {
		return {text: result.summary, tone: result.outcome === 'failed' ? 'error' : result.outcome === 'executed' ? 'ok' : 'warn'};
	}

	switch (command.kind) {
		case 'refresh': {
			return {text: 'refreshed', tone: 'ok'};
		}

		case 'reset': {
			return {text: `${command.environment}'s breaker reset: agents may run there again`, tone: 'ok'};
		}

		case 'pause-env': {
			return {text: `automatic actions PAUSED for ${command.environment}: its breaches are shown and alerted on, nothing there is stopped automatically`, tone: 'warn'};
		}

		case 'resume-env': {
			return {text: `automatic actions resumed for ${command.environment}`, tone: 'ok'};
		}

		case 'pause': {
			return {text: 'automatic actions PAUSED: breaches are shown and logged, nothing is stopped automatically', tone: 'warn'};
		}

		case 'resume': {
			return {text: 'automatic actions resumed', tone: 'ok'};
		}

		case 'cancel-pending': {
			return {text: 'automatic action cancelled; automatic actions paused (p resumes)', tone: 'warn'};
		}

		default: {
			return undefined;
		}
	}
}

/** What is flashed when a command throws. */
export function failureText(command: Command, error: unknown): string {
	return `${command.kind} failed: ${error instanceof Error ? error.message : String(error)}`;
}

/** Why a dangerous key does nothing under --read-only. */
function readOnlyText(command: UiCommand): string {
	return command === 'start' ? 'read-only: starting is off' : command === 'reset' ? 'read-only: resetting a breaker is off' : 'read-only: stopping is off';
}

const same = (state: DashboardState): Step => ({state, effects: []});
const say = (state: DashboardState, text: string, tone: Tone, shorter?: readonly string[]): Step => ({state, effects: [{kind: 'say', text, tone, ...(shorter && shorter.length > 0 ? {shorter} : {})}]});

/** The audit log as read for the open log view (from the top again). */
export function withAudit(state: DashboardState, tail: AuditTail): DashboardState {
	return state.view?.kind === 'log' ? {...state, view: {...state.view, tail, cursor: 0}} : state;
}

type Asked = Parameters<typeof buildConfirmation>[0];

/** A confirmation for an action on the selected environment, or why not (said, nothing opened). */
function ask(state: DashboardState, command: Asked, selected: string | undefined, env: KeyEnv): Step {
	const {snapshot} = env;
	if (!snapshot) {
		return same(state);
	}

	const request = buildConfirmation(command, {snapshot, selected, cascadeTarget: command === 'cascade' ? env.cascadeTarget() : undefined, now: env.now});
	if ('refused' in request) {
		return say(state, request.refused, 'warn', request.shorter);
	}

	// Never asked without its blast radius: refused when the terminal cannot show it all.
	const panel = {kind: 'confirm' as const, request};
	const tooSmall = env.confirmRefusal(panel, selected, keysFor(snapshot, selected));
	return tooSmall ? say(state, tooSmall[0]!, 'warn', tooSmall.slice(1)) : {state: {...state, panel}, effects: []};
}

/** A key against the open confirmation: y runs its command, n/Esc/Enter cancel (said), the rest edit it. */
function confirmStep(state: DashboardState, request: ConfirmRequest, [input, key]: Press, env: KeyEnv): Step {
	const next = reduceConfirm(request, input, key);
	switch (next.kind) {
		case 'confirm': {
			return {state: {...state, panel: undefined}, effects: [{kind: 'run', command: request.command, label: busyText(request.command, env.cascadeTarget())}]};
		}

		case 'cancel': {
			return say({...state, panel: undefined}, 'cancelled: nothing done', 'warn');
		}

		case 'edit': {
			return same({...state, panel: {kind: 'confirm', request: next.request}});
		}

		default: {
			return same(state);
		}
	}
}

/** The view a table key opens, on the selected environment (the log's entries are read next). */
function openView(command: 'open-detail' | 'open-log' | 'open-spend' | 'open-region' | 'by-account', selected: string | undefined): View | undefined {
	switch (command) {
		case 'open-detail': {
			return selected === undefined ? undefined : detailView(selected);
		}

		case 'open-log': {
			return {kind: 'log', tail: {entries: [], skipped: 0, truncated: false, error: null}, filter: '', editing: false, cursor: 0};
		}

		case 'open-spend': {
			return {kind: 'spend', target: selected ?? 'global'};
		}

		case 'open-region': {
			return selected === undefined ? undefined : {kind: 'region', environment: selected};
		}

		case 'by-account': {
			return selected === undefined ? undefined : {kind: 'account', environment: selected};
		}
	}
}

/** ↑ and ↓ in the table: the environment above or below, staying within the list. */
function moveSelection(state: DashboardState, selected: string | undefined, step: -1 | 1, env: KeyEnv): DashboardState {
	const names = namesOf(env.snapshot);
	if (names.length === 0) {
		return state;
	}

	const index = Math.max(0, names.indexOf(selected ?? ''));
	return {...state, selected: names[Math.min(names.length - 1, Math.max(0, index + step))]};
}

/** A key on the table (the help may be open over it: it stays open, but for `?` and Esc). */
function tableStep(state: DashboardState, [input, key]: Press, env: KeyEnv): Step {
	const selected = selectedOf(state, env.snapshot);
	const context = keysFor(env.snapshot, selected);
	const command = matchKey(input, key, context);
	if (state.panel?.kind === 'help' && (command === 'help' || command === 'back')) {
		return same({...state, panel: undefined});
	}

	switch (command) {
		case undefined: {
			const refused = readOnlyRefusal(input, key, context);
			return refused ? say(state, readOnlyText(refused), 'warn') : same(state);
		}

		case 'quit': {
			return {state, effects: [{kind: 'quit'}]};
		}

		case 'help': {
			return same({...state, panel: {kind: 'help'}});
		}

		case 'up':
		case 'down': {
			return same(moveSelection(state, selected, command === 'up' ? -1 : 1, env));
		}

		case 'refresh': {
			return {state, effects: [{kind: 'run', command: {kind: 'refresh'}, label: 'refreshing'}]};
		}

		case 'pause': {
			// Said once it is done: a busy engine refuses it, and that is what is said then.
			return {state, effects: [context.paused ? {kind: 'run', command: {kind: 'resume'}, label: 'resuming'} : {kind: 'run', command: {kind: 'pause'}, label: 'pausing'}]};
		}

		case 'pause-env': {
			// Resuming gives protection back: no confirmation.
			return selected !== undefined && context.envPaused
				? {state, effects: [{kind: 'run', command: {kind: 'resume-env', environment: selected}, label: `resuming ${selected}`}]}
				: ask(state, 'pause-env', selected, env);
		}

		case 'cancel-pending': {
			return {state, effects: [{kind: 'run', command: {kind: 'cancel-pending'}, label: 'cancelling'}]};
		}

		case 'stop':
		case 'cascade':
		case 'emergency':
		case 'undo':
		case 'start':
		case 'reset': {
			return ask(state, command, selected, env);
		}

		case 'open-detail':
		case 'open-log':
		case 'open-spend':
		case 'open-region':
		case 'by-account': {
			const view = openView(command, selected);
			return view ? {state: {...state, view, panel: undefined}, effects: command === 'open-log' ? [{kind: 'read-audit'}] : []} : same(state);
		}

		default: {
			return same(state);
		}
	}
}

/** A key in an open view (nothing open over it). */
function viewStep(state: DashboardState, view: View, [input, key]: Press, env: KeyEnv): Step {
	const {snapshot, rows, columns} = env;
	const context = keysFor(snapshot, selectedOf(state, snapshot));
	const refused = readOnlyRefusal(input, key, context, viewScope(view));
	if (refused) {
		return say(state, readOnlyText(refused), 'warn');
	}

	const shown = snapshot ? viewRows(view, snapshot) : {};
	const count = shown.instances?.length ?? shown.entries?.length ?? 0;
	// A page: about the rows the list has (the log's list takes half the body).
	const page = Math.max(1, view.kind === 'log' ? Math.floor((rows - 6) / 2) : rows - 7);
	const entry = view.kind === 'log' ? {lines: entryLines(view, columns).length, rows: entryRows(rows)} : undefined;
	const result = reduceView(view, input, key, {count, environments: namesOf(snapshot), shown: shownColumns(columns, Boolean(snapshot?.accounts)), page, readOnly: context.readOnly, ...(entry ? {entry} : {}), ...(snapshot?.accounts ? {accounts: true} : {})});
	const next = {...state, view: result.view};
	switch (result.effect?.kind) {
		case 'quit': {
			return {state: next, effects: [{kind: 'quit'}]};
		}

		case 'reload': {
			return {state: next, effects: [{kind: 'read-audit'}]};
		}

		case 'stop': {
			// The same confirmation as the table's `s`, for the environment this view shows.
			const environment = result.effect.environment;
			return ask({...next, selected: environment}, 'stop', environment, env);
		}

		default: {
			return same(next);
		}
	}
}

/** One key press: against the open confirmation, else the open view, else the table. */
export function reducePress(state: DashboardState, press: Press, env: KeyEnv): Step {
	if (state.panel?.kind === 'confirm') {
		return confirmStep(state, state.panel.request, press, env);
	}

	if (state.view && !state.panel) {
		return viewStep(state, state.view, press, env);
	}

	return tableStep(state, press, env);
}

/**
 * A confirmation open while the terminal shrank: it can no longer be shown whole, so it is
 * withdrawn, and that is said. Undefined while it fits (or none is open).
 */
export function withdrawal(state: DashboardState, env: KeyEnv): Step | undefined {
	const {panel} = state;
	if (panel?.kind !== 'confirm' || !env.snapshot) {
		return undefined;
	}

	const selected = selectedOf(state, env.snapshot);
	const reason = env.confirmRefusal(panel, selected, keysFor(env.snapshot, selected), true);
	return reason ? say({...state, panel: undefined}, reason[0]!, 'warn', reason.slice(1)) : undefined;
}
