import {describe, expect, it} from 'vitest';
import type {AuditTail} from '../../source/engine/state/audit-reader.js';
import type {Snapshot} from '../../source/engine/snapshot.js';
import {hourMs} from '../../source/domain/rollup.js';
import {clockTime} from '../../source/ui/cells.js';
import {event, FakeController, FakeStore, instance, snapshot, t0} from './fixtures.js';
import {linesOf, useApps} from './harness.js';

/**
 * What the operator sees of the new keys, drawn by Ink at a terminal's size: the header's guarded
 * and shown sets, the command line, marks, the describe with the console link whole, the chart's
 * ranges with envwatch's stops marked, and the events pane after a restart.
 */
const app = useApps(() => ({controller: new FakeController()}));

function fleet(overrides: Partial<Snapshot> = {}): Snapshot {
	const base = snapshot(overrides);
	const dev = [
		instance('i-0123456789abcdef0', {name: 'dev-agent', type: 'g4dn.xlarge', usdPerHour: 0.526, priceSource: 'price-list', image: 'ami-0abcdef1234567890', zone: 'us-east-1a', launchedAt: t0 - 3 * hourMs, launchedBy: 'ops@jump',
			storage: {usdPerHour: 0.008}, tags: {Environment: 'dev', Name: 'dev-agent', Role: 'agent', team: 'ci'}}),
		instance('i-0aaa000000000002', {name: 'dev-agent', type: 'g4dn.xlarge', usdPerHour: 0.526}),
		instance('i-0aaa000000000003', {name: 'dev-watch', role: 'monitor'}),
	];
	return {...base, configured: ['dev', 'staging', 'production'], environments: base.environments.map(item => (item.name === 'dev' ? {...item, instances: dev} : {...item, instances: []}))};
}

describe('what is guarded and what is shown', () => {
	it('the header says what is guarded; a / filter narrows the table, and the header says that too', async () => {
		const ui = await app({store: new FakeStore(fleet()), columns: 80, rows: 24});
		expect(linesOf(ui.lastFrame())[0]).toMatch(/AUTO guards all$/);
		await ui.press('/');
		await ui.press('stag');
		let frame = await ui.waitFor('/stag_');
		expect(linesOf(frame).at(-1)).toMatch(/type filter +Enter keep +Esc clear/);
		await ui.press('\r');
		// At 80 columns the header is cut after what is guarded and what is shown.
		frame = await ui.waitFor(/guards all showing 1\/3/);
		expect(frame).toMatch(/› staging +LIMITED/);
		expect(frame).not.toMatch(/^ +dev +ACTIVE/m);
		expect(frame).toMatch(/global +NORMAL/);
	});

	it('at 80 columns, what is guarded and the warming-up countdown are both said whole: the poll interval gives way first', async () => {
		const warming = fleet({source: 'SIMULATED (dev-spike)', mode: {paused: false, dryRun: false, readOnly: false, warmingUp: true, warmUntil: t0 + 58 * 60_000, action: 'stop'}});
		const ui = await app({store: new FakeStore(warming), columns: 80, rows: 24});
		expect(linesOf(ui.lastFrame())[0]).toMatch(/^envwatch SIMULATED \(dev-spike\) updated \d+s ago AUTO guards all warming up 5\dm$/);
		const wide = await app({store: new FakeStore(warming), columns: 100, rows: 24});
		expect(linesOf(wide.lastFrame())[0]).toMatch(/ every 15s updated \d+s ago AUTO guards all warming up 5\dm$/);
	});

	it('at 80 columns a long source (an organization\'s accounts) goes after what is guarded and shown, never cutting it', async () => {
		const accounts = fleet({source: 'aws 4 accounts (organization) us-east-1', accounts: [{name: 'sandbox-a', id: '111111111111', status: 'OK', hourlyUsd: 1, agents: 1} as never]});
		const ui = await app({store: new FakeStore(accounts), columns: 80, rows: 24});
		await ui.press(':');
		await ui.press('env dev');
		await ui.press('\r');
		const header = linesOf(await ui.waitFor('showing 1/3'))[0]!;
		expect(header).toMatch(/^envwatch AUTO updated \d+s ago guards all showing 1\/3: dev aws 4 accounts/);
		expect([...header].length).toBeLessThanOrEqual(80);
	});

	it('command mode is typed on the bottom line with its own keys; :env shows two; :guard opens its confirmation', async () => {
		const ui = await app({store: new FakeStore(fleet()), columns: 80, rows: 24});
		await ui.press(':');
		await ui.press('env pr');
		await ui.press('\t');
		let frame = await ui.waitFor(':env production _');
		expect(linesOf(frame).at(-1)).toMatch(/Tab complete +Enter run +Esc leave/);
		await ui.press('dev');
		await ui.press('\r');
		frame = await ui.waitFor('guards all showing 2/3');
		expect(frame).toContain('showing dev, production; still guarding dev, staging, production');
		await ui.press(':');
		await ui.press('guard dev');
		await ui.press('\r');
		frame = await ui.waitFor('Guard dev?');
		expect(frame).toContain('STOPS guarding staging, production');
	});
});

describe('the instances view', () => {
	it('marked rows carry a * and the title counts them; d describes, with the console link whole and every tag', async () => {
		const ui = await app({store: new FakeStore(fleet()), columns: 80, rows: 30});
		await ui.press('\r');
		await ui.waitFor('dev: 3 instances');
		await ui.press(' ');
		let frame = await ui.waitFor('1 marked');
		expect(frame).toMatch(/^ \*i-0123456789abcdef0 /m);
		await ui.press('k');
		await ui.press('d');
		frame = await ui.waitFor('i-0123456789abcdef0 (dev-agent) in dev');
		expect(frame).toMatch(/AMI +ami-0abcdef1234567890/);
		expect(frame).toMatch(/\$\/h +\$0\.53\/h from the AWS Price List/);
		expect(frame).toMatch(/volumes +\$0\.01\/h of EBS; a stop does not save it/);
		expect(frame).toMatch(/launched +\S+ \S+ UTC \(3h ago\) by ops@jump/);
		expect(frame).toMatch(/team +ci/);
		// The link in whole lines from the first column: joined, it is the link.
		const lines = linesOf(frame);
		const start = lines.findIndex(line => line.startsWith('https://'));
		expect(lines[start]).toHaveLength(80);
		expect(lines[start]! + lines[start + 1]).toBe('https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#InstanceDetails:instanceId=i-0123456789abcdef0');
	});

	it('c writes the console link to the clipboard and says so; the describe shows it', async () => {
		const copied: string[] = [];
		const ui = await app({store: new FakeStore(fleet()), columns: 100, rows: 30, clipboard: text => copied.push(text)});
		await ui.press('\r');
		await ui.waitFor('dev: 3 instances');
		await ui.press('c');
		const frame = await ui.waitFor('console link copied (OSC 52): i-0123456789abcdef0');
		expect(copied).toEqual(['https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#InstanceDetails:instanceId=i-0123456789abcdef0']);
		const lines = linesOf(frame);
		const start = lines.findIndex(line => line.startsWith('https://'));
		expect(lines[start]! + lines[start + 1]).toBe(copied[0]);
	});

	it('at 40x11 too, c scrolls the describe to the console link, whole in sight; d opens it at the top', async () => {
		const copied: string[] = [];
		const ui = await app({store: new FakeStore(fleet()), columns: 40, rows: 11, clipboard: text => copied.push(text)});
		await ui.press('\r');
		await ui.waitFor('dev: 3 instances');
		await ui.press('c');
		const frame = await ui.waitFor('console link copied (OSC 52):');
		const lines = linesOf(frame);
		expect(lines.length).toBeLessThanOrEqual(11);
		const start = lines.findIndex(line => line.startsWith('https://'));
		expect(start).toBeGreaterThan(0);
		expect(lines.slice(start, start + 3).join('')).toBe(copied[0]);
		await ui.press('\u001B');
		await ui.press('d');
		expect(linesOf(await ui.waitFor(/state +running/))).not.toContain(lines[start]);
	});
});

describe('at 40x11, where a stop\'s confirmation cannot be shown whole', () => {
	it('the instances view\'s bar does not offer x; x and :guard say, in words that fit, the rows they need and what to do instead', async () => {
		const ui = await app({store: new FakeStore(fleet()), columns: 40, rows: 11});
		await ui.press('\r');
		let frame = await ui.waitFor('dev: 3 instances');
		expect(linesOf(frame).slice(-2).join(' ')).toMatch(/Space mark/);
		expect(linesOf(frame).slice(-2).join(' ')).not.toMatch(/x stop/);
		await ui.press('x');
		frame = await ui.waitFor(/x needs \d+ rows/);
		// Said whole on the status line (two lines at most), never cut.
		const said = (lines: string[], what: RegExp) => {
			const at = lines.findIndex(line => what.test(line));
			return lines.slice(at, at + 2).join(' ');
		};

		expect(said(linesOf(frame), /x needs/)).toMatch(/^x needs \d+ rows; make the terminal taller$/);
		await ui.press('\u001B');
		await ui.press(':guard dev');
		await ui.press('\r');
		frame = await ui.waitFor(/:guard needs \d+ rows/);
		expect(said(linesOf(frame), /:guard needs/)).toMatch(/^:guard needs \d+ rows; make the terminal taller$/);
		expect(frame).not.toContain('Guard dev?');
	});
});

describe('spend over time', () => {
	/** 120 buckets of 30 s: $2.34, a spike to $2.42 in the last minutes, then the stop it caused. */
	function withHistory(): Snapshot {
		const series = Array.from({length: 120}, (_, index) => (index < 60 ? null : index < 110 ? 2.34 : index < 116 ? 2.42 : 0.3));
		const stopAt = new Date(Math.floor(t0 / 30_000) * 30_000 - 3 * 30_000).toISOString();
		const ranges = {
			'1h': {stepMs: 30_000, series: {dev: series, staging: series, production: series, global: series}},
			'6h': {stepMs: 180_000, series: {dev: Array.from({length: 120}, () => null)}},
			'24h': {stepMs: hourMs, series: {dev: [...Array.from({length: 22}, () => null), 1.5, 2.1]}},
			'7d': {stepMs: hourMs, series: {dev: Array.from({length: 168}, () => null)}},
		};
		return fleet({
			history: {at: t0, ranges},
			events: [event(8, {at: stopAt, type: 'action', kind: 'stop', environments: ['dev'], reason: 'stopped 1/1 agents in dev (1 stopping; saves $0.08/h)', outcome: 'executed'})],
		});
	}

	it('1h keeps the spike that caused the stop and marks the stop under the axis; > goes to 6h, 24h (the hourly rollup)', async () => {
		const ui = await app({store: new FakeStore(withHistory()), columns: 80, rows: 24});
		await ui.press('t');
		let frame = await ui.waitFor('spend over time: dev (1h)');
		const lines = linesOf(frame);
		const axis = lines.findIndex(line => line.includes('└'));
		expect(lines[axis]).toMatch(/└-1h─+now$/);
		expect(lines[axis + 1]).toMatch(/^ +▲$/);
		// The spike's columns stand above the level before them, and the stop's drop is drawn after them.
		expect(frame).toMatch(/▇+█+╌*$/m);
		expect(lines[axis - 1]).toMatch(/█+[▁-▇]+$/);
		expect(frame).toContain(`▲ ${clockTime(new Date(Math.floor(t0 / 30_000) * 30_000 - 90_000).toISOString())} by auto: stop dev: stopped 1/1`);
		await ui.press('>');
		frame = await ui.waitFor('spend over time: dev (6h)');
		expect(frame).toContain('no samples yet');
		await ui.press('>');
		frame = await ui.waitFor('spend over time: dev (24h, hourly rollup)');
		// 24 hours across the width (after the labels, 6 columns, and 2 left over), three columns an hour; the stop falls in the last whole hour: under its middle column.
		expect(frame).toMatch(/└─*-24h─+\d\d:00$/m);
		expect(frame).toMatch(/│ +▆{3}█{3}$/m);
		expect(frame).toContain('$ per whole hour');
		expect(linesOf(frame).find(line => /^ +▲$/.test(line))).toHaveLength(6 + 2 + (23 * 3) + 1 + 1);
		await ui.press('>');
		frame = await ui.waitFor('spend over time: dev (7d, hourly rollup)');
		expect(frame).toContain('no whole hour in the rollup yet');
	});
});

describe('the events pane after a restart', () => {
	it('opens with the audit log\'s last entries below this run\'s, not empty', async () => {
		const before = [event(40, {type: 'action', kind: 'stop', actor: 'ops@jump', environments: ['dev'], reason: 'stopped 4/4 agents in dev (4 stopping; saves $2.10/h)', outcome: 'executed'}), event(39, {kind: 'warn', reason: 'staging near its cap'})];
		const audit = {file: 'audit.log', read: (): AuditTail => ({entries: before, skipped: 0, truncated: false, error: null})};
		const ui = await app({store: new FakeStore(fleet({events: [event(41, {kind: 'takeover', reason: 'took over the engine lock'})]})), columns: 100, rows: 30, audit});
		const frame = await ui.waitFor('staging near its cap');
		const rows = linesOf(frame).slice(linesOf(frame).findIndex(line => line.includes('events, newest first')) + 1);
		expect(rows.slice(0, 3).map(line => line.replace(/^\S+ +/, ''))).toEqual([
			'auto     takeover dev: took over the engine lock',
			'ops@jump stop dev: stopped 4/4 agents in dev (4 stopping; saves $2.10/h)',
			'auto     warn dev: staging near its cap',
		]);
	});
});

describe('the events on the whole screen (e)', () => {
	it('at 40x11, where the pane has no room: e shows them whole, wrapped, newest first; ↓ scrolls an event at a time; Esc goes back', async () => {
		const events = [
			event(43, {type: 'action', kind: 'stop', actor: 'ops@jump', environments: ['dev'], reason: 'stopped 4/4 agents in dev (4 stopping; saves $2.10/h)', outcome: 'executed'}),
			...Array.from({length: 6}, (_, index) => event(42 - index, {reason: `dev near its cap, reading ${index + 1}`})),
		];
		const ui = await app({store: new FakeStore(fleet({events})), columns: 40, rows: 11});
		expect(ui.lastFrame()).not.toContain('events');
		await ui.press('e');
		let frame = await ui.waitFor(/── events 1-\d\/7 ↓ ─/);
		const lines = linesOf(frame);
		expect(lines.length).toBeLessThan(11);
		expect(lines.every(line => [...line].length <= 40)).toBe(true);
		// The stop is written whole, over lines, under its time; nothing is cut.
		expect(lines.slice(1).join('\n')).not.toContain('…');
		const body = lines.slice(2, -2).map(line => line.trim()).join(' ');
		expect(body).toContain('ops@jump stop dev: stopped 4/4 agents in dev (4 stopping; saves $2.10/h)');
		expect(lines.at(-1)).toMatch(/↑↓ scroll +Esc back/);
		await ui.press('j');
		frame = await ui.waitFor(/── events 2-\d\/7 ↓ ─/);
		expect(frame).not.toContain('ops@jump');
		expect(linesOf(frame).slice(2, 4).map(line => line.trim()).join(' ')).toMatch(/^\d\d:\d\d:\d\d auto warn dev: dev near its cap, reading 1$/);
		await ui.press('\u001B');
		frame = await ui.waitFor(/dev +ACTIVE/);
		expect(frame).not.toContain('── events');
	});
});
