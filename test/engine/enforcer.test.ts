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
