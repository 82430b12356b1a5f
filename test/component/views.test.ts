import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {loadConfig} from '../../source/config/load.js';
import {fallbackPrices} from '../../source/domain/price-table.js';
import {aggregate} from '../../source/domain/classify.js';
import type {RawInstance} from '../../source/domain/types.js';
import {readAuditTail} from '../../source/engine/state/audit-reader.js';
import {staticBook} from '../../source/engine/pricing.js';
import {toJson, wireInstancesMax, wireSnapshot} from '../../source/engine/snapshot.js';
import {maxLineBytes} from '../../source/serve/protocol.js';
import {splitKeys} from '../../source/ui/key-presses.js';
import {makeTheme} from '../../source/ui/theme.js';
import {filterEntries} from '../../source/ui/views/audit.js';
import {axisTop, chart, chartLegend, resample, thresholdUsd} from '../../source/ui/views/chart.js';
import {filterInstances, fitColumns, instanceCell, nextSort, shiftSort, sortInstances} from '../../source/ui/views/instances.js';
import {regionRows} from '../../source/ui/views/regions.js';
import {detailView, reduceView, type View} from '../../source/ui/views/state.js';
import {event, instance as row, snapshot, t0, view} from './fixtures.js';

const rows = [
	row('i-a', {name: 'web', usdPerHour: 0.5, launchedAt: t0 - 3_600_000, type: 'c5.large', region: 'eu-west-1', zone: 'eu-west-1b', lifecycle: 'spot'}),
	row('i-b', {name: 'batch', usdPerHour: null, launchedAt: t0 - 60_000, type: 'x9.huge', launchedBy: 'ops@jump'}),
	row('i-c', {name: 'dns', usdPerHour: 0.01, launchedAt: null, role: 'other'}),
	row('i-d', {name: 'old', usdPerHour: 0, state: 'stopped', launchedAt: t0 - 86_400_000}),
];

describe('detail view: sorting and filtering', () => {
	it('sorts by $/h descending by default with unknown (unpriced) last, and the same key again reverses it', () => {
		expect(sortInstances(rows, {column: 'usd', descending: true}).map(item => item.id)).toEqual(['i-a', 'i-c', 'i-d', 'i-b']);
		expect(sortInstances(rows, {column: 'usd', descending: false}).map(item => item.id)).toEqual(['i-d', 'i-c', 'i-a', 'i-b']);
		expect(nextSort({column: 'usd', descending: true}, 'usd')).toEqual({column: 'usd', descending: false});
		expect(nextSort({column: 'usd', descending: true}, 'name')).toEqual({column: 'name', descending: false});
	});

	it('sorts by age oldest first when descending; an unknown launch time is last either way', () => {
		expect(sortInstances(rows, {column: 'age', descending: true}).map(item => item.id)).toEqual(['i-d', 'i-a', 'i-b', 'i-c']);
		expect(sortInstances(rows, {column: 'age', descending: false}).map(item => item.id)).toEqual(['i-b', 'i-a', 'i-d', 'i-c']);
	});

	it('< and > move the sort to the neighbouring shown column and stop at the ends', () => {
		const shown = ['id', 'name', 'state', 'usd'] as const;
		expect(shiftSort({column: 'usd', descending: true}, shown, -1)).toEqual({column: 'state', descending: false});
		expect(shiftSort({column: 'usd', descending: true}, shown, 1)).toEqual({column: 'usd', descending: true});
		expect(shiftSort({column: 'id', descending: false}, shown, -1)).toEqual({column: 'id', descending: false});
	});

	it('filters case-insensitively on every cell; every word must match', () => {
		expect(filterInstances(rows, 'SPOT').map(item => item.id)).toEqual(['i-a']);
		expect(filterInstances(rows, 'us-east-1 other').map(item => item.id)).toEqual(['i-c']);
		expect(filterInstances(rows, 'ops@').map(item => item.id)).toEqual(['i-b']);
		expect(filterInstances(rows, '  ').map(item => item.id)).toHaveLength(4);
		expect(filterInstances(rows, 'nothing-like-it')).toEqual([]);
	});

	it('fits the columns to the width: ID, state and $/h always; the least needed give way first', () => {
		for (const columns of [40, 60, 80, 120, 200]) {
			const fitted = fitColumns(columns);
			const width = 2 + fitted.reduce((sum, column) => sum + column.shown, 0) + fitted.length - 1;
			expect(width).toBeLessThanOrEqual(columns);
			expect(fitted.map(column => column.key)).toEqual(expect.arrayContaining(['id', 'state', 'usd']));
		}

		expect(fitColumns(120).map(column => column.key)).toEqual(['id', 'name', 'type', 'region', 'lifecycle', 'state', 'age', 'by', 'role', 'usd']);
		expect(fitColumns(80).map(column => column.key)).not.toContain('by');
	});
});

describe('detail view keys', () => {
	const context = {count: 4, environments: ['dev', 'staging'], shown: ['id', 'name', 'usd'] as const};
	const press = (view: View, ...keys: Array<[string, Record<string, boolean>?]>) => keys.reduce<View | undefined>((current, [input, key]) => current && reduceView(current, input, key ?? {}, context).view, view);

	it('/ starts a filter that takes every printable key (q and s included), Enter keeps it, Esc clears it, a second Esc goes back', () => {
		let current = press(detailView('dev'), ['/'], ['q'], ['s'], ['x'], ['', {backspace: true}]);
		expect(current).toMatchObject({filter: 'qs', editing: true});
		current = press(current!, ['', {return: true}]);
		expect(current).toMatchObject({filter: 'qs', editing: false});
		current = press(current!, ['', {escape: true}]);
		expect(current).toMatchObject({filter: '', editing: false});
		expect(press(current!, ['', {escape: true}])).toBeUndefined();
	});

	it('the cursor stays among the rows shown; a column key sorts; s asks to stop the environment', () => {
		expect(press(detailView('dev'), ['j'], ['j'], ['j'], ['j'], ['j'])).toMatchObject({cursor: 3});
		expect(press(detailView('dev'), ['k'])).toMatchObject({cursor: 0});
		expect(press(detailView('dev'), ['N'])).toMatchObject({sort: {column: 'name', descending: false}});
		expect(press(detailView('dev'), ['<'])).toMatchObject({sort: {column: 'name', descending: false}});
		expect(reduceView(detailView('dev'), 's', {}, context).effect).toEqual({kind: 'stop', environment: 'dev'});
		expect(reduceView(detailView('dev'), 'q', {}, context).effect).toEqual({kind: 'quit'});
	});

	it('Page Down and Page Up move by a page, within the rows; two Page Downs in one packet are two', () => {
		const long = {...context, count: 100, page: 15};
		expect(reduceView(detailView('dev'), '', {pageDown: true}, long).view).toMatchObject({cursor: 15});
		expect(reduceView({...detailView('dev'), cursor: 95} as View, '', {pageDown: true}, long).view).toMatchObject({cursor: 99});
		expect(reduceView({...detailView('dev'), cursor: 10} as View, '', {pageUp: true}, long).view).toMatchObject({cursor: 0});
		expect(splitKeys('\u001B[6~\u001B[6~')).toEqual([['', {pageDown: true}], ['', {pageDown: true}]]);
		expect(splitKeys('\u001B[5~')).toEqual([['', {pageUp: true}]]);
	});
});

describe('spend over time: the chart', () => {
	const glyphs = makeTheme().glyphs;

	it('the axis starts at $0 and its top is a round figure above the spend, the threshold and the cap', () => {
		expect(axisTop([2.34], [2.38, 5])).toBe(6);
		expect(axisTop([120], [null, 100])).toBe(150);
		expect(axisTop([0.15], [0.151, 0.5])).toBe(0.6);
		expect(axisTop([], [null, 0])).toBe(1);
	});

	it('draws the cap and the threshold as lines in the rows they fall in, the spend in blocks, at the given width', () => {
		const drawn = chart([1, 2, 3, 4], {width: 40, height: 8, threshold: 3, cap: 5, glyphs, ascii: false, pollIntervalSeconds: 15});
		expect(drawn.top).toBe(6);
		expect(drawn.lines).toHaveLength(9);
		for (const line of drawn.lines) {
			expect([...line].length).toBeLessThanOrEqual(40);
		}

		expect(drawn.lines[0]).toMatch(/^\$6\.00│ +$/);
		expect(drawn.lines[1]).toMatch(/^ {5}│═+$/);
		expect(drawn.lines[7]).toMatch(/^\$0\.00│ +[▁-█]{4}$/);
		expect(drawn.lines.some(line => line.includes('╌'))).toBe(true);
		// The newest sample is at the right edge; the highest one reaches the threshold's row.
		expect(drawn.lines.at(-1)).toMatch(/└─*-45s─*now$/);
	});

	it('a cap far above the spend stays off the axis (the spend would flatten to nothing) and the legend says so; spend above $0 always shows', () => {
		const drawn = chart([0.147, 0.147, 0.153], {width: 40, height: 6, threshold: 0.148, cap: 50, glyphs, ascii: false, pollIntervalSeconds: 2});
		expect(drawn.top).toBe(0.2);
		expect(drawn.lines.join('\n')).not.toContain('═');
		expect(chartLegend(view('production', {trend: [0.147, 0.153], baselineUsd: 0.147, thresholdPct: 0.5, maxHourlyUsd: 50}), false)).toContain('cap $50.00 (↑ above the chart)');
		expect(chartLegend(view('dev'), false)).toContain('═ cap $5.00');
		const tiny = chart([0.001, 4], {width: 20, height: 4, threshold: null, cap: 5, glyphs, ascii: false, pollIntervalSeconds: 2});
		expect(tiny.lines[3]).toMatch(/▁█$/);
	});

	it('--ascii draws with # = - only', () => {
		const drawn = chart([1, 2, 3, 4], {width: 30, height: 6, threshold: 3, cap: 5, glyphs: makeTheme({ascii: true}).glyphs, ascii: true, pollIntervalSeconds: 1});
		expect(drawn.lines.join('\n')).toMatch(/^[\u0020-\u007E\n]*$/);
		expect(drawn.lines.join('\n')).toContain('=');
		expect(drawn.lines.join('\n')).toContain('#');
	});

	it('more samples than columns keep each column\'s highest, so a spike stays seen', () => {
		expect(resample([1, 9, 1, 1, 1, 1], 3)).toEqual([9, 1, 1]);
		expect(resample([1, 2], 5)).toEqual([1, 2]);
	});

	it('the threshold in $/h is the baseline raised by the threshold, unknown without a baseline', () => {
		expect(thresholdUsd({baselineUsd: 2, thresholdPct: 5})).toBeCloseTo(2.1);
		expect(thresholdUsd({baselineUsd: null, thresholdPct: 5})).toBeNull();
	});
});

describe('by region', () => {
	it('sums billed $/h, agents and instances per region; configured regions with nothing show as 0; stopped ones do not count', () => {
		expect(regionRows(rows, ['us-east-1', 'us-west-2'])).toEqual([
			{region: 'eu-west-1', hourlyUsd: 0.5, unpriced: 0, agents: 1, instances: 1},
			{region: 'us-east-1', hourlyUsd: 0.01, unpriced: 1, agents: 1, instances: 2},
			{region: 'us-west-2', hourlyUsd: 0, unpriced: 0, agents: 0, instances: 0},
		]);
	});
});

describe('the instance list in the snapshot', () => {
	const config = loadConfig({noStore: true}).config;
	const raw = (id: string, overrides: Partial<RawInstance> = {}): RawInstance => ({id, region: 'us-east-1', type: 't3.micro', state: 'running', tags: {[config.envTagKey]: 'dev', [config.roleTag.key]: config.roleTag.agent}, ...overrides});

	it('lists every instance of the environment, billed or not, with tags read by own key only', () => {
		const result = aggregate([
			raw('i-1', {tags: {[config.envTagKey]: 'dev', Name: 'web', 'envwatch:launched-by': 'ops@jump'}, lifecycle: 'spot', availabilityZone: 'us-east-1a', launchedAt: t0}),
			raw('i-2', {state: 'stopped'}),
			raw('i-3', {type: 'no.such-type'}),
			raw('i-4', {type: 'constructor', tags: {[config.envTagKey]: 'dev', Name: 'constructor'}}),
			raw('i-5', {type: 't3.micro'}),
		], config, config.environments, staticBook(config));
		const list = result.byEnvironment.get('dev')!.instances!;
		expect(list.map(item => item.id)).toEqual(['i-1', 'i-2', 'i-3', 'i-4', 'i-5']);
		// A spot instance with no spot price yet: bounded by its on-demand price, marked an estimate.
		// With what the describe (`d`) shows: the price's source and the tags as listed.
		expect(list[0]).toEqual({id: 'i-1', name: 'web', type: 't3.micro', region: 'us-east-1', zone: 'us-east-1a', lifecycle: 'spot', state: 'running', launchedAt: t0, launchedBy: 'ops@jump', role: 'other', usdPerHour: fallbackPrices['t3.micro'], estimated: true,
			priceSource: 'estimate', tags: {[config.envTagKey]: 'dev', Name: 'web', 'envwatch:launched-by': 'ops@jump'}});
		expect(list[4]).toMatchObject({priceSource: 'table'});
		expect(list[1]).not.toHaveProperty('priceSource');
		expect(list[1]).toMatchObject({usdPerHour: 0, lifecycle: null, zone: null, name: null, launchedBy: null, role: 'agent'});
		expect(list[1]).not.toHaveProperty('estimated');
		expect(list[4]).toMatchObject({usdPerHour: fallbackPrices['t3.micro']});
		expect(list[4]).not.toHaveProperty('estimated');
		// A type no source prices: a conservative estimate, marked, never $0 (and a type named
		// `constructor` finds no inherited price: it is estimated like any unknown type). Neither says
		// its size, so the bound is the largest (48 xlarges) at the dearest rate of all ($2.50 an xlarge).
		expect(list[2]).toMatchObject({usdPerHour: 48 * 2.5, estimated: true});
		expect(list[3]).toMatchObject({usdPerHour: 48 * 2.5, estimated: true});
		// No price known at all: unknown, never $0.
		const bare = aggregate([raw('i-6')], config, config.environments, {}).byEnvironment.get('dev')!.instances!;
		expect(bare[0]!.usdPerHour).toBeNull();
		expect(result.byEnvironment.get('staging')!.instances ?? []).toEqual([]);
	});

	it('shows an estimated price with a `~`, an unknown one as unpriced, never $0', () => {
		expect(instanceCell(row('i-a', {usdPerHour: 0.5, estimated: true}), 'usd', t0)).toBe('~$0.50');
		expect(instanceCell(row('i-b', {usdPerHour: 0.5}), 'usd', t0)).toBe('$0.50');
		expect(instanceCell(row('i-c', {usdPerHour: null}), 'usd', t0)).toBe('unpriced');
	});

	it('goes over the serve socket while small; past the bound the lists are withheld and counted, so a line stays under 1 MiB', () => {
		const small = snapshot({environments: [view('dev', {instances: [row('i-a'), row('i-b')]}), view('staging', {instances: [row('i-c')]})]});
		expect(wireSnapshot(small, 3)).toBe(small);
		const wire = wireSnapshot(small, 2);
		expect(wire.environments.map(item => [item.instances, item.instancesWithheld])).toEqual([[undefined, 2], [undefined, 1]]);
		const big = snapshot({environments: [view('dev', {instances: Array.from({length: 10_000}, (_, index) => row(`i-${index.toString(16).padStart(17, '0')}`, {name: `bench-${index}`, zone: 'us-east-1a', lifecycle: 'on-demand', launchedAt: t0, launchedBy: 'ops@jump'}))})]});
		expect(JSON.stringify(big).length).toBeGreaterThan(maxLineBytes);
		expect(JSON.stringify(wireSnapshot(big)).length).toBeLessThan(maxLineBytes / 10);
		expect(JSON.stringify(wireSnapshot({...big, environments: [{...big.environments[0]!, instances: big.environments[0]!.instances!.slice(0, wireInstancesMax)}]})).length).toBeLessThan(maxLineBytes);
	});

	it('stays out of the headless NDJSON snapshot', () => {
		const json = toJson(snapshot({environments: [view('dev', {instances: [row('i-a')]})]}));
		expect(JSON.stringify(json)).not.toContain('"i-a"');
		expect((json['environments'] as Array<Record<string, unknown>>)[0]).not.toHaveProperty('instances');
	});
});

describe('the audit log source', () => {
	const dirs: string[] = [];
	afterEach(() => {
		for (const dir of dirs.splice(0)) {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});

	const file = (text: string) => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-audit-view-'));
		dirs.push(dir);
		const name = path.join(dir, 'audit.log');
		fs.writeFileSync(name, text);
		return name;
	};

	it('reads newest first, skipping and counting torn, non-JSON and wrongly shaped lines', () => {
		const lines = [JSON.stringify(event(1)), 'not json', JSON.stringify({...event(2), seq: 'two'}), JSON.stringify(event(3)), JSON.stringify([1]), JSON.stringify(event(4)).slice(0, 30)];
		const tail = readAuditTail(file(lines.join('\n')));
		expect(tail.entries.map(entry => entry.seq)).toEqual([3, 1]);
		expect(tail.skipped).toBe(4);
		expect(tail.truncated).toBe(false);
		expect(tail.error).toBeNull();
	});

	it('is bounded: only the last lines are read, and it says so', () => {
		const text = Array.from({length: 50}, (_, index) => JSON.stringify(event(index + 1))).join('\n') + '\n';
		const tail = readAuditTail(file(text), 10);
		expect(tail.entries.map(entry => entry.seq)).toEqual([50, 49, 48, 47, 46, 45, 44, 43, 42, 41]);
		expect(tail.truncated).toBe(true);
		expect(tail.skipped).toBe(0);
		const bytes = readAuditTail(file(text), 5000, 600);
		expect(bytes.truncated).toBe(true);
		expect(bytes.skipped).toBe(0);
		expect(bytes.entries[0]!.seq).toBe(50);
	});

	it('a missing log is empty; an unreadable one says why', () => {
		expect(readAuditTail('/nonexistent/envwatch/audit.log')).toEqual({entries: [], skipped: 0, truncated: false, error: null});
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-audit-view-'));
		dirs.push(dir);
		expect(readAuditTail(dir).error).toMatch(/cannot read the audit log .*EISDIR/);
	});

	it('filters entries by kind, environment, actor, reason, outcome and instance ID', () => {
		const entries = [event(1, {kind: 'stop', instanceIds: ['i-0abc']}), event(2, {actor: 'ops@jump'}), event(3, {outcome: 'failed: throttled'})];
		expect(filterEntries(entries, 'i-0ab').map(entry => entry.seq)).toEqual([1]);
		expect(filterEntries(entries, 'OPS@').map(entry => entry.seq)).toEqual([2]);
		expect(filterEntries(entries, 'throttled').map(entry => entry.seq)).toEqual([3]);
	});
});
