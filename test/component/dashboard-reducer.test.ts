import {describe, expect, it} from 'vitest';
import type {Snapshot} from '../../source/engine/snapshot.js';
import {confirmRefusal} from '../../source/ui/components/Dashboard.js';
import {busyText, initialState, reducePress, resultFlash, selectedOf, withAudit, withdrawal, type DashboardState, type Effect, type KeyEnv} from '../../source/ui/dashboard-reducer.js';
import {pressesOf, type Press} from '../../source/ui/key-presses.js';
import {makeTheme} from '../../source/ui/theme.js';
import {event, instance, snapshot, t0, view} from './fixtures.js';

const glyphs = makeTheme({colour: false}).glyphs;

/** The env the app builds for a key: here with the real size check, at 80x24 unless said. */
function env(shot: Snapshot | undefined = snapshot(), size: {columns?: number; rows?: number} = {}): KeyEnv {
	const columns = size.columns ?? 80;
	const rows = size.rows ?? 24;
	return {
		snapshot: shot,
		now: t0 + 1000,
		columns,
		rows,
		cascadeTarget: () => 'dev',
		confirmRefusal: (panel, selected, keys, withdrawn) => (shot ? confirmRefusal({snapshot: shot, now: t0 + 1000, columns, rows, selected, panel, keys, glyphs}, withdrawn) : undefined),
	};
}

/** Keys typed one chunk at a time (as a terminal sends them), from the state given; the effects of all. */
function type(keys: string[], from: DashboardState = initialState, on: KeyEnv = env()): {state: DashboardState; effects: Effect[]} {
	let state = from;
	const effects: Effect[] = [];
	for (const chunk of keys) {
		const presses: Press[] = pressesOf(chunk === '\u001B' ? '' : chunk, chunk === '\u001B' ? {escape: true, meta: true} : chunk === '\r' ? {return: true} : {}, chunk);
		for (const press of presses) {
			const step = reducePress(state, press, on);
			state = step.state;
			effects.push(...step.effects);
		}
	}

	return {state, effects};
}

const readOnly = snapshot({mode: {paused: false, dryRun: false, readOnly: true, warmingUp: false, action: 'stop'}});

describe('the table\'s keys', () => {
	it('j and k move the selection and stay within the list; the first is selected until one is chosen', () => {
		expect(selectedOf(initialState, snapshot())).toBe('dev');
		expect(type(['j']).state.selected).toBe('staging');
		expect(type(['j', 'j', 'j', 'j']).state.selected).toBe('production');
		expect(type(['j', 'k', 'k']).state.selected).toBe('dev');
		// An environment that went away: the first again.
		expect(selectedOf({...initialState, selected: 'gone'}, snapshot())).toBe('dev');
	});

	it('s asks first, with the blast radius; y runs the stop, saying what it does; n cancels and says so', () => {
		const asked = type(['j', 's']).state;
		expect(asked.panel).toMatchObject({kind: 'confirm', request: {title: 'Stop staging\'s agents?', command: {kind: 'stop', environment: 'staging'}}});
		expect(type(['y'], asked)).toEqual({state: {...asked, panel: undefined}, effects: [{kind: 'run', command: {kind: 'stop', environment: 'staging'}, label: 'stopping staging'}]});
		expect(type(['n'], asked)).toEqual({state: {...asked, panel: undefined}, effects: [{kind: 'say', text: 'cancelled: nothing done', tone: 'warn'}]});
		// No is the default: Enter cancels, Esc cancels, other keys do nothing.
		expect(type(['\r'], asked).state.panel).toBeUndefined();
		expect(type(['\u001B'], asked).state.panel).toBeUndefined();
		expect(type(['x', 'q'], asked)).toEqual({state: asked, effects: []});
	});

	it('c asks about the engine\'s cascade target and says it while it runs', () => {
		const asked = type(['c']).state;
		expect(asked.panel).toMatchObject({kind: 'confirm', request: {command: {kind: 'cascade'}}});
		expect(type(['y'], asked).effects).toEqual([{kind: 'run', command: {kind: 'cascade', environment: 'dev'}, label: 'cascade: stopping dev'}]);
	});

	it('a confirmation the terminal cannot show whole is never asked: the rows it needs are said, with the command that does it from a shell', () => {
		const {state, effects} = type(['s'], initialState, env(snapshot(), {rows: 8}));
		expect(state.panel).toBeUndefined();
		expect(effects).toEqual([{
			kind: 'say',
			text: 'terminal too small to confirm stop dev: it needs 10 rows; or run envwatch stop -e dev',
			// Fewer words for a narrower status line; the last is the shortest.
			shorter: ['s needs 10 rows; or run envwatch stop -e dev', 's needs 10 rows; envwatch stop -e dev', 'terminal too small to confirm stop dev: it needs 10 rows', 's needs 10 rows'],
			tone: 'warn',
		}]);
	});

	it('E with no agent running outside monitor-only environments says there is nothing to stop: no word to type for 0 agents', () => {
		const idle = snapshot({environments: snapshot().environments.map(item => (item.policy.onBreach === 'stop' ? {...item, agents: {...item.agents, running: 0}, agentIds: []} : {...item, agents: {...item.agents, running: 1}}))});
		const {state, effects} = type(['E'], initialState, env(idle));
		expect(state.panel).toBeUndefined();
		expect(effects).toEqual([{kind: 'say', text: 'nothing to stop: no agent runs outside monitor-only environments', shorter: ['nothing to stop outside monitor-only', 'E: nothing to stop'], tone: 'warn'}]);
		// An environment whose count is unknown is never taken for 0: E still asks, naming it.
		const unknown = snapshot({environments: idle.environments.map(item => (item.name === 'staging' ? {...item, stale: 'ListInstances failed'} : item))});
		expect(type(['E'], initialState, env(unknown)).state.panel).toMatchObject({kind: 'confirm', request: {typed: 'stop all'}});
	});

	it('--read-only: the dangerous keys are not bound; pressing one says why nothing happens', () => {
		for (const [key, text] of [['s', 'read-only: stopping is off'], ['c', 'read-only: stopping is off'], ['E', 'read-only: stopping is off'], ['u', 'read-only: stopping is off'], ['a', 'read-only: starting is off']] as const) {
			expect(type([key], initialState, env(readOnly))).toEqual({state: initialState, effects: [{kind: 'say', text, tone: 'warn'}]});
		}

		// The rest still works.
		expect(type(['r'], initialState, env(readOnly)).effects).toEqual([{kind: 'run', command: {kind: 'refresh'}, label: 'refreshing'}]);
	});

	it('p pauses, or resumes when paused; P asks to pause one environment, or resumes it at once', () => {
		expect(type(['p']).effects).toEqual([{kind: 'run', command: {kind: 'pause'}, label: 'pausing'}]);
		const paused = snapshot({mode: {paused: true, dryRun: false, readOnly: false, warmingUp: false, action: 'stop'}});
		expect(type(['p'], initialState, env(paused)).effects).toEqual([{kind: 'run', command: {kind: 'resume'}, label: 'resuming'}]);
		expect(type(['P']).state.panel).toMatchObject({kind: 'confirm', request: {command: {kind: 'pause-env', environment: 'dev'}}});
		const devPaused = snapshot({environments: [view('dev', {paused: true}), view('staging')]});
		expect(type(['P'], initialState, env(devPaused))).toEqual({state: initialState, effects: [{kind: 'run', command: {kind: 'resume-env', environment: 'dev'}, label: 'resuming dev'}]});
	});

	it('x is bound only while an automatic action counts down', () => {
		expect(type(['x']).effects).toEqual([]);
		const pending = snapshot({pending: {decision: {kind: 'stop', environment: 'dev', reason: 'over', level: 'breach'}, dueAt: t0 + 30_000} as unknown as Snapshot['pending']});
		expect(type(['x'], initialState, env(pending)).effects).toEqual([{kind: 'run', command: {kind: 'cancel-pending'}, label: 'cancelling'}]);
	});

	it('? opens the help and ? or Esc closes it; the table\'s keys still work under it', () => {
		const help = type(['?']).state;
		expect(help.panel).toEqual({kind: 'help'});
		expect(type(['?'], help).state.panel).toBeUndefined();
		expect(type(['\u001B'], help).state.panel).toBeUndefined();
		expect(type(['j'], help).state).toEqual({...help, selected: 'staging'});
		expect(type(['s'], help).state.panel).toMatchObject({kind: 'confirm'});
	});

	it('q and Ctrl-C quit', () => {
		expect(type(['q']).effects).toEqual([{kind: 'quit'}]);
		expect(reducePress(initialState, ['c', {ctrl: true}], env()).effects).toEqual([{kind: 'quit'}]);
	});

	it('Esc then y in one chunk cancels the confirmation, and the y does nothing', () => {
		const asked = type(['s']).state;
		const presses = pressesOf('y', {meta: true}, '\u001By');
		let state = asked;
		const effects: Effect[] = [];
		for (const press of presses) {
			const step = reducePress(state, press, env());
			state = step.state;
			effects.push(...step.effects);
		}

		expect(state.panel).toBeUndefined();
		expect(effects).toEqual([{kind: 'say', text: 'cancelled: nothing done', tone: 'warn'}]);
	});
});

describe('the views\' keys', () => {
	const fleet = snapshot({environments: [view('dev', {instances: [instance('i-a', {usdPerHour: 1}), instance('i-b', {usdPerHour: 2})]}), view('staging', {instances: []})]});

	it('Enter opens the selected environment\'s instances; Esc goes back; keys move the view\'s own cursor', () => {
		const open = type(['j', 'k', '\r'], initialState, env(fleet)).state;
		expect(open.view).toMatchObject({kind: 'detail', environment: 'dev', cursor: 0});
		expect(type(['j', 'j', 'j'], open, env(fleet)).state.view).toMatchObject({cursor: 1});
		expect(type(['\u001B'], open, env(fleet)).state).toEqual({...open, view: undefined});
	});

	it('s in the detail view asks the table\'s confirmation for the environment it shows; --read-only says why not', () => {
		const open = type(['\r'], initialState, env(fleet)).state;
		const asked = type(['s'], open, env(fleet)).state;
		expect(asked).toMatchObject({selected: 'dev', panel: {kind: 'confirm', request: {command: {kind: 'stop', environment: 'dev'}}}, view: {kind: 'detail'}});
		const shut = {...fleet, mode: {...fleet.mode, readOnly: true}};
		expect(type(['s'], open, env(shut))).toEqual({state: open, effects: [{kind: 'say', text: 'read-only: stopping is off', tone: 'warn'}]});
	});

	it('l opens the log and asks for the audit log to be read; r asks again; what is read is shown from the top', () => {
		const opened = type(['l']);
		expect(opened.state.view).toMatchObject({kind: 'log', cursor: 0});
		expect(opened.effects).toEqual([{kind: 'read-audit'}]);
		const tail = {entries: [event(3), event(2), event(1)], skipped: 0, truncated: false, error: null};
		const read = withAudit(opened.state, tail);
		expect(read.view).toMatchObject({kind: 'log', tail});
		const moved = type(['j', 'j'], read).state;
		expect(moved.view).toMatchObject({cursor: 2});
		const reloaded = type(['r'], moved);
		expect(reloaded.effects).toEqual([{kind: 'read-audit'}]);
		expect(withAudit(reloaded.state, tail).view).toMatchObject({cursor: 0});
		// Nothing to read into outside the log view.
		expect(withAudit(initialState, tail)).toBe(initialState);
	});

	it('t and g open the spend chart and the regions of the selected environment; ↓ moves along the environments', () => {
		expect(type(['t', 'j'], initialState, env(fleet)).state.view).toEqual({kind: 'spend', target: 'staging'});
		expect(type(['j', 't', 'j', 'j'], initialState, env(fleet)).state.view).toEqual({kind: 'spend', target: 'global'});
		expect(type(['g'], initialState, env(fleet)).state.view).toEqual({kind: 'region', environment: 'dev'});
	});

	it('a typed filter takes q and s as letters; Ctrl-C still quits', () => {
		const open = type(['\r', '/', 'q', 's'], initialState, env(fleet));
		expect(open.state.view).toMatchObject({filter: 'qs', editing: true});
		expect(open.effects).toEqual([]);
		expect(reducePress(open.state, ['c', {ctrl: true}], env(fleet)).effects).toEqual([{kind: 'quit'}]);
	});
});

describe('what the app says', () => {
	it('while a command runs, and once it is done', () => {
		expect(busyText({kind: 'start', environment: 'dev', count: 1}, undefined)).toBe('starting 1 agent in dev');
		expect(busyText({kind: 'cascade'}, undefined)).toBe('cascade: stopping the next environment');
		expect(resultFlash({kind: 'stop', environment: 'dev'}, {summary: 'stopped 4 agents in dev', outcome: 'executed'})).toEqual({text: 'stopped 4 agents in dev', tone: 'ok'});
		expect(resultFlash({kind: 'stop', environment: 'dev'}, {summary: 'stop failed', outcome: 'failed'})).toEqual({text: 'stop failed', tone: 'error'});
		expect(resultFlash({kind: 'refresh'}, undefined)).toEqual({text: 'refreshed', tone: 'ok'});
		expect(resultFlash({kind: 'stop', environment: 'dev'}, undefined)).toBeUndefined();
	});

	it('withdraws an open confirmation when the terminal shrinks under it, and says so', () => {
		const asked = type(['s']).state;
		expect(withdrawal(asked, env())).toBeUndefined();
		const step = withdrawal(asked, env(snapshot(), {rows: 8}));
		expect(step?.state.panel).toBeUndefined();
		expect(step?.effects).toEqual([{kind: 'say', text: 'terminal too small to confirm stop dev now (it needs 10 rows): cancelled, nothing done; or run envwatch stop -e dev', shorter: expect.arrayContaining(['s cancelled, nothing done: needs 10 rows']) as unknown as string[], tone: 'warn'}]);
	});
});
