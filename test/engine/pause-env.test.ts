import {describe, expect, it} from 'vitest';
import {loadConfig} from '../../source/config/load.js';
import {emptySpend} from '../../source/domain/classify.js';
import {globalKey, record, type History} from '../../source/domain/history.js';
import {evaluateAt} from '../../source/engine/projection.js';
import {eventOf} from '../../source/notify/messages.js';
import {halted, live, useSimHarnesses} from '../helpers/sim.js';

const {start, pollsBeforeSpike} = useSimHarnesses();

/** The instance IDs every stop call so far was given, per environment (by the sim's tags). */
function stoppedIn(sim: ReturnType<typeof start>, environment: string): string[] {
	const ids = new Set(sim.agents(environment));
	return sim.fleet.stops.flat().map(target => target.id).filter(id => ids.has(id));
}

describe('automatic actions paused for one environment', () => {
	it('a paused environment that breaches is still BREACH, logged and shown paused, but nothing there is stopped', async () => {
		const sim = start({scenario: 'dev-spike', options: {pausedEnvironments: ['dev']}});
		await pollsBeforeSpike(sim);
		for (let index = 0; index < 3; index++) {
			await sim.poll();
		}

		const snapshot = sim.store.getSnapshot()!;
		const dev = snapshot.environments.find(view => view.name === 'dev')!;
		expect(dev).toMatchObject({status: 'BREACH', paused: true});
		expect(snapshot.environments.filter(view => view.paused).map(view => view.name)).toEqual(['dev']);
		expect(sim.fleet.stops).toEqual([]);
		expect(sim.agents('dev', live)).toEqual(sim.agents('dev'));
		// The breach is an automatic decision in the audit log (the notifier's `breach` event), once.
		const alerts = sim.auditLines().filter(entry => entry.actor === 'auto' && entry.kind === 'alert' && entry.environments[0] === 'dev');
		expect(alerts).toHaveLength(1);
		expect(alerts[0]!.reason).toMatch(/paused: alert, no automatic stop/);
		expect(eventOf(alerts[0]!)).toBe('breach');
		// Nor does its rise set off an emergency against staging.
		expect(snapshot.decisions.map(decision => decision.kind)).not.toContain('emergency');
		expect(sim.agents('staging', live)).toEqual(sim.agents('staging'));
	});

	it('the others are still guarded: in a cascade with dev paused, staging is stopped at once and dev never', async () => {
		const sim = start({scenario: 'cascade', options: {pausedEnvironments: ['dev']}});
		await pollsBeforeSpike(sim);
		const snapshot = await sim.poll();
		expect(snapshot.decisions.find(decision => decision.kind === 'stop')).toMatchObject({environment: 'staging', cascade: false});
		expect(sim.agents('staging', halted)).toEqual(sim.agents('staging'));
		await sim.poll();
		await sim.poll();
		expect(stoppedIn(sim, 'dev')).toEqual([]);
		expect(sim.agents('dev', live)).toEqual(sim.agents('dev'));
	});

	it('the same cascade unpaused stops dev first (the test above can fail)', async () => {
		const sim = start({scenario: 'cascade'});
		await pollsBeforeSpike(sim);
		const snapshot = await sim.poll();
		expect(snapshot.decisions.find(decision => decision.kind === 'stop')).toMatchObject({environment: 'dev', cascade: true});
	});

	it('an automatic emergency leaves a paused environment\'s agents alone; a person\'s emergency stop still includes them', async () => {
		// C: dev +1.8% and staging +1.1%, nobody breaches alone, the total does; with production's
		// hotfix box the total is over 1% even without paused staging's rise.
		const sim = start({scenario: 'global-spike', options: {pausedEnvironments: ['staging']}});
		await pollsBeforeSpike(sim);
		sim.sim.spawn({environment: 'production', role: 'other', type: 't3.nano', count: 1, region: 'us-east-1', name: 'prod-hotfix'}, sim.clock.nowMs, 'running');
		const snapshot = await sim.poll();
		expect(snapshot.decisions.find(decision => decision.kind === 'emergency')).toMatchObject({environments: ['dev']});
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev'));
		expect(stoppedIn(sim, 'staging')).toEqual([]);
		expect((await sim.monitor.command({kind: 'emergency'}))?.outcome).toBe('executed');
		expect(sim.agents('staging', halted)).toEqual(sim.agents('staging'));
	});

	it('a manual stop of a paused environment still stops it', async () => {
		const sim = start({scenario: 'calm', options: {pausedEnvironments: ['staging']}});
		await sim.poll();
		expect(await sim.monitor.command({kind: 'stop', environment: 'staging'})).toMatchObject({outcome: 'executed'});
		expect(sim.agents('staging', halted)).toEqual(sim.agents('staging'));
	});

	it('pause-env and resume-env are recorded with who and when; after resuming, the breach is stopped', async () => {
		const sim = start({scenario: 'dev-spike'});
		await sim.poll();
		expect(await sim.monitor.command({kind: 'pause-env', environment: 'dev'})).toBeUndefined();
		expect(sim.store.getSnapshot()!.environments.find(view => view.name === 'dev')!.paused).toBe(true);
		await sim.poll();
		await sim.poll();
		expect(sim.fleet.stops).toEqual([]);
		const at = new Date(sim.clock.nowMs).toISOString();
		await sim.monitor.command({kind: 'resume-env', environment: 'dev'});
		const entries = sim.auditLines().filter(entry => entry.kind === 'pause' || entry.kind === 'resume');
		expect(entries.map(entry => [entry.kind, entry.actor, entry.environments])).toEqual([['pause', 'tester@jump', ['dev']], ['resume', 'tester@jump', ['dev']]]);
		expect(entries[1]!.at).toBe(at);
		expect(entries[0]!.reason).toMatch(/^automatic actions paused for dev: /);
		// The global pause is untouched by either.
		expect(sim.store.getSnapshot()!.mode.paused).toBe(false);
		await sim.poll();
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev'));
	});

	it('pausing twice changes nothing and logs once; an unknown or unmonitored name is refused, naming the monitored ones', async () => {
		const sim = start({scenario: 'calm', monitored: ['dev', 'staging']});
		await sim.poll();
		await sim.monitor.command({kind: 'pause-env', environment: 'dev'});
		await sim.monitor.command({kind: 'pause-env', environment: 'dev'});
		expect(sim.auditLines().filter(entry => entry.kind === 'pause')).toHaveLength(1);
		expect(await sim.monitor.command({kind: 'pause-env', environment: 'constructor'})).toMatchObject({outcome: 'refused', summary: 'refused: constructor is not a configured environment — expected one of: dev, staging'});
		expect(await sim.monitor.command({kind: 'pause-env', environment: 'production'})).toMatchObject({outcome: 'refused', summary: expect.stringMatching(/^refused: production is not monitored in this run/) as string});
		expect(sim.store.getSnapshot()!.environments.filter(view => view.paused).map(view => view.name)).toEqual(['dev']);
	});

	it('pausing the environment whose stop counts down its grace period drops that countdown', async () => {
		const sim = start({scenario: 'dev-spike', flags: {graceSeconds: 20}});
		await pollsBeforeSpike(sim);
		expect((await sim.poll()).pending).toMatchObject({decision: {kind: 'stop', environment: 'dev'}});
		await sim.monitor.command({kind: 'pause-env', environment: 'dev'});
		expect(sim.store.getSnapshot()!.pending).toBeNull();
		for (let index = 0; index < 3; index++) {
			await sim.poll();
		}

		expect(sim.fleet.stops).toEqual([]);
		// Only dev is paused: automatic actions as a whole are not.
		expect(sim.store.getSnapshot()!.mode.paused).toBe(false);
	});

	it('under policy.stopViolations a rogue agent in a paused environment is shown, not stopped', async () => {
		const sim = start({scenario: 'calm', flags: {policy: {stopViolations: true}}, options: {pausedEnvironments: ['production']}});
		const [rogue] = sim.sim.spawn({environment: 'production', role: 'agent', type: 't3.micro', count: 1, region: 'us-east-1', name: 'rogue'}, sim.clock.nowMs - 1000, 'running');
		const snapshot = await sim.poll();
		expect(snapshot.environments.find(view => view.name === 'production')!.violation).toMatch(/rogue|not allowed|monitor/);
		expect(sim.states()[rogue!]).toBe('running');
	});

	it('like the global pause, it is not kept across an engine restart: the new engine starts from its flags', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		await sim.monitor.command({kind: 'pause'});
		await sim.monitor.command({kind: 'pause-env', environment: 'dev'});
		await sim.monitor.stop();
		sim.newMonitor();
		const snapshot = await sim.poll();
		expect(snapshot.mode.paused).toBe(false);
		expect(snapshot.environments.find(view => view.name === 'dev')!.paused).toBe(false);
	});
});

// The global rule is judged without a paused environment's rise over the global window, measured
// from its own history (pure: evaluateAt over a history written here).
describe('the global rule with an environment paused', () => {
	const {config} = loadConfig({noStore: true});
	const monitored = ['dev', 'staging', 'production'];
	const at = Date.UTC(2026, 10, 27, 12);
	const minute = 60_000;
	/** Per environment, its $/h by minutes before `at` (stepwise: each value holds until the next); one sample a minute for 4 hours. */
	/** `since`: minutes ago each series (re)started (envwatch restarts a window it changed itself). */
	function evaluateWith(steps: Record<string, Array<[number, number]>>, agents: Record<string, number>, paused: string[], since: Record<string, number> = {}) {
		const history: History = {};
		const globalName = globalKey(monitored);
		for (let ago = 240; ago >= 0; ago--) {
			let total = 0;
			for (const name of monitored) {
				const usd = [...steps[name]!].reverse().find(([from]) => ago <= from)![1];
				total += usd;
				if (ago <= (since[name] ?? 240)) {
					record(history, name, {at: at - ago * minute, usd});
				}
			}

			if (ago <= (since['global'] ?? 240)) {
				record(history, globalName, {at: at - ago * minute, usd: total});
			}
		}

		const spend = new Map(monitored.map(name => {
			const usd = steps[name]!.at(-1)![1];
			return [name, {...emptySpend(), hourlyUsd: usd, agentHourlyUsd: usd, agentsRunning: agents[name] ?? 0, agentIds: Array.from({length: agents[name] ?? 0}, (_, index) => ({id: `i-${name}-${index}`, region: 'us-east-1', type: 't3.large'}))}] as const;
		}));
		return evaluateAt({config, monitored, globalKey: globalName, history, spend, breakers: new Map(), at, stale: undefined, paused: new Set(paused)}).evaluation;
	}

	it('a paused load test started from nothing ($0 to $3/h) is no emergency against the others', () => {
		const evaluation = evaluateWith({dev: [[240, 0], [20, 3]], staging: [[240, 1.85]], production: [[240, 0.15]]}, {dev: 4, staging: 2}, ['dev']);
		expect(evaluation.decisions.map(decision => decision.kind)).not.toContain('emergency');
		expect(evaluation.decisions.find(decision => decision.kind === 'alert' && decision.environment === 'global')!.reason).toMatch(/without the rise of paused dev \(\$3\.00\/h\)/);
	});

	it('a rise before the global window\'s start (the total restarted by a start elsewhere) is not taken off', () => {
		// dev rose 50 minutes ago; a start in production 10 minutes ago restarted the total's window;
		// staging rose 1.4% since: over the global 1% from that baseline, none of it dev's doing.
		const evaluation = evaluateWith({dev: [[240, 0.2], [50, 0.5]], staging: [[240, 5], [5, 5.07]], production: [[240, 0.15]]}, {dev: 4, staging: 2}, ['dev'], {global: 10});
		expect(evaluation.decisions.find(decision => decision.kind === 'emergency')?.environments).toEqual(['staging']);
	});

	it('a paused environment whose window envwatch restarted since the total\'s baseline: its rise is unknown, not taken off', () => {
		const evaluation = evaluateWith({dev: [[240, 0.5], [8, 0.2], [5, 0.5]], staging: [[240, 5], [30, 5.07]], production: [[240, 0.15]]}, {dev: 4, staging: 2}, ['dev'], {dev: 8});
		expect(evaluation.decisions.find(decision => decision.kind === 'emergency')?.environments).toEqual(['staging']);
	});

	it('a paused environment that dipped and came back within the hour hides nothing: the others\' rise is an emergency', () => {
		// dev (30m window) dipped 40 minutes ago and is back where it was an hour ago: +$0.30 over its
		// own window, nothing over the global one. staging rose 1.4% (under its 1.5%) in the hour:
		// the total rose 1.24%, over the global 1%, without any of dev's doing.
		const evaluation = evaluateWith({dev: [[240, 0.5], [40, 0.2], [20, 0.5]], staging: [[240, 5], [30, 5.07]], production: [[240, 0.15]]}, {dev: 4, staging: 2}, ['dev']);
		const emergency = evaluation.decisions.find(decision => decision.kind === 'emergency');
		expect(emergency?.environments).toEqual(['staging']);
		expect(emergency?.reason).toMatch(/\(paused: dev not stopped\)$/);
	});
});
