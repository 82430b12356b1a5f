import {describe, expect, it} from 'vitest';
import type {AuditTail} from '../../source/engine/state/audit-reader.js';
import {event, FakeController, FakeStore, instance, snapshot, t0, view} from './fixtures.js';
import {linesOf, widthOf, useApps} from './harness.js';


const devInstances = [
	instance('i-0aaa000000000001', {name: 'agent-one', type: 'g4dn.xlarge', usdPerHour: 0.526, launchedAt: t0 - 7_200_000, zone: 'us-east-1a', lifecycle: 'spot', launchedBy: 'ops@jump'}),
	instance('i-0aaa000000000002', {name: 'agent-two', type: 'g4dn.xlarge', usdPerHour: 0.526, launchedAt: t0 - 60_000, region: 'us-west-2'}),
	instance('i-0ccc000000000003', {name: 'bastion', type: 't3.medium', usdPerHour: 0.0416, role: 'other'}),
	instance('i-0ddd000000000004', {name: 'mystery', type: 'x9.huge', usdPerHour: null, role: 'other'}),
];

function fleet(overrides: Parameters<typeof snapshot>[0] = {}) {
	const base = snapshot();
	return snapshot({environments: [view('dev', {instances: devInstances}), ...base.environments.slice(1).map(item => ({...item, instances: []}))], regions: ['us-east-1', 'us-west-2'], ...overrides});
}

const app = useApps(() => ({store: new FakeStore(fleet()), controller: new FakeController()}));

const fits = (frame: string, columns: number, rows: number) => {
	const lines = linesOf(frame);
	expect(lines.length).toBeLessThan(rows);
	for (const line of lines) {
		expect(widthOf(line)).toBeLessThanOrEqual(columns);
	}
};

describe.each([{columns: 80, rows: 24}, {columns: 60, rows: 20}])('the views at $columns x $rows', ({columns, rows}) => {
	it('Enter lists the environment\'s instances by $/h, / filters, N sorts by name, Esc clears then goes back', async () => {
		const ui = await app({columns, rows});
		await ui.press('\r');
		let frame = await ui.waitFor('dev: 4 instances');
		fits(frame, columns, rows);
		const ids = () => [...ui.lastFrame().matchAll(/i-0\w+/g)].map(match => match[0]);
		expect(ids()).toEqual(['i-0aaa000000000001', 'i-0aaa000000000002', 'i-0ccc000000000003', 'i-0ddd000000000004']);
		// Unpriced is said, never $0.
		expect(frame).toMatch(/i-0ddd000000000004.*unpriced/);
		expect(frame).toMatch(/Esc back/);
		await ui.press('/');
		await ui.press('bast');
		frame = await ui.waitFor('filter: bast_');
		expect(ids()).toEqual(['i-0ccc000000000003']);
		expect(frame).toContain('1 shown');
		await ui.press('\r');
		await ui.press('\u001B');
		await ui.waitFor(/dev: 4 instances \$/);
		await ui.press('N');
		await ui.waitFor('NAME↑');
		expect(ids()).toEqual(['i-0aaa000000000001', 'i-0aaa000000000002', 'i-0ccc000000000003', 'i-0ddd000000000004']);
		await ui.press('N');
		await ui.waitFor('NAME↓');
		expect(ids()).toEqual(['i-0ddd000000000004', 'i-0ccc000000000003', 'i-0aaa000000000002', 'i-0aaa000000000001']);
		fits(ui.lastFrame(), columns, rows);
		await ui.press('\u001B');
		frame = await ui.waitFor(/staging +LIMITED/);
		expect(frame).not.toContain('instances');
	});

	it('s in the detail view asks the table\'s confirmation for its environment; y stops it and the view is back', async () => {
		const controller = new FakeController();
		const ui = await app({columns, rows, controller});
		await ui.press('j');
		await ui.press('j');
		await ui.press('k');
		await ui.press('\r');
		await ui.waitFor('staging: 0 instances');
		await ui.press('s');
		await ui.waitFor('Stop staging\'s agents?');
		await ui.press('y');
		await ui.waitFor('staging: 0 instances');
		expect(controller.commands).toEqual([{kind: 'stop', environment: 'staging'}]);
	});

	it('l shows the whole audit log newest first with the selected entry in full; / filters; r reads it again', async () => {
		let reads = 0;
		const entries = Array.from({length: 30}, (_, index) => event(30 - index, {reason: `reason number ${30 - index}`}));
		entries[0] = event(30, {type: 'action', kind: 'stop', reason: 'dev over its cap: $5.20/h >= $5/h', outcome: 'executed', figures: {hourlyUsd: 5.2, maxHourlyUsd: 5}, instanceIds: ['i-0aaa000000000001'], results: [{id: 'i-0aaa000000000001', region: 'us-east-1', result: 'stopping', previousState: 'running', currentState: 'stopping'}]});
		// The log view's reads (the dashboard's read of the last lines at its start, for the events pane, asks for a count).
		const audit = {file: '/var/lib/envwatch/audit.log', read: (lines?: number): AuditTail => ({entries, skipped: lines === undefined && reads++ === 0 ? 2 : 0, truncated: false, error: null})};
		const ui = await app({columns, rows, audit});
		await ui.press('l');
		let frame = await ui.waitFor('audit log: 30 entries');
		fits(frame, columns, rows);
		expect(frame).toContain('2 torn or invalid lines skipped');
		expect(frame).toContain('hourlyUsd=5.2');
		expect(frame).toMatch(/i-0aaa000000000001 us-east-1 stopping running->stopping/);
		await ui.press('\u001B[6~');
		frame = await ui.waitFor(/entry (?!1 )\d+ of 30/);
		await ui.press('\u001B[5~');
		await ui.waitFor('entry 1 of 30');
		await ui.press('j');
		frame = await ui.waitFor('entry 2 of 30');
		expect(frame).toContain('reason: reason number 29');
		await ui.press('/');
		await ui.press('29');
		await ui.press('\r');
		frame = await ui.waitFor('1 shown');
		expect(frame).toContain('reason: reason number 29');
		await ui.press('r');
		frame = await ui.waitFor(/audit log: 30 entries, 1 shown filter/);
		expect(frame).not.toContain('skipped');
		expect(reads).toBe(2);
		await ui.press('\u001B');
		await ui.press('\u001B');
		await ui.waitFor(/global +NORMAL/);
	});

	it('t charts the window\'s spend from $0 with the cap and threshold; ↓ moves to the next environment and on to global', async () => {
		const ui = await app({columns, rows});
		await ui.press('t');
		let frame = await ui.waitFor('spend over time: dev');
		fits(frame, columns, rows);
		expect(frame).toMatch(/^\$6\.00│/m);
		expect(frame).toMatch(/^\$0\.00│.*█/m);
		expect(frame).toContain('═');
		expect(frame).toContain('cap $5.00');
		expect(frame).toContain('threshold $2.36 (+2.0%)');
		for (const name of ['staging', 'production', 'global']) {
			await ui.press('j');
			frame = await ui.waitFor(`spend over time: ${name}`);
		}

		expect(frame).toContain('cap $100.00');
		await ui.press('\u001B');
		await ui.waitFor(/global +NORMAL/);
	});

	it('g shows the selected environment\'s $/h and agents per region, unpriced marked', async () => {
		const ui = await app({columns, rows});
		await ui.press('g');
		const frame = await ui.waitFor('by region: dev');
		fits(frame, columns, rows);
		expect(frame).toMatch(/us-east-1 +\$0\.57\+ +1 +3/);
		expect(frame).toMatch(/us-west-2 +\$0\.53 +1 +1/);
		expect(frame).toMatch(/total +\$1\.09\+ +2 +4/);
	});
});

describe('the views in small terminals', () => {
	it.each([{columns: 40, rows: 12}, {columns: 80, rows: 12}, {columns: 120, rows: 40}])('every view fits $columns x $rows, cut and never wrapped', async ({columns, rows}) => {
		const audit = {file: 'audit.log', read: (): AuditTail => ({entries: Array.from({length: 40}, (_, index) => event(index + 1, {reason: 'a long reason '.repeat(12)})), skipped: 0, truncated: false, error: null})};
		const ui = await app({columns, rows, audit});
		for (const [key, title] of [['\r', 'dev: 4'], ['l', 'audit log'], ['t', 'spend over time'], ['g', 'by region']] as const) {
			await ui.press(key);
			const frame = await ui.waitFor(title);
			fits(frame, columns, rows);
			await ui.press('?');
			fits(await ui.waitFor('keys (? or Esc closes)'), columns, rows);
			await ui.press('?');
			await ui.press('\u001B');
			await ui.waitFor(/global +NORMAL/);
		}
	});

	it.each([{columns: 40, rows: 11}, {columns: 80, rows: 24}])('$columns x $rows: the log\'s "more lines" are one key away: Enter opens the entry in full, ↑↓ scroll it to its last line, Esc goes back', async ({columns, rows}) => {
		const results = Array.from({length: 30}, (_, index) => ({id: `i-0aaa0000000000${String(index).padStart(2, '0')}`, region: 'us-east-1', result: 'stopping' as const, previousState: 'running' as const, currentState: 'stopping' as const}));
		const entry = event(1, {type: 'action', kind: 'stop', reason: 'stopped 12/12 agents in dev', outcome: 'executed', instanceIds: results.map(result => result.id), results});
		const audit = {file: 'audit.log', read: (): AuditTail => ({entries: [entry, event(2)], skipped: 0, truncated: false, error: null})};
		const ui = await app({columns, rows, audit});
		await ui.press('l');
		let frame = await ui.waitFor(/more lines: Enter shows them/);
		fits(frame, columns, rows);
		expect(frame).not.toContain('i-0aaa000000000029');
		await ui.press('\r');
		frame = await ui.waitFor(/entry 1 of 2, lines 1-\d+ of \d+/);
		fits(frame, columns, rows);
		expect(frame).toContain('#1 ');
		const seen = new Set<string>(linesOf(frame));
		const atEnd = (text: string) => /entry 1 of 2, lines \d+-(\d+) of \1 /.test(text);
		for (let press = 0; press < 80 && !atEnd(ui.lastFrame()); press++) {
			await ui.press('j');
			for (const line of linesOf(ui.lastFrame())) {
				seen.add(line);
			}
		}

		frame = ui.lastFrame();
		fits(frame, columns, rows);
		// Every instance's outcome was on the screen at some point, the last one now, whole.
		for (const result of results) {
			expect([...seen].some(line => line.includes(result.id)), result.id).toBe(true);
		}

		expect(atEnd(frame)).toBe(true);
		expect(frame).toContain('i-0aaa000000000029');
		// Past the end it stays at the end; ↑ moves back at once.
		await ui.press('j');
		expect(ui.lastFrame()).toBe(frame);
		await ui.press('k');
		expect(ui.lastFrame()).not.toBe(frame);
		await ui.press('\u001B');
		await ui.waitFor('audit log: 2 entries');
		await ui.press('\u001B');
		await ui.waitFor(/global +NORMAL/);
	});

	it('regions that do not fit are counted, never dropped silently', async () => {
		const ui = await app({columns: 40, rows: 8});
		await ui.press('g');
		const frame = await ui.waitFor('by region: dev');
		expect(frame).toContain('+2 more regions');
		expect(frame).toMatch(/total +\$1\.09\+/);
	});

	it('too small for a view: it says so, and Esc still goes back', async () => {
		const ui = await app({columns: 40, rows: 6});
		await ui.press('g');
		await ui.waitFor('terminal too small');
		await ui.press('\u001B');
		await ui.resize(80, 24);
		await ui.waitFor(/global +NORMAL/);
	});
});

describe('the views under NO_COLOR, --ascii and --read-only', () => {
	it('--ascii: every view is printable ASCII', async () => {
		const audit = {file: 'audit.log', read: (): AuditTail => ({entries: [event(1)], skipped: 0, truncated: false, error: null})};
		const ui = await app({theme: {ascii: true}, audit});
		for (const key of ['\r', 'l', 't', 'g']) {
			await ui.press(key);
			await ui.waitFor(/instances|audit log|spend over time|by region/);
			expect(ui.lastFrame()).toMatch(/^[\u0020-\u007E\n]*$/);
			await ui.press('?');
			await ui.waitFor('keys (? or Esc closes)');
			expect(ui.lastFrame()).toMatch(/^[\u0020-\u007E\n]*$/);
			await ui.press('?');
			await ui.press('\u001B');
			await ui.waitFor(/global +NORMAL/);
		}
	});

	it('colour off: no colour codes; the selected instance is marked by the selector', async () => {
		const ui = await app();
		await ui.press('\r');
		const frame = await ui.waitFor('dev: 4 instances');
		// eslint-disable-next-line no-control-regex -- looking for any escape sequence
		expect(frame).not.toMatch(/\u001B\[/);
		expect(frame).toMatch(/^› i-0aaa000000000001/m);
	});

	it('attached to a server that withheld a long instance list: the detail and region views say so, never an empty list', async () => {
		const ui = await app({store: new FakeStore(fleet({environments: [view('dev', {instancesWithheld: 12_000})]}))});
		await ui.press('\r');
		let frame = await ui.waitFor('12000 instances: too many to send to an attached dashboard');
		expect(frame).toMatch(/dev: 12000 instances \$/);
		expect(frame).not.toContain('no instances listed');
		await ui.press('\u001B');
		await ui.press('g');
		frame = await ui.waitFor('by region: dev');
		expect(frame).toContain('12000 instances: too many');
		expect(frame).not.toContain('total');
	});

	it('two Escs in one packet (typed fast over SSH) are two: the filter is cleared and the view closed', async () => {
		const ui = await app();
		await ui.press('\r');
		await ui.press('/');
		await ui.press('agent');
		await ui.press('\r');
		await ui.waitFor('filter: agent');
		await ui.press('\u001B\u001B');
		const frame = await ui.waitFor(/global +NORMAL/);
		expect(frame).not.toContain('instances');
	});

	it('stale data: the detail and region views say their figures are the last good poll\'s', async () => {
		const ui = await app({store: new FakeStore(fleet({environments: [view('dev', {instances: devInstances, status: 'STALE', stale: 'us-east-1: throttled'})]}))});
		await ui.press('\r');
		await ui.waitFor('dev: 4 instances $2.34/h STALE (last good poll)');
		await ui.press('\u001B');
		await ui.press('g');
		await ui.waitFor('by region: dev STALE (last good poll)');
	});

	it('--read-only: the detail view offers no stop, and s says stopping is off', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(fleet({mode: {paused: false, dryRun: false, readOnly: true, warmingUp: false, action: 'stop'}})), controller});
		await ui.press('\r');
		let frame = await ui.waitFor('dev: 4 instances');
		expect(frame).not.toContain('stop env');
		await ui.press('s');
		frame = await ui.waitFor('read-only: stopping is off');
		expect(frame).toContain('dev: 4 instances');
		expect(controller.commands).toEqual([]);
		// Nor does its help list s: the dangerous keys are unbound everywhere, and nothing offers them.
		await ui.press('?');
		frame = await ui.waitFor('keys (? or Esc closes)');
		expect(frame).toContain('sort by ID, NAME, TYPE, REGION/AZ');
		expect(frame).not.toMatch(/^s +stop this environment/m);
	});
});
