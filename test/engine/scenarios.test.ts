import {afterEach, describe, expect, it} from 'vitest';
import type {ScenarioName} from '../../source/providers/sim/scenarios.js';
import {halted, live, SimHarness, type SimHarnessOptions} from '../helpers/sim.js';

/**
 * Each simulated scenario run through Monitor polls on a manual clock (polls every 15 s; the
 * scenario's change lands at +20 s, so the third poll, at +30 s, is the first to see it).
 */
let harness: SimHarness | undefined;
afterEach(async () => {
	await harness?.close();
	harness = undefined;
});

function start(scenario: ScenarioName, options: Omit<SimHarnessOptions, 'scenario'> = {}): SimHarness {
	harness = new SimHarness({scenario, ...options});
	return harness;
}

/** Polls at +0 s and +15 s (the calm before), leaving the clock at +30 s. */
async function calmBefore(sim: SimHarness) {
	for (let index = 0; index < 2; index++) {
		const snapshot = await sim.poll();
		expect(snapshot.decisions.filter(decision => decision.kind !== 'warn')).toEqual([]);
	}
}

describe('the simulated account matches the seed fleet', () => {
	it('dev 4 agents at about $2.34/h, staging 2 at about $1.85/h, production 1 monitor at about $0.15/h', async () => {
		const sim = start('calm');
		const snapshot = await sim.poll();
		const view = (name: string) => snapshot.environments.find(environment => environment.name === name)!;
		expect(view('dev')).toMatchObject({status: 'ACTIVE', agents: {running: 4, allowed: 'all'}, unpriced: 0});
		expect(view('dev').hourlyUsd).toBeCloseTo(2.34, 1);
		expect(view('staging')).toMatchObject({status: 'LIMITED', agents: {running: 2, allowed: 2}});
		expect(view('staging').hourlyUsd).toBeCloseTo(1.85, 1);
		expect(view('production')).toMatchObject({status: 'MONITOR', agents: {running: 0, allowed: 'monitor-only'}, monitors: 1});
		expect(view('production').hourlyUsd).toBeCloseTo(0.15, 2);
		expect(snapshot.global.hourlyUsd).toBeCloseTo(4.33, 2);
		expect(snapshot.mode.warmingUp).toBe(true);
	});

	it('warming up: the snapshot says when the last filling window is full (its oldest sample plus the window), and nothing once full', async () => {
		const sim = start('calm');
		const first = sim.clock.now();
		const longest = Math.max(sim.config.global.windowMinutes, ...Object.values(sim.config.environments).map(policy => policy.windowMinutes)) * 60_000;
		let snapshot = await sim.poll();
		const dev = snapshot.environments.find(view => view.name === 'dev')!;
		expect(dev.fullAt).toBe(first + sim.config.environments['dev']!.windowMinutes * 60_000 * 0.98);
		expect(snapshot.mode.warmUntil).toBe(first + longest * 0.98);
		// A later poll does not move it: it comes from the oldest sample, not the clock.
		snapshot = await sim.poll();
		expect(snapshot.mode.warmUntil).toBe(first + longest * 0.98);
		while (snapshot.at < first + longest) {
			snapshot = await sim.poll(5 * 60_000);
		}

		expect(snapshot.mode).toMatchObject({warmingUp: false, warmUntil: null});
		expect(snapshot.environments.every(view => view.fullAt === null)).toBe(true);
	});
});

describe('scenarios through the monitor loop', () => {
	it('calm: nothing is stopped, nothing logged as an action, over many polls', async () => {
		const sim = start('calm');
		const before = sim.states();
		for (let index = 0; index < 10; index++) {
			const snapshot = await sim.poll();
			expect(snapshot.decisions).toEqual([]);
		}

		expect(sim.states()).toEqual(before);
		expect(sim.fleet.stops).toEqual([]);
		expect(sim.auditLines().filter(entry => entry.type === 'action')).toEqual([]);
	});

	it('dev-spike (A): one poll stops exactly dev\'s agents, and the audit log has the decision and the action with figures and IDs', async () => {
		const sim = start('dev-spike');
		await calmBefore(sim);
		const stagingAndProduction = sim.instances().filter(instance => instance.environment !== 'dev');
		const devOthers = sim.instances().filter(instance => instance.environment === 'dev' && instance.role !== 'agent');

		const snapshot = await sim.poll();
		const devAgents = sim.agents('dev');
		expect(devAgents).toHaveLength(5); // the base 4 and the spike's extra one
		expect(sim.agents('dev', halted)).toEqual(devAgents);
		for (const instance of [...stagingAndProduction, ...devOthers]) {
			expect(sim.states()[instance.id], instance.id).toBe(instance.state);
		}

		expect(sim.fleet.stops).toHaveLength(1);
		expect(snapshot.decisions.map(decision => decision.kind)).toEqual(['stop']);

		const lines = sim.auditLines();
		const decision = lines.find(entry => entry.type === 'decision' && entry.kind === 'stop')!;
		expect(decision).toMatchObject({actor: 'auto', environments: ['dev'], dryRun: false});
		expect([...decision.instanceIds].sort()).toEqual(devAgents);
		expect(decision.reason).toMatch(/^dev \+3\.\d% > 2\.0% over 30m/);
		expect(decision.figures).toMatchObject({thresholdPct: 2, windowMinutes: 30, maxHourlyUsd: 5, agentsRunning: 5});
		expect(decision.figures!['increasePct']).toBeGreaterThan(2);
		expect(decision.figures!['hourlyUsd']).toBeGreaterThan(decision.figures!['baselineUsd'] as number);
		expect(decision.figures!['savesUsdPerHour']).toBeCloseTo(4 * 0.526 + 0.0832, 4);

		const action = lines.find(entry => entry.type === 'action')!;
		expect(action).toMatchObject({kind: 'stop', environments: ['dev'], outcome: 'executed', dryRun: false});
		expect([...action.instanceIds].sort()).toEqual(devAgents);
		expect(action.results!.map(result => result.result)).toEqual(Array(5).fill('stopping'));
		expect(action.seq).toBeGreaterThan(decision.seq);

		// The next poll: dev is shown stopped; nothing more to do.
		const after = await sim.poll();
		expect(after.environments.find(view => view.name === 'dev')!.status).toBe('STOPPED');
		expect(after.decisions.filter(item => item.kind === 'stop' || item.kind === 'emergency')).toEqual([]);
		expect(sim.fleet.stops).toHaveLength(1);
	});

	it('staging-spike (B): stops staging only, dev continues with a warning', async () => {
		const sim = start('staging-spike');
		await calmBefore(sim);
		const devBefore = sim.agents('dev', live);
		const snapshot = await sim.poll();
		expect(sim.agents('staging', halted)).toEqual(sim.agents('staging'));
		expect(sim.agents('staging')).toHaveLength(3);
		expect(sim.agents('dev', live)).toEqual(devBefore);
		expect(devBefore).toHaveLength(5);
		expect(snapshot.environments.find(view => view.name === 'dev')!.status).toBe('WARN');
		// What the poll found, whatever its stop then left: staging and the total, not dev (a server's --once -e reads it).
		expect(snapshot.breachFoundIn).toEqual(['staging', 'global']);
		expect(sim.auditLines().find(entry => entry.kind === 'warn')).toMatchObject({environments: ['dev'], type: 'decision'});
		expect(sim.auditLines().find(entry => entry.type === 'action')).toMatchObject({kind: 'stop', environments: ['staging'], outcome: 'executed'});
	});

	it('global-spike (C): no environment breaches, the total does: emergency stop of every agent, monitors and other instances untouched', async () => {
		const sim = start('global-spike');
		await calmBefore(sim);
		const nonAgents = sim.instances().filter(instance => instance.role !== 'agent');
		const snapshot = await sim.poll();
		expect(snapshot.environments.map(view => view.level)).not.toContain('breach');
		expect(snapshot.decisions.map(decision => decision.kind)).toContain('emergency');
		// The poll's snapshot shows the emergency's result: the total back within its limit.
		expect(snapshot.global).toMatchObject({level: 'ok', status: 'NORMAL', agents: {running: 0}});
		expect(snapshot).toMatchObject({breachFound: true, breachFoundIn: ['global']});
		const agents = sim.instances().filter(instance => instance.role === 'agent');
		expect(agents).toHaveLength(8);
		expect(agents.every(instance => halted.includes(instance.state))).toBe(true);
		for (const instance of nonAgents) {
			expect(sim.states()[instance.id], `${instance.tags['Name']}`).toBe('running');
		}

		const action = sim.auditLines().find(entry => entry.type === 'action')!;
		expect(action).toMatchObject({kind: 'emergency', outcome: 'executed'});
		expect(action.instanceIds).toHaveLength(8);
		const decision = sim.auditLines().find(entry => entry.type === 'decision' && entry.kind === 'emergency')!;
		expect(decision.figures).toMatchObject({thresholdPct: 1, maxHourlyUsd: 100});
		expect(decision.figures!['globalIncreasePct']).toBeGreaterThan(1);
	});

	it('cascade (D): dev on one poll, staging on the next', async () => {
		const sim = start('cascade');
		await calmBefore(sim);
		const first = await sim.poll();
		expect(first.decisions.find(decision => decision.kind === 'stop')).toMatchObject({environment: 'dev', cascade: true, deferred: ['staging']});
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev'));
		expect(sim.agents('staging', live)).toEqual(sim.agents('staging'));
		expect(sim.auditLines().find(entry => entry.type === 'action')).toMatchObject({kind: 'cascade', environments: ['dev']});

		const second = await sim.poll();
		expect(second.decisions.find(decision => decision.kind === 'stop')).toMatchObject({environment: 'staging', cascade: false});
		expect(sim.agents('staging', halted)).toEqual(sim.agents('staging'));
		expect(sim.fleet.stops.map(targets => targets.length)).toEqual([5, 3]);
		expect(sim.instances().filter(instance => instance.environment === 'production').every(instance => instance.state === 'running')).toBe(true);
	});

	it('prod-spike (E): production is alerted on, nothing is stopped', async () => {
		const sim = start('prod-spike');
		await calmBefore(sim);
		const before = Object.fromEntries(sim.instances().filter(instance => instance.tags['Name'] !== 'prod-hotfix').map(instance => [instance.id, instance.state]));
		expect(Object.values(before).every(state => state === 'running')).toBe(true);
		const snapshot = await sim.poll();
		expect(snapshot.environments.find(view => view.name === 'production')!.status).toBe('BREACH');
		expect(snapshot.decisions.map(decision => decision.kind)).toEqual(['alert']);
		// Every instance but the scenario's new one is as it was.
		for (const [id, state] of Object.entries(before)) {
			expect(sim.states()[id]).toBe(state);
		}

		expect(sim.fleet.stops).toEqual([]);
		expect(sim.auditLines().find(entry => entry.kind === 'alert')).toMatchObject({type: 'decision', environments: ['production']});
		expect(sim.auditLines().find(entry => entry.kind === 'alert')!.reason).toMatch(/monitor only/);
	});
});
