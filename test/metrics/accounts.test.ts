import {describe, expect, it} from 'vitest';
import {Metrics} from '../../source/metrics/metrics.js';
import {event, snapshot} from '../component/fixtures.js';

const account = (name: string, id: string, stale: string | null, share: {instances: number; agents: number; hourlyUsd: number}) => ({
	name, id, via: 'role' as const, through: `arn:aws:iam::${id}:role/envwatch-member`, regions: ['us-east-1'], stale, status: stale === null ? 'OK' as const : 'STALE' as const,
	...(stale === null ? share : {instances: null, agents: null, hourlyUsd: null}),
});

async function series(metrics: Metrics, prefix: string): Promise<string[]> {
	return (await metrics.registry.metrics()).split('\n').filter(line => line.startsWith(prefix));
}

describe('/metrics per account', () => {
	it('each account: up 1 or 0, its $/h and agents (absent while it fails, never 0), what envwatch stopped there; an account that leaves is removed', async () => {
		const metrics = new Metrics({defaults: false});
		metrics.update(snapshot({accounts: [
			account('sandbox-a', '111111111111', null, {instances: 3, agents: 2, hourlyUsd: 0.25}),
			account('sandbox-b', '222222222222', 'us-east-1: cannot assume arn:aws:iam::222222222222:role/envwatch-member (AccessDenied)', {instances: 0, agents: 0, hourlyUsd: 0}),
		]}));
		expect(await series(metrics, 'envwatch_account_')).toEqual([
			'envwatch_account_up{account="sandbox-a",account_id="111111111111"} 1',
			'envwatch_account_up{account="sandbox-b",account_id="222222222222"} 0',
			'envwatch_account_hourly_cost_usd{account="sandbox-a",account_id="111111111111"} 0.25',
			'envwatch_account_agents_running{account="sandbox-a",account_id="111111111111"} 2',
		]);
		metrics.record(event(7, {type: 'action', kind: 'stop', environments: ['dev@sandbox-a'], outcome: 'executed', results: [
			{id: 'i-0aaa000000000001', region: 'us-east-1', account: '111111111111', accountName: 'sandbox-a', result: 'stopping'},
			{id: 'i-0aaa000000000002', region: 'us-east-1', account: '111111111111', accountName: 'sandbox-a', result: 'not-found'},
		]}));
		expect(await series(metrics, 'envwatch_account_instances_stopped_total')).toEqual(['envwatch_account_instances_stopped_total{account="sandbox-a",account_id="111111111111"} 1']);
		metrics.update(snapshot({accounts: [account('sandbox-a', '111111111111', null, {instances: 1, agents: 0, hourlyUsd: 0.08})]}));
		expect(await series(metrics, 'envwatch_account_up')).toEqual(['envwatch_account_up{account="sandbox-a",account_id="111111111111"} 1']);
		// One account (no accounts configured): none of these series.
		const single = new Metrics({defaults: false});
		single.update(snapshot());
		expect(await series(single, 'envwatch_account_')).toEqual([]);
	});
});
