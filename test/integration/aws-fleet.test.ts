import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, beforeAll, beforeEach, describe, expect, test} from 'vitest';
import {loadConfig} from '../../source/config/load.js';
import type {Config} from '../../source/config/schema.js';
import type {AuditEntry} from '../../source/engine/state/audit.js';
import {Enforcer} from '../../source/engine/enforcer.js';
import {StateStore} from '../../source/engine/state/store.js';
import {AwsFleet} from '../../source/providers/aws/fleet.js';
import type {Timer} from '../../source/providers/aws/rate.js';
import type {FleetQuery} from '../../source/providers/types.js';
import {freePort, launch, testCredentials, useMoto} from '../helpers/moto.js';

// Everything here runs against moto_server through the real SDK clients: no mocks.
const moto = useMoto();
const regions = ['us-east-1', 'eu-west-1'];
const allStates: FleetQuery['states'] = ['pending', 'running', 'stopping', 'stopped'];
let config: Config;
let ids: Record<string, string[]>;

function fleet(extra: Partial<ConstructorParameters<typeof AwsFleet>[0]> = {}): AwsFleet {
	return new AwsFleet({regions, endpointUrl: moto.url, credentials: testCredentials, ...extra});
}

/** Two regions, three environments, agents, monitors, untagged and an unknown tag value. */
async function seed(): Promise<Record<string, string[]>> {
	const spec = {
		devAgentsEast: {region: 'us-east-1', count: 3, environment: 'dev', role: 'agent'},
		devAgentsWest: {region: 'eu-west-1', count: 2, environment: 'development', role: 'agent'},
		devMonitor: {region: 'us-east-1', count: 1, environment: 'dev', role: 'monitor'},
		devOther: {region: 'us-east-1', count: 1, environment: 'dev', type: 'c5.xlarge'},
		stagingAgents: {region: 'us-east-1', count: 2, environment: 'staging', role: 'agent', type: 'm5.large'},
		stagingAgentWest: {region: 'eu-west-1', count: 1, environment: 'stage', role: 'agent'},
		prodMonitor: {region: 'us-east-1', count: 1, environment: 'production', role: 'monitor'},
		prodAgentWest: {region: 'eu-west-1', count: 1, environment: 'prod', role: 'agent'},
		untagged: {region: 'us-east-1', count: 2, role: 'agent'},
		unknownValue: {region: 'eu-west-1', count: 1, environment: 'qa', role: 'agent'},
	};
	const result: Record<string, string[]> = {};
	for (const [name, launchSpec] of Object.entries(spec)) {
		result[name] = await launch(moto.url, launchSpec);
	}

	return result;
}

beforeAll(async () => {
	config = loadConfig({noStore: true, flags: {regions}}).config;
});

beforeEach(async () => {
	ids = await seed();
});

function sorted(list: string[]): string[] {
	return [...list].sort();
}

describe('listing', () => {
	test('everything carrying the environment tag, both regions, unknown values included, untagged left out', async () => {
		const listing = await fleet().list({envTagKey: 'Environment', states: allStates});
		expect(listing.errors).toEqual([]);
		const expected = Object.entries(ids).filter(([name]) => name !== 'untagged').flatMap(([, list]) => list);
		expect(sorted(listing.instances.map(instance => instance.id))).toEqual(sorted(expected));
		expect(listing.instances.find(instance => instance.tags['Environment'] === 'qa')).toMatchObject({region: 'eu-west-1', type: 't3.large', state: 'running'});
		// One page per region.
		expect(listing.calls).toBe(2);
	});

	test('exact tag values and the agent role, as the enforcer asks', async () => {
		const listing = await fleet().list({envTagKey: 'Environment', envTagValues: ['dev', 'development'], role: {key: 'Role', value: 'agent'}, states: ['pending', 'running']});
		expect(sorted(listing.instances.map(instance => instance.id))).toEqual(sorted([...ids['devAgentsEast']!, ...ids['devAgentsWest']!]));
		expect(new Set(listing.instances.map(instance => instance.region))).toEqual(new Set(regions));
	});

	test('a region named twice is listed once', async () => {
		const listing = await fleet().list({envTagKey: 'Environment', envTagValues: ['dev'], states: allStates, regions: ['us-east-1', 'us-east-1']});
		expect(listing.instances.map(instance => instance.id).sort()).toEqual([...ids['devAgentsEast']!, ...ids['devMonitor']!, ...ids['devOther']!].sort());
	});

	test('the state filter is applied by EC2', async () => {
		const aws = fleet();
		await aws.stop([{id: ids['stagingAgents']![0]!, region: 'us-east-1'}], {dryRun: false});
		const running = await aws.list({envTagKey: 'Environment', envTagValues: ['staging'], states: ['pending', 'running']});
		expect(running.instances.map(instance => instance.id)).toEqual([ids['stagingAgents']![1]]);
		const stopped = await aws.list({envTagKey: 'Environment', envTagValues: ['staging'], states: ['stopping', 'stopped']});
		expect(stopped.instances.map(instance => instance.id)).toEqual([ids['stagingAgents']![0]]);
	});

	test('pagination: many pages across reservations, nothing lost or doubled', async () => {
		// moto pages DescribeInstances by reservation (AWS by instance): 21 reservations of 2 with
		// MaxResults 5 make 5 pages (5, 5, 5, 5, 1 reservations).
		const many = await launch(moto.url, {region: 'us-west-2', count: 42, perReservation: 2, environment: 'dev', role: 'agent'});
		const listing = await fleet({pageSize: 5}).list({envTagKey: 'Environment', envTagValues: ['dev'], states: allStates, regions: ['us-west-2']});
		expect(listing.errors).toEqual([]);
		const listed = listing.instances.map(instance => instance.id);
		expect(listed).toHaveLength(42);
		expect(new Set(listed).size).toBe(42);
		expect(new Set(listed)).toEqual(new Set(many));
		expect(listing.calls).toBe(5);
	});

	test('instanceIds: only those instances, filtered by EC2; an empty list makes no call and lists nothing', async () => {
		const [a, b, c] = ids['devAgentsEast']!;
		const listing = await fleet().list({envTagKey: 'Environment', states: allStates, regions: ['us-east-1'], instanceIds: [a!, c!, ids['untagged']![0]!]});
		expect(listing.errors).toEqual([]);
		// The untagged one is named but fails the tag filter; b is not named.
		expect(sorted(listing.instances.map(instance => instance.id))).toEqual(sorted([a!, c!]));
		expect(listing.instances.map(instance => instance.id)).not.toContain(b);
		expect(await fleet().list({envTagKey: 'Environment', states: allStates, instanceIds: []})).toEqual({instances: [], errors: [], calls: 0});
	});

	test('instanceIds beyond EC2\'s 200 values a filter are listed in parts', async () => {
		const many = await launch(moto.url, {region: 'us-west-2', count: 230, environment: 'dev', role: 'agent'});
		const listing = await fleet().list({envTagKey: 'Environment', states: allStates, regions: ['us-west-2'], instanceIds: many.slice(0, 210)});
		expect(listing.errors).toEqual([]);
		expect(new Set(listing.instances.map(instance => instance.id))).toEqual(new Set(many.slice(0, 210)));
		expect(listing.instances).toHaveLength(210);
		expect(listing.calls).toBe(2);
	});

	test('a region that cannot be reached is an error for that region, not a throw', async () => {
		// The fault: an endpoint on a loopback port where nothing listens (connection refused).
		const closed = `http://127.0.0.1:${await freePort()}`;
		const listing = await fleet({endpointUrl: closed, maxAttempts: 1}).list({envTagKey: 'Environment', states: allStates, regions: ['us-east-1']});
		expect(listing.instances).toEqual([]);
		expect(listing.errors).toHaveLength(1);
		expect(listing.errors[0]).toMatchObject({region: 'us-east-1'});
		expect(listing.errors[0]!.message).toMatch(/ECONNREFUSED/);
	});
});

describe('stopping through the real Enforcer', () => {
	let stateDir: string | undefined;
	let audit: AuditEntry[];
	afterEach(() => {
		if (stateDir) {
			fs.rmSync(stateDir, {recursive: true, force: true});
			stateDir = undefined;
		}
	});

	function enforcer(aws: AwsFleet, options = {dryRun: false, readOnly: false}): Enforcer {
		stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-aws-'));
		audit = [];
		let seq = 0;
		return new Enforcer(aws, config, ['dev', 'staging', 'production'], entry => {
			const full = {...entry, seq: ++seq};
			audit.push(full);
			return full;
		}, new StateStore(stateDir), options, () => Date.now(), () => undefined);
	}

	async function states(): Promise<Map<string, string>> {
		const listing = await fleet().list({envTagKey: 'Environment', states: allStates});
		const untagged = await fleet().list({envTagKey: 'Role', states: allStates});
		return new Map([...listing.instances, ...untagged.instances].map(instance => [instance.id, instance.state]));
	}

	test('a stop of dev touches only dev agents, in both regions', async () => {
		const result = await enforcer(fleet()).execute({kind: 'stop', environments: ['dev'], reason: 'test', actor: 'auto'});
		const devAgents = [...ids['devAgentsEast']!, ...ids['devAgentsWest']!];
		expect(result.outcome).toBe('executed');
		expect(sorted(result.results.map(outcome => outcome.id))).toEqual(sorted(devAgents));
		expect(result.results.every(outcome => outcome.result === 'stopping')).toBe(true);
		const after = await states();
		for (const [name, list] of Object.entries(ids)) {
			for (const id of list) {
				expect({name, id, state: after.get(id)}).toEqual({name, id, state: devAgents.includes(id) ? 'stopped' : 'running'});
			}
		}

		// One progress line for the first region's batch as it completed, then the closing action line.
		expect(audit.map(entry => entry.type)).toEqual(['decision', 'progress', 'action']);
		expect(sorted(audit[2]!.instanceIds)).toEqual(sorted(devAgents));

	});

	test('a tag value spelt Dev counts for dev and is stopped with it (EC2 filters are case-sensitive)', async () => {
		const capital = await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'Dev', role: 'agent'});
		const result = await enforcer(fleet()).execute({kind: 'stop', environments: ['dev'], reason: 'test', actor: 'auto'});
		expect(result.results.map(outcome => outcome.id)).toContain(capital[0]);
		expect(result.results).toHaveLength(6);
	});

	test('undo starts exactly the stopped agents', async () => {
		const guard = enforcer(fleet());
		await guard.execute({kind: 'stop', environments: ['staging'], reason: 'test', actor: 'auto'});
		const undo = await guard.execute({kind: 'undo', environments: ['staging'], reason: 'undo', actor: 'me@host'});
		expect(undo.outcome).toBe('executed');
		expect(sorted(undo.results.map(outcome => outcome.id))).toEqual(sorted([...ids['stagingAgents']!, ...ids['stagingAgentWest']!]));
		expect(undo.results.every(outcome => outcome.result === 'starting')).toBe(true);
		const after = await states();
		expect([...after.values()].every(state => state === 'running')).toBe(true);
	});

	test('a dry run asks EC2 with DryRun and stops nothing', async () => {
		const result = await enforcer(fleet(), {dryRun: true, readOnly: false}).execute({kind: 'emergency', environments: ['dev', 'staging', 'production'], reason: 'test', actor: 'auto'});
		expect(result.outcome).toBe('dry-run');
		// production is monitor only: an emergency never touches its agent.
		expect(result.environments).toEqual(['dev', 'staging']);
		expect(result.results).toHaveLength(3 + 2 + 2 + 1);
		expect(result.results.every(outcome => outcome.result === 'permitted')).toBe(true);
		expect([...(await states()).values()].every(state => state === 'running')).toBe(true);
	});
});

describe('stop and start outcomes', () => {
	test('an ID EC2 does not know is reported not-found and the rest still stop', async () => {
		const good = ids['devAgentsEast']!;
		const ghost = 'i-0123456789abcdef0';
		const outcomes = await fleet().stop([{id: good[0]!, region: 'us-east-1'}, {id: ghost, region: 'us-east-1'}, ...good.slice(1).map(id => ({id, region: 'us-east-1'}))], {dryRun: false});
		expect(outcomes.map(outcome => [outcome.id, outcome.result])).toEqual([[good[0], 'stopping'], [ghost, 'not-found'], [good[1], 'stopping'], [good[2], 'stopping']]);
		expect(outcomes[1]!.message).toContain('InvalidInstanceID.NotFound');
	});

	test('already stopped, already running, terminate only when asked', async () => {
		const aws = fleet();
		const [a, b] = ids['stagingAgents']!;
		await aws.stop([{id: a!, region: 'us-east-1'}], {dryRun: false});
		const again = await aws.stop([{id: a!, region: 'us-east-1'}, {id: b!, region: 'us-east-1'}], {dryRun: false});
		expect(again.map(outcome => outcome.result)).toEqual(['already-stopped', 'stopping']);
		const start = await aws.start([{id: a!, region: 'us-east-1'}, {id: ids['prodMonitor']![0]!, region: 'us-east-1'}], {dryRun: false});
		expect(start.map(outcome => outcome.result)).toEqual(['starting', 'already-running']);
		const terminate = await aws.stop([{id: ids['devOther']![0]!, region: 'us-east-1'}], {dryRun: false, terminate: true});
		expect(terminate[0]).toMatchObject({result: 'terminating', currentState: 'shutting-down'});
	});

	test('the StopInstances bucket: batches follow the tokens, waiting for refill (fake clock)', async () => {
		const many = await launch(moto.url, {region: 'us-west-2', count: 23, environment: 'dev', role: 'agent'});
		// A fake clock makes the bucket's waits instant and countable; the calls go to moto for real.
		let now = 0;
		const sleeps: number[] = [];
		const timer: Timer = {now: () => now, sleep: async ms => {
			sleeps.push(ms);
			now += ms;
		}};
		const aws = fleet({timer, stopBucket: {capacity: 10, refillPerSecond: 5}, regions: ['us-west-2']});
		const outcomes = await aws.stop(many.map(id => ({id, region: 'us-west-2'})), {dryRun: false});
		expect(outcomes.every(outcome => outcome.result === 'stopping')).toBe(true);
		// 10 at once, then 13 more at 5 a second: the floor is (23 - 10) / 5 = 2.6 s of waiting.
		expect(now).toBeGreaterThanOrEqual(2600);
		expect(now).toBeLessThan(3600);
		expect(aws.stats.actCalls).toBe(4); // 10, then 5, 5, 3
	});
});
