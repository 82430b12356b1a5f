import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {Pricing} from '../../source/engine/pricing.js';
import {StateStore} from '../../source/engine/state.js';
import type {PriceSource} from '../../source/providers/types.js';

const dirs: string[] = [];
afterEach(() => {
	for (const dir of dirs.splice(0)) {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

/** A price source in memory (the engine's side of it; the AWS side is tested against moto and the loopback Price List). */
function source(failures: number): PriceSource & {calls: number} {
	let left = failures;
	const counted = {
		calls: 0,
		async onDemand() {
			counted.calls++;
			if (left-- > 0) {
				throw new Error('connect ECONNREFUSED');
			}

			return {usd: 0.107, requests: 1};
		},
		async spot() {
			return {prices: [], requests: 1};
		},
	};
	return counted;
}

describe('the engine side of live prices', () => {
	it('a failed Price List question is asked again after the retry delay, not only at the hourly recheck; the table is used meanwhile', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-pricing-engine-'));
		dirs.push(dir);
		let now = Date.UTC(2026, 10, 27, 12);
		const prices = source(1);
		const pricing = new Pricing({prices: Object.create(null) as Record<string, number>}, prices, new StateStore(dir), () => now);
		const instance = {region: 'eu-west-1', type: 'm5.large'};
		expect(pricing.book().price(instance)).toEqual({usd: 0.096, source: 'table'});
		pricing.fetchDue();
		await pricing.settled();
		expect(pricing.view().error).toBe('Price List: connect ECONNREFUSED; the shipped table and estimates are used meanwhile');

		now += 60_000;
		pricing.book().price(instance);
		pricing.fetchDue();
		await pricing.settled();
		expect(prices.calls).toBe(1);

		now += 5 * 60_000;
		expect(pricing.book().price(instance)).toEqual({usd: 0.096, source: 'table'});
		pricing.fetchDue();
		await pricing.settled();
		expect(prices.calls).toBe(2);
		expect(pricing.book().price(instance)).toEqual({usd: 0.107, source: 'price-list'});
		expect(pricing.view().error).toBeNull();
	});
});
