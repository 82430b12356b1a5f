import {describe, expect, it} from 'vitest';
import {aggregate, classify, environmentIndex, priceCounted} from '../../source/domain/classify.js';
import {tableBook, type PriceBook} from '../../source/domain/pricing.js';
import {GLOBAL, prune, record, windowStats, type History} from '../../source/domain/history.js';
import type {InstanceState, RawInstance} from '../../source/domain/types.js';

const tags = {envTagKey: 'Environment', roleTag: {key: 'Role', agent: 'agent', monitor: 'monitor'}};
const environments = {dev: {tagValues: ['dev', 'development']}, staging: {tagValues: ['staging', 'stage']}, production: {tagValues: ['production', 'prod']}};
const prices = {'g4dn.xlarge': 0.526, 'm5.large': 0.096, 't3.micro': 0.0104, 'c5.large': 0.085};

let counter = 0;
function instance(environment: string | undefined, type: string, role?: string, state: InstanceState = 'running', region = 'us-east-1'): RawInstance {
	const instanceTags: Record<string, string> = {Name: 'x'};
	if (environment !== undefined) {
		instanceTags['Environment'] = environment;
	}

	if (role !== undefined) {
		instanceTags['Role'] = role;
	}

	return {id: `i-${++counter}`, region, type, state, tags: instanceTags};
}

describe('aggregate: hourly spend per environment', () => {
	it('sums the on-demand price of pending and running instances, agents or not', () => {
		const fleet = [
			instance('dev', 'g4dn.xlarge', 'agent'),
			instance('dev', 'g4dn.xlarge', 'agent', 'pending', 'us-west-2'),
			instance('dev', 'm5.large'),
			instance('dev', 'g4dn.xlarge', 'agent', 'stopped'),
			instance('dev', 'g4dn.xlarge', 'agent', 'stopping'),
			instance('dev', 'g4dn.xlarge', 'agent', 'terminated'),
			instance('staging', 'c5.large', 'monitor'),
		];
		const {byEnvironment} = aggregate(fleet, tags, environments, prices);
		const dev = byEnvironment.get('dev')!;
		expect(dev.hourlyUsd).toBeCloseTo(0.526 * 2 + 0.096, 9);
		expect(dev.agentHourlyUsd).toBeCloseTo(0.526 * 2, 9);
		expect(dev.agentsRunning).toBe(2);
		expect(dev.instancesRunning).toBe(3);
		expect(dev.agentIds).toEqual([{id: fleet[0]!.id, region: 'us-east-1', type: 'g4dn.xlarge'}, {id: fleet[1]!.id, region: 'us-west-2', type: 'g4dn.xlarge'}]);
		const staging = byEnvironment.get('staging')!;
		expect(staging).toMatchObject({hourlyUsd: 0.085, agentHourlyUsd: 0, agentsRunning: 0, monitorsRunning: 1, agentIds: []});
		// Every configured environment is present, even with nothing running.
		expect(byEnvironment.get('production')).toMatchObject({hourlyUsd: 0, instancesRunning: 0});
	});

	it('maps every configured tag value, case-insensitively', () => {
		const {byEnvironment} = aggregate([instance('development', 'm5.large'), instance('Prod', 'm5.large', 'agent'), instance('STAGE', 't3.micro')], tags, environments, prices);
		expect(byEnvironment.get('dev')!.instancesRunning).toBe(1);
		expect(byEnvironment.get('production')!.agentsRunning).toBe(1);
		expect(byEnvironment.get('staging')!.hourlyUsd).toBeCloseTo(0.0104, 9);
	});

	it('prices a type no source knows at a conservative estimate, counts it and marks it, never as $0', () => {
		const {byEnvironment} = aggregate([
			instance('dev', 'x9.xlarge', 'agent'),
			instance('dev', 'x9.xlarge'),
			instance('dev', 'a1.odd'),
			instance('dev', 'm5.large', 'agent'),
		], tags, environments, prices);
		const dev = byEnvironment.get('dev')!;
		expect(dev.estimated).toBe(3);
		expect(dev.estimatedTypes).toEqual(['a1.odd', 'x9.xlarge']);
		expect(dev.unpriced).toBe(0);
		expect(dev.instancesRunning).toBe(4);
		// The estimate is an upper bound of what EC2 charges: x9.xlarge, a family no table knows of the
		// `x` series (at most $1 an xlarge); a1.odd, a size that does not say, as the largest (48
		// xlarges) of the `a` series ($0.70 an xlarge); m5.large its own $0.096.
		expect(dev.hourlyUsd).toBeCloseTo((1 * 2) + (48 * 0.7) + 0.096, 9);
		// An estimated agent is an agent to stop, and what stopping it saves counts the estimate.
		expect(dev.agentsRunning).toBe(2);
		expect(dev.agentHourlyUsd).toBeCloseTo(1 + 0.096, 9);
		expect(dev.agentIds.map(agent => agent.type)).toEqual(['x9.xlarge', 'm5.large']);
		expect(byEnvironment.get('staging')!.estimated).toBe(0);
	});

	it('counts an instance as unpriced, never $0, only when no price is known at all', () => {
		const {byEnvironment} = aggregate([instance('dev', 'x9.mega', 'agent')], tags, environments, {});
		expect(byEnvironment.get('dev')).toMatchObject({unpriced: 1, unpricedTypes: ['x9.mega'], instancesRunning: 1, hourlyUsd: 0, agentsRunning: 1});
	});

	it('puts tag values no environment claims in the unknown bucket, and ignores untagged instances', () => {
		const {byEnvironment, unknown} = aggregate([instance('qa', 'm5.large', 'agent'), instance('sandbox', 't3.micro'), instance('qa', 'm5.large'), instance(undefined, 'm5.large', 'agent')], tags, environments, prices);
		expect(unknown.tagValues).toEqual(['qa', 'sandbox']);
		expect(unknown.instancesRunning).toBe(3);
		expect(unknown.hourlyUsd).toBeCloseTo(0.096 * 2 + 0.0104, 9);
		const total = [...byEnvironment.values()].reduce((sum, spend) => sum + spend.instancesRunning, 0);
		expect(total).toBe(0);
	});

	it('classifies one instance with its environment and role', () => {
		const index = environmentIndex(environments);
		expect(classify(instance('Development', 'm5.large', 'agent'), tags, index)).toMatchObject({environment: 'dev', role: 'agent'});
		expect(classify(instance('prod', 'm5.large', 'monitor'), tags, index)).toMatchObject({environment: 'production', role: 'monitor'});
		expect(classify(instance('qa', 'm5.large', 'builder'), tags, index)).toMatchObject({environment: undefined, role: 'other'});
	});
});

describe('sample history and windows', () => {
	const minute = 60_000;
	const now = 1_000 * minute;

	function series(points: Array<[minutesAgo: number, usd: number]>): History {
		const history: History = {};
		for (const [ago, usd] of points) {
			record(history, 'dev', {at: now - ago * minute, usd});
		}

		return history;
	}

	it('the baseline is the oldest sample not older than the window', () => {
		const history = series([[45, 1], [30, 2], [10, 3], [0, 4]]);
		const stats = windowStats(history['dev'], 30 * minute, now);
		expect(stats).toMatchObject({baselineUsd: 2, baselineAt: now - 30 * minute, currentUsd: 4, increaseUsd: 2, increasePct: 100, warmingUp: false});
		expect(stats.samples.map(sample => sample.usd)).toEqual([2, 3, 4]);
		// One millisecond older than the window is out.
		const justOut = series([[30.001, 2], [10, 3], [0, 4]]);
		expect(windowStats(justOut['dev'], 30 * minute, now).baselineUsd).toBe(3);
	});

	it('a zero baseline gives no increase', () => {
		const stats = windowStats(series([[20, 0], [0, 3]])['dev'], 30 * minute, now);
		expect(stats.baselineUsd).toBe(0);
		expect(stats.increasePct).toBeUndefined();
		expect(stats.currentUsd).toBe(3);
	});

	it('warms up until the history spans the window, measured against the oldest sample meanwhile', () => {
		const young = windowStats(series([[5, 2], [0, 2.2]])['dev'], 30 * minute, now);
		expect(young.warmingUp).toBe(true);
		expect(young.increasePct).toBeCloseTo(10, 9);
		expect(windowStats(series([[31, 2], [5, 2], [0, 2.2]])['dev'], 30 * minute, now).warmingUp).toBe(false);
	});

	it('no samples: nothing to measure', () => {
		expect(windowStats(undefined, 30 * minute, now)).toMatchObject({currentUsd: 0, baselineUsd: undefined, increasePct: undefined, warmingUp: true, samples: []});
	});

	it('record keeps time order; prune drops samples past what is kept', () => {
		const history: History = {};
		record(history, GLOBAL, {at: now, usd: 1});
		record(history, GLOBAL, {at: now - minute, usd: 9});
		record(history, GLOBAL, {at: now + minute, usd: 2});
		expect(history[GLOBAL]!.map(sample => sample.usd)).toEqual([1, 2]);

		const long = series([[90, 1], [61, 2], [60, 3], [1, 4]]);
		prune(long, now, 60 * minute);
		expect(long['dev']!.map(sample => sample.usd)).toEqual([3, 4]);
	});
});

describe('priceCounted: what a one-shot run asks of the book before its figures are in', () => {
	it('asks for the price of exactly the instances aggregate prices (pending or running, with an environment tag)', () => {
		const fleet = [
			instance('dev', 'g4dn.xlarge', 'agent'),
			instance('dev', 'm5.large', undefined, 'pending'),
			instance('nobody-claims-this', 'c5.large'),
			instance(undefined, 't3.micro'),
			instance('dev', 'g4dn.xlarge', 'agent', 'stopped'),
			instance('staging', 'c5.large', 'monitor', 'stopping'),
			instance('prod', 'm5.large', 'monitor', 'running', 'eu-west-1'),
		];
		const asked = (run: (book: PriceBook) => void): string[] => {
			const book = tableBook(prices);
			const ids: string[] = [];
			run({...book, price: priced => {
				ids.push((priced as RawInstance).id);
				return book.price(priced);
			}});
			return ids;
		};

		const byAggregate = asked(book => aggregate(fleet, tags, environments, book));
		expect(asked(book => {
			priceCounted(fleet, tags.envTagKey, book);
		})).toEqual(byAggregate);
		expect(byAggregate).toEqual([fleet[0]!.id, fleet[1]!.id, fleet[2]!.id, fleet[6]!.id]);
	});
});
