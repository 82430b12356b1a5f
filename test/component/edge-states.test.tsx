import {describe, expect, it} from 'vitest';
import {moneyPair, pct} from '../../source/domain/format.js';
import {formatDashboard, formatPollLine} from '../../source/app/headless.js';
import {clockTime, trendCell} from '../../source/ui/cells.js';
import {makeTheme} from '../../source/ui/theme.js';
import {buildConfirmation} from '../../source/ui/confirm.js';
import {splitKeys} from '../../source/ui/key-presses.js';
import {event, FakeController, FakeStore, snapshot, t0, view} from './fixtures.js';
import {linesOf, useApps} from './harness.js';

/** The dashboard in edge states: keys arriving together, unknown figures, short terminals, breakers. */
const app = useApps();

describe('keys that arrive together', () => {
	it('splits CSI and SS3 sequences, plain characters, Enter and a lone Esc', () => {
		expect(splitKeys('\u001B[B\u001B[B')).toEqual([['', {downArrow: true}], ['', {downArrow: true}]]);
		expect(splitKeys('k\u001B[A')).toEqual([['k', {}], ['', {upArrow: true}]]);
		expect(splitKeys('\u001BOA\u001BOB')).toEqual([['', {upArrow: true}], ['', {downArrow: true}]]);
		expect(splitKeys('y\r')).toEqual([['y', {}], ['\r', {return: true}]]);
		expect(splitKeys('\u001B')).toEqual([['', {escape: true, meta: true}]]);
		// An Esc followed by a key that starts no sequence stays an Esc, then the key.
		expect(splitKeys('\u001Bq')).toEqual([['', {escape: true, meta: true}], ['q', {}]]);
		expect(splitKeys('\u001B\u001B[A')).toEqual([['', {escape: true, meta: true}], ['', {upArrow: true}]]);
		expect(splitKeys('ab\u007F')).toEqual([['a', {}], ['b', {}], ['', {backspace: true}]]);
	});

	it('two Downs in one chunk move two rows; k and Up together move two rows', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController()});
		await ui.press('\u001B[B\u001B[B');
		expect(ui.lastFrame()).toMatch(/› production/);
		await ui.press('k\u001B[A');
		expect(ui.lastFrame()).toMatch(/› dev/);
		await ui.press('jj');
		expect(ui.lastFrame()).toMatch(/› production/);
	});
});

describe('unknown is unknown everywhere', () => {
	const error = 'us-east-1: RequestLimitExceeded';
	// The last good poll 40 s ago; this one failed: every view is stale, with its last known figures.
	const stale = () => snapshot({
		at: t0,
		lastSuccessAt: t0 - 40_000,
		error,
		environments: [
			view('dev', {status: 'STALE', stale: error, agents: {running: 0, allowed: 'all'}, agentIds: [], agentHourlyUsd: 0}),
			view('staging', {status: 'STALE', stale: error, agents: {running: 0, allowed: 2}, agentIds: [], agentHourlyUsd: 0, priority: 2}),
		],
		global: view('global', {status: 'STALE', stale: error, agents: {running: 0, allowed: 'all'}, policy: {agents: 'global', onBreach: 'emergency-stop'}}),
	});

	it('the AGENTS column says ?, not 0, for a stale environment and the global row', async () => {
		const ui = await app({store: new FakeStore(stale()), controller: new FakeController()});
		const frame = ui.lastFrame();
		expect(frame).toMatch(/dev +STALE +\$2\.34\/\$5 +\?\/∞/);
		expect(frame).toMatch(/staging +STALE +\$2\.34\/\$5 +\?\/2/);
		expect(frame).toMatch(/global +STALE +\$2\.34\/\$5 +\? /);
		expect(frame).not.toMatch(/0\/∞/);
	});

	it('before any poll returned, the agents are unknown too', async () => {
		const ui = await app({store: new FakeStore(snapshot({lastSuccessAt: null, error, environments: [view('dev', {status: 'STALE', hourlyUsd: 0, agents: {running: 0, allowed: 'all'}})]})), controller: new FakeController()});
		expect(ui.lastFrame()).toMatch(/dev +STALE +--\/\$5 +\?\/∞/);
	});

	it('s on a stale environment says the agents are unknown and why, never "0 agents ... saves $0.00/h"', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(stale()), controller});
		ui.clock.set(t0);
		await ui.press('s');
		const frame = ui.lastFrame();
		expect(frame).toContain('Stop dev\'s agents?');
		expect(frame).toContain('agents: unknown (last poll failed; last good data 40s ago)');
		expect(frame).toContain('listed afresh right before the stop');
		expect(frame).not.toContain('0 agents');
		expect(frame).not.toContain('$0.00/h');
		await ui.press('y');
		expect(controller.commands).toEqual([{kind: 'stop', environment: 'dev'}]);
	});

	it('E and a cascade name the unknown environments rather than skip them', () => {
		const emergency = buildConfirmation('emergency', {snapshot: stale(), selected: 'dev', cascadeTarget: undefined, now: t0});
		expect('details' in emergency && emergency.details).toEqual(expect.arrayContaining(['environments: dev, staging', 'agents: unknown in dev, staging (last poll failed; last good data 40s ago)']));
		const cascade = buildConfirmation('cascade', {snapshot: stale(), selected: 'dev', cascadeTarget: 'staging', now: t0});
		expect('details' in cascade && cascade.details.join('\n')).toContain('agents: unknown (last poll failed');
		expect('details' in cascade && cascade.details.join('\n')).not.toMatch(/0 agents|\$0\.00\/h/);
		// A start cannot be checked against the cap without a count: refused, with why.
		const start = buildConfirmation('start', {snapshot: snapshot({...stale(), environments: [view('dev', {stale: error, launch: {count: 1, instanceType: 'm5.large', usdPerHourEach: 0.1}})]}), selected: 'dev', cascadeTarget: undefined, now: t0});
		expect(start).toEqual({refused: expect.stringContaining('dev: agents unknown') as string});
	});

	it('headless lines say how long until a warming window is full, and only what is known', () => {
		const warming = snapshot({
			mode: {paused: false, dryRun: false, readOnly: false, warmingUp: true, warmUntil: t0 + 42 * 60_000, action: 'stop'},
			environments: [view('dev', {warmingUp: true, fullAt: t0 + 12 * 60_000}), view('staging', {warmingUp: true, fullAt: null, windowMinutes: 45})],
			global: view('global', {warmingUp: true, fullAt: t0 + 42 * 60_000, windowMinutes: 60, policy: {agents: 'global', onBreach: 'emergency-stop'}}),
		});
		expect(formatPollLine(warming)).toMatch(/\[warming-up 42m\]$/);
		const report = formatDashboard(warming);
		expect(report).toContain('- Dev: 1.2% increase (under 2.0% threshold, warming up: 30m window full in 12m) OK');
		expect(report).toContain('- Staging: 1.2% increase (under 2.0% threshold, warming up: 45m window) OK');
		expect(report).toContain('- Global: 1.2% increase (under 2.0% threshold, warming up: 60m window full in 42m) OK');
		// No sample yet anywhere: warming up, with no figure.
		expect(formatPollLine(snapshot({mode: {...warming.mode, warmUntil: null}}))).toMatch(/\[warming-up\]$/);
	});

	it('headless lines say ?a and agents unknown, not 0', () => {
		const line = formatPollLine(stale());
		expect(line).toContain('dev STALE $2.34/h +1.2%/2.0% ?a');
		expect(line).not.toMatch(/ 0a/);
		expect(formatDashboard(stale())).toContain('agents unknown (last poll failed)');
		expect(formatPollLine(snapshot({lastSuccessAt: null, error}))).toMatch(/dev ACTIVE \$\?\/h .* \?a/);
	});
});

describe('the breaker', () => {
	const tripped = () => snapshot({environments: [
		view('dev', {status: 'STOPPED', agents: {running: 0, allowed: 'all'}, agentIds: [], agentHourlyUsd: 0, breaker: {trippedAt: t0 - 60_000, actor: 'auto', reason: 'dev +3.6% > 2.0% over 30m'}}),
		view('staging', {status: 'LIMITED', agents: {running: 2, allowed: 2}, priority: 2}),
	]});

	it('shows HELD on the tripped row, offers R only there, and R then y sends reset for that environment', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(tripped()), controller});
		let frame = ui.lastFrame();
		expect(frame).toMatch(/› dev +STOPPED HELD +\$2\.34\/\$5 +0\/∞/);
		expect(frame).toMatch(/staging +LIMITED +\$2\.34/);
		expect(frame).toContain('R reset breaker');
		for (const line of frame.split('\n')) {
			expect([...line].length).toBeLessThanOrEqual(80);
		}

		await ui.press('j');
		expect(ui.lastFrame()).not.toContain('R reset breaker');
		await ui.press('R');
		expect(ui.lastFrame()).not.toContain('Reset');
		await ui.press('kR');
		frame = ui.lastFrame();
		expect(frame).toContain('Reset dev\'s breaker?');
		expect(frame).toContain('agents may run in dev again: no longer stopped as re-spawns');
		expect(frame).toContain('by auto: dev +3.6% > 2.0% over 30m');
		await ui.press('y');
		await ui.waitFor('dev\'s breaker reset');
		expect(controller.commands).toEqual([{kind: 'reset', environment: 'dev'}]);
	});

	it('help says what HELD means and lists R when the selected row is held', async () => {
		const ui = await app({store: new FakeStore(tripped()), controller: new FakeController()});
		await ui.press('?');
		const frame = ui.lastFrame();
		expect(frame).toMatch(/R +reset the selected environment's breaker/);
		expect(frame).toMatch(/HELD +breaker tripped: envwatch stops agents that come back; R resets/);
	});

	it('a failure to record is on the status line in the alert colour', async () => {
		const {default: chalk} = await import('chalk');
		const level = chalk.level;
		chalk.level = 1;
		try {
			const ui = await app({store: new FakeStore(snapshot({recordError: 'audit log: ENOSPC: no space left on device'})), controller: new FakeController(), theme: {colour: true}});
			const line = ui.lastFrame().split('\n').find(text => text.includes('NOT RECORDED'));
			expect(line).toContain('audit log: ENOSPC: no space left on device');
			expect(line).toContain('\u001B[31m');
		} finally {
			chalk.level = level;
		}
	});
});

describe('read-only and the key bar during a confirmation', () => {
	it('a stop or start key under --read-only says why nothing happens', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(snapshot({mode: {paused: false, dryRun: false, readOnly: true, warmingUp: false, action: 'stop'}})), controller});
		await ui.press('s');
		expect(ui.lastFrame()).toContain('read-only: stopping is off');
		await ui.press('a');
		expect(ui.lastFrame()).toContain('read-only: starting is off');
		expect(controller.commands).toEqual([]);
	});

	it('an open confirmation has only its own keys in the bar', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController()});
		await ui.press('s');
		let bar = ui.lastFrame().split('\n').filter(Boolean).at(-1);
		expect(bar).toMatch(/^y yes +n\/Esc\/Enter no$/);
		await ui.press('\r');
		await ui.press('E');
		bar = ui.lastFrame().split('\n').filter(Boolean).at(-1);
		expect(bar).toMatch(/^Enter confirm +Esc cancel$/);
		expect(bar).not.toContain('q quit');
	});
});

describe('short terminals', () => {
	const fits = (frame: string, columns: number, rows: number) => {
		const lines = frame.split('\n');
		expect(lines.length).toBeLessThan(rows);
		for (const line of lines) {
			expect([...line].length).toBeLessThanOrEqual(columns);
		}

		expect(lines[0]).toMatch(/^envwatch /);
	};

	it('80x12: s shows its whole blast radius (count, IDs, $/h), the table gives way', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), columns: 80, rows: 12});
		await ui.press('s');
		const frame = ui.lastFrame();
		fits(frame, 80, 12);
		expect(frame).toContain('Stop dev\'s agents?');
		expect(frame).toContain('4 agents running');
		expect(frame).toContain('instances: i-0aaa000000000001, i-0aaa000000000002, i-0aaa000000000003 +1 more');
		expect(frame).toContain('saves $2.10/h of $2.34/h');
		expect(frame).toMatch(/› dev +ACTIVE/);
	});

	it('80x12: E shows the environments and the count', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), columns: 80, rows: 12});
		await ui.press('E');
		const frame = ui.lastFrame();
		fits(frame, 80, 12);
		expect(frame).toContain('environments: dev, staging');
		expect(frame).toContain('6 agents running');
		expect(frame).toContain('saves $3.64/h');
	});

	it('40x12: E keeps the header, wraps the blast radius, and what is typed stays in sight', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(snapshot()), controller, columns: 40, rows: 12});
		await ui.press('E');
		await ui.press('stop all');
		const frame = ui.lastFrame();
		fits(frame, 40, 12);
		expect(frame).toContain('6 agents running');
		expect(frame).toContain('i-0aaa000000000003 +3 more');
		expect(frame).toContain('stop all_');
		await ui.press('\r');
		await ui.waitFor('stopped 4/4');
		expect(controller.commands).toEqual([{kind: 'emergency'}]);
	});

	it('a confirmation that cannot fit is refused with the rows it needs and what to run instead, never asked without its blast radius', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(snapshot()), controller, columns: 40, rows: 11});
		// The key bar does not offer a key that cannot work at this size.
		expect(linesOf(ui.lastFrame()).slice(-2).join('\n')).not.toContain('emergency');
		await ui.press('E');
		let frame = ui.lastFrame();
		expect(frame).not.toContain('EMERGENCY');
		fits(frame, 40, 11);
		// Whole at 40 columns (two lines, the rule gives way), with the command that does it from a shell.
		expect(linesOf(frame).slice(-4, -2)).toEqual(['E needs 12 rows; or run envwatch stop -e', 'dev,staging']);
		await ui.press('stop all\r');
		expect(controller.commands).toEqual([]);
		// Shrunk under an open confirmation: withdrawn, and y then does nothing.
		await ui.resize(80, 24);
		await ui.press('s');
		expect(ui.lastFrame()).toContain('Stop dev\'s agents?');
		await ui.resize(80, 9);
		// The withdrawal is drawn before the key is sent (a loaded machine may take a moment to redraw).
		await ui.waitFor('terminal too small');
		await ui.press('y');
		await ui.resize(80, 24);
		// Said whole: two lines where one cannot hold it.
		frame = await ui.waitFor(/terminal too small to confirm stop dev now \(it needs 10 rows\): cancelled,\nnothing done; or run envwatch stop -e dev\n/);
		expect(frame).not.toContain('Stop dev\'s agents?');
		expect(controller.commands).toEqual([]);
	});

	it('80x12: the undo confirmation takes the rows it needs for its IDs and $/h; narrower it is refused with the rows it needs', async () => {
		const lastStop = {at: t0 - 60_000, environments: ['dev'], count: 4, ids: ['i-0aaa000000000001', 'i-0aaa000000000002', 'i-0aaa000000000003', 'i-0aaa000000000004'], usdPerHour: 2.1};
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(snapshot({lastStop})), controller, columns: 80, rows: 12});
		await ui.press('u');
		let lines = linesOf(ui.lastFrame());
		expect(lines.length).toBeLessThanOrEqual(12);
		expect(lines).toEqual(expect.arrayContaining([
			'Undo: start the 4 agents stopped in dev again?',
			'  instances: i-0aaa000000000001, i-0aaa000000000002, i-0aaa000000000003 +1 more',
			'  adds $2.10/h back (what the stop saved)',
			'  y yes   N no (default: n, Esc or Enter)',
		]));
		await ui.press('y');
		expect(controller.commands).toEqual([{kind: 'undo', stopAt: lastStop.at}]);
		// At 40 columns the IDs wrap: the same question needs more rows than 12, and is not asked.
		const untouched = new FakeController();
		const narrow = await app({store: new FakeStore(snapshot({lastStop})), controller: untouched, columns: 40, rows: 12});
		await narrow.press('u');
		lines = linesOf(narrow.lastFrame());
		expect(lines.join('\n')).not.toContain('Undo: start');
		// What does the same from a shell: envwatch undo.
		expect(lines.slice(-4, -2)).toEqual(['terminal too small to confirm undo: it', 'needs 13 rows; or run envwatch undo']);
		await narrow.press('y');
		expect(untouched.commands).toEqual([]);
	});

	it('80x24: EC2\'s own 19-character IDs wrap before "+2 more", never between "+2" and "more"', async () => {
		const ids = ['i-0123456789abcdef0', 'i-0123456789abcdef1', 'i-0123456789abcdef2', 'i-0123456789abcdef3', 'i-0123456789abcdef4'];
		const ui = await app({store: new FakeStore(snapshot({lastStop: {at: t0 - 60_000, environments: ['dev'], count: 5, ids, usdPerHour: 2.1}})), controller: new FakeController(), columns: 80, rows: 24});
		await ui.press('u');
		expect(linesOf(ui.lastFrame())).toEqual(expect.arrayContaining([
			'  instances: i-0123456789abcdef0, i-0123456789abcdef1, i-0123456789abcdef2',
			'    +2 more',
		]));
	});

	it.each([
		{columns: 100, rows: 24, shown: true},
		// At 80 the bar's one line has no room for it: the help lists it.
		{columns: 80, rows: 24, shown: false},
		// At 60 the bar takes two lines anyway, and they have room.
		{columns: 60, rows: 20, shown: true},
		{columns: 40, rows: 12, shown: false},
	])('the key bar offers a add agents where it fits without another line: $columns x $rows', async ({columns, rows, shown}) => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), columns, rows});
		const lines = linesOf(ui.lastFrame());
		const bar = lines.slice(columns >= 80 ? -1 : -2).join('\n');
		expect(bar).toContain('q quit');
		expect(bar.includes('a add agents')).toBe(shown);
		// It never costs a key that was there before, or a row.
		for (const key of columns >= 60 ? ['s stop', 'u undo', 'r refresh', '? help'] : ['s stop', '? help']) {
			expect(bar).toContain(key);
		}

		if (columns === 80) {
			expect(lines.at(-2)).not.toMatch(/select|quit/);
		}
	});

	it('80x12: a asks how many; a typed count is started, a bad one refused naming it', async () => {
		const base = snapshot();
		const dev = view('dev', {agents: {running: 4, allowed: 6}, launch: {count: 1, instanceType: 't3.large', usdPerHourEach: 0.0832}});
		const controller = new FakeController();
		const ui = await app({store: new FakeStore({...base, environments: [dev, ...base.environments.slice(1)]}), controller, columns: 80, rows: 12});
		await ui.press('a');
		let frame = ui.lastFrame();
		expect(frame).toContain('Start 1 agent in dev?');
		expect(frame).toContain('count: 1_ (1 to 2; type a number)');
		expect(linesOf(frame).at(-1)).toBe('0-9 count  y yes  n/Esc/Enter no');
		await ui.press('3');
		frame = await ui.waitFor('"3": dev allows at most 6 agents');
		await ui.press('y');
		expect(controller.commands).toEqual([]);
		await ui.press('\u007F');
		await ui.press('2');
		frame = await ui.waitFor('Start 2 agents in dev?');
		expect(frame).toContain('adds $0.17/h to $2.34/h');
		expect(linesOf(frame).length).toBeLessThanOrEqual(12);
		await ui.press('y');
		expect(controller.commands).toEqual([{kind: 'start', environment: 'dev', count: 2}]);
	});

	it('40x12: the help lists every key, and the key bar keeps ? help and q quit', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), columns: 40, rows: 12});
		const bar = ui.lastFrame().split('\n').slice(-2).join('\n');
		expect(bar).toContain('? help');
		expect(bar).toContain('q quit');
		await ui.press('?');
		const frame = ui.lastFrame();
		fits(frame, 40, 12);
		for (const key of [/s +stop/, /c +cascade/, /E +emergency/, /u +undo/, /a +add agents/, /p +pause/, /r +refresh/, /q +quit/]) {
			expect(frame).toMatch(key);
		}
	});

	it('80x12: the help shows keys, not only its title', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), columns: 80, rows: 12});
		await ui.press('?');
		const frame = ui.lastFrame();
		fits(frame, 80, 12);
		// Each key at the start of a help line, or packed after another's text.
		for (const key of ['s', 'c', 'E', 'u', 'a', 'p', 'r', 'q']) {
			expect(frame.split('\n').slice(2, -2).join('\n')).toMatch(new RegExp(`(^|  )${key}( [A-Z^]+)? +[a-z]`, 'm'));
		}
	});

	it('an empty events pane with one row left draws nothing, so the frame stays shorter than the terminal', async () => {
		const ui = await app({store: new FakeStore(snapshot({events: []})), controller: new FakeController(), columns: 40, rows: 12});
		const frame = ui.lastFrame();
		fits(frame, 40, 12);
		expect(frame).not.toContain('no decisions or actions yet');
	});
});

describe('wording', () => {
	it('a tiny decrease is 0.0%, never -0.0%', async () => {
		expect(pct(-0.01)).toBe('0.0%');
		expect(pct(-0.04)).toBe('0.0%');
		expect(pct(-0.05)).toBe('-0.1%');
		const ui = await app({store: new FakeStore(snapshot({environments: [view('dev', {increasePct: -0.01})]})), controller: new FakeController()});
		expect(ui.lastFrame()).toContain('0.0%/2.0% 30m');
		expect(ui.lastFrame()).not.toContain('-0.0%');
	});

	it('two amounts that differ print differently: $0.150 -> $0.154, not $0.15 -> $0.15', () => {
		expect(moneyPair(0.15, 0.154)).toEqual(['$0.150', '$0.154']);
		expect(moneyPair(2.34, 2.42)).toEqual(['$2.34', '$2.42']);
		expect(moneyPair(0.15, 0.15)).toEqual(['$0.15', '$0.15']);
		expect(moneyPair(1200.2, 1200.4)).toEqual(['$1,200.20', '$1,200.40']);
	});

	it('one agent is "1 agent" while it starts', async () => {
		const controller = new FakeController();
		controller.command = async () => new Promise(() => undefined);
		const store = new FakeStore(snapshot({environments: [view('dev', {launch: {count: 1, instanceType: 'm5.large', usdPerHourEach: 0.096}})]}));
		const ui = await app({store, controller});
		await ui.press('a');
		expect(ui.lastFrame()).toContain('Start 1 agent in dev?');
		await ui.press('y');
		expect(ui.lastFrame()).toContain('starting 1 agent in dev...');
	});

	it('after an undo, u says the last stop was undone and when, not that nothing was ever stopped', async () => {
		const undone = event(5, {type: 'action', kind: 'undo', actor: 'ops@jump', reason: 'started 4/4 agents', outcome: 'executed'});
		const ui = await app({store: new FakeStore(snapshot({lastStop: null, events: [undone]})), controller: new FakeController()});
		await ui.press('u');
		expect(ui.lastFrame()).toContain(`nothing to undo: the last stop was undone at ${clockTime(undone.at)}`);
		expect(ui.lastFrame()).not.toContain('has not stopped anything');
	});

	it('a failed Cost Explorer call is not shown as a billed fetch', async () => {
		const failed = snapshot({billing: {fetchedAt: null, calls: 1, costUsd: 0.01, error: 'AccessDeniedException', enabled: true}});
		const ui = await app({store: new FakeStore(failed), controller: new FakeController(), columns: 100});
		const frame = ui.lastFrame();
		expect(frame).toContain('billed: unavailable (AccessDeniedException)');
		expect(frame).toContain('1 CE call (the last failed) at most $0.01');
		expect(frame).not.toContain('1 CE call $0.01');
	});
});

describe('widths', () => {
	it('at 60 columns the billed block says what it left out, and its second line is indented', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), columns: 60, rows: 24});
		const lines = ui.lastFrame().split('\n');
		const first = lines.findIndex(line => line.startsWith('billed today/MTD'));
		expect(first).toBeGreaterThan(0);
		const second = lines[first + 1]!;
		expect(second).toMatch(/^ {2}\S/);
		const block = `${lines[first]!}\n${second}`;
		expect(block).toMatch(/production \$2\.50\/\$80\.00|… \+\d more/);
		for (const line of [lines[first]!, second]) {
			expect([...line].length).toBeLessThanOrEqual(60);
		}
	});

	it('at 120 columns the table spans the terminal and its rule is as long as the events rule', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), columns: 120, rows: 30});
		const lines = ui.lastFrame().split('\n');
		const tableRule = lines.find(line => /^ {2}─+$/.test(line))!;
		const eventsRule = lines.find(line => line.startsWith('── events'))!;
		expect([...tableRule].length).toBe([...eventsRule].length);
		expect([...eventsRule].length).toBe(120);
	});
});

describe('selection and trend', () => {
	it('the selected row is a reverse-video bar when colour is on', async () => {
		const {default: chalk} = await import('chalk');
		const level = chalk.level;
		chalk.level = 1;
		try {
			const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), theme: {colour: true}});
			const lines = ui.lastFrame().split('\n');
			expect(lines.find(line => line.includes('dev ') && line.includes('ACTIVE'))).toContain('\u001B[7m');
			expect(lines.find(line => line.includes('staging'))).not.toContain('\u001B[7m');
		} finally {
			chalk.level = level;
		}
	});

	it('the sparkline is on the threshold\'s scale: a 1% wobble stays low, a breach fills it; the range is shown where it fits', () => {
		const glyphs = {...makeTheme().glyphs};
		// Baseline $2.00, threshold 2%: a rise of $0.04 fills the height.
		expect(trendCell({trend: [2, 2.02], baselineUsd: 2, thresholdPct: 2}, glyphs, 2)).toBe('▁▅');
		expect(trendCell({trend: [2, 2.08], baselineUsd: 2, thresholdPct: 2}, glyphs, 2)).toBe('▁█');
		expect(trendCell({trend: [0.15, 0.154], baselineUsd: 0.15, thresholdPct: 5}, glyphs, 20)).toBe('▁▅ $0.150–$0.154');
	});
});

describe('help at 80 and 120 columns', () => {
	const held = snapshot({environments: [view('dev', {status: 'STOPPED', agents: {running: 0, allowed: 'all'}, breaker: {trippedAt: t0, actor: 'ops@jump', reason: 'manual stop'}, paused: true}), ...snapshot().environments.slice(1)]});
	it.each([{columns: 80, rows: 24}, {columns: 120, rows: 24}])('$columns x $rows, R bound: every key and the whole legend, no line cut (a long one wraps under its key)', async ({columns, rows}) => {
		const ui = await app({store: new FakeStore(held), controller: new FakeController(), columns, rows});
		await ui.press('?');
		const frame = await ui.waitFor('keys (? or Esc');
		expect(linesOf(frame).length).toBeLessThan(rows);
		for (const line of linesOf(frame)) {
			expect([...line].length).toBeLessThanOrEqual(columns);
		}

		const help = linesOf(frame).slice(linesOf(frame).findIndex(line => line.includes('keys (? or Esc')) + 1, -1);
		expect(help.join('\n')).not.toContain('…');
		// R's sentence, whole: its second line under the key column.
		expect(help.join(' ').replaceAll(/ {2,}/g, ' ')).toContain('R reset the selected environment\'s breaker: agents may run there again, no longer stopped as re-spawns (its limits still apply)');
		for (const legend of ['STATUS', 'HELD', 'PAUSED', '$/H', 'AGENTS', 'colour']) {
			expect(help.some(line => line.startsWith(`${legend} `)), legend).toBe(true);
		}
	});
});

describe('help at 40x11', () => {
	it('its title fits, and a legend note is shown whole or not at all', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), columns: 40, rows: 11});
		await ui.press('?');
		const frame = await ui.waitFor('keys (? or Esc)');
		const lines = linesOf(frame);
		expect(lines.find(line => line.includes('keys (? or Esc)'))).not.toContain('…');
		expect(lines.some(line => line.startsWith('STATUS '))).toBe(lines.some(line => line.includes('BREACH over a limit')));
		for (const key of ['s', 'c', 'E', 'u', 'q']) {
			expect(lines.slice(2, -2).join('\n')).toMatch(new RegExp(`(^|  )${key} +[a-z]`, 'm'));
		}
	});
});

describe('help at 80x24', () => {
	it('explains the status words, columns and colours, every line whole; the selected row stays', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController()});
		await ui.press('?');
		const frame = ui.lastFrame();
		const lines = frame.split('\n');
		expect(lines.length).toBeLessThan(24);
		expect(frame).not.toContain('…');
		for (const text of ['ACTIVE LIMITED MONITOR', 'STALE: last poll failed', 'HELD', 'PAUSED', 'spend now / hourly cap', 'INCREASE: now/threshold', 'running/allowed', 'red over, yellow near']) {
			expect(frame).toContain(text);
		}

		// The legend is part of the help: the table's other rows give way to it, the selected one stays.
		expect(frame).toMatch(/› dev +ACTIVE/);
	});
});

describe('headless lines', () => {
	it('say NOT RECORDED when the audit log cannot be written, and HELD for a tripped breaker', () => {
		const held = snapshot({recordError: 'audit log: EACCES', environments: [view('dev', {status: 'STOPPED', agents: {running: 0, allowed: 'all'}, breaker: {trippedAt: t0, actor: 'auto', reason: 'breach'}})]});
		const line = formatPollLine(held);
		expect(line).toContain('dev STOPPED $2.34/h +1.2%/2.0% 0a HELD');
		expect(line).toMatch(/NOT RECORDED: audit log: EACCES$/);
		expect(formatDashboard(held)).toContain('NOT RECORDED: audit log: EACCES (envwatch still acts)');
	});
});

describe('a lone Esc stays an Esc', () => {
	it('Esc then y in one chunk cancels the confirmation; the y does not confirm it', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(snapshot()), controller});
		await ui.press('s');
		expect(ui.lastFrame()).toContain('Stop dev\'s agents?');
		await ui.press('\u001By');
		expect(ui.lastFrame()).toContain('cancelled: nothing done');
		expect(ui.lastFrame()).not.toContain('Stop dev\'s agents?');
		expect(controller.commands).toEqual([]);
		// Esc then an arrow: the help closes and the selection moves.
		await ui.press('?');
		await ui.press('\u001B\u001B[B');
		expect(ui.lastFrame()).not.toContain('keys (? or Esc');
		expect(ui.lastFrame()).toMatch(/› staging/);
	});
});

describe('HELD at 40 columns', () => {
	it('the name gives way so that status, HELD, spend and agents still fit', async () => {
		const held = snapshot({environments: [
			view('production', {status: 'STOPPED', agents: {running: 0, allowed: 'monitor-only'}, breaker: {trippedAt: t0, actor: 'ops@jump', reason: 'manual stop'}}),
			view('dev'),
		]});
		const ui = await app({store: new FakeStore(held), controller: new FakeController(), columns: 40, rows: 20});
		const lines = ui.lastFrame().split('\n');
		for (const line of lines) {
			expect([...line].length).toBeLessThanOrEqual(40);
		}

		expect(lines.find(line => line.includes('STOPPED'))).toMatch(/› produ… +STOPPED HELD +\$2\.34\/\$5 +0\/mon$/);
	});
});

describe('--ascii in the new places', () => {
	it.each([[120, 30], [60, 24]])('at %ix%i the frame, the help and a confirmation are printable ASCII only', async (columns, rows) => {
		const ui = await app({store: new FakeStore(snapshot({recordError: 'state: EROFS'})), controller: new FakeController(), columns, rows, theme: {ascii: true}});
		expect(ui.lastFrame()).toMatch(/^[\u0020-\u007E\n]*$/);
		await ui.press('?');
		expect(ui.lastFrame()).toMatch(/^[\u0020-\u007E\n]*$/);
		await ui.press('?');
		await ui.press('E');
		expect(ui.lastFrame()).toContain('EMERGENCY');
		expect(ui.lastFrame()).toMatch(/^[\u0020-\u007E\n]*$/);
	});
});
