import {describe, expect, it} from 'vitest';
import type {ActionResult} from '../../source/engine/enforcer.js';
import {halted, live, useSimHarnesses} from '../helpers/sim.js';

const {start, pollsBeforeSpike} = useSimHarnesses();


describe('manual commands', () => {
	it('a manual cascade step stops the lowest-priority environment running agents, one per step, never a monitor-only one', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		expect(await sim.monitor.command({kind: 'cascade'})).toMatchObject({outcome: 'executed', environments: ['dev']});
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev'));
		expect(sim.agents('staging', live)).toEqual(sim.agents('staging'));
		expect(await sim.monitor.command({kind: 'cascade'})).toMatchObject({outcome: 'executed', environments: ['staging']});
		expect(sim.agents('staging', halted)).toEqual(sim.agents('staging'));
		// A rogue agent in production: a cascade step never targets a monitor-only environment.
		sim.sim.spawn({environment: 'production', role: 'agent', type: 't3.micro', count: 1, region: 'us-east-1', name: 'rogue'});
		await sim.poll();
		expect(await sim.monitor.command({kind: 'cascade'})).toMatchObject({outcome: 'nothing-to-do', environments: []});
		expect(sim.agents('production', live)).toHaveLength(1);
	});

	it('a manual emergency stops every agent in every environment that stops on breach, never a rogue one in monitor-only production, and no monitor', async () => {
		const sim = start({scenario: 'calm'});
		const [rogue] = sim.sim.spawn({environment: 'production', role: 'agent', type: 't3.micro', count: 1, region: 'us-east-1', name: 'rogue'});
		await sim.poll();
		const result = await sim.monitor.command({kind: 'emergency'});
		expect(result).toMatchObject({kind: 'emergency', outcome: 'executed', environments: ['dev', 'staging']});
		expect((result as ActionResult).results).toHaveLength(6);
		expect(live).toContain(sim.states()[rogue!]);
		expect(sim.instances().filter(instance => instance.role === 'agent' && instance.environment !== 'production').every(instance => halted.includes(instance.state))).toBe(true);
		expect(sim.instances().filter(instance => instance.role !== 'agent').every(instance => instance.state === 'running')).toBe(true);
	});

	it('an emergency names only the environments whose agents it stopped', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		const result = await sim.monitor.command({kind: 'emergency'});
		expect(result?.summary).toMatch(/^stopped 6\/6 agents in dev, staging \(/);
	});

	it('a manual emergency marks as stopped, and restarts the windows of, only the environments whose agents it stopped', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		await sim.poll();
		await sim.monitor.command({kind: 'emergency'});
		const snapshot = await sim.poll();
		const status = (name: string) => snapshot.environments.find(view => view.name === name)!.status;
		expect([status('dev'), status('staging'), status('production')]).toEqual(['STOPPED', 'STOPPED', 'MONITOR']);
		// production ran no agents: its window goes on (two polls before, the command's own and this one).
		expect(sim.state.loadHistory()['production']).toHaveLength(4);
		expect(sim.state.loadHistory()['dev']).toHaveLength(2);
		expect(sim.store.getSnapshot()!.lastStop).toMatchObject({environments: ['dev', 'staging'], count: 6});
	});

	it('an environment that is not monitored is out of scope: nothing is stopped there', async () => {
		const sim = start({scenario: 'calm', monitored: ['dev']});
		await sim.poll();
		const result = await sim.monitor.command({kind: 'stop', environment: 'staging'});
		expect(result).toMatchObject({outcome: 'nothing-to-do', environments: []});
		expect(sim.fleet.stops).toEqual([]);
		expect(sim.agents('staging', live)).toEqual(sim.agents('staging'));
		// An emergency, too, covers only the monitored environments.
		await sim.monitor.command({kind: 'emergency'});
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev'));
		expect(sim.agents('staging', live)).toEqual(sim.agents('staging'));
	});

	it('after undo, the restarted agents are not taken for a spike', async () => {
		const sim = start({scenario: 'dev-spike'});
		await pollsBeforeSpike(sim);
		await sim.poll();
		expect(sim.fleet.stops).toHaveLength(1);
		await sim.monitor.command({kind: 'undo'});
		expect(sim.agents('dev', live)).toEqual(sim.agents('dev'));
		for (let index = 0; index < 5; index++) {
			const snapshot = await sim.poll();
			expect(snapshot.decisions.filter(decision => decision.kind === 'stop' || decision.kind === 'emergency')).toEqual([]);
		}

		expect(sim.fleet.stops).toHaveLength(1);
	});
});

describe('a confirmation runs what it stated, or nothing', () => {
	it('cascade confirmed for dev is refused once dev was stopped meanwhile; staging is not stopped instead', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		await sim.monitor.command({kind: 'stop', environment: 'dev'});
		const result = await sim.monitor.command({kind: 'cascade', environment: 'dev'});
		expect(result).toMatchObject({outcome: 'refused', summary: 'refused: changed since you confirmed: the cascade would now stop staging, not dev; nothing done'});
		expect(sim.agents('staging', live)).toEqual(sim.agents('staging'));
	});

	it('undo confirmed for one stop is refused after another stop; the newer stop is not undone', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		await sim.monitor.command({kind: 'stop', environment: 'staging'});
		const confirmed = sim.store.getSnapshot()!.lastStop!.at;
		sim.clock.advance(1000);
		await sim.monitor.command({kind: 'stop', environment: 'dev'});
		const result = await sim.monitor.command({kind: 'undo', stopAt: confirmed});
		expect(result?.outcome).toBe('refused');
		expect(sim.agents('dev', live)).toEqual([]);
		expect(sim.agents('staging', live)).toEqual([]);
	});
});

describe('starting agents counts them afresh', () => {
	it('a start is refused when the running agents cannot be counted (stale), so a cap cannot be overrun', async () => {
		let failing = false;
		const sim = start({scenario: 'calm', flags: {environments: {staging: {maxAgents: 4, launchTemplate: {name: 'sim-staging-agent'}}}}, wrap: fleet => ({
			list: async query => (failing ? {instances: [], errors: [{region: 'us-east-1', message: 'ThrottlingException'}], calls: 1} : fleet.list(query)),
			stop: async (targets, options) => fleet.stop(targets, options),
			start: async (targets, options) => fleet.start(targets, options),
			launch: async request => fleet.launch!(request),
			templateInstanceType: async (region, template) => fleet.templateInstanceType!(region, template),
		})});
		failing = true;
		await sim.poll();
		const result = await sim.monitor.command({kind: 'start', environment: 'staging', count: 2});
		expect(result?.summary).toBe('refused: cannot count staging\'s running agents (us-east-1: ThrottlingException)');
		expect(sim.agents('staging')).toHaveLength(2);
		failing = false;
		expect((await sim.monitor.command({kind: 'start', environment: 'staging', count: 2}))?.outcome).toBe('executed');
		expect(sim.agents('staging')).toHaveLength(4);
	});
});

describe('automatic actions in the loop', () => {
	it('an emergency in the loop never touches monitor-only production: its rogue agent and its monitor keep running', async () => {
		const sim = start({scenario: 'global-spike'});
		const [rogue] = sim.sim.spawn({environment: 'production', role: 'agent', type: 't3.micro', count: 1, region: 'us-east-1', name: 'rogue'}, sim.clock.nowMs - 1000, 'running');
		await pollsBeforeSpike(sim);
		const snapshot = await sim.poll();
		expect(snapshot.decisions.find(decision => decision.kind === 'emergency')).toMatchObject({environments: ['dev', 'staging']});
		expect(sim.states()[rogue!]).toBe('running');
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev'));
		const monitor = sim.instances().find(instance => instance.role === 'monitor')!;
		expect(monitor.state).toBe('running');
		expect(sim.fleet.stops.flat().map(target => target.id)).not.toContain(monitor.id);
	});

	it('under policy.stopViolations a rogue agent in monitor-only production is stopped, and the audit log says why', async () => {
		const sim = start({scenario: 'calm', flags: {policy: {stopViolations: true}}});
		const [rogue] = sim.sim.spawn({environment: 'production', role: 'agent', type: 't3.micro', count: 1, region: 'us-east-1', name: 'rogue'}, sim.clock.nowMs - 1000, 'running');
		await sim.poll();
		expect(halted).toContain(sim.states()[rogue!]);
		const decision = sim.auditLines().find(entry => entry.type === 'decision' && entry.kind === 'violation' && entry.actor === 'auto' && entry.reason.includes('policy.stopViolations'));
		expect(decision).toMatchObject({environments: ['production'], instanceIds: [rogue]});
	});

	it('a warning is logged when it starts, not on every poll', async () => {
		const sim = start({scenario: 'staging-spike'});
		await pollsBeforeSpike(sim);
		for (let index = 0; index < 4; index++) {
			await sim.poll();
		}

		const devWarnings = sim.auditLines().filter(entry => entry.kind === 'warn' && entry.environments[0] === 'dev');
		expect(devWarnings).toHaveLength(1);
		expect(devWarnings[0]!.figures).toMatchObject({thresholdPct: 2});
	});

	it('with a grace period the action waits, logged as pending, then acts once due', async () => {
		const sim = start({scenario: 'dev-spike', flags: {graceSeconds: 20}});
		await pollsBeforeSpike(sim);
		const first = await sim.poll();
		expect(first.pending).toMatchObject({decision: {kind: 'stop', environment: 'dev'}});
		expect(sim.fleet.stops).toEqual([]);
		expect(sim.auditLines().find(entry => entry.kind === 'pending')).toMatchObject({environments: ['dev']});
		// +15 s: not due yet.
		await sim.poll();
		expect(sim.fleet.stops).toEqual([]);
		// +30 s: due.
		await sim.poll();
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev'));
	});

	it('cancelling a pending action leaves the fleet alone and pauses automatic actions', async () => {
		const sim = start({scenario: 'dev-spike', flags: {graceSeconds: 20}});
		await pollsBeforeSpike(sim);
		await sim.poll();
		await sim.monitor.command({kind: 'cancel-pending'});
		for (let index = 0; index < 3; index++) {
			await sim.poll();
		}

		expect(sim.fleet.stops).toEqual([]);
		expect(sim.store.getSnapshot()!.mode.paused).toBe(true);
		expect(sim.auditLines().find(entry => entry.kind === 'cancel')).toMatchObject({actor: 'tester@jump', environments: ['dev']});
	});

	it('action "terminate" terminates instead of stopping, and says so', async () => {
		const sim = start({scenario: 'dev-spike', flags: {action: 'terminate'}});
		await pollsBeforeSpike(sim);
		await sim.poll();
		expect(sim.agents('dev').every(id => ['shutting-down', 'terminated'].includes(sim.states()[id]!))).toBe(true);
		expect(sim.auditLines().find(entry => entry.type === 'action')!.results!.map(result => result.result)).toEqual(Array(5).fill('terminating'));
		expect(sim.auditLines().find(entry => entry.type === 'action')!.reason).toMatch(/^terminated 5\/5 agents in dev/);
	});

	it('the audit log carries the clock\'s time and is one JSON object per line', async () => {
		const sim = start({scenario: 'dev-spike'});
		await pollsBeforeSpike(sim);
		const at = sim.clock.nowMs;
		await sim.poll();
		const lines = sim.auditLines();
		// The decision, one progress line for the first region's batch (dev spans two), the closing action.
		expect(lines.filter(entry => entry.kind === 'stop').map(entry => [entry.type, entry.at])).toEqual([['decision', new Date(at).toISOString()], ['progress', new Date(at).toISOString()], ['action', new Date(at).toISOString()]]);
		expect(lines.map(entry => entry.seq)).toEqual(lines.map((_, index) => index + 1));
	});
});

describe('monitoring a subset of environments', () => {
	it('the global total is the sum over the monitored environments only', async () => {
		const sim = start({scenario: 'calm', monitored: ['dev', 'production']});
		const snapshot = await sim.poll();
		expect(snapshot.environments.map(view => view.name)).toEqual(['dev', 'production']);
		expect(snapshot.global.hourlyUsd).toBeCloseTo(2.3364 + 0.1474, 4);
		expect(sim.state.loadHistory()['staging']).toBeUndefined();
	});
});
