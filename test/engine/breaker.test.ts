import {describe, expect, it} from 'vitest';
import {useSimHarnesses, halted, live} from '../helpers/sim.js';

/**
 * The breaker: once envwatch stops an environment it stays tripped, and agents that appear there
 * other than through a start or an undo are stopped again, until a person resets it.
 */
const {start, pollsBeforeSpike} = useSimHarnesses();

describe('the breaker', () => {
	it('agents re-spawned after a stop are stopped again at once, with the reason in the audit log, across a restart', async () => {
		const sim = start({scenario: 'dev-spike'});
		await pollsBeforeSpike(sim);
		const stopped = await sim.poll();
		expect(stopped.environments[0]).toMatchObject({name: 'dev', status: 'STOPPED', breaker: {actor: 'auto'}});
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev'));

		// A runaway launcher starts agents again: the window restarted at the stop, so from the
		// figures alone this is no spike. The breaker catches it.
		const respawned = sim.sim.spawn({environment: 'dev', role: 'agent', type: 'g4dn.xlarge', count: 3, region: 'us-east-1', name: 'respawn'}, sim.clock.nowMs - 1000, 'running');
		const caught = await sim.poll();
		expect(caught.decisions.find(decision => decision.kind === 'respawn')).toMatchObject({environment: 'dev', agentIds: expect.arrayContaining(respawned)});
		expect(respawned.every(id => halted.includes(sim.states()[id]!))).toBe(true);
		const entry = sim.auditLines().find(line => line.type === 'decision' && line.kind === 'respawn');
		expect(entry?.reason).toMatch(/re-spawn: 3 agents running in dev after envwatch stopped it/);

		// A restart keeps the breaker tripped.
		await sim.monitor.stop();
		sim.newMonitor();
		const again = sim.sim.spawn({environment: 'dev', role: 'agent', type: 'g4dn.xlarge', count: 1, region: 'us-west-2', name: 'respawn'}, sim.clock.nowMs - 1000, 'running');
		const afterRestart = await sim.poll();
		expect(afterRestart.environments[0]!.breaker).toMatchObject({actor: 'auto'});
		expect(halted).toContain(sim.states()[again[0]!]);
	});

	it('a reset lets agents run again; it is refused when nothing is tripped; both are in the audit log with the actor', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		const refused = await sim.monitor.command({kind: 'reset', environment: 'dev'});
		expect(refused).toMatchObject({outcome: 'refused'});
		expect(refused?.summary).toMatch(/dev's breaker is not tripped/);

		await sim.monitor.command({kind: 'stop', environment: 'dev'});
		expect(sim.store.getSnapshot()!.environments[0]!.breaker).toMatchObject({actor: 'tester@jump'});
		await sim.monitor.command({kind: 'reset', environment: 'dev'});
		const snapshot = sim.store.getSnapshot()!;
		expect(snapshot.environments[0]!.breaker).toBeNull();
		expect(sim.auditLines().filter(line => line.kind === 'reset').map(line => [line.actor, line.environments])).toEqual([['tester@jump', ['dev']], ['tester@jump', ['dev']]]);
		expect(sim.state.loadBreakers().has('dev')).toBe(false);
	});

	it('undo restarts exactly the stopped agents and resets the breaker: they are not stopped again', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		await sim.monitor.command({kind: 'stop', environment: 'dev'});
		const lastStop = sim.store.getSnapshot()!.lastStop!;
		await sim.monitor.command({kind: 'undo', stopAt: lastStop.at});
		await sim.poll(0);
		await sim.poll();
		expect(sim.agents('dev', live)).toEqual(sim.agents('dev'));
		expect(sim.store.getSnapshot()!.environments[0]!.breaker).toBeNull();
	});

	it('each batch of a stop is recorded as it completes: the audit log and the last stop hold it while the next batch is still out', async () => {
		let release: () => void = () => undefined;
		const gate = new Promise<void>(resolve => {
			release = resolve;
		});
		let batches = 0;
		const sim = start({
			scenario: 'calm',
			// Holds the second batch (dev's us-west-2 agents) at its scope re-check, as a slow, paced stop would.
			wrap: fleet => ({
				list: async query => fleet.list(query),
				start: async (targets, options) => fleet.start(targets, options),
				stop: async (targets, options) => fleet.stop(targets, {...options, recheck: async batch => {
					if (++batches === 2) {
						await gate;
					}

					return options.recheck!(batch);
				}}),
			}),
		});
		await sim.poll();
		const stopping = sim.monitor.command({kind: 'stop', environment: 'dev'});
		// Wait (without a deadline that load could miss) until the second batch is held at its re-check.
		while (batches < 2) {
			await new Promise(resolve => setTimeout(resolve, 5));
		}

		const progress = sim.auditLines().filter(line => line.type === 'progress');
		expect(progress).toHaveLength(1);
		expect(progress[0]!.reason).toMatch(/^batch: 2 stopping \(2\/4 done\)$/);
		expect(sim.state.loadLastStop()?.targets).toHaveLength(2);
		expect(sim.state.loadActionInFlight()).toMatchObject({kind: 'stop', environments: ['dev'], planned: 4, done: 2});
		expect(sim.monitor.enforcer.progress).toMatchObject({planned: 4, done: 2});
		release();
		await stopping;
		expect(sim.state.loadLastStop()?.targets).toHaveLength(4);
		expect(sim.state.loadActionInFlight()).toBeUndefined();
	});

	it('a stop cut short by a kill is reported on the next start, and its environment stays held: agents left running are stopped', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		// What a process killed between two batches of a stop of dev leaves behind.
		sim.state.saveActionInFlight({kind: 'stop', environments: ['dev'], at: sim.clock.nowMs - 5000, actor: 'auto', planned: 4, done: 2});
		await sim.monitor.stop();
		sim.newMonitor();
		const snapshot = await sim.poll();
		const note = sim.auditLines().find(line => line.kind === 'interrupted');
		expect(note?.reason).toMatch(/a stop of dev by auto at .* was cut short: 2 of 4 agents recorded; dev stays stopped by envwatch/);
		expect(snapshot.environments[0]!.breaker).toMatchObject({reason: 'stop cut short'});
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev'));
		expect(sim.state.loadActionInFlight()).toBeUndefined();
	});
});

describe('the clock', () => {
	it('samples dated in the future are dropped with an audit note, and the windows move again', async () => {
		const sim = start({scenario: 'calm'});
		const future = sim.clock.nowMs + 3_600_000;
		sim.state.saveHistory({dev: [{at: future, usd: 0.42}], '*global:dev,production,staging': [{at: future, usd: 4}]});
		await sim.monitor.stop();
		sim.newMonitor();
		await sim.poll();
		await sim.poll();
		const note = sim.auditLines().find(line => line.kind === 'clock');
		expect(note?.reason).toMatch(/dropped 2 samples dated after now .* from dev, global/);
		const history = sim.state.loadHistory();
		expect(history['dev']!.every(sample => sample.at <= sim.clock.nowMs)).toBe(true);
		expect(history['dev']).toHaveLength(2);
	});

	it('the hourly cap fires whatever the window holds', async () => {
		const sim = start({scenario: 'calm', flags: {environments: {dev: {maxHourlyUsd: 1}}}});
		const future = sim.clock.nowMs + 3_600_000;
		// A window frozen on a cheap sample from a fast clock must not hide $2.34/h against a $1 cap.
		sim.state.saveHistory({dev: [{at: future, usd: 0.2}]});
		await sim.monitor.stop();
		sim.newMonitor();
		const snapshot = await sim.poll();
		expect(snapshot.decisions.find(decision => decision.kind === 'stop')?.reason).toMatch(/> cap \$1\.00\/h/);
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev'));
	});
});

describe('breaker.resetAfterMinutes', () => {
	it('a tripped breaker resets itself after the configured minutes, with an audit note; agents may run again', async () => {
		const sim = start({scenario: 'calm', flags: {breaker: {resetAfterMinutes: 1}}});
		await sim.poll();
		await sim.monitor.command({kind: 'stop', environment: 'dev'});
		expect(sim.store.getSnapshot()!.environments[0]!.breaker).not.toBeNull();
		sim.clock.advance(61_000);
		const snapshot = await sim.poll();
		expect(snapshot.environments[0]!.breaker).toBeNull();
		expect(sim.auditLines().find(line => line.kind === 'reset' && line.actor === 'auto')?.reason).toMatch(/dev's breaker reset after 1 minute \(breaker\.resetAfterMinutes\)/);
	});
});

describe('a reset restarts the window', () => {
	it('agents already back when the breaker is reset are not then read as a spike against the stopped fleet', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		await sim.monitor.command({kind: 'stop', environment: 'dev'});
		await sim.poll();
		// Paused, the breaker holds back: agents started by hand meanwhile keep running.
		await sim.monitor.command({kind: 'pause'});
		sim.sim.spawn({environment: 'dev', role: 'agent', type: 'g4dn.xlarge', count: 4, region: 'us-east-1', name: 'back'}, sim.clock.nowMs - 1000, 'running');
		await sim.poll();
		await sim.monitor.command({kind: 'resume'});
		// The person decides they may run: the reset must not be followed by a stop of them as a spike.
		await sim.monitor.command({kind: 'reset', environment: 'dev'});
		const snapshot = await sim.poll();
		expect(snapshot.decisions.filter(decision => decision.kind === 'stop' || decision.kind === 'respawn')).toEqual([]);
		expect(snapshot.environments[0]!.agents.running).toBe(4);
	});
});

describe('a violation stop (policy.stopViolations)', () => {
	it('brings a limited environment back within its cap and trips nothing: the agents it allows keep running, none is stopped as a re-spawn', async () => {
		const sim = start({scenario: 'calm', flags: {policy: {stopViolations: true}}});
		await sim.poll();
		const allowed = sim.agents('staging', live);
		expect(allowed).toHaveLength(2);
		// One agent over staging's cap of 2: a small one, so no threshold is crossed, only the cap.
		const [extra] = sim.sim.spawn({environment: 'staging', role: 'agent', type: 't3.micro', count: 1, region: 'us-east-1', name: 'over-cap'}, sim.clock.nowMs - 1000, 'running');
		await sim.poll();
		expect(halted).toContain(sim.states()[extra!]);
		expect(sim.agents('staging', live)).toEqual(allowed);
		for (let poll = 0; poll < 3; poll++) {
			await sim.poll();
		}

		// The two agents the policy allows run on: not held, not stopped again as re-spawns.
		expect(sim.agents('staging', live)).toEqual(allowed);
		expect(sim.auditLines().filter(line => line.type === 'action').map(line => [line.kind, line.instanceIds])).toEqual([['violation', [extra]]]);
		const staging = sim.store.getSnapshot()!.environments.find(view => view.name === 'staging')!;
		expect(staging).toMatchObject({status: 'LIMITED', breaker: null, agents: {running: 2, allowed: 2}});
		expect(sim.state.loadBreakers().has('staging')).toBe(false);
	});
});

describe('a monitor-only environment is never held', () => {
	it('a person\'s stop of production\'s rogue agent trips no breaker: re-spawn stops never apply there, so nothing says HELD', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		const [rogue] = sim.sim.spawn({environment: 'production', role: 'agent', type: 't3.micro', count: 1, region: 'us-east-1', name: 'rogue'}, sim.clock.nowMs - 1000, 'running');
		await sim.poll();
		const result = await sim.monitor.command({kind: 'stop', environment: 'production', confirm: 'production'});
		expect(result).toMatchObject({outcome: 'executed', environments: ['production']});
		expect(halted).toContain(sim.states()[rogue!]);
		const production = sim.store.getSnapshot()!.environments.find(view => view.name === 'production')!;
		expect(production).toMatchObject({status: 'MONITOR', breaker: null, agents: {running: 0, allowed: 'monitor-only'}});
		expect(sim.state.loadBreakers().has('production')).toBe(false);
		// Its monitors were never touched.
		expect(sim.instances().filter(instance => instance.environment === 'production' && instance.role === 'monitor').every(instance => instance.state === 'running')).toBe(true);
	});
});
