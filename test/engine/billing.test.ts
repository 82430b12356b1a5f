import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {CachedBilling, usdPerBillingRequest} from '../../source/engine/billing.js';
import {billedCost} from '../../source/engine/projection.js';
import {StateStore} from '../../source/engine/state/store.js';
import type {BilledCost, BillingSource} from '../../source/providers/types.js';

/** A billing source that counts its fetches and fails on demand. */
class FakeBilling implements BillingSource {
	fetches: number[] = [];
	failing = false;

	async fetch(now: number): Promise<{cost: BilledCost; requests: number}> {
		this.fetches.push(now);
		if (this.failing) {
			throw Object.assign(new Error('User not enabled for cost explorer access'), {name: 'AccessDeniedException'});
		}

		return {cost: {todayUsd: {dev: 12.5}, monthToDateUsd: {dev: 300}, fetchedAt: now}, requests: 2};
	}
}

const minute = 60_000;
const t0 = Date.UTC(2026, 10, 27, 9, 0, 0);
let dir: string;
beforeEach(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-billing-'));
});
afterEach(() => {
	fs.rmSync(dir, {recursive: true, force: true});
});

describe('CachedBilling', () => {
	it('fetches at most once per refresh interval and counts every paid request', async () => {
		const source = new FakeBilling();
		const billing = new CachedBilling(source, new StateStore(dir), 60 * minute);
		expect(await billing.refresh(t0)).toBe(true);
		expect(await billing.refresh(t0 + 59 * minute)).toBe(false);
		expect(source.fetches).toEqual([t0]);
		expect(billing.view()).toMatchObject({calls: 2, costUsd: 2 * usdPerBillingRequest, error: null, cost: {todayUsd: {dev: 12.5}}});
		expect(await billing.refresh(t0 + 60 * minute)).toBe(true);
		expect(billing.view().calls).toBe(4);
	});

	it('keeps its cache across a restart: no new paid request within the interval', async () => {
		const source = new FakeBilling();
		await new CachedBilling(source, new StateStore(dir), 60 * minute).refresh(t0);
		const restarted = new CachedBilling(source, new StateStore(dir), 60 * minute);
		expect(restarted.view()).toMatchObject({calls: 2, cost: {monthToDateUsd: {dev: 300}, fetchedAt: t0}});
		expect(await restarted.refresh(t0 + 10 * minute)).toBe(false);
		expect(source.fetches).toHaveLength(1);
	});

	it('a failure is shown, counted, and retried only after a full interval', async () => {
		const source = new FakeBilling();
		source.failing = true;
		const billing = new CachedBilling(source, new StateStore(dir), 60 * minute);
		await billing.refresh(t0);
		expect(billing.view()).toMatchObject({cost: undefined, calls: 1, error: 'AccessDeniedException: User not enabled for cost explorer access'});
		expect(await billing.refresh(t0 + 5 * minute)).toBe(false);
		source.failing = false;
		expect(await billing.refresh(t0 + 60 * minute)).toBe(true);
		expect(billing.view()).toMatchObject({error: null, cost: {todayUsd: {dev: 12.5}}});
	});

	it('a failed first fetch is not billed data after a restart: no cost, never $0', async () => {
		const source = new FakeBilling();
		source.failing = true;
		await new CachedBilling(source, new StateStore(dir), 60 * minute).refresh(t0);
		const restarted = new CachedBilling(source, new StateStore(dir), 60 * minute);
		expect(restarted.view().cost).toBeUndefined();
		expect(restarted.view().calls).toBe(1);
	});

	it('an answer of the wrong shape is an error, counted, and never taken for $0', async () => {
		const source = new FakeBilling();
		const billing = new CachedBilling(source, new StateStore(dir), 60 * minute);
		await billing.refresh(t0);
		// A source bug or a changed API: costs that are not numbers (the shape moto cannot produce here).
		source.fetch = async now => ({cost: {todayUsd: {dev: Number.NaN}, monthToDateUsd: {}, fetchedAt: now}, requests: 1});
		expect(await billing.refresh(t0 + 60 * minute)).toBe(true);
		expect(billing.view()).toMatchObject({calls: 3, error: "the billing source answered with today's costs missing or not numbers", cost: {todayUsd: {dev: 12.5}, fetchedAt: t0}});
	});

	it('caps what a day may cost across runs (costExplorer.maxUsdPerDay): a query gets only the pages left today, then none until the next UTC day', async () => {
		// Cost Explorer answering pages that never end: each fetch pays for every page it may take, then fails.
		const limits: Array<{maxPages: number; capName?: string}> = [];
		const endless: BillingSource = {
			async fetch(_now, given) {
				limits.push(given!);
				throw Object.assign(new Error(`GetCostAndUsage still had more pages after ${given!.maxPages} (${given!.capName})`), {name: 'PageCap', paidRequests: given!.maxPages});
			},
		};
		const caps = {maxPagesPerQuery: 20, maxUsdPerDay: 0.25};
		// Each run is a new process on the same state dir (cron): the day's count is in billing.json.
		const run = async (at: number) => {
			const billing = new CachedBilling(endless, new StateStore(dir), 60 * minute, caps);
			await billing.refresh(at);
			return billing.view();
		};

		expect(await run(t0)).toMatchObject({calls: 20, costUsd: 0.2, cost: undefined, error: 'GetCostAndUsage still had more pages after 20 (costExplorer.maxPagesPerQuery)'});
		expect((await run(t0 + 5 * minute)).error).toBe('GetCostAndUsage still had more pages after 5 (the daily cap of $0.25 (costExplorer.maxUsdPerDay), 5 pages left today)');
		const capped = await run(t0 + 10 * minute);
		expect(capped).toMatchObject({calls: 25, costUsd: 0.25, error: 'Cost Explorer: the daily cap of $0.25 (costExplorer.maxUsdPerDay) reached: 25 paid requests today (UTC); billed cost is fetched again tomorrow'});
		expect(limits.map(given => given.maxPages)).toEqual([20, 5]);
		// The next UTC day starts afresh.
		await run(Date.UTC(2026, 10, 28, 0, 1));
		expect(limits.map(given => given.maxPages)).toEqual([20, 5, 20]);
	});

	it('a failed fetch counts the requests it paid for, not one', async () => {
		const failing: BillingSource = {
			async fetch() {
				throw Object.assign(new Error('GetCostAndUsage page 4 has no ResultsByTime list'), {name: 'MalformedAnswer', paidRequests: 4});
			},
		};
		const billing = new CachedBilling(failing, new StateStore(dir), 60 * minute);
		await billing.refresh(t0);
		expect(billing.view()).toMatchObject({calls: 4, costUsd: 0.04, error: 'GetCostAndUsage page 4 has no ResultsByTime list'});
	});

	it('without a source (Cost Explorer off) it never fetches', async () => {
		const billing = new CachedBilling(undefined, new StateStore(dir), 60 * minute);
		expect(billing.enabled).toBe(false);
		expect(await billing.refresh(t0)).toBe(false);
	});
});

describe('live vs billed yesterday', () => {
	it('the hourly rollup of a watched day is compared with its final bill, with causes when over 25%', async () => {
		const {SimAccount} = await import('../../source/providers/sim/account.js');
		const {Monitor} = await import('../../source/engine/monitor.js');
		const {AuditLog} = await import('../../source/engine/state/audit.js');
		const {SnapshotStore} = await import('../../source/engine/snapshot-store.js');
		const {loadConfig} = await import('../../source/config/load.js');
		const {fallbackPrices} = await import('../../source/domain/price-table.js');
		const {config} = loadConfig({noStore: true, flags: {regions: ['us-east-1', 'us-west-2'], pollIntervalSeconds: 300, costExplorer: {enabled: true, refreshMinutes: 60}}});
		const yesterday = Date.UTC(2026, 10, 26);
		let now = yesterday;
		const sim = new SimAccount({scenario: 'calm', now: () => now, envTagKey: config.envTagKey, roleTag: config.roleTag, tagValueOf: name => config.environments[name]!.tagValues[0]!, prices: fallbackPrices});
		// The bill for yesterday: dev as the live figure would have it less 3%, staging at 70% of it.
		const live = {dev: 2.3364 * 24, staging: 0};
		const billing = {
			async fetch(at: number) {
				return {cost: {todayUsd: {}, monthToDateUsd: {}, fetchedAt: at, yesterday: {date: '2026-11-26', usd: {dev: live.dev / 0.97, staging: live.staging / 1.41}}}, requests: 1};
			},
		};
		const monitor = new Monitor({
			provider: {source: 'test', fleet: sim, billing}, config, monitored: ['dev', 'staging', 'production'], store: new SnapshotStore(),
			state: new StateStore(dir), audit: new AuditLog(path.join(dir, 'audit.jsonl')), clock: () => now, options: {dryRun: true, readOnly: true, actor: 'test@host'},
		});
		let snapshot = await monitor.poll();
		live.staging = snapshot.environments.find(view => view.name === 'staging')!.hourlyUsd * 24;
		live.dev = snapshot.environments.find(view => view.name === 'dev')!.hourlyUsd * 24;
		for (now += 300_000; now <= yesterday + 24 * 3_600_000; now += 300_000) {
			await monitor.poll();
		}

		snapshot = (await monitor.settled())!;
		const dev = snapshot.environments.find(view => view.name === 'dev')!.billed!.yesterday!;
		expect(dev).toMatchObject({date: '2026-11-26', hours: 24, causes: []});
		expect(dev.pct).toBeCloseTo(-3, 6);
		const staging = snapshot.environments.find(view => view.name === 'staging')!.billed!.yesterday!;
		expect(staging.pct).toBeCloseTo(41, 6);
		expect(staging.causes).toContain('savings plans, reserved instances or credits lower the bill');
		const {formatDashboard} = await import('../../source/app/headless.js');
		expect(formatDashboard(snapshot)).toContain('- Live vs billed yesterday: dev -3%, staging +41% (over 25%: do not trust the live figure blindly)');
		await monitor.stop();
	});
});

describe('billed cost per environment', () => {
	it('a tag value named constructor or toString is $0 when the bill has nothing for it, never an inherited property', () => {
		// The simulated account's tables are plain objects: inherited names must not be read as costs.
		const cost: BilledCost = {todayUsd: {dev: 1.5}, monthToDateUsd: {dev: 30}, fetchedAt: 0, yesterday: {date: '2026-11-26', usd: {dev: 24}}};
		const billed = billedCost(cost, ['constructor', 'toString', 'dev'], {}, 'constructor', false);
		expect(billed.todayUsd).toBe(1.5);
		expect(billed.monthToDateUsd).toBe(30);
		expect(billed.yesterday).toMatchObject({date: '2026-11-26', billedUsd: 24, liveUsd: 0, hours: 0});
	});
});
