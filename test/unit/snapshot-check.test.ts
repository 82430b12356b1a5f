import {afterEach, describe, expect, it} from 'vitest';
import {breachFound, wireSnapshot, type Snapshot} from '../../source/engine/snapshot.js';
import {checkSnapshot, refusedSnapshot} from '../../source/engine/snapshot-check.js';
import type {ScenarioName} from '../../source/providers/sim/scenarios.js';
import {event, instance, snapshot, t0, view} from '../component/fixtures.js';
import {SimHarness} from '../helpers/sim.js';

// A snapshot from another process (a `serve` socket peer, the leader's figures in the table) is
// checked field by field before anything of it is shown: what an engine sends passes whole; a lie
// is refused naming the field; a field this envwatch does not know is left out, never a refusal.

const now = t0 + 5000;
/** As the wire carries it (JSON: no undefined, no prototype). */
const wire = (value: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

let harness: SimHarness | undefined;
afterEach(async () => {
	await harness?.close();
	harness = undefined;
});

describe('a snapshot from outside', () => {
	it('what an engine sends passes whole: the fixtures, and a simulated engine\'s snapshots poll by poll (instances, prices, stops, breakers, events, history)', async () => {
		const figures = snapshot({
			environments: [view('dev', {instances: [instance('i-0aaa000000000001', {tags: {Name: 'agent 1', Environment: 'dev'}, storage: {usdPerHour: 0.01}, priceSource: 'table'})], breaker: {trippedAt: t0 - 60_000, actor: 'auto', reason: 'breach'}, billed: {todayUsd: 1, monthToDateUsd: 2, yesterday: {date: '2026-11-26', liveUsd: 10, billedUsd: 9, pct: 11.1, hours: 24, causes: []}}}), view('dev@sandbox', {account: 'sandbox', splitOf: 'dev'})],
			pending: {decision: {kind: 'stop', environment: 'dev', cascade: false, reason: 'breach', agentIds: ['i-0aaa000000000001'], savesUsdPerHour: 2.1}, dueAt: t0 + 30_000},
			lastStop: {at: t0 - 60_000, environments: ['dev'], count: 4, ids: ['i-0aaa000000000001'], usdPerHour: 2.1},
			unwatched: {at: t0, regions: ['eu-west-1'], found: [{environment: 'dev', region: 'eu-west-1', agents: 3, instances: 3}], error: null, running: false},
			events: [event(1, {results: [{id: 'i-0aaa000000000001', region: 'us-east-1', result: 'stopping', previousState: 'running', currentState: 'stopping'}], figures: {hourlyUsd: 2.3, window: '30m', baseline: null}, via: 'socket', peer: {uid: 1000, user: 'ops', pid: 4242, by: 'kernel'}})],
		});
		expect(checkSnapshot(wire(figures), now)).toEqual(wire(figures));
		for (const scenario of ['cascade', 'pricing', 'unwatched'] as ScenarioName[]) {
			harness = new SimHarness({scenario});
			for (let poll = 0; poll < 4; poll++) {
				const sent = wire(wireSnapshot(await harness.poll()));
				expect(checkSnapshot(sent, harness.clock.now()), `${scenario}, poll ${poll}`).toEqual(sent);
			}

			await harness.close();
			harness = undefined;
		}
	});

	it('a lie is refused, naming the field, what it was and what would be right', () => {
		const good = wire(snapshot());
		// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each lie reaches into the JSON as a peer would
		const lie = (change: (value: Record<string, any>) => void): string => {
			const value = structuredClone(good);
			change(value);
			const checked = checkSnapshot(value, now);
			expect(typeof checked).toBe('string');
			return checked as string;
		};

		// Money: NaN, negative, more than any fleet spends, infinite in a trend, a day's bill past what one group is ever billed.
		expect(lie(value => (value['environments'][0].hourlyUsd = Number.NaN))).toBe('environments[0].hourlyUsd is NaN, expected an amount from $0 to $416,667/h');
		expect(lie(value => (value['environments'][1].hourlyUsd = -5))).toBe('environments[1].hourlyUsd is -5, expected an amount from $0 to $416,667/h');
		expect(lie(value => (value['environments'][2].hourlyUsd = 1e12))).toMatch(/^environments\[2\]\.hourlyUsd is 1000000000000, expected/);
		expect(lie(value => (value['global'].hourlyUsd = 5e6))).toBe('global.hourlyUsd is 5000000, expected an amount from $0 to $1,250,000/h');
		expect(lie(value => (value['environments'][0].trend[2] = Number.POSITIVE_INFINITY))).toMatch(/^environments\[0\]\.trend\[2\] is Infinity/);
		expect(lie(value => (value['environments'][0].billed.todayUsd = 1e15))).toBe('environments[0].billed.todayUsd is 1000000000000000, expected an amount from $0 to $10,000,000 a day');
		expect(lie(value => (value['unknown'].hourlyUsd = -0.01))).toMatch(/^unknown\.hourlyUsd is -0\.01/);
		// Wrong types and missing fields, counts that are not whole numbers.
		expect(lie(value => (value['environments'][0].agents.running = '4'))).toBe('environments[0].agents.running is "4", expected a whole number from 0');
		expect(lie(value => (value['polls'] = 1.5))).toBe('polls is 1.5, expected a whole number from 0');
		expect(lie(value => (value['environments'][0].monitors = -1))).toMatch(/^environments\[0\]\.monitors is -1/);
		expect(lie(value => delete value['environments']))
			.toBe('environments is missing, expected an array of at most 1000');
		expect(lie(value => (value['events'] = {}))).toBe('events is an object, expected an array of at most 1000');
		expect(lie(value => (value['mode'].paused = 'no'))).toBe('mode.paused is "no", expected true or false');
		expect(lie(value => (value['environments'][0].status = 'FINE'))).toMatch(/^environments\[0\]\.status is "FINE", expected one of ACTIVE, /);
		expect(lie(value => (value['pollIntervalSeconds'] = 0))).toBe('pollIntervalSeconds is 0, expected seconds from 1 to 86400');
		// A name of control characters (an escape sequence that clears the screen) is refused, never shown.
		expect(lie(value => (value['environments'][1].name = 'dev\u001B[2J'))).toBe('environments[1].name is "dev\\u001b[2J", expected a name of 1 to 200 printable characters');
		expect(lie(value => (value['environments'][1].name = 'x'.repeat(201)))).toMatch(/^environments\[1\]\.name is "x{40}\.\.\."/);
		// Times: a snapshot from the future would look fresh for ever; an event dated 2099; a time before 2001.
		expect(lie(value => (value['at'] = now + 86_400_000))).toMatch(/^at is \d+, expected a time \(epoch ms\) from 2001 to 2026-11-27T05:15:05\.000Z \(not in the future\)$/);
		expect(lie(value => (value['lastSuccessAt'] = 0))).toMatch(/^lastSuccessAt is 0, expected a time/);
		expect(lie(value => (value['events'][0].at = '2099-01-01T00:00:00.000Z'))).toMatch(/^events\[0\]\.at is 4070908800000, expected a time/);
		// Lists past their bound: 10^6 rows, more instance rows than a server sends.
		expect(lie(value => (value['environments'] = Array.from({length: 1_000_000}, () => good['global'])))).toBe('environments is an array of 1000000, expected an array of at most 1000');
		expect(lie(value => (value['environments'][0].instances = Array.from({length: 2001}, (_, index) => wire(instance(`i-${index}`)))))).toBe('environments[].instances is 2001, expected at most 2000 instance rows in all (what a server sends)');
		// The decisions and the action pending are checked as the rows are.
		expect(lie(value => (value['decisions'] = [{kind: 'stop', environment: 'dev', cascade: false, reason: 'x', agentIds: [], savesUsdPerHour: -1}]))).toMatch(/^decisions\[0\]\.savesUsdPerHour is -1/);
		expect(lie(value => (value['pending'] = {decision: {kind: 'explode', environment: 'dev', reason: 'x'}, dueAt: t0}))).toMatch(/^pending\.decision\.kind is "explode"/);
		expect(lie(value => (value['billing'].calls = Number.MAX_VALUE))).toMatch(/^billing\.calls is 1\.7976931348623157e\+308/);
	});

	it('a field this envwatch does not know is left out, never a refusal; text a person reads is escaped; the receiver\'s own marks are never taken from the sender', () => {
		const value = wire(snapshot({unknown: {instances: 1, hourlyUsd: 0.1, tagValues: ['qa\u001B]0;owned\u0007']}}));
		value['futureField'] = {anything: [1, 2, 3]};
		(value['environments'] as Array<Record<string, unknown>>)[0]!['newerColumn'] = 'x';
		(value['events'] as Array<Record<string, unknown>>)[0]!['newerKey'] = 1;
		value['attachedTo'] = {pid: 1, host: 'spoofed'};
		value['leader'] = {pid: 1, host: 'spoofed', mode: 'serve'};
		const checked = checkSnapshot(value, now) as Snapshot;
		expect(typeof checked).toBe('object');
		expect(checked).not.toHaveProperty('futureField');
		expect(checked.environments[0]).not.toHaveProperty('newerColumn');
		expect(checked.events[0]).not.toHaveProperty('newerKey');
		expect(checked.attachedTo).toBeUndefined();
		expect(checked.leader).toBeUndefined();
		expect(checked.unknown.tagValues).toEqual(['qa\\x1b]0;owned\\x07']);
		expect(checked.environments.map(row => row.hourlyUsd)).toEqual([2.34, 1.85, 0.15]);
	});

	it('refused: the last good figures marked old (every row STALE, no breach, no decision, nothing pending), or none at all (the total unknown, never $0)', () => {
		const last = snapshot({environments: [view('dev', {status: 'BREACH', level: 'breach'})], breachFound: true, breachFoundIn: ['dev'], decisions: [{kind: 'alert', environment: 'dev', reason: 'breach'}]});
		const why = 'REFUSED the figures of serve pid 4242 (jump-1): environments[0].hourlyUsd is -5, expected an amount from $0 to $416,667/h';
		const kept = refusedSnapshot(last, why, now);
		expect(kept).toMatchObject({refused: why, error: `${why}; the last good figures are shown, marked old`, at: last.at, lastSuccessAt: last.lastSuccessAt, decisions: [], pending: null});
		expect([...kept.environments, kept.global].map(row => [row.status, row.stale])).toEqual([['STALE', why], ['STALE', why]]);
		expect(kept.environments[0]!.hourlyUsd).toBe(2.34);
		expect(breachFound(last)).toBe(true);
		expect(breachFound(kept)).toBe(false);
		const none = refusedSnapshot(undefined, why, now);
		expect(none).toMatchObject({refused: why, error: `${why}; no figures shown`, environments: [], lastSuccessAt: null, global: {status: 'STALE', unlisted: true}});
		expect(breachFound(none)).toBe(false);
		// What is kept or made passes the check itself (a standby's server sends it to this host's dashboards).
		expect(checkSnapshot(wire(kept), now)).toEqual(wire(kept));
		expect(checkSnapshot(wire(none), now)).toEqual(wire(none));
	});
});
