import {describe, expect, it} from 'vitest';
import type {Fleet} from '../../source/providers/types.js';
import {halted, live, useSimHarnesses} from '../helpers/sim.js';

const {start} = useSimHarnesses();

/**
 * A fake provider over the sim whose chosen instances carry other tag values (as hand-tagged
 * instances do: `Dev`, `DEVELOPMENT`). It filters on tag values exactly, as EC2's server-side
 * filters do (they are case-sensitive).
 */
function tagged(overrides: Map<string, Record<string, string>>) {
	return (fleet: Fleet): Fleet => ({
		async list(query) {
			const broad = await fleet.list({...query, envTagValues: undefined, role: undefined});
			const instances = broad.instances
				.map(instance => ({...instance, tags: {...instance.tags, ...overrides.get(instance.id)}}))
				.filter(instance => (!query.envTagValues || query.envTagValues.includes(instance.tags[query.envTagKey] ?? ''))
					&& (!query.role || instance.tags[query.role.key] === query.role.value));
			return {...broad, instances};
		},
		stop: async (targets, options) => fleet.stop(targets, options),
		start: async (targets, options) => fleet.start(targets, options),
	});
}

describe('enforcer scope', () => {
	it('an agent tagged with another case of a tag value (Environment=Dev) is dev\'s: counted in its spend and stopped with it', async () => {
		const overrides = new Map<string, Record<string, string>>();
		const sim = start({scenario: 'dev-spike', wrap: tagged(overrides)});
		const [upper, lower] = sim.agents('dev');
		overrides.set(upper!, {Environment: 'Dev'});
		overrides.set(lower!, {Environment: 'DEVELOPMENT'});
		const first = await sim.poll();
		expect(first.environments.find(view => view.name === 'dev')!.agents.running).toBe(4);
		await sim.poll();
		await sim.poll();
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev'));
		expect(sim.auditLines().find(entry => entry.type === 'action')).toMatchObject({outcome: 'executed'});
		expect(sim.auditLines().find(entry => entry.type === 'action')!.instanceIds).toHaveLength(5);
	});

	it('instances of an unmonitored tag value, and non-agents, are never stopped by any command', async () => {
		const overrides = new Map<string, Record<string, string>>();
		const sim = start({scenario: 'calm', wrap: tagged(overrides)});
		const qaAgent = sim.agents('staging')[0]!;
		overrides.set(qaAgent, {Environment: 'qa'});
		await sim.poll();
		expect(sim.store.getSnapshot()!.unknown).toMatchObject({instances: 1, tagValues: ['qa']});
		await sim.monitor.command({kind: 'emergency'});
		expect(sim.states()[qaAgent]).toBe('running');
		expect(sim.instances().filter(instance => instance.role !== 'agent').every(instance => instance.state === 'running')).toBe(true);
		expect(sim.agents('staging', live)).toEqual([qaAgent]);
	});
});

/**
 * A provider whose filters do nothing: every list answers every instance of the account, in every
 * state, whatever was asked (monitors, other environments' agents, untagged ones). The enforcer's
 * own check, on exact tag matches, is then the last line of defence.
 */
function ignoresFilters(fleet: Fleet): Fleet {
	return {
		list: async query => fleet.list({envTagKey: query.envTagKey, states: ['pending', 'running', 'stopping', 'stopped']}),
		stop: async (targets, options) => fleet.stop(targets, options),
		start: async (targets, options) => fleet.start(targets, options),
	};
}

describe('the enforcer\'s own scope check (whatever the provider\'s filters did)', () => {
	it('a stop of dev, with a provider that ignores filters, stops dev\'s agents only: not its monitors, not another environment\'s agents', async () => {
		const sim = start({scenario: 'calm', wrap: ignoresFilters});
		await sim.poll();
		const before = sim.states();
		const devAgents = sim.agents('dev', live);
		const result = await sim.monitor.command({kind: 'stop', environment: 'dev'});
		expect(result).toMatchObject({outcome: 'executed'});
		expect(sim.fleet.stops.flat().map(target => target.id).sort()).toEqual(devAgents);
		const after = sim.states();
		for (const [id, state] of Object.entries(before)) {
			expect(after[id], id).toBe(devAgents.includes(id) ? 'stopping' : state);
		}
	});

	it('an emergency with such a provider stops the agents of the environments that stop on breach, and nothing in production', async () => {
		const sim = start({scenario: 'calm', wrap: ignoresFilters});
		const [rogue] = sim.sim.spawn({environment: 'production', role: 'agent', type: 't3.micro', count: 1, region: 'us-east-1', name: 'rogue'}, sim.clock.nowMs - 1000, 'running');
		await sim.poll();
		const inScope = [...sim.agents('dev', live), ...sim.agents('staging', live)].sort();
		await sim.monitor.command({kind: 'emergency'});
		expect(sim.fleet.stops.flat().map(target => target.id).sort()).toEqual(inScope);
		expect(sim.states()[rogue!]).toBe('running');
		expect(sim.instances().filter(instance => instance.role !== 'agent').every(instance => instance.state === 'running')).toBe(true);
	});
});

describe('the enforcer\'s monitor-only guard (not only the policy\'s)', () => {
	it('execute with actor auto on production (onBreach: alert) is refused for a stop, a cascade and an emergency, even naming it as confirmed', async () => {
		const sim = start({scenario: 'calm'});
		const [rogue] = sim.sim.spawn({environment: 'production', role: 'agent', type: 't3.micro', count: 1, region: 'us-east-1', name: 'rogue'}, sim.clock.nowMs - 1000, 'running');
		await sim.poll();
		for (const kind of ['stop', 'cascade', 'emergency', 'respawn'] as const) {
			const result = await sim.monitor.enforcer.execute({kind, environments: ['production'], reason: `an automatic ${kind}`, actor: 'auto', confirmed: ['production']});
			expect(result, kind).toMatchObject({outcome: 'skipped', environments: []});
			expect(result.summary, kind).toBe('production is monitor only: never stopped automatically or by an emergency; nothing done');
		}

		expect(sim.fleet.stops).toEqual([]);
		expect(sim.states()[rogue!]).toBe('running');
		// A person who names it may stop it; the same call as auto may not.
		const manual = await sim.monitor.enforcer.execute({kind: 'stop', environments: ['production'], reason: 'manual stop', actor: 'tester@jump', confirmed: ['production']});
		expect(manual).toMatchObject({outcome: 'executed'});
		expect(halted).toContain(sim.states()[rogue!]);
	});
});
