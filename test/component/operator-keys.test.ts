import {describe, expect, it} from 'vitest';
import type {Snapshot} from '../../source/engine/snapshot.js';
import {completeLine, runLine} from '../../source/ui/command-line.js';
import {confirmRefusal} from '../../source/ui/components/Dashboard.js';
import {initialState, reducePress, selectedOf, type DashboardState, type Effect, type KeyEnv} from '../../source/ui/dashboard-reducer.js';
import {withHistory} from '../../source/ui/event-history.js';
import {consoleUrl, markRefusal, osc52} from '../../source/ui/instance-actions.js';
import {pressesOf, type Press} from '../../source/ui/key-presses.js';
import {matchKey} from '../../source/ui/keymap.js';
import {accountsOf, guardText, scopedSnapshot, showingText} from '../../source/ui/scope.js';
import {makeTheme} from '../../source/ui/theme.js';
import {detailView, type View} from '../../source/ui/views/state.js';
import {event, instance, snapshot, t0} from './fixtures.js';

/**
 * The operator's keys, press by press through the pure reducer: the table's `/` filter, command
 * mode (`:`), and the detail view's instance actions (Space, x, d, c). What is shown narrows; what
 * is guarded changes only through a confirmed `:guard`.
 */
const glyphs = makeTheme({colour: false}).glyphs;

/** dev with four agents (one stopped), a monitor and another instance; production (monitor-only) with a rogue agent. */
function fleet(overrides: Partial<Snapshot> = {}): Snapshot {
	const base = snapshot(overrides);
	const rows = {
		dev: [
			instance('i-0a1', {name: 'dev-agent', type: 'g4dn.xlarge', usdPerHour: 0.526}),
			instance('i-0a2', {name: 'dev-agent', type: 'g4dn.xlarge', usdPerHour: 0.526, region: 'us-west-2'}),
			instance('i-0a3', {name: 'dev-agent', usdPerHour: 0.3}),
			instance('i-0a4', {name: 'dev-agent', usdPerHour: 0, state: 'stopped'}),
			instance('i-0b1', {name: 'dev-bastion', role: 'other', usdPerHour: 0.04}),
			instance('i-0c1', {name: 'dev-watch', role: 'monitor', usdPerHour: 0.01}),
		],
		staging: [instance('i-0d1', {usdPerHour: 0.2})],
		production: [instance('i-0e1', {name: 'rogue', usdPerHour: 0.0104})],
	};
	return {...base, configured: ['dev', 'staging', 'production', 'qa'], environments: base.environments.map(item => ({...item, instances: rows[item.name as keyof typeof rows] ?? []}))};
}

function env(shot: Snapshot = fleet(), state: DashboardState = initialState, size: {columns?: number; rows?: number} = {}): KeyEnv {
	const columns = size.columns ?? 80;
	const rows = size.rows ?? 24;
	const shown = scopedSnapshot(shot, state.scope ?? {}, state.filter ?? {text: '', editing: false});
	return {
		snapshot: shot,
		shown,
		now: t0 + 1000,
		columns,
		rows,
		cascadeTarget: () => 'dev',
		confirmRefusal: (panel, selected, keys) => confirmRefusal({snapshot: shown, now: t0 + 1000, columns, rows, selected, panel, keys, glyphs}),
	};
}

/** Chunks typed one at a time (`\r` Enter, `\u001B` Esc, `\t` Tab), each judged against the state it finds (the app rebuilds the env on each event). */
function type(keys: string[], from: DashboardState = initialState, shot: Snapshot = fleet()): {state: DashboardState; effects: Effect[]} {
	let state = from;
	const effects: Effect[] = [];
	for (const chunk of keys) {
		// As Ink hands them over: Esc and Tab with no input.
		const key = chunk === '\u001B' ? {escape: true, meta: true} : chunk === '\r' ? {return: true} : chunk === '\t' ? {tab: true} : {};
		const presses: Press[] = pressesOf(chunk === '\u001B' || chunk === '\t' ? '' : chunk, key, chunk);
		for (const press of presses) {
			const step = reducePress(state, press, env(shot, state));
			state = step.state;
			effects.push(...step.effects);
		}
	}

	return {state, effects};
}

const says = (effects: Effect[]) => effects.flatMap(effect => (effect.kind === 'say' ? [effect.text] : []));
const chars = (text: string) => [...text];

describe('the table\'s / filter', () => {
	it('narrows what is shown and selected as it is typed; Enter keeps it, Esc clears it; what is guarded is untouched', () => {
		const typed = type(['/', ...chars('stag')]).state;
		expect(typed.filter).toEqual({text: 'stag', editing: true});
		expect(selectedOf(typed, env(fleet(), typed).shown)).toBe('staging');
		// While it is typed, every key goes into it (s and q included): nothing is stopped or quit.
		expect(type(['s', 'q'], typed).effects).toEqual([]);
		const kept = type(['\r'], typed).state;
		expect(kept.filter).toEqual({text: 'stag', editing: false});
		// j and k stay among the rows shown; s asks about the one shown.
		expect(type(['j', 's'], kept).state.panel).toMatchObject({kind: 'confirm', request: {command: {kind: 'stop', environment: 'staging'}}});
		expect(env(fleet(), kept).snapshot!.environments).toHaveLength(3);
		// Esc clears it and says so.
		const cleared = type(['\u001B'], kept);
		expect(cleared.state.filter).toEqual({text: '', editing: false});
		expect(says(cleared.effects)).toEqual(['filter cleared: every guarded environment shown']);
		// Status words and markers match too.
		expect(scopedSnapshot(fleet(), {}, {text: 'monitor', editing: false}).environments.map(item => item.name)).toEqual(['production']);
	});

	it('an Esc glued to the next key (ESC / in one packet, which Ink reads as / alone) is still an Esc', () => {
		expect(pressesOf(':', {}, '\u001B:')).toEqual([['', {escape: true, meta: true}], [':', {}]]);
		const kept = {...initialState, filter: {text: 'stag', editing: false}};
		const {state} = (() => {
			let current: DashboardState = kept;
			for (const press of pressesOf(':', {}, '\u001B:')) {
				current = reducePress(current, press, env(fleet(), current)).state;
			}

			return {state: current};
		})();
		expect(state.filter).toEqual({text: '', editing: false});
		expect(state.command).toEqual({text: ''});
	});
});

describe('command mode (:)', () => {
	it(':env shows only those environments, still guarding all; the header says both; :env all shows every one again', () => {
		const {state, effects} = type([':', ...chars('env dev staging'), '\r']);
		expect(state.command).toBeUndefined();
		expect(state.scope).toEqual({environments: ['dev', 'staging']});
		expect(says(effects)).toEqual(['showing dev, staging; still guarding dev, staging, production']);
		const shown = env(fleet(), state).shown!;
		expect(shown.environments.map(item => item.name)).toEqual(['dev', 'staging']);
		expect(showingText({guarded: ['dev', 'staging', 'production'], shown: ['dev', 'staging'], narrowedBy: 'dev,staging'})).toBe('showing 2/3: dev,staging');
		expect(guardText({guarded: ['dev', 'staging', 'production'], configured: ['dev', 'staging', 'production']})).toBe('guards all');
		expect(guardText({guarded: ['dev', 'staging'], configured: ['dev', 'staging', 'production']})).toBe('guards dev,staging');
		expect(type([':', ...chars('env all'), '\r'], state).state.scope).toEqual({});
		// An environment not guarded, or not configured, is refused naming what is.
		expect(says(type([':', ...chars('env qa'), '\r']).effects)).toEqual(['env: qa is not guarded (:guard guards it) — guarded: dev, staging, production']);
		expect(says(type([':', ...chars('env nope'), '\r']).effects)).toEqual(['env: nope is not configured — guarded: dev, staging, production']);
	});

	it(':region narrows the instances shown to that region; a region not watched is refused', () => {
		const state = type([':', ...chars('region us-west-2'), '\r']).state;
		const shown = env(fleet(), state).shown!;
		expect(shown.environments.map(item => [item.name, item.instances!.map(row => row.id)])).toEqual([['dev', ['i-0a2']]]);
		expect(says(type([':', ...chars('region mars-1'), '\r']).effects)[0]).toBe('region mars-1: not watched here — expected one of: us-east-1, us-west-2 (or all)');
	});

	it(':account says there are no accounts until the snapshot carries them; then it narrows to one', () => {
		expect(says(type([':', ...chars('account prod'), '\r']).effects)).toEqual(['account: no accounts configured (this run watches one account)']);
		// With accounts, rows carry `account` (the ID) and `accountName`.
		const withAccounts = fleet();
		withAccounts.environments[0]!.instances = withAccounts.environments[0]!.instances!.map((row, index) => ({...row, account: index === 0 ? '111111111111' : '222222222222', accountName: index === 0 ? 'build' : 'test'}));
		expect(accountsOf(withAccounts)).toEqual(['build', 'test']);
		// An account watched that runs nothing is known too (the snapshot lists every account watched).
		expect(accountsOf({...withAccounts, accounts: [{name: 'idle', id: '333333333333', via: 'role', regions: ['us-east-1'], status: 'OK', stale: null, instances: 0, agents: 0, hourlyUsd: 0}]})).toEqual(['build', 'idle', 'test']);
		const state = type([':', ...chars('account build'), '\r'], initialState, withAccounts).state;
		expect(state.scope).toEqual({account: 'build'});
		expect(env(withAccounts, state).shown!.environments.map(item => [item.name, item.instances!.length])).toEqual([['dev', 1]]);
	});

	it('an unknown command says which are known; Esc leaves command mode and runs nothing; q and s are typed, not pressed', () => {
		const unknown = type([':', ...chars('zap'), '\r']);
		expect(says(unknown.effects)[0]).toMatch(/^unknown command "zap" — known: env NAME\.\.\. .*region NAME.*account NAME.*guard NAME\.\.\..*quit$/);
		const left = type([':', ...chars('qs'), '\u001B']);
		expect(left.state.command).toBeUndefined();
		expect(left.effects).toEqual([]);
	});

	it('Tab completes the command and the names; where several fit it completes as far as they agree and names them', () => {
		const shot = fleet();
		expect(completeLine({text: 'gu'}, shot)).toEqual({text: 'guard '});
		expect(completeLine({text: 'env st'}, shot)).toEqual({text: 'env staging '});
		expect(completeLine({text: 'guard dev q'}, shot)).toEqual({text: 'guard dev qa '});
		expect(completeLine({text: 'region us-'}, shot)).toEqual({text: 'region us-', hint: 'us-east-1 us-west-2'});
		expect(completeLine({text: 'env x'}, shot)).toEqual({text: 'env x', hint: 'nothing matches "x"'});
		expect(type([':', ...chars('env pro'), '\t']).state.command).toEqual({text: 'env production '});
	});

	it(':guard asks first, saying what stops being guarded; y sends the guard command; n changes nothing', () => {
		const asked = type([':', ...chars('guard dev staging'), '\r']).state;
		expect(asked.panel).toMatchObject({kind: 'confirm', request: {title: 'Guard dev, staging?', command: {kind: 'guard', environments: ['dev', 'staging'], expected: ['dev', 'staging', 'production']}, danger: true}});
		const details = asked.panel?.kind === 'confirm' ? asked.panel.request.details : [];
		expect(details).toContain('STOPS guarding production: not polled, evaluated or stopped by envwatch, not by E either (breakers kept)');
		expect(details).toContain('recorded in the audit log and engine.json: an engine that takes over guards the same');
		expect(type(['y'], asked).effects).toEqual([{kind: 'run', command: {kind: 'guard', environments: ['dev', 'staging'], expected: ['dev', 'staging', 'production']}, label: 'guarding dev, staging'}]);
		expect(type(['n'], asked).effects).toEqual([{kind: 'say', text: 'cancelled: nothing done', tone: 'warn'}]);
		// Names not configured, the same set, or read-only: refused, saying why.
		expect(says(type([':', ...chars('guard dev nope'), '\r']).effects)).toEqual(['guard: nope is not configured — expected one or more of: dev, staging, production, qa']);
		expect(says(type([':', ...chars('guard production dev staging'), '\r']).effects)).toEqual(['guard: already guarding dev, staging, production: nothing to change']);
		const readOnly = fleet({mode: {paused: false, dryRun: false, readOnly: true, warmingUp: false, action: 'stop'}});
		expect(says(type([':', ...chars('guard dev'), '\r'], initialState, readOnly).effects)).toEqual(['read-only: changing what is guarded is off']);
		expect(runLine('g qa dev', {snapshot: fleet(), scope: {}, readOnly: false})).toMatchObject({kind: 'ask', request: {command: {kind: 'guard', environments: ['dev', 'qa']}}});
	});
});

describe('the detail view\'s instance actions', () => {
	const open = (shot = fleet()) => type(['\r'], initialState, shot).state;

	it('Space marks a running agent and moves on; a monitor, another instance and a stopped agent are refused, saying why', () => {
		const marked = type([' ', ' '], open()).state;
		expect(marked.view).toMatchObject({kind: 'detail', marked: ['i-0a1', 'i-0a2'], cursor: 2});
		// Space again unmarks.
		expect(type(['k', ' '], marked).state.view).toMatchObject({marked: ['i-0a1']});
		const at = (index: number): DashboardState => ({...open(), view: {...detailView('dev'), cursor: index, sort: {column: 'id', descending: false}} as View});
		expect(says(type([' '], at(3)).effects)).toEqual(['i-0a4 is stopped: nothing to stop']);
		expect(says(type([' '], at(4)).effects)).toEqual(['i-0b1 is not an agent (no agent role tag): only agents are stopped']);
		expect(says(type([' '], at(5)).effects)).toEqual(['i-0c1 is a monitor: envwatch never stops monitors']);
		expect(markRefusal(instance('i-1', {state: 'pending'}))).toBeUndefined();
	});

	it('x asks about the marked instances, naming each with its $/h and what the stop saves; y stops exactly those and clears the marks', () => {
		const asked = type([' ', ' ', 'x'], open()).state;
		expect(asked.panel).toMatchObject({kind: 'confirm', request: {title: 'Stop 2 instances in dev?', command: {kind: 'stop-instances', environment: 'dev', ids: ['i-0a1', 'i-0a2']}}});
		const details = asked.panel?.kind === 'confirm' ? asked.panel.request.details : [];
		expect(details.slice(0, 3)).toEqual(['i-0a1 dev-agent g4dn.xlarge $0.53/h', 'i-0a2 dev-agent g4dn.xlarge $0.53/h', 'saves $1.05/h of $2.34/h (compute; volumes go on costing)']);
		expect(details).toContain('dev\'s other agents run on: no breaker trips; u starts these again');
		const done = type(['y'], asked);
		expect(done.effects).toEqual([{kind: 'run', command: {kind: 'stop-instances', environment: 'dev', ids: ['i-0a1', 'i-0a2']}, label: 'stopping 2 instances in dev'}]);
		expect(done.state.view).toMatchObject({kind: 'detail', marked: []});
		// Without marks, x is the row under the cursor (a refusal says why).
		expect(type(['x'], open()).state.panel).toMatchObject({request: {title: 'Stop 1 instance in dev?', command: {ids: ['i-0a1']}}});
		const bastion: DashboardState = {...open(), view: {...detailView('dev'), cursor: 4, sort: {column: 'id', descending: false}} as View};
		expect(says(type(['x'], bastion).effects)).toEqual(['i-0b1 is not an agent (no agent role tag): only agents are stopped']);
		// x in its describe says the same.
		expect(says(type(['d', 'x'], bastion).effects)).toEqual(['i-0b1 is not an agent (no agent role tag): only agents are stopped']);
		// Marks hidden by a filter are stopped too: the confirmation names every one.
		const hidden = type([' ', ' ', '/', ...chars('i-0a2'), '\r', 'x'], open()).state;
		expect(hidden.panel).toMatchObject({request: {command: {ids: ['i-0a1', 'i-0a2']}}});
	});

	it('in a monitor-only environment the name must be typed, as for s; under --read-only Space and x do nothing and say so', () => {
		const production = type(['j', 'j', '\r', 'x'], initialState).state;
		expect(production.panel).toMatchObject({request: {typed: 'production', command: {kind: 'stop-instances', environment: 'production', ids: ['i-0e1'], confirm: 'production'}}});
		expect(type(['y'], production).effects).toEqual([]);
		expect(type([...chars('production'), '\r'], production).effects).toMatchObject([{kind: 'run', command: {kind: 'stop-instances', confirm: 'production'}}]);
		const readOnly = fleet({mode: {paused: false, dryRun: false, readOnly: true, warmingUp: false, action: 'stop'}});
		const opened = type(['\r'], initialState, readOnly).state;
		expect(says(type([' ', 'x'], opened, readOnly).effects)).toEqual(['read-only: stopping is off', 'read-only: stopping is off']);
		expect(matchKey(' ', {}, {readOnly: true, pending: false}, 'detail')).toBeUndefined();
	});

	it('d describes the instance under the cursor; c copies its console link (OSC 52) and shows it; Esc goes back to the list', () => {
		const described = type(['j', 'd'], open()).state;
		expect(described.view).toMatchObject({kind: 'describe', environment: 'dev', id: 'i-0a2'});
		expect(type(['\u001B'], described).state.view).toMatchObject({kind: 'detail', cursor: 1});
		const copied = type(['j', 'c'], open());
		expect(copied.state.view).toMatchObject({kind: 'describe', id: 'i-0a2'});
		expect(copied.effects).toEqual([
			{kind: 'copy', text: 'https://us-west-2.console.aws.amazon.com/ec2/home?region=us-west-2#InstanceDetails:instanceId=i-0a2'},
			{kind: 'say', text: 'console link copied (OSC 52): i-0a2', tone: 'ok'},
		]);
		// x in the describe stops that instance (asks first).
		expect(type(['x'], described).state.panel).toMatchObject({request: {command: {kind: 'stop-instances', ids: ['i-0a2']}}});
		expect(consoleUrl('cn-north-1', 'i-1')).toBe('https://console.amazonaws.cn/ec2/home?region=cn-north-1#InstanceDetails:instanceId=i-1');
		expect(consoleUrl('us-gov-west-1', 'i-1')).toMatch(/^https:\/\/console\.amazonaws-us-gov\.com\//);
		expect(osc52('hi')).toBe('\u001B]52;c;aGk=\u0007');
	});

	it('Esc clears the marks before it goes back', () => {
		const marked = type([' '], open()).state;
		const cleared = type(['\u001B'], marked);
		expect(cleared.state.view).toMatchObject({kind: 'detail', marked: []});
		expect(says(cleared.effects)).toEqual(['marks cleared']);
		expect(type(['\u001B'], cleared.state).state.view).toBeUndefined();
	});
});

describe('the spend chart\'s ranges and the events pane\'s history', () => {
	it('< and > switch between 1h, 6h, 24h and 7d', () => {
		const opened = type(['t']).state;
		expect(opened.view).toMatchObject({kind: 'spend', target: 'dev'});
		expect(type(['>'], opened).state.view).toMatchObject({range: '6h'});
		expect(type(['>', '>', '>', '>'], opened).state.view).toMatchObject({range: '7d'});
		expect(type(['>', '<', '<'], opened).state.view).toMatchObject({range: '1h'});
	});

	it('the events pane keeps the log\'s older entries below this run\'s, without notification outcomes', () => {
		const fresh = [event(12), event(11)];
		const history = [event(11), event(10), event(9, {type: 'notify', kind: 'notify'}), event(8)];
		expect(withHistory(fresh, history).map(entry => entry.seq)).toEqual([12, 11, 10, 8]);
		expect(withHistory([], history).map(entry => entry.seq)).toEqual([11, 10, 8]);
		expect(withHistory(fresh, history, 3)).toHaveLength(3);
	});
});

