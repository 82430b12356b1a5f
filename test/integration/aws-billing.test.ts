import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {expect, test} from 'vitest';
import {CachedBilling} from '../../source/engine/billing.js';
import {StateStore} from '../../source/engine/state/store.js';
import {CostExplorerBilling, parseCostResults, period, tagValueOf} from '../../source/providers/aws/billing.js';
import {seedCostAndUsage, testCredentials, useFaultProxy, useMoto} from '../helpers/moto.js';

// Cost Explorer through the real SDK client against moto_server. moto tracks no cost, so its
// answers are queued with POST /moto-api/static/ce/cost-and-usage-results; moto hands them out
// in order, one per distinct request body (so the second page, which carries NextPageToken,
// gets the second answer).
const moto = useMoto();
const proxy = useFaultProxy(moto);
const now = Date.UTC(2026, 10, 27, 12, 0, 0);

function group(value: string, amount: string) {
	return {Keys: [`Environment$${value}`], Metrics: {UnblendedCost: {Amount: amount, Unit: 'USD'}}};
}

const page1 = {
	GroupDefinitions: [{Type: 'TAG', Key: 'Environment'}],
	ResultsByTime: [
		{TimePeriod: {Start: '2026-11-01', End: '2026-11-02'}, Total: {}, Groups: [group('dev', '10.5'), group('staging', '4'), group('', '1.25')], Estimated: false},
		{TimePeriod: {Start: '2026-11-02', End: '2026-11-03'}, Total: {}, Groups: [group('dev', '11'), group('development', '2'), group('prod', '3')], Estimated: false},
	],
	NextPageToken: 'page-2',
};
const page2 = {
	GroupDefinitions: [{Type: 'TAG', Key: 'Environment'}],
	ResultsByTime: [
		{TimePeriod: {Start: '2026-11-27', End: '2026-11-28'}, Total: {}, Groups: [group('dev', '6.75'), group('', '0.5')], Estimated: true},
	],
};

test('GetCostAndUsage pages are parsed per environment tag value: today and month to date', async () => {
	await seedCostAndUsage(moto.url, [page1, page2]);
	const billing = new CostExplorerBilling({endpointUrl: moto.url, credentials: testCredentials}, 'Environment');
	const {cost, requests} = await billing.fetch(now);
	billing.close();
	expect(requests).toBe(2);
	expect(cost.fetchedAt).toBe(now);
	expect(cost.todayUsd).toEqual({dev: 6.75, untagged: 0.5});
	expect(cost.monthToDateUsd).toEqual({dev: 28.25, staging: 4, untagged: 1.75, development: 2, prod: 3});
});

test('the engine cache fetches once per refresh interval, counts every page, and keeps it in the state dir', async () => {
	await seedCostAndUsage(moto.url, [page1, page2]);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-ce-'));
	const source = new CostExplorerBilling({endpointUrl: moto.url, credentials: testCredentials}, 'Environment');
	const cached = new CachedBilling(source, new StateStore(dir), 60 * 60_000);
	expect(await cached.refresh(now)).toBe(true);
	expect(await cached.refresh(now + 59 * 60_000)).toBe(false);
	expect(cached.view()).toMatchObject({calls: 2, costUsd: 0.02, error: null});
	// A restart reads the cache instead of paying again.
	const restarted = new CachedBilling(source, new StateStore(dir), 60 * 60_000);
	expect(restarted.view().cost?.todayUsd).toEqual({dev: 6.75, untagged: 0.5});
	expect(await restarted.refresh(now + 10 * 60_000)).toBe(false);
	source.close();
	fs.rmSync(dir, {recursive: true, force: true});
});

test('the query period is UTC: month start (or yesterday, on the 1st) to tomorrow (End is exclusive)', () => {
	expect(period(now)).toEqual({start: '2026-11-01', monthStart: '2026-11-01', yesterday: '2026-11-26', today: '2026-11-27', end: '2026-11-28'});
	expect(period(Date.UTC(2026, 11, 31, 23, 59))).toEqual({start: '2026-12-01', monthStart: '2026-12-01', yesterday: '2026-12-30', today: '2026-12-31', end: '2027-01-01'});
	// On the 1st the query reaches back to yesterday, so yesterday's bill can be checked.
	expect(period(Date.UTC(2026, 2, 1, 0, 0))).toEqual({start: '2026-02-28', monthStart: '2026-03-01', yesterday: '2026-02-28', today: '2026-03-01', end: '2026-03-02'});
});

test('group keys: Environment$dev -> dev, Environment$ -> untagged; a key of another tag key or without $ is kept whole, never dropped', () => {
	expect(tagValueOf('Environment$dev', 'Environment')).toBe('dev');
	expect(tagValueOf('Environment$', 'Environment')).toBe('untagged');
	expect(tagValueOf('env$a$b', 'env')).toBe('a$b');
	expect(tagValueOf('environment$Dev', 'Environment')).toBe('(group "environment$Dev")');
	expect(tagValueOf('NoDollar', 'Environment')).toBe('(group "NoDollar")');
});

test('odd-case and unknown tag groups are shown as billed to no environment, never dropped: Environment$Dev counts for dev (as live spend does), environment$Dev and keys without $ do not', async () => {
	const odd = {
		GroupDefinitions: [{Type: 'TAG', Key: 'Environment'}],
		ResultsByTime: [{TimePeriod: {Start: '2026-11-27', End: '2026-11-28'}, Total: {}, Estimated: true, Groups: [
			group('Dev', '1.5'), group('dev', '1'), group('', '0.5'), group('qa', '0.25'),
			{Keys: ['environment$Dev'], Metrics: {UnblendedCost: {Amount: '2', Unit: 'USD'}}},
			{Keys: ['NoDollar'], Metrics: {UnblendedCost: {Amount: '0.125', Unit: 'USD'}}},
		]}],
	};
	await seedCostAndUsage(moto.url, [odd]);
	const source = new CostExplorerBilling({endpointUrl: proxy.url, credentials: testCredentials}, 'Environment');
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-ce-'));
	try {
		const cached = new CachedBilling(source, new StateStore(dir), 60 * 60_000, {tagValues: ['dev', 'development', 'staging', 'stage']});
		await cached.refresh(now);
		const view = cached.view();
		expect(view.error).toBeNull();
		expect(view.cost?.todayUsd['dev']).toBe(2.5);
		expect(view.unattributed).toEqual({todayUsd: 2.875, monthToDateUsd: 2.875, groups: ['(group "NoDollar")', '(group "environment$Dev")', 'qa', 'untagged']});
	} finally {
		source.close();
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('credits and refunds are left out of the query; a negative amount is then not believed: billing fails, never a figure lowered without saying so', async () => {
	const credited = {...page2, ResultsByTime: [{...page2.ResultsByTime[0], Groups: [group('dev', '6.75'), group('staging', '-40.00')]}]};
	await seedCostAndUsage(moto.url, [credited]);
	const source = new CostExplorerBilling({endpointUrl: proxy.url, credentials: testCredentials}, 'Environment');
	await expect(source.fetch(now)).rejects.toThrow('group Environment$staging of 2026-11-27 has UnblendedCost -40.00: a negative cost, though credits and refunds are left out of the query: billed cost is not believed');
	source.close();
	const sent = JSON.parse(proxy.seen.find(request => request.action === 'GetCostAndUsage')!.body) as {Filter?: unknown};
	expect(sent.Filter).toEqual({Not: {Dimensions: {Key: 'RECORD_TYPE', Values: ['Credit', 'Refund']}}});
	// A rounding speck below zero is no credit: a day that cost nothing.
	const parse = (amount: string) => parseCostResults([{TimePeriod: {Start: '2026-11-27', End: '2026-11-28'}, Groups: [{Keys: ['Environment$dev'], Metrics: {UnblendedCost: {Amount: amount, Unit: 'USD'}}}]}], 'Environment', '2026-11-27');
	expect(parse('-0.0000001').todayUsd).toEqual({dev: 0});
});

test('a query that needs more pages than its cap fails whole (never part of a bill) and says how many requests were paid', async () => {
	const paged = (token: string | undefined) => ({...page2, ...(token ? {NextPageToken: token} : {})});
	await seedCostAndUsage(moto.url, [paged('p2'), paged('p3'), paged(undefined)]);
	const source = new CostExplorerBilling({endpointUrl: proxy.url, credentials: testCredentials}, 'Environment');
	const error = await source.fetch(now, {maxPages: 2}).catch((caught: unknown) => caught) as Error & {paidRequests?: number};
	source.close();
	expect(error.message).toBe('GetCostAndUsage still had more pages after 2 (costExplorer.maxPagesPerQuery): billed cost is not shown rather than part of it (region us-east-1)');
	expect(error.paidRequests).toBe(2);
	expect(proxy.seen.filter(request => request.action === 'GetCostAndUsage')).toHaveLength(2);
});

test('a Cost Explorer 200 with an HTML page is a billing error naming what came back, never $0', async () => {
	await seedCostAndUsage(moto.url, [page1, page2]);
	proxy.rule = request => request.action === 'GetCostAndUsage' ? {reply: {status: 200, body: '<html><head><title>Proxy login</title></head></html>', contentType: 'text/html'}} : undefined;
	const source = new CostExplorerBilling({endpointUrl: proxy.url, credentials: testCredentials}, 'Environment');
	await expect(source.fetch(now)).rejects.toThrow('GetCostAndUsage answered HTTP 200 text/html, 52 bytes, starting "<html><head><title>Proxy login</title></...": expected a JSON object (region us-east-1)');
	// Through the engine's cache: an error shown as such, no cost (rather than a cost of $0).
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-ce-'));
	try {
		const cached = new CachedBilling(source, new StateStore(dir), 60 * 60_000);
		await cached.refresh(now);
		expect(cached.view().cost).toBeUndefined();
		expect(cached.view().error).toContain('GetCostAndUsage answered HTTP 200 text/html');
	} finally {
		source.close();
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('a well-formed Cost Explorer answer with an amount that is not a number, or no groups, is a billing error', async () => {
	const broken = {...page2, ResultsByTime: [{...page2.ResultsByTime[0], Groups: [group('dev', 'n/a')]}]};
	await seedCostAndUsage(moto.url, [broken]);
	const source = new CostExplorerBilling({endpointUrl: proxy.url, credentials: testCredentials}, 'Environment');
	await expect(source.fetch(now)).rejects.toThrow('group Environment$dev of 2026-11-27 has UnblendedCost amount "n/a": expected a number');
	source.close();
	const parse = (groups: unknown) => () => parseCostResults([{TimePeriod: {Start: '2026-11-27', End: '2026-11-28'}, Groups: groups as never}], 'Environment', '2026-11-27');
	expect(parse([{Keys: ['Environment$dev'], Metrics: {UnblendedCost: {Amount: 'NaN'}}}])).toThrow(/amount "NaN": expected a number/);
	expect(parse([{Keys: ['Environment$dev'], Metrics: {UnblendedCost: {Amount: ''}}}])).toThrow(/amount "": expected a number/);
	expect(parse([{Keys: ['Environment$dev'], Metrics: {BlendedCost: {Amount: '3'}}}])).toThrow(/amount null: expected a number/);
	expect(parse([{Keys: ['Environment$dev'], Metrics: {UnblendedCost: {Amount: '3', Unit: 'EUR'}}}])).toThrow(/in EUR: expected USD/);
	expect(parse(undefined)).toThrow(/has no Groups list/);
	// `constructor` is a valid environment name: summed as any other, not onto Object.prototype.
	expect(parse([{Keys: ['Environment$constructor'], Metrics: {UnblendedCost: {Amount: '2.5', Unit: 'USD'}}}])()).toEqual({todayUsd: {constructor: 2.5}, monthToDateUsd: {constructor: 2.5}});
});
