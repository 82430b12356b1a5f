/**
 * The reducer's steps for the operator's keys: a line typed after `:` (command mode), the table's
 * `/` filter being typed, and what the instances view asks of the dashboard (a stop to confirm, a
 * link to copy, a refusal to say). Pure: a key and the state in, the state after it and its effects out.
 */
import {completeLine, runLine, type CommandLine} from './command-line.js';
import {askRequest, keysFor, same, say, scopeOf, selectedOf, shownOf, type DashboardState, type KeyEnv, type Step} from './dashboard-state.js';
import {consoleUrl, instanceStopRequest} from './instance-actions.js';
import type {Press} from './key-presses.js';
import {matchKey} from './keymap.js';
import {noFilter, type TableFilter} from './scope.js';
import {consoleLine} from './views/describe.js';
import type {ViewEffect} from './views/state.js';

/** A view's instance effect (a stop asked, a link copied, a refusal said); undefined for the others. */
export function instanceEffect(state: DashboardState, effect: ViewEffect, env: KeyEnv): Step | undefined {
	switch (effect.kind) {
		case 'say': {
			return say(state, effect.text, 'warn');
		}

		case 'stop-instances': {
			const drawn = shownOf(env);
			return drawn ? askRequest({...state, selected: effect.environment}, instanceStopRequest(drawn, effect.environment, effect.ids, env.now), effect.environment, env) : same(state);
		}

		case 'copy': {
			const row = shownOf(env)?.environments.find(view => view.name === effect.environment)?.instances?.find(candidate => candidate.id === effect.id);
			if (!row) {
				return say(state, `${effect.id} is no longer listed: nothing copied`, 'warn');
			}

			const url = consoleUrl(row.region, row.id);
			// The describe it opens (or is in) scrolls to the link, so it is in sight whole on a small terminal too.
			const view = state.view?.kind === 'describe' && state.view.id === row.id ? {...state.view, cursor: consoleLine(row, env.now)} : state.view;
			return {state: {...state, view}, effects: [{kind: 'copy', text: url}, {kind: 'say', text: `console link copied (OSC 52): ${row.id}`, tone: 'ok'}]};
		}

		default: {
			return undefined;
		}
	}
}

/** Enter after `:`: the view changes (said), `:guard` asks, `:quit` quits; else why nothing was done. */
function runCommandLine(state: DashboardState, line: CommandLine, readOnly: boolean, env: KeyEnv): Step {
	const left = {...state, command: undefined};
	if (!env.snapshot) {
		return same(left);
	}

	const outcome = runLine(line.text, {snapshot: env.snapshot, scope: scopeOf(state), readOnly});
	switch (outcome.kind) {
		case 'scope': {
			return say({...left, scope: outcome.scope}, outcome.say, 'ok');
		}

		case 'ask': {
			return askRequest(left, outcome.request, selectedOf(state, shownOf(env)), env);
		}

		case 'quit': {
			return {state: left, effects: [{kind: 'quit'}]};
		}

		case 'refused': {
			return say(left, outcome.say, 'warn');
		}
	}
}

/** A key while a line is typed after `:`: typed, completed, run (Enter) or left (Esc). */
export function commandStep(state: DashboardState, line: CommandLine, [input, key]: Press, env: KeyEnv): Step {
	const context = keysFor(env.snapshot, selectedOf(state, shownOf(env)));
	switch (matchKey(input, key, context, 'command')) {
		case 'command-leave': {
			return same({...state, command: undefined});
		}

		case 'command-type': {
			return same({...state, command: {text: line.text.length < 200 ? line.text + input : line.text}});
		}

		case 'command-erase': {
			return same({...state, command: {text: [...line.text].slice(0, -1).join('')}});
		}

		case 'command-complete': {
			return env.snapshot ? same({...state, command: completeLine(line, env.snapshot)}) : same(state);
		}

		case 'command-run': {
			return runCommandLine(state, line, context.readOnly, env);
		}

		case 'quit': {
			return {state, effects: [{kind: 'quit'}]};
		}

		default: {
			return same(state);
		}
	}
}

/** A key while the table's filter is typed: printable keys go into it, Enter keeps it, Esc clears it. */
export function tableFilterStep(state: DashboardState, filter: TableFilter, [input, key]: Press, env: KeyEnv): Step {
	switch (matchKey(input, key, keysFor(env.snapshot, undefined), 'filter')) {
		case 'filter-clear': {
			return same({...state, filter: noFilter});
		}

		case 'filter-keep': {
			return same({...state, filter: {...filter, editing: false}});
		}

		case 'filter-erase': {
			return same({...state, filter: {...filter, text: [...filter.text].slice(0, -1).join('')}});
		}

		case 'filter-type': {
			return same({...state, filter: {...filter, text: filter.text.length < 60 ? filter.text + input : filter.text}});
		}

		case 'quit': {
			return {state, effects: [{kind: 'quit'}]};
		}

		default: {
			return same(state);
		}
	}
}
