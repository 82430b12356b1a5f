import fs from 'node:fs';
import {fallbackPrices} from '../../source/domain/price-table.js';
import os from 'node:os';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {loadConfig} from '../../source/config/load.js';
import type {Config} from '../../source/config/schema.js';
import {AuditLog} from '../../source/engine/state/audit.js';
import {Monitor} from '../../source/engine/monitor.js';
import {StateStore} from '../../source/engine/state/store.js';
import {SnapshotStore} from '../../source/engine/snapshot-store.js';
import {SimAccount} from '../../source/providers/sim/account.js';
import type {ScenarioName} from '../../source/providers/sim/scenarios.js';

/** A monitor on the simulated account with a manual clock: every step is deterministic. */
function setup(scenario: ScenarioName, patch: (config: Config) => void = () => undefined, monitored?: string[]) {
	const {config} = loadConfig({noStore: true});
	config.regions = ['us-east-1', 'us-west-2'];
	for (const name of Object.keys(config.environments)) {
		config.environments[name]!.launchTemplate = {name: `sim-${name}-agent`};
	}

	patch(config);
	let now = Date.UTC(2026, 10, 27, 12);
	const clock = () => now;
	const sim = new SimAccount({scenario, now: clock, envTagKey: config.envTagKey, roleTag: config.roleTag, tagValueOf: name => config.environments[name]!.tagValues[0]!, prices: fallbackPrices});
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-orch-'));
	const audit = new AuditLog(path.join(dir, 'audit.log'));
	const store = new SnapshotStore();
	const monitor = new Monitor({provider: {source: 'SIMULATED', fleet: sim, billing: sim}, config, monitored: monitored ?? Object.keys(config.environments), store, state: new StateStore(dir), audit, clock, options: {dryRun: false, readOnly: false, actor: 'alice@jump'}});
	const advance = (seconds: number) => {
		now += seconds * 1000;
	};

	const agents = (environment: string) => sim.snapshot().filter(instance => instance.tags['Environment'] === environment && instance.tags['Role'] === 'agent' && (instance.state === 'running' || instance.state === 'pending'));
	const auditLines = () => fs.readFileSync(audit.file, 'utf8').trim().split('\n').map(line => JSON.parse(line) as Record<string, unknown>);
	return {config, sim, monitor, store, advance, agents, auditLines};
}

/** Makes the sim's listings leave out the instances whose IDs go in the returned set (as EC2 does for a few seconds after a launch). */
function notListed(sim: SimAccount): Set<string> {
	const unlisted = new Set<string>();
	const list = sim.list.bind(sim);
	sim.list = async query => {
		const listing = await list(query);
		return {...listing, instances: listing.instances.filter(instance => !unlisted.has(instance.id))};
	};

	return unlisted;
}

describe('orchestrator: starting agents within the policy', () => {
	it('starts agents from the template, tagged with environment, role and who launched them', async () => {
		const {monitor, agents, sim} = setup('calm');
		await monitor.poll();
		const result = await monitor.command({kind: 'start', environment: 'dev', count: 4});
		expect(result?.outcome).toBe('executed');
		expect(agents('dev')).toHaveLength(8);
		const launched = sim.snapshot().filter(instance => instance.tags['envwatch:launched-by'] === 'alice@jump');
		expect(launched).toHaveLength(4);
		expect(launched.every(instance => instance.type === 't3.large' && instance.tags['Role'] === 'agent' && instance.tags['Environment'] === 'dev')).toBe(true);
	});

	it('re-baselines the window: a planned start is not taken for a spike', async () => {
		const {monitor, store, advance, agents} = setup('calm');
		await monitor.poll();
		advance(15);
		await monitor.poll();
		// +4 t3.large = +$0.33/h on $2.34/h: +14%, far over dev's 2%, had it not been planned.
		await monitor.command({kind: 'start', environment: 'dev', count: 4});
		advance(15);
		const snapshot = await monitor.poll();
		const dev = snapshot.environments.find(view => view.name === 'dev')!;
		expect(dev.status).toBe('ACTIVE');
		expect(dev.hourlyUsd).toBeCloseTo(2.3364 + 4 * 0.0832, 4);
		expect(snapshot.global.status).toBe('NORMAL');
		expect(snapshot.decisions.filter(decision => decision.kind === 'stop' || decision.kind === 'emergency')).toEqual([]);
		expect(agents('dev')).toHaveLength(8);
		expect(store.getSnapshot()?.events[0]?.kind).not.toBe('stop');
	});

	it('agents started outside envwatch still count as an increase', async () => {
		const {monitor, sim, advance, agents} = setup('calm');
		await monitor.poll();
		advance(15);
		sim.spawn({environment: 'dev', role: 'agent', type: 't3.large', count: 4, region: 'us-east-1', name: 'out-of-band'});
		advance(15);
		const snapshot = await monitor.poll();
		expect(snapshot.decisions).toContainEqual(expect.objectContaining({kind: 'stop', environment: 'dev'}));
		expect(agents('dev')).toHaveLength(0);
	});

	it('refuses a start in a monitor-only environment, with the reason, and starts nothing', async () => {
		const {monitor, agents, auditLines} = setup('calm');
		await monitor.poll();
		const result = await monitor.command({kind: 'start', environment: 'production', count: 1});
		expect(result).toMatchObject({outcome: 'refused', summary: 'refused: production is monitor only: no agents are ever started there'});
		expect(agents('production')).toHaveLength(0);
		expect(auditLines().at(-1)).toMatchObject({kind: 'start', outcome: 'refused', actor: 'alice@jump'});
	});

	it('refuses a start beyond a limited environment\'s cap, with the numbers', async () => {
		const {monitor, agents} = setup('calm');
		await monitor.poll();
		const result = await monitor.command({kind: 'start', environment: 'staging', count: 1});
		expect(result?.summary).toBe('refused: staging allows at most 2 agents (limited): 2 running + 1 requested = 3');
		expect(agents('staging')).toHaveLength(2);
	});

	it('agents just started that EC2 does not list yet still count against the cap, until envwatch stops them', async () => {
		const {monitor, sim, advance} = setup('calm', config => {
			config.environments['staging']!.maxAgents = 3;
		});
		// EC2 lists a new instance (or its tags) only after a few seconds: these are not listed yet.
		const unlisted = notListed(sim);

		await monitor.poll();
		const first = await monitor.command({kind: 'start', environment: 'staging', count: 1});
		expect(first?.outcome).toBe('executed');
		for (const id of (first as {ids: string[]}).ids) {
			unlisted.add(id);
		}

		advance(10);
		const second = await monitor.command({kind: 'start', environment: 'staging', count: 1});
		expect(second?.summary).toBe('refused: staging allows at most 3 agents (limited): 3 running + 1 requested = 4');

		// A stop of staging: what was started there no longer counts.
		unlisted.clear();
		await monitor.command({kind: 'stop', environment: 'staging'});
		const third = await monitor.command({kind: 'start', environment: 'staging', count: 1});
		expect(third?.outcome).toBe('executed');
	});

	it('a start remembered as not listed yet is forgotten after 5 minutes either way of the clock (a clock stepped back an hour does not keep it)', async () => {
		const {monitor, sim, advance} = setup('calm', config => {
			config.environments['staging']!.maxAgents = 3;
		});
		const unlisted = notListed(sim);

		await monitor.poll();
		const first = await monitor.command({kind: 'start', environment: 'staging', count: 1});
		for (const id of (first as {ids: string[]}).ids) {
			unlisted.add(id);
		}

		advance(-3600);
		expect((await monitor.command({kind: 'start', environment: 'staging', count: 1}))?.outcome).toBe('executed');
	});

	it('two starts at once (two dashboards) cannot both pass the cap: the second counts after the first launched', async () => {
		const {monitor, agents} = setup('calm', config => {
			config.environments['staging']!.maxAgents = 3;
		});
		await monitor.poll();
		const [first, second] = await Promise.all([
			monitor.command({kind: 'start', environment: 'staging', count: 1}, 'alice@jump'),
			monitor.command({kind: 'start', environment: 'staging', count: 1}, 'bob@jump'),
		]);
		expect(first?.summary).toMatch(/^started 1 .*agent in staging/);
		expect(second?.summary).toBe('refused: staging allows at most 3 agents (limited): 3 running + 1 requested = 4');
		expect(agents('staging')).toHaveLength(3);
	});
});

describe('orchestrator: admission in dollars', () => {
	it('a start whose added $/h would pass the environment\'s hourly cap is refused before anything is launched, naming the figures and the cap', async () => {
		const {monitor, agents, sim, auditLines} = setup('calm');
		await monitor.poll();
		const launched = sim.launch.bind(sim);
		let launches = 0;
		sim.launch = async request => {
			launches++;
			return launched(request);
		};

		const result = await monitor.command({kind: 'start', environment: 'dev', count: 100_000});
		// dev runs $2.34/h; 100,000 t3.large at $0.0832/h add $8,320/h against a cap of $5/h.
		expect(result).toMatchObject({outcome: 'refused', summary: 'refused: over dev\'s hourly cap of $5.00/h: $2.34/h now + $8,320/h for 100000 t3.large ($0.0832/h each) = $8,322/h'});
		expect(launches).toBe(0);
		expect(agents('dev')).toHaveLength(4);
		expect(auditLines().at(-1)).toMatchObject({kind: 'start', outcome: 'refused', environments: ['dev']});
		// Within the cap it starts: $2.34 + 5 x $0.0832 = $2.76/h.
		expect((await monitor.command({kind: 'start', environment: 'dev', count: 5}))?.outcome).toBe('executed');
	});

	it('one within its own cap that would pass the global cap is refused, naming the total and the global cap', async () => {
		const {monitor, agents} = setup('calm', config => {
			config.environments['dev']!.maxHourlyUsd = 10_000;
			config.global.maxHourlyUsd = 10;
		});
		await monitor.poll();
		const result = await monitor.command({kind: 'start', environment: 'dev', count: 100});
		// The total is dev $2.34 + staging $1.84 + production $0.15 = $4.33/h; 100 x $0.0832 = $8.32/h more.
		expect(result?.summary).toBe('refused: over the global hourly cap of $10.00/h: $4.33/h now + $8.32/h for 100 t3.large ($0.0832/h each) = $12.65/h');
		expect(agents('dev')).toHaveLength(4);
	});

	it('a run that monitors dev only (start -e dev) judges the global cap against every environment\'s $/h, not dev\'s alone', async () => {
		const {monitor, agents} = setup('calm', config => {
			config.environments['dev']!.maxHourlyUsd = 10_000;
			config.global.maxHourlyUsd = 10;
		}, ['dev']);
		await monitor.poll();
		// dev alone ($2.34 + $8.32 = $10.66/h) would pass too; 80 agents ($6.66/h) would not, but with staging and production they do.
		const result = await monitor.command({kind: 'start', environment: 'dev', count: 80});
		expect(result?.summary).toBe('refused: over the global hourly cap of $10.00/h: $4.33/h now + $6.66/h for 80 t3.large ($0.0832/h each) = $10.98/h');
		expect(agents('dev')).toHaveLength(4);
	});

	it('what the other environments spend not known now (the poll\'s listing failed in a region): refused, never counted as $0', async () => {
		const {monitor, sim, agents} = setup('calm', config => {
			config.environments['dev']!.maxHourlyUsd = 10_000;
		}, ['dev']);
		await monitor.poll();
		// The poll's listing (every tagged instance) fails in us-west-2 from now on; the count of dev's agents still works.
		const list = sim.list.bind(sim);
		sim.list = async query => (query.role === undefined ? {instances: [], errors: [{region: 'us-west-2', message: 'RequestLimitExceeded'}], calls: 1} : list(query));
		await monitor.poll();
		const result = await monitor.command({kind: 'start', environment: 'dev', count: 1});
		expect(result?.outcome).toBe('refused');
		expect(result?.summary).toBe('refused: what the environments the global cap covers spend now is not known (the last poll failed: us-west-2: RequestLimitExceeded): no start until a poll sees every region');
		expect(agents('dev')).toHaveLength(4);
	});

	it('a type no source prices is admitted at its conservative estimate, and a count too large to count is refused, never overflowing into a launch', async () => {
		const {monitor, agents} = setup('calm', config => {
			config.environments['dev']!.launchTemplate = {name: 'sim-dev-agent', instanceType: 'zz9.48xlarge'};
		});
		await monitor.poll();
		const result = await monitor.command({kind: 'start', environment: 'dev', count: 2});
		expect(result?.summary).toMatch(/^refused: over dev's hourly cap of \$5\.00\/h: \$2\.34\/h now \+ ~\$[\d,.]+\/h for 2 zz9\.48xlarge \(~\$[\d.]+\/h each, an estimate: no price known for zz9\.48xlarge\) = ~\$[\d,.]+\/h$/);
		const huge = await monitor.command({kind: 'start', environment: 'dev', count: Number('99999999999999999999')});
		expect(huge?.outcome).toBe('refused');
		expect(huge?.summary).toContain('refused: over dev\'s hourly cap of $5.00/h');
		expect(agents('dev')).toHaveLength(4);
	});
});

describe('orchestrator: policy violations', () => {
	it('a rogue agent in a monitor-only environment is a violation, alerted but left alone by default', async () => {
		const {monitor, advance, agents, auditLines} = setup('rogue-agent');
		await monitor.poll();
		advance(25);
		const snapshot = await monitor.poll();
		const production = snapshot.environments.find(view => view.name === 'production')!;
		expect(production.violation).toBe('production is monitor only, yet 1 agent runs there (rogue)');
		expect(agents('production')).toHaveLength(1);
		expect(auditLines()).toContainEqual(expect.objectContaining({type: 'decision', kind: 'violation', environments: ['production']}));
	});

	it('with policy.stopViolations the rogue agent is stopped, and only it', async () => {
		const {monitor, advance, agents, auditLines} = setup('rogue-agent', config => {
			config.policy.stopViolations = true;
		});
		await monitor.poll();
		advance(25);
		await monitor.poll();
		expect(agents('production')).toHaveLength(0);
		expect(agents('dev')).toHaveLength(4);
		const action = auditLines().find(entry => entry['type'] === 'action')!;
		expect(action).toMatchObject({kind: 'violation', environments: ['production'], outcome: 'executed'});
		expect(action['instanceIds']).toHaveLength(1);
	});

	it('agents over a limited environment\'s cap: the newest excess ones are stopped', async () => {
		const {monitor, sim, advance, agents} = setup('calm', config => {
			config.policy.stopViolations = true;
			config.environments['staging']!.thresholdPct = 50;
		});
		await monitor.poll();
		advance(15);
		const [extra] = sim.spawn({environment: 'staging', role: 'agent', type: 't3.micro', count: 1, region: 'us-east-1', name: 'extra'});
		advance(15);
		const snapshot = await monitor.poll();
		expect(snapshot.decisions.find(decision => decision.kind === 'violation')).toMatchObject({environment: 'staging', reason: 'staging runs 3 agents, over its cap of 2', agentIds: [extra]});
		// Its snapshot shows the result: within its cap again, no violation left.
		expect(snapshot.environments.find(view => view.name === 'staging')).toMatchObject({violation: null, agents: {running: 2, allowed: 2}});
		const left = agents('staging').map(instance => instance.id);
		expect(left).toHaveLength(2);
		expect(left).not.toContain(extra);
	});
});
