import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {Pricing} from '../../source/engine/pricing.js';
import {StateStore} from '../../source/engine/state/store.js';
import type {Volume} from '../../source/domain/pricing.js';
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

/** An answer the AWS provider refused as impossible (its ImplausibleAnswerError, by name: the engine knows no SDK). */
function implausible(message: string): Error {
	return Object.assign(new Error(message), {name: 'ImplausibleAnswer'});
}

describe('answers that cannot be true', () => {
	it('a Price List price refused as impossible: its instances count at the shipped table, marked ~, the reason in pricing.error; a good answer later clears it', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-pricing-engine-'));
		dirs.push(dir);
		let lying = true;
		const prices: PriceSource = {
			async onDemand() {
				if (lying) {
					throw implausible('GetProducts answered $1000000000/h for m5.large Linux Shared in us-east-1, outside what EC2 charges for it ($0.048 to $0.12/h): rejected (region us-east-1)');
				}

				return {usd: 0.096, requests: 1};
			},
			async spot() {
				return {prices: [], requests: 1};
			},
		};
		let now = Date.UTC(2026, 10, 27, 12);
		const pricing = new Pricing({prices: Object.create(null) as Record<string, number>}, prices, new StateStore(dir), () => now, {retryMs: 60_000});
		const instance = {region: 'us-east-1', type: 'm5.large'};
		expect(pricing.book().price(instance)).toEqual({usd: 0.096, source: 'table'});
		pricing.fetchDue();
		await pricing.settled();
		expect(pricing.book().price(instance)).toEqual({usd: 0.096, source: 'estimate'});
		expect(pricing.view().error).toBe('Price List: GetProducts answered $1000000000/h for m5.large Linux Shared in us-east-1, outside what EC2 charges for it ($0.048 to $0.12/h): rejected (region us-east-1); counted at the shipped table or an estimate (~) meanwhile');

		lying = false;
		now += 60_000;
		pricing.book().price(instance);
		pricing.fetchDue();
		await pricing.settled();
		expect(pricing.book().price(instance)).toEqual({usd: 0.096, source: 'price-list'});
		expect(pricing.view().error).toBeNull();
	});

	it('volumes refused as impossible (10^15 GiB): the region\'s instances are marked ~ and keep their last known cost, never the impossible one', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-pricing-engine-'));
		dirs.push(dir);
		let answer: () => Volume[] = () => [{id: 'vol-1', region: 'us-east-1', type: 'gp2', sizeGb: 8, instanceId: 'i-1'}];
		const volumes = async () => ({volumes: answer(), calls: 1});
		let now = Date.UTC(2026, 10, 27, 12);
		const pricing = new Pricing({prices: Object.create(null) as Record<string, number>}, undefined, new StateStore(dir), () => now, {}, volumes);
		const listing = [{id: 'i-1', region: 'us-east-1', type: 't3.micro', state: 'running' as const, tags: {}}, {id: 'i-2', region: 'us-east-1', type: 't3.micro', state: 'running' as const, tags: {}}];
		pricing.noteListing(listing);
		await pricing.settled();
		expect(pricing.book().storage!('i-1')).toEqual({usd: 8 * 0.1 / 730, estimated: false});

		answer = () => {
			throw implausible('DescribeVolumes page 1: volume vol-1 has a size of 1000000000000000 GiB: EBS volumes are 1 GiB to 64 TiB (65536 GiB): not believed (region us-east-1)');
		};

		now += 10 * 60_000;
		pricing.noteListing(listing);
		await pricing.settled();
		expect(pricing.book().storage!('i-1')).toEqual({usd: 8 * 0.1 / 730, estimated: true});
		// Never asked before: nothing known, nothing added, marked.
		expect(pricing.book().storage!('i-2')).toEqual({usd: 0, estimated: true});
		expect(pricing.view().error).toMatch(/^volumes in us-east-1: DescribeVolumes page 1: volume vol-1 has a size of 1000000000000000 GiB.*; their last known cost is counted meanwhile, marked ~$/);
	});

	it('a DescribeVolumes that fails is asked again after the retry delay, not at every poll (with many accounts, one call per account and region); a new instance is asked at once', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-pricing-engine-'));
		dirs.push(dir);
		let asked = 0;
		const volumes = async () => {
			asked++;
			throw Object.assign(new Error('You are not authorized to perform this operation.'), {name: 'UnauthorizedOperation'});
		};
		let now = Date.UTC(2026, 10, 27, 12);
		const pricing = new Pricing({prices: Object.create(null) as Record<string, number>}, undefined, new StateStore(dir), () => now, {retryMs: 60_000}, volumes);
		const listing = [{id: 'i-1', region: 'us-east-1', type: 't3.micro', state: 'running' as const, tags: {}}];
		pricing.noteListing(listing);
		await pricing.settled();
		expect(asked).toBe(1);
		expect(pricing.view().error).toMatch(/^volumes in us-east-1: .*not authorized.*; their last known cost is counted meanwhile$/);
		// The next polls, within the retry delay: not asked again, the reason still said.
		for (let poll = 0; poll < 3; poll++) {
			now += 15_000;
			pricing.noteListing(listing);
			await pricing.settled();
		}

		expect(asked).toBe(1);
		expect(pricing.view().error).toMatch(/^volumes in us-east-1: /);
		// An instance not asked about yet: asked at once.
		pricing.noteListing([...listing, {id: 'i-2', region: 'us-east-1', type: 't3.micro', state: 'running' as const, tags: {}}]);
		await pricing.settled();
		expect(asked).toBe(2);
		// Past the retry delay: asked again.
		now += 61_000;
		pricing.noteListing(listing);
		await pricing.settled();
		expect(asked).toBe(3);
	});

	it('a cached price that cannot be true (prices.json is untrusted too) is not loaded: asked again, and said', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-pricing-engine-'));
		dirs.push(dir);
		const now = Date.UTC(2026, 10, 27, 12);
		const state = new StateStore(dir);
		state.savePrices({version: 1, onDemand: [['us-east-1|m5.large|Linux|NA|Shared', 1_000_000_000, now]], spot: [['us-east-1|us-east-1a|m5.large|Linux/UNIX', 0.000_01, now]], storage: []});
		const prices = source(0);
		const pricing = new Pricing({prices: Object.create(null) as Record<string, number>}, prices, state, () => now);
		expect(pricing.view().error).toBe('prices.json: m5.large in us-east-1 at $1000000000/h, spot m5.large in us-east-1 at $0.00001/h outside what EC2 charges: not believed, asked again');
		expect(pricing.book().price({region: 'us-east-1', type: 'm5.large'})).toEqual({usd: 0.096, source: 'table'});
		expect(pricing.book().price({region: 'us-east-1', type: 'm5.large', lifecycle: 'spot', availabilityZone: 'us-east-1a'})).toEqual({usd: 0.096, source: 'estimate'});
		pricing.fetchDue();
		await pricing.settled();
		expect(prices.calls).toBe(1);
		expect(pricing.view().error).toBeNull();
	});
});
