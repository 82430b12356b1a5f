import {expect, test} from 'vitest';
import {fallbackPrices} from '../../source/domain/price-table.js';
import {loadConfig} from '../../source/config/load.js';
import {SimAccount} from '../../source/providers/sim/account.js';
import type {InstanceOutcome, Target} from '../../source/providers/types.js';

// The simulated account honours the same contracts as the AWS provider: the instance-id filter,
// the per-batch scope re-check and the per-batch progress callback (its batches are per region).
const config = loadConfig({noStore: true}).config;

function account() {
	const now = Date.UTC(2026, 10, 27, 9, 0, 0);
	return new SimAccount({scenario: 'calm', now: () => now, envTagKey: 'Environment', roleTag: config.roleTag, tagValueOf: name => config.environments[name]!.tagValues[0]!, prices: fallbackPrices});
}

const devAgents = async (sim: SimAccount) => (await sim.list({envTagKey: 'Environment', envTagValues: ['dev'], role: {key: config.roleTag.key, value: config.roleTag.agent}, states: ['running']})).instances;

test('instanceIds lists only those instances; an empty list lists nothing', async () => {
	const sim = account();
	const agents = await devAgents(sim);
	const listed = await sim.list({envTagKey: 'Environment', states: ['running'], instanceIds: [agents[0]!.id, agents[3]!.id, 'i-00000000000000000']});
	expect(listed.instances.map(instance => instance.id)).toEqual([agents[0]!.id, agents[3]!.id]);
	expect((await sim.list({envTagKey: 'Environment', states: ['running'], instanceIds: []})).instances).toEqual([]);
});

test('recheck before each batch: instances it drops are out-of-scope and untouched; onBatch sees each batch in order', async () => {
	const sim = account();
	const agents = await devAgents(sim);
	const targets: Target[] = agents.map(({id, region}) => ({id, region}));
	const dropped = targets.find(target => target.region === 'us-west-2')!;
	const rechecked: string[][] = [];
	const batches: InstanceOutcome[][] = [];
	const outcomes = await sim.stop(targets, {
		dryRun: false,
		recheck: async batch => {
			rechecked.push(batch.map(target => target.region));
			return new Set(batch.filter(target => target !== dropped).map(target => target.id));
		},
		onBatch: done => batches.push(done),
	});
	expect(rechecked).toEqual([['us-east-1', 'us-east-1'], ['us-west-2', 'us-west-2']]);
	expect(batches.map(batch => batch.map(outcome => outcome.result))).toEqual([['stopping', 'stopping'], ['out-of-scope', 'stopping']]);
	expect(outcomes.find(outcome => outcome.id === dropped.id)).toEqual({id: dropped.id, region: 'us-west-2', result: 'out-of-scope', message: 'left scope before its batch (retagged or gone)'});
	const after = new Map(sim.snapshot().map(instance => [instance.id, instance.state]));
	expect(targets.map(target => after.get(target.id))).toEqual(targets.map(target => target === dropped ? 'running' : 'stopping'));
});

test('a recheck that throws: that batch is not acted on, each gets an error with the reason', async () => {
	const sim = account();
	const targets: Target[] = (await devAgents(sim)).map(({id, region}) => ({id, region}));
	const outcomes = await sim.stop(targets, {
		dryRun: false,
		recheck: async batch => {
			if (batch[0]!.region === 'us-west-2') {
				throw new Error('us-west-2: DescribeInstances answered HTTP 200 text/html');
			}

			return new Set(batch.map(target => target.id));
		},
	});
	expect(outcomes.map(outcome => outcome.result)).toEqual(targets.map(target => target.region === 'us-west-2' ? 'error' : 'stopping'));
	expect(outcomes.find(outcome => outcome.result === 'error')!.message).toBe("not acted on: could not re-check this batch's scope (us-west-2: DescribeInstances answered HTTP 200 text/html)");
	const after = new Map(sim.snapshot().map(instance => [instance.id, instance.state]));
	expect(targets.filter(target => target.region === 'us-west-2').map(target => after.get(target.id))).toEqual(['running', 'running']);
});
