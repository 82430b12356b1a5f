/**
 * The dashboard's key handling as a pure reducer: a key press and the state in, the state after
 * it and what the app must do out (send a command to the engine, flash a line, read the audit
 * log, quit). Keys are matched against the keymap's rows (keymap.ts); a confirmation is a request
 * object in state, and Esc cancels it (confirm.ts); the drill-down views reduce their own keys
 * (views/state.ts), and the operator's keys (command mode, the table's filter, instance actions)
 * have their steps in operator-steps.ts. No React, no Ink: App.tsx wires this to the store, the
 * engine's controller and Ink, and the tests drive it press by press.
 */
import type {AuditTail, Command} from '../engine/index.js';
import {buildConfirmation, reduceConfirm, type ConfirmRequest} from './confirm.js';
import {askRequest, filterOf, keysFor, same, say, selectedOf, shownOf, type DashboardState, type KeyEnv, type Step, type Tone} from './dashboard-state.js';
import type {Press} from './key-presses.js';
import {matchKey, readOnlyRefusal, type UiCommand} from './keymap.js';
import {commandStep, instanceEffect, tableFilterStep} from './operator-steps.js';
import {namesOf, noFilter} from './scope.js';
import {describeCount} from './views/describe.js';
import {eventsCount} from './views/events.js';
import {entryLines, entryRows} from './views/audit.js';
import {shownColumns} from './views/instances.js';
import {viewRows} from './views/lines.js';
import {detailView, reduceView, viewScope, type View} from './views/state.js';

export * from './dashboard-state.js';

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

		case 'stop-instances': {
			return `stopping ${command.ids.length === 1 ? command.ids[0] : `${command.ids.length} instances`} in ${command.environment}`;
		}

		case 'guard': {
			return `guarding ${command.environments.join(', ')}`;
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

	return askRequest(state, buildConfirmation(command, {snapshot, selected, cascadeTarget: command === 'cascade' ? env.cascadeTarget() : undefined, now: env.now}), selected, env);
}

/** A key against the open confirmation: y runs its command, n/Esc/Enter cancel (said), the rest edit it. */
function confirmStep(state: DashboardState, request: ConfirmRequest, [input, key]: Press, env: KeyEnv): Step {
	const next = reduceConfirm(request, input, key);
	switch (next.kind) {
		case 'confirm': {
			// The marked instances are being stopped: their marks go with them.
			const view = request.command.kind === 'stop-instances' && state.view?.kind === 'detail' ? {...state.view, marked: []} : state.view;
			return {state: {...state, panel: undefined, view}, effects: [{kind: 'run', command: request.command, label: busyText(request.command, env.cascadeTarget())}]};
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
function openView(command: 'open-detail' | 'open-log' | 'open-spend' | 'open-region' | 'open-events' | 'by-account', selected: string | undefined): View | undefined {
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

		case 'open-events': {
			return {kind: 'events', cursor: 0};
		}
	}
}

/** ↑ and ↓ in the table: the environment above or below, staying within the list. */
function moveSelection(state: DashboardState, selected: string | undefined, step: -1 | 1, env: KeyEnv): DashboardState {
	const names = namesOf(shownOf(env));
	if (names.length === 0) {
		return state;
	}

	const index = Math.max(0, names.indexOf(selected ?? ''));
	return {...state, selected: names[Math.min(names.length - 1, Math.max(0, index + step))]};
}

/** A key on the table (the help may be open over it: it stays open, but for `?` and Esc). */
function tableStep(state: DashboardState, [input, key]: Press, env: KeyEnv): Step {
	const selected = selectedOf(state, shownOf(env));
	const context = keysFor(env.snapshot, selected);
	const command = matchKey(input, key, context);
	if (state.panel?.kind === 'help' && (command === 'help' || command === 'back')) {
		return same({...state, panel: undefined});
	}

	switch (command) {
		case 'back': {
			// Esc with the help closed: a kept filter is cleared.
			return filterOf(state).text === '' ? same(state) : say({...state, filter: noFilter}, 'filter cleared: every guarded environment shown', 'ok');
		}

		case 'filter': {
			return same({...state, panel: undefined, filter: {text: filterOf(state).text, editing: true}});
		}

		case 'command-mode': {
			return same({...state, panel: undefined, command: {text: ''}});
		}

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
		case 'open-events':
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

	const drawn = shownOf(env);
	const shown = drawn ? viewRows(view, drawn) : {};
	const count = view.kind === 'describe' && drawn ? describeCount(view, drawn, columns, env.now) : view.kind === 'events' && drawn ? eventsCount(view, drawn) : shown.instances?.length ?? shown.entries?.length ?? 0;
	// A page: about the rows the list has (the log's list takes half the body).
	const page = Math.max(1, view.kind === 'log' ? Math.floor((rows - 6) / 2) : rows - 7);
	const entry = view.kind === 'log' ? {lines: entryLines(view, columns).length, rows: entryRows(rows)} : undefined;
	const result = reduceView(view, input, key, {count, environments: namesOf(drawn), shown: shownColumns(columns, Boolean(snapshot?.accounts)), page, readOnly: context.readOnly, ...(shown.instances ? {instances: shown.instances} : {}), ...(entry ? {entry} : {}), ...(snapshot?.accounts ? {accounts: true} : {})});
	const next = {...state, view: result.view};
	const instanceStep = result.effect && instanceEffect(next, result.effect, env);
	if (instanceStep) {
		return instanceStep;
	}

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
/** One key press: against the open confirmation, else the line typed after `:`, else the open view, else the table (or its filter being typed). */
export function reducePress(state: DashboardState, press: Press, env: KeyEnv): Step {
	if (state.panel?.kind === 'confirm') {
		return confirmStep(state, state.panel.request, press, env);
	}

	if (state.command) {
		return commandStep(state, state.command, press, env);
	}

	if (!state.view && state.filter?.editing) {
		return tableFilterStep(state, state.filter, press, env);
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

	const selected = selectedOf(state, shownOf(env));
	const reason = env.confirmRefusal(panel, selected, keysFor(env.snapshot, selected), true);
	return reason ? say({...state, panel: undefined}, reason[0]!, 'warn', reason.slice(1)) : undefined;
}
