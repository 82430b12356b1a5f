import React from 'react';
import {render} from 'ink-testing-library';
import {describe, expect, it} from 'vitest';
import type {EnvironmentStatus, GlobalStatus} from '../../source/domain/types.js';
import {Dashboard} from '../../source/ui/components/Dashboard.js';
import {EnvRow} from '../../source/ui/components/EnvTable.js';
import {ClockContext} from '../../source/ui/hooks/use-now.js';
import {clockTime} from '../../source/ui/cells.js';
import {columnWidths} from '../../source/ui/layout.js';
import {makeTheme, ThemeContext} from '../../source/ui/theme.js';
import {manualClock} from '../../source/ui/ticker.js';
import {event, snapshot, t0, view} from './fixtures.js';
import {linesOf, widthOf, useApps} from './harness.js';
import {FakeController, FakeStore} from './fixtures.js';

const widths = columnWidths(100, {name: 10, spend: 10, agents: 5, figures: 13});
const keys = {readOnly: false, pending: false, paused: false};

const app = useApps();

describe('rows (ink-testing-library)', () => {
	const statuses: Array<EnvironmentStatus | GlobalStatus> = ['ACTIVE', 'LIMITED', 'MONITOR', 'WARN', 'BREACH', 'STOPPED', 'STALE', 'NORMAL'];
	it.each(statuses)('every state has its word: %s', status => {
		const {lastFrame, unmount} = render(<EnvRow view={view('dev', {status})} widths={widths} />);
		expect(lastFrame()).toContain(status);
		unmount();
	});

	it('draws the gauge, spend against cap, agents and the sparkline', () => {
		const {lastFrame, unmount} = render(<EnvRow view={view('dev', {trend: [1, 2, 3, 4, 5, 6, 7, 8]})} widths={widths} selected />);
		const frame = lastFrame() ?? '';
		expect(frame).toContain('› dev');
		expect(frame).toContain('▮▮▮▮▮▮▯▯▯▯ 1.2%/2.0% 30m');
		expect(frame).toContain('$2.34/$5');
		expect(frame).toContain('4/∞');
		expect(frame).toContain('▁▂▃▄▅▆▇█');
		unmount();
	});

	it('colours the status word when colour is on, and not with NO_COLOR', async () => {
		const {default: chalk} = await import('chalk');
		const level = chalk.level;
		chalk.level = 1;
		try {
			const coloured = render(<ThemeContext.Provider value={makeTheme({colour: true})}><EnvRow view={view('dev', {status: 'BREACH'})} widths={widths} /></ThemeContext.Provider>);
			expect(coloured.lastFrame()).toContain('\u001B[31m');
			coloured.unmount();
			const plain = render(<ThemeContext.Provider value={makeTheme({colour: false})}><EnvRow view={view('dev', {status: 'BREACH'})} widths={widths} /></ThemeContext.Provider>);
			// eslint-disable-next-line no-control-regex -- colour codes
			expect(plain.lastFrame()).not.toMatch(/\u001B\[3\dm/);
			expect(plain.lastFrame()).toContain('BREACH');
			plain.unmount();
		} finally {
			chalk.level = level;
		}
	});
});

describe('the dashboard at 80x24', () => {
	it('shows header, rows, global, billed, events and the key bar, shorter than the terminal', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController()});
		const frame = await ui.waitFor('events');
		const lines = linesOf(frame);
		expect(lines.length).toBeLessThan(24);
		for (const line of lines) {
			expect(widthOf(line)).toBeLessThanOrEqual(80);
		}

		expect(lines[0]).toMatch(/^envwatch SIMULATED every 15s updated 1s ago +AUTO/);
		expect(frame).toMatch(/› dev +ACTIVE +\$2\.34\/\$5 +4\/∞ ▮▮▮▮▮▮▯▯▯▯ 1\.2%\/2\.0% 30m/);
		expect(frame).toMatch(/staging +LIMITED +\$1\.85\/\$10 +2\/2/);
		expect(frame).toMatch(/production +MONITOR +\$0\.15\/\$50 +0\/mon/);
		expect(frame).toMatch(/global +NORMAL +\$4\.34\/\$100 +6 /);
		expect(frame).toContain('billed today/MTD, 12m old, 3 CE calls $0.03:');
		expect(frame).toContain('dev $40.12/$1,204');
		expect(frame).toMatch(/ops@jump pause: automatic actions paused/);
		expect(frame).toMatch(/auto +warn dev: event number 3/);
		expect(frame).toContain('s stop');
		expect(frame).toContain('E emergency');
	});

	it('fills the events pane with as many as fit, newest first', async () => {
		const events = Array.from({length: 40}, (_, index) => event(index + 1, {reason: `event ${index + 1}`}));
		const ui = await app({store: new FakeStore(snapshot({events})), controller: new FakeController()});
		const frame = await ui.waitFor('event 1');
		const lines = linesOf(frame);
		expect(lines.length).toBe(23);
		const shown = lines.filter(line => / auto +warn dev: event \d+$/.test(line));
		expect(shown[0]).toMatch(/event 1$/);
		expect(shown.length).toBeGreaterThan(5);
		expect(frame).not.toContain('event 40');
	});

	it('events: one line per incident, a decision and its outcome together; the rest as they were', async () => {
		// Newest first, as the snapshot holds them.
		const events = [
			event(1, {kind: 'recover', environments: ['staging'], reason: 'staging runs no agents beyond its policy now'}),
			event(2, {type: 'action', kind: 'stop', environments: ['staging'], reason: 'stopped 3/3 agents in staging (3 stopping; saves $1.58/h)', outcome: 'executed'}),
			event(3, {type: 'progress', kind: 'stop', environments: ['staging'], reason: 'batch: 2 stopping (2/3 done)', outcome: 'progress'}),
			event(4, {kind: 'stop', environments: ['staging'], reason: 'staging +2.3% > 1.5% over 45m ($1.84 -> $1.89/h)', figures: {hourlyUsd: 1.8864, increasePct: 2.255, thresholdPct: 1.5, maxHourlyUsd: 10}}),
			event(5, {type: 'action', kind: 'stop', actor: 'ops@jump', environments: ['dev'], reason: 'stopped 3/4 agents in dev (3 stopping, 1 failed; saves $1.58/h)', outcome: 'failed'}),
			event(6, {kind: 'stop', actor: 'ops@jump', environments: ['dev'], reason: 'manual stop of dev'}),
			event(7, {kind: 'stop', environments: ['dev'], reason: 'dev $5.20/h > cap $5.00/h (paused: not executed)', outcome: 'skipped: paused', figures: {hourlyUsd: 5.2, maxHourlyUsd: 5}}),
			event(8, {type: 'action', kind: 'cascade', environments: ['dev'], reason: 'stopped 4/4 agents in dev (4 stopping; saves $2.10/h)', outcome: 'executed'}),
			event(9, {kind: 'cascade', environments: ['dev'], reason: 'dev $5.20/h > cap $5.00/h', figures: {hourlyUsd: 5.2, increasePct: 1, thresholdPct: 2, maxHourlyUsd: 5}}),
		];
		const audit = {file: 'audit.log', read: () => ({entries: events, skipped: 0, truncated: false, error: null})};
		const ui = await app({store: new FakeStore(snapshot({events})), controller: new FakeController(), columns: 100, rows: 30, audit});
		const frame = await ui.waitFor('events, newest first');
		const rows = linesOf(frame).slice(linesOf(frame).findIndex(line => line.includes('events, newest first')) + 1, -2);
		expect(rows).toEqual([
			`${clockTime(events[0]!.at)} auto     recover staging: staging runs no agents beyond its policy now`,
			// At the decision's time, with what it measured over the limit and what was done.
			`${clockTime(events[3]!.at)} auto     stop staging: breach +2.3%/1.5% -> stopped 3/3 (saves $1.58/h)`,
			// A person's request: the actor says who; a failure keeps its whole tally.
			`${clockTime(events[5]!.at)} ops@jump stop dev -> stopped 3/4 agents (3 stopping, 1 failed; saves $1.58/h)`,
			// Not carried out (paused): a line of its own that says so first (cut at 80 columns, it never reads as a stop).
			`${clockTime(events[6]!.at)} auto     skipped: paused: stop dev: dev $5.20/h > cap $5.00/h`,
			`${clockTime(events[8]!.at)} auto     cascade dev: breach $5.20/$5 cap -> stopped 4/4 (saves $2.10/h)`,
		]);
		// The log view (l) still has every entry, in full.
		await ui.press('l');
		const log = await ui.waitFor('audit log: 9 entries');
		for (const text of ['staging +2.3% > 1.5% over 45m ($1.84 -> $1.89/h)', 'batch: 2 stopping (2/3 done)', 'manual stop of dev']) {
			expect(log).toContain(text);
		}

		await ui.press('j');
		await ui.waitFor('reason: stopped 3/3 agents in staging (3 stopping; saves $1.58/h)');
	});

	it('events: a stop cut short (no action line) keeps its decision and batches in sight', async () => {
		const events = [
			event(1, {type: 'progress', kind: 'stop', environments: ['dev'], reason: 'batch: 2 stopping (2/4 done)', outcome: 'progress'}),
			event(2, {kind: 'stop', environments: ['dev'], reason: 'dev +3.6% > 2.0% over 30m ($2.34 -> $2.42/h)', figures: {increasePct: 3.6, thresholdPct: 2}}),
		];
		const ui = await app({store: new FakeStore(snapshot({events})), controller: new FakeController()});
		const frame = await ui.waitFor('events, newest first');
		expect(frame).toContain('auto stop dev: batch: 2 stopping (2/4 done)');
		expect(frame).toContain('auto stop dev: dev +3.6% > 2.0% over 30m ($2.34 -> $2.42/h)');
		// Not made into an incident line: nothing was carried out yet.
		expect(frame).not.toContain('breach');
	});

	it('waits for the first poll', async () => {
		const ui = await app({store: new FakeStore(undefined), controller: new FakeController()});
		expect(ui.lastFrame()).toContain('waiting for the first poll');
	});

	it('moves the selection with j/k and the arrows', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController()});
		await ui.press('j');
		expect(ui.lastFrame()).toMatch(/› staging/);
		await ui.press('\u001B[B');
		expect(ui.lastFrame()).toMatch(/› production/);
		await ui.press('j');
		expect(ui.lastFrame()).toMatch(/› production/);
		await ui.press('k');
		await ui.press('\u001B[A');
		expect(ui.lastFrame()).toMatch(/› dev/);
	});
});

describe('confirmations', () => {
	it('s then y stops the selected environment and flashes the outcome', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(snapshot()), controller});
		await ui.press('s');
		const asking = ui.lastFrame();
		expect(asking).toContain('Stop dev\'s agents?');
		expect(asking).toContain('4 agents running');
		expect(asking).toContain('instances: i-0aaa000000000001, i-0aaa000000000002, i-0aaa000000000003 +1 more');
		expect(asking).toContain('saves $2.10/h');
		expect(asking).toContain('N no (default');
		expect(controller.commands).toEqual([]);
		await ui.press('y');
		await ui.waitFor('stopped 4/4 agents in dev');
		expect(controller.commands).toEqual([{kind: 'stop', environment: 'dev'}]);
		expect(ui.lastFrame()).not.toContain('Stop dev\'s agents?');
	});

	it.each([['n'], ['\r'], ['\u001B']])('%j cancels and nothing is sent', async key => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(snapshot()), controller});
		await ui.press('s');
		await ui.press(key);
		await ui.waitFor('cancelled: nothing done');
		expect(controller.commands).toEqual([]);
	});

	it('a monitor-only environment needs its name: wrong, then right', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(snapshot()), controller});
		await ui.press('j');
		await ui.press('j');
		await ui.press('s');
		expect(ui.lastFrame()).toContain('type production and Enter to confirm');
		await ui.press('y');
		await ui.press('\r');
		await ui.waitFor('"y" is not "production"');
		expect(controller.commands).toEqual([]);
		await ui.press('production');
		await ui.press('\r');
		await ui.waitFor('stopped 4/4 agents in production');
		// Sent with the typed name: the engine stops a monitor-only environment only so.
		expect(controller.commands).toEqual([{kind: 'stop', environment: 'production', confirm: 'production'}]);
	});

	it('emergency needs "stop all": y alone does nothing, a wrong word is refused, the right one runs', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(snapshot()), controller});
		await ui.press('E');
		expect(ui.lastFrame()).toContain('EMERGENCY: stop every agent outside monitor-only environments?');
		expect(ui.lastFrame()).toContain('environments: dev, staging');
		await ui.press('y');
		expect(controller.commands).toEqual([]);
		await ui.press('\r');
		await ui.waitFor('"y" is not "stop all"');
		await ui.press('stop all');
		await ui.press('\r');
		await ui.waitFor('stopped 4/4 agents');
		expect(controller.commands).toEqual([{kind: 'emergency'}]);
	});

	it('keys that arrive in one chunk over a slow link count one by one', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(snapshot()), controller});
		await ui.press('E');
		await ui.press('stop all\r');
		await ui.waitFor('stopped 4/4 agents');
		expect(controller.commands).toEqual([{kind: 'emergency'}]);
		await ui.press('sn');
		await ui.waitFor('cancelled: nothing done');
		expect(controller.commands).toHaveLength(1);
	});

	it('cascade names the lowest-priority environment; undo needs something to undo', async () => {
		const controller = new FakeController('staging');
		const ui = await app({store: new FakeStore(snapshot()), controller});
		await ui.press('c');
		expect(ui.lastFrame()).toContain('Cascade step: stop staging');
		await ui.press('y');
		await ui.waitFor('stopped 4/4');
		expect(controller.commands).toEqual([{kind: 'cascade', environment: 'staging'}]);
		await ui.press('u');
		await ui.waitFor('nothing to undo');
		expect(controller.commands).toHaveLength(1);
	});
});

describe('modes', () => {
	it('read-only: a lock badge, no dangerous keys offered, and pressing them does nothing', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(snapshot({mode: {paused: false, dryRun: false, readOnly: true, warmingUp: false, action: 'stop'}})), controller});
		const frame = ui.lastFrame();
		expect(frame).toContain('🔒 READ-ONLY');
		expect(frame).not.toContain('s stop');
		expect(frame).not.toContain('emergency');
		for (const key of ['s', 'c', 'E', 'u']) {
			await ui.press(key);
		}

		expect(ui.lastFrame()).not.toContain('confirm');
		expect(controller.commands).toEqual([]);
	});

	it('pause: p sends pause, the badge says PAUSED and the bar offers resume', async () => {
		const controller = new FakeController();
		const store = new FakeStore(snapshot());
		const ui = await app({store, controller});
		await ui.press('p');
		expect(controller.commands).toEqual([{kind: 'pause'}]);
		store.publish(snapshot({mode: {paused: true, dryRun: true, readOnly: false, warmingUp: true, action: 'stop'}}));
		const frame = await ui.waitFor(/PAUSED DRY-RUN/);
		expect(frame).toContain('DRY-RUN');
		expect(frame).toContain('warming up');
		expect(frame).toContain('p resume');
		await ui.press('p');
		expect(controller.commands.at(-1)).toEqual({kind: 'resume'});
	});

	it('warming up: the header says how long until the last filling window is full, counts down with the clock and goes when full', async () => {
		// The clock starts at t0 + 1 s: 12 minutes and 1 second to go.
		const mode = {paused: false, dryRun: false, readOnly: false, warmingUp: true, warmUntil: t0 + 12 * 60_000 + 2000, action: 'stop' as const};
		const ui = await app({store: new FakeStore(snapshot({mode})), controller: new FakeController()});
		// Between the badge and the warming up: what is guarded (the fixture does not say what is configured).
		expect(linesOf(ui.lastFrame())[0]).toMatch(/AUTO guards 3 warming up 12m$/);
		ui.clock.set(t0 + 2 * 60_000 + 1000);
		expect(linesOf(await ui.waitFor('warming up 10m'))[0]).toMatch(/AUTO guards 3 warming up 10m$/);
		ui.clock.set(t0 + 12 * 60_000 - 30_000);
		await ui.waitFor('warming up 32s');
		// Full by the clock, before the next poll says so: nothing about warming up.
		ui.clock.set(t0 + 12 * 60_000 + 2000);
		await ui.waitFor(/^(?![\s\S]*warming)/);
		expect(linesOf(ui.lastFrame())[0]).toMatch(/AUTO guards 3$/);
	});

	it('warming up with no sample yet: the header says warming up with no figure (never a made-up one)', async () => {
		const ui = await app({store: new FakeStore(snapshot({mode: {paused: false, dryRun: false, readOnly: false, warmingUp: true, warmUntil: null, action: 'stop'}})), controller: new FakeController()});
		expect(linesOf(ui.lastFrame())[0]).toMatch(/AUTO guards 3 warming up$/);
	});

	it('stale: STALE rows, the poll error, and the age turning old', async () => {
		const stale = snapshot({error: 'us-east-1: RequestLimitExceeded', lastSuccessAt: t0 - 120_000, environments: [view('dev', {status: 'STALE', stale: 'us-east-1: RequestLimitExceeded'})]});
		const ui = await app({store: new FakeStore(stale), controller: new FakeController()});
		const frame = ui.lastFrame();
		expect(frame).toContain('updated 2m ago');
		expect(frame).toMatch(/dev +STALE/);
		expect(frame).toContain('last poll failed: us-east-1: RequestLimitExceeded');
	});

	it('an agent policy violation is said in words, and the agents figure is over its allowance', async () => {
		const over = snapshot({environments: [view('staging', {status: 'LIMITED', agents: {running: 3, allowed: 2}, violation: 'staging runs 3 agents, over its cap of 2'})]});
		const ui = await app({store: new FakeStore(over), controller: new FakeController()});
		expect(ui.lastFrame()).toMatch(/staging +LIMITED +\$2\.34\/\$5 +3\/2/);
		expect(ui.lastFrame()).toContain('staging runs 3 agents, over its cap of 2');
	});

	it('before any fresh data the spend is unknown, never $0', async () => {
		const never = snapshot({lastSuccessAt: null, error: 'us-east-1: UnauthorizedOperation', environments: [view('dev', {status: 'STALE', hourlyUsd: 0, increasePct: null})]});
		const ui = await app({store: new FakeStore(never), controller: new FakeController()});
		expect(ui.lastFrame()).toMatch(/dev +STALE +--\/\$5/);
		expect(ui.lastFrame()).toContain('updated never');
		expect(ui.lastFrame()).not.toContain('$0.00/');
	});

	it('a grace countdown ticks with the clock and x cancels it', async () => {
		const controller = new FakeController();
		const pending = snapshot({pending: {decision: {kind: 'stop', environment: 'dev', cascade: false, reason: 'dev +3.6% > 2.0% in 30m', agentIds: [], savesUsdPerHour: 2}, dueAt: t0 + 11_000}});
		const ui = await app({store: new FakeStore(pending), controller});
		expect(ui.lastFrame()).toContain('AUTO stop dev in 10s: dev +3.6% > 2.0% in 30m. Press x to cancel');
		expect(ui.lastFrame()).toContain('x cancel auto-stop');
		ui.clock.set(t0 + 5000);
		await ui.waitFor('in 6s');
		await ui.press('x');
		expect(controller.commands).toEqual([{kind: 'cancel-pending'}]);
	});

	it('? opens the help from the keymap and Esc closes it', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController()});
		await ui.press('?');
		expect(ui.lastFrame()).toContain('emergency stop of every agent outside monitor-only environments');
		await ui.press('\u001B');
		await ui.waitFor('events, newest first');
	});

	it('--ascii draws no box or block glyphs', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), theme: {ascii: true}});
		const frame = ui.lastFrame();
		expect(frame).toContain('#####');
		expect(frame).toContain('4/all');
		// Printable ASCII and newlines only.
		expect(frame).toMatch(/^[\u0020-\u007E\n]*$/);
	});
});

describe('narrow and small terminals', () => {
	it.each([
		[79, 24, {trend: false, bar: true, billed: true}],
		[60, 20, {trend: false, bar: false, billed: true}],
		[45, 20, {trend: false, bar: false, billed: false}],
	])('%ix%i keeps status words and spend', async (columns, rows, expected) => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), columns, rows});
		const frame = ui.lastFrame();
		const lines = linesOf(frame);
		expect(lines.length).toBeLessThan(rows);
		for (const line of lines) {
			expect(widthOf(line)).toBeLessThanOrEqual(columns);
		}

		expect(frame).toMatch(/dev +ACTIVE +\$2\.34\/\$5/);
		expect(frame).toMatch(/production +MONITOR +\$0\.15\/\$50/);
		expect(frame.includes('▁▂')).toBe(expected.trend);
		expect(frame.includes('▮')).toBe(expected.bar);
		expect(frame.includes('billed')).toBe(expected.billed);
	});

	it('narrow, the header keeps the mode badges and the age before the source; read-only shows no AUTO', async () => {
		const mode = {paused: false, dryRun: false, readOnly: true, warmingUp: false, action: 'stop' as const};
		const ui = await app({store: new FakeStore(snapshot({mode, source: 'aws 123456789012 us-east-1,eu-west-1,ap-southeast-2'})), controller: new FakeController(), columns: 45, rows: 20});
		const header = linesOf(ui.lastFrame())[0]!;
		expect(header).toMatch(/^envwatch 🔒 READ-ONLY updated /);
		expect(header).not.toContain('AUTO');
		const dry = await app({store: new FakeStore(snapshot({mode: {...mode, readOnly: false, dryRun: true}})), controller: new FakeController(), columns: 60, rows: 20});
		expect(linesOf(dry.lastFrame())[0]).toMatch(/^envwatch AUTO DRY-RUN updated /);
	});

	it('an open panel takes the billed rows: at 60x20 the help lists every key', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), columns: 60, rows: 20});
		await ui.press('?');
		const frame = ui.lastFrame();
		expect(frame).not.toContain('billed');
		expect(frame).toMatch(/^q \^C +quit/m);
		expect(frame).toMatch(/^↑↓ jk +select an environment/m);
		expect(linesOf(frame).length).toBeLessThan(20);
	});

	it('re-lays out at once on resize, and says when it is too small', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), columns: 100, rows: 30});
		expect(ui.lastFrame()).toContain('TREND');
		await ui.resize(60, 20);
		await ui.waitFor(/^(?![\s\S]*TREND)/);
		await ui.resize(30, 8);
		const small = await ui.waitFor('terminal too small');
		expect(small).toMatch(/30x8, need 40x\d+/);
		for (const line of linesOf(small)) {
			expect(widthOf(line)).toBeLessThanOrEqual(30);
		}
	});

	it('renders without raw mode when stdin is not a terminal', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController(), stdinTty: false});
		expect(ui.lastFrame()).toContain('dev');
	});
});

describe('Dashboard is a plain function of its props and the clock', () => {
	it('10 environments and 50 events fit 120x40', () => {
		const environments = Array.from({length: 10}, (_, index) => view(`env-${index}`));
		const events = Array.from({length: 50}, (_, index) => event(index + 1));
		const {lastFrame, unmount} = render(<ClockContext.Provider value={manualClock(t0)}><Dashboard snapshot={snapshot({environments, events})} columns={100} rows={40} selected="env-0" keys={keys} /></ClockContext.Provider>);
		const lines = linesOf(lastFrame() ?? '');
		expect(lines.length).toBe(39);
		expect(lines.filter(line => /env-\d +ACTIVE/.test(line))).toHaveLength(10);
		unmount();
	});
});
