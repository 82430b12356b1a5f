import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {CachedBilling, usdPerBillingRequest} from '../../source/engine/billing.js';
import {StateStore} from '../../source/engine/state.js';
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

	it('without a source (Cost Explorer off) it never fetches', async () => {
		const billing = new CachedBilling(undefined, new StateStore(dir), 60 * minute);
		expect(billing.enabled).toBe(false);
		expect(await billing.refresh(t0)).toBe(false);
	});
});
