import {describe, expect, it} from 'vitest';
import {fallbackPrices} from '../../source/domain/price-table.js';
import type {InstanceState, RawInstance} from '../../source/domain/types.js';
import type {ActOptions, Fleet, FleetListing, FleetQuery, InstanceOutcome, Target} from '../../source/providers/types.js';
import {useSimHarnesses} from '../helpers/sim.js';

const {start, pollsBeforeSpike} = useSimHarnesses();

/**
 * The simulated account plus agents of a type no price source knows (`zz9.xlarge`), which the test
 * multiplies. (The sim cannot launch a type of its own choosing; this fleet adds them and stops them.)
 */
class WithUnknownType implements Fleet {
	readonly extra: RawInstance[] = [];

	constructor(private readonly inner: Fleet) {}

	add(count: number): void {
		for (let index = 0; index < count; index++) {
			const n = this.extra.length + 1;
			this.extra.push({id: `i-0feed${String(n).padStart(11, '0')}`, region: 'us-east-1', type: 'zz9.xlarge', state: 'running', tags: {Environment: 'dev', Role: 'agent'}});
		}
	}

	async list(query: FleetQuery): Promise<FleetListing> {
		const listing = await this.inner.list(query);
		const mine = this.extra.filter(instance => query.states.includes(instance.state)
			&& (!query.instanceIds || query.instanceIds.includes(instance.id))
			&& (!query.role || instance.tags[query.role.key] === query.role.value)
			&& (!query.envTagValues || query.envTagValues.includes(instance.tags['Environment']!)));
		return {...listing, instances: [...listing.instances, ...mine.map(instance => ({...instance, tags: {...instance.tags}}))]};
	}

	async stop(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]> {
		const mine = new Set(this.extra.map(instance => instance.id));
		const theirs = targets.filter(target => !mine.has(target.id));
		const outcomes = theirs.length > 0 ? await this.inner.stop(theirs, options) : [];
		for (const instance of this.extra.filter(item => targets.some(target => target.id === item.id))) {
			const previousState: InstanceState = instance.state;
			instance.state = 'stopped';
			outcomes.push({id: instance.id, region: instance.region, result: 'stopping', previousState, currentState: 'stopping'});
		}

		options.onBatch?.(outcomes);
		return outcomes;
	}

	async start(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]> {
		return this.inner.start(targets, options);
	}
}

describe('an instance type no source prices', () => {
	it('is counted at a conservative estimate, marked, and agents of it that multiply breach and are stopped', async () => {
		let fleet: WithUnknownType | undefined;
		const sim = start({scenario: 'calm', wrap: inner => (fleet = new WithUnknownType(inner))});
		fleet!.add(1);
		await pollsBeforeSpike(sim);
		const before = sim.store.getSnapshot()!.environments.find(view => view.name === 'dev')!;
		// The estimate is an upper bound of what EC2 charges for an xlarge of a series nobody knows
		// (the dearest rate of all, $2.50 an xlarge): never $0, never left out, never low.
		const estimate = 2.5;
		expect(before).toMatchObject({estimated: 1, estimatedTypes: ['zz9.xlarge'], unpriced: 0});
		// dev of the simulated account runs $2.3364/h of priced instances.
		expect(before.hourlyUsd).toBeCloseTo(2.3364 + estimate, 6);

		fleet!.add(3);
		const snapshot = await sim.poll();
		const dev = snapshot.environments.find(view => view.name === 'dev')!;
		// The poll counted 4 at the estimate, breached and stopped them all: its snapshot shows the result.
		expect(snapshot.decisions.find(decision => decision.kind === 'stop')).toMatchObject({environment: 'dev', agentIds: expect.arrayContaining(fleet!.extra.map(instance => instance.id)) as unknown});
		expect(dev).toMatchObject({status: 'STOPPED', estimated: 0, estimatedTypes: [], agents: {running: 0}});
		// Stopped like any other agents: the runaway of an unknown type is not invisible.
		expect(fleet!.extra.map(instance => instance.state)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']);
		const action = sim.auditLines().find(entry => entry.type === 'action' && entry.kind === 'stop')!;
		expect(action.instanceIds).toEqual(expect.arrayContaining(fleet!.extra.map(instance => instance.id)));
		// What the stop saves includes the estimates, and says so.
		expect(action.reason).toMatch(/; saves ~\$\d+\.\d\d\/h\)$/);
	});
});

describe('the simulated account with live prices (--demo pricing)', () => {
	it('prices spot, Windows and volumes as the account does, and stops the unknown type that breaches', async () => {
		const fs = await import('node:fs');
		const os = await import('node:os');
		const path = await import('node:path');
		const {SimAccount} = await import('../../source/providers/sim/account.js');
		const {Monitor} = await import('../../source/engine/monitor.js');
		const {AuditLog} = await import('../../source/engine/state/audit.js');
		const {SnapshotStore} = await import('../../source/engine/snapshot-store.js');
		const {StateStore} = await import('../../source/engine/state/store.js');
		const {loadConfig} = await import('../../source/config/load.js');
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-sim-pricing-'));
		const {config} = loadConfig({noStore: true, flags: {regions: ['us-east-1', 'us-west-2'], costExplorer: {enabled: false, refreshMinutes: 60}}});
		let now = Date.UTC(2026, 10, 27, 9);
		const sim = new SimAccount({scenario: 'pricing', now: () => now, envTagKey: config.envTagKey, roleTag: config.roleTag, tagValueOf: name => config.environments[name]!.tagValues[0]!, prices: fallbackPrices, transitionSeconds: 0});
		const monitor = new Monitor({
			provider: {source: 'SIMULATED (pricing)', fleet: sim, billing: undefined, prices: sim}, config, monitored: ['dev', 'staging', 'production'], store: new SnapshotStore(),
			state: new StateStore(dir), audit: new AuditLog(path.join(dir, 'audit.jsonl')), clock: () => now, options: {dryRun: false, readOnly: false, actor: 'test@host'},
		});
		try {
			await monitor.poll();
			await monitor.pricing.settled();
			now += 15_000;
			await monitor.poll();
			now += 15_000;
			const spike = await monitor.poll();
			expect(spike.decisions.find(decision => decision.kind === 'stop')).toMatchObject({environment: 'dev'});
			expect(spike.environments.find(view => view.name === 'dev')!.estimatedTypes).toContain('zz9.xlarge');
			await monitor.pricing.settled();
			now += 15_000;
			const after = await monitor.poll();
			const dev = after.environments.find(view => view.name === 'dev')!;
			// What runs in dev now: the build cache, bastion and DNS (shipped table), 3 spot m5.large in
			// us-west-2 at the simulated spot price, the Windows box at its Windows price, and its volumes
			// (gp3 500 GB with 6,000 IOPS and 250 MB/s, st1 1,000 GB) by the month / 730.
			const volumes = (500 * 0.08 + 3000 * 0.005 + 125 * 0.04 + 1000 * 0.045) / 730;
			expect(dev.hourlyUsd).toBeCloseTo(0.17 + 0.0416 + 2 * 0.0104 + 3 * 0.0351 + 0.188 + volumes, 6);
			expect(dev.storageHourlyUsd).toBeCloseTo(volumes, 6);
			expect(dev).toMatchObject({estimated: 0, agents: {running: 0}});
			expect(sim.snapshot().filter(instance => instance.type === 'zz9.xlarge').map(instance => instance.state)).toEqual(['stopped', 'stopped']);
		} finally {
			await monitor.stop();
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});
});
