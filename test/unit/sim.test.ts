import {describe, expect, it} from 'vitest';
import {fallbackPrices} from '../../source/domain/price-table.js';
import {loadConfig} from '../../source/config/load.js';
import {aggregate} from '../../source/domain/classify.js';
import {SimAccount, simRegions} from '../../source/providers/sim/account.js';
import {scenarioNames, scenarios, type ScenarioName} from '../../source/providers/sim/scenarios.js';
import type {FleetQuery} from '../../source/providers/types.js';

const config = loadConfig({noStore: true}).config;
const all: FleetQuery = {envTagKey: 'Environment', states: ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated']};

function account(scenario: ScenarioName = 'calm') {
	let now = Date.UTC(2026, 10, 27, 9, 0, 0);
	const sim = new SimAccount({scenario, now: () => now, envTagKey: 'Environment', roleTag: config.roleTag, tagValueOf: name => config.environments[name]!.tagValues[0]!, prices: fallbackPrices});
	return {sim, advance: (ms: number) => {
		now += ms;
	}, now: () => now};
}

const spendOf = async (sim: SimAccount) => aggregate((await sim.list({...all, regions: simRegions})).instances, config, config.environments, fallbackPrices).byEnvironment;

describe('SimAccount', () => {
	it('starts with the seed fleet, in both of its regions', async () => {
		const {sim} = account();
		const spend = await spendOf(sim);
		expect(spend.get('dev')).toMatchObject({agentsRunning: 4, unpriced: 0});
		expect(spend.get('dev')!.hourlyUsd).toBeCloseTo(2.3364, 4);
		expect(spend.get('staging')).toMatchObject({agentsRunning: 2});
		expect(spend.get('staging')!.hourlyUsd).toBeCloseTo(1.8448, 4);
		expect(spend.get('production')).toMatchObject({agentsRunning: 0, monitorsRunning: 1});
		expect(spend.get('production')!.hourlyUsd).toBeCloseTo(0.1474, 4);
		expect(new Set(sim.snapshot().map(instance => instance.region))).toEqual(new Set(simRegions));
		// Untagged instances exist, and a listing by tag key never returns them.
		expect(sim.snapshot().some(instance => instance.tags['Environment'] === undefined)).toBe(true);
		expect((await sim.list(all)).instances.every(instance => instance.tags['Environment'] !== undefined)).toBe(true);
	});

	it('unwatched runs three dev agents in eu-west-1 from the start: an enabled region --demo does not watch', () => {
		const {sim} = account('unwatched');
		expect(sim.snapshot().filter(instance => instance.region === 'eu-west-1' && instance.tags['Environment'] === 'dev' && instance.tags['Role'] === 'agent')).toHaveLength(3);
		expect(sim.enabledRegions()).toEqual([...simRegions, 'eu-west-1']);
	});

	it.each(scenarioNames.filter(name => name !== 'calm' && name !== 'unwatched'))('%s changes the fleet at +20 s, not before', async name => {
		const {sim, advance} = account(name);
		const count = () => sim.snapshot().length;
		const base = count();
		advance(19_999);
		expect(count()).toBe(base);
		advance(1);
		const added = scenarios[name].events.flatMap(event => event.launch).reduce((sum, launch) => sum + launch.count, 0);
		expect(count()).toBe(base + added);
	});

	it('list filters by tag values, role, states and regions, as EC2 filters would', async () => {
		const {sim} = account();
		const devAgents = await sim.list({...all, envTagValues: ['dev'], role: {key: 'Role', value: 'agent'}, states: ['running']});
		expect(devAgents.instances).toHaveLength(4);
		expect((await sim.list({...all, envTagValues: ['dev'], role: {key: 'Role', value: 'agent'}, states: ['running'], regions: ['us-west-2']})).instances).toHaveLength(2);
		expect((await sim.list({...all, envTagValues: ['Dev']})).instances).toHaveLength(0);
		expect((await sim.list({...all, states: ['stopped']})).instances).toHaveLength(0);
	});

	it('stops and starts change the fleet, through stopping and pending, on the injected clock', async () => {
		const {sim, advance} = account();
		const [agent] = (await sim.list({...all, envTagValues: ['staging'], role: {key: 'Role', value: 'agent'}})).instances;
		const target = {id: agent!.id, region: agent!.region};
		expect(await sim.stop([target], {dryRun: false})).toEqual([{...target, result: 'stopping', previousState: 'running', currentState: 'stopping'}]);
		expect((await sim.stop([target], {dryRun: false}))[0]!.result).toBe('already-stopped');
		advance(2000);
		expect(sim.snapshot().find(instance => instance.id === agent!.id)!.state).toBe('stopped');
		expect((await sim.start([target], {dryRun: false}))[0]!.result).toBe('starting');
		advance(2000);
		expect(sim.snapshot().find(instance => instance.id === agent!.id)!.state).toBe('running');
		expect((await sim.start([target], {dryRun: false}))[0]!.result).toBe('already-running');
	});

	it('a dry run changes nothing; a wrong region or unknown ID is not found', async () => {
		const {sim} = account();
		const before = sim.snapshot();
		const [agent] = (await sim.list({...all, envTagValues: ['dev'], role: {key: 'Role', value: 'agent'}})).instances;
		expect((await sim.stop([{id: agent!.id, region: agent!.region}], {dryRun: true}))[0]!.result).toBe('permitted');
		expect((await sim.stop([{id: agent!.id, region: 'eu-west-1'}], {dryRun: false}))[0]!.result).toBe('not-found');
		expect((await sim.stop([{id: 'i-0000', region: 'us-east-1'}], {dryRun: false}))[0]!.result).toBe('not-found');
		expect(sim.snapshot()).toEqual(before);
	});

	it('billing lags like Cost Explorer: nothing billed for today in the first three hours of the UTC day', async () => {
		const {sim} = account();
		const early = await sim.fetch(Date.UTC(2026, 10, 27, 2, 0, 0));
		expect(early.cost.todayUsd['dev']).toBe(0);
		const later = await sim.fetch(Date.UTC(2026, 10, 27, 13, 0, 0));
		expect(later.cost.todayUsd['dev']).toBeCloseTo(2.3364 * 10, 1);
		expect(later.cost.monthToDateUsd['dev']).toBeGreaterThan(later.cost.todayUsd['dev']!);
		expect(later.cost.todayUsd['untagged']).toBeGreaterThan(0);
		expect(later.requests).toBe(1);
	});
});
