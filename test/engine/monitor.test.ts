import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it, vi} from 'vitest';
import type {Fleet, FleetListing, FleetQuery} from '../../source/providers/types.js';
import {globalKey} from '../../source/domain/history.js';
import {halted, live, ManualClock, useSimHarnesses} from '../helpers/sim.js';

const {start, pollsBeforeSpike} = useSimHarnesses();
afterEach(() => {
	vi.useRealTimers();
});


describe('listing', () => {
	it('a poll lists only what costs money (pending, running): with no volumes to price, stopped instances are neither fetched nor decoded', async () => {
		const sim = start({scenario: 'dev-spike'});
		await sim.poll();
		expect(sim.fleet.lists).toHaveLength(1);
		expect([...sim.fleet.lists[0]!.states].sort()).toEqual(['pending', 'running']);
	});
});

describe('modes', () => {
	it('read-only makes no stop call and leaves the fleet unchanged, yet logs the decision and why it was not executed', async () => {
		const sim = start({scenario: 'dev-spike', options: {readOnly: true}});
		await pollsBeforeSpike(sim);
		const listsBefore = sim.fleet.lists.length;
		const snapshot = await sim.poll();
		expect(snapshot.decisions.map(decision => decision.kind)).toEqual(['stop']);
		expect(snapshot.mode.readOnly).toBe(true);
		expect(sim.fleet.stops).toEqual([]);
		expect(sim.fleet.starts).toEqual([]);
		expect(sim.agents('dev', live)).toEqual(sim.agents('dev'));
		// Not even the scope re-check's listing: only the poll's own.
		expect(sim.fleet.lists.length - listsBefore).toBe(1);
		const action = sim.auditLines().find(entry => entry.type === 'action')!;
		expect(action).toMatchObject({kind: 'stop', outcome: 'skipped', environments: ['dev']});
		expect(action.reason).toMatch(/read-only/);
		expect(action.instanceIds.sort()).toEqual(sim.agents('dev'));

		// A manual stop and an undo are refused alike.
		await sim.monitor.command({kind: 'stop', environment: 'staging'});
		await sim.monitor.command({kind: 'undo'});
		expect(sim.fleet.stops).toEqual([]);
		expect(sim.fleet.starts).toEqual([]);
		expect(sim.agents('staging', live)).toEqual(sim.agents('staging'));
	});

	it('a breach held back by read-only or pause is written once, not on every poll while it lasts', async () => {
		for (const options of [{readOnly: true}, {paused: true}]) {
			const sim = start({scenario: 'dev-spike', options});
			await pollsBeforeSpike(sim);
			for (let poll = 0; poll < 5; poll++) {
				expect((await sim.poll()).decisions.map(decision => decision.kind)).toEqual(['stop']);
			}

			const stops = sim.auditLines().filter(entry => entry.kind === 'stop');
			expect(stops.filter(entry => entry.type === 'decision')).toHaveLength(1);
			expect(stops.filter(entry => entry.type === 'action')).toHaveLength(options.readOnly ? 1 : 0);
		}
	});

	it('a dry run tries a lasting breach once with DryRun, not on every poll', async () => {
		const sim = start({scenario: 'dev-spike', options: {dryRun: true}});
		await pollsBeforeSpike(sim);
		for (let poll = 0; poll < 4; poll++) {
			await sim.poll();
		}

		expect(sim.fleet.stops).toHaveLength(1);
		expect(sim.auditLines().filter(entry => entry.kind === 'stop' && entry.type === 'action')).toHaveLength(1);
	});

	it('a violation stop waits out graceSeconds like any automatic action, and x (cancel) keeps the agent', async () => {
		const sim = start({scenario: 'rogue-agent', flags: {graceSeconds: 30, policy: {stopViolations: true}}});
		await pollsBeforeSpike(sim);
		const snapshot = await sim.poll();
		expect(snapshot.pending?.decision.kind).toBe('violation');
		expect(sim.fleet.stops).toEqual([]);
		await sim.monitor.command({kind: 'cancel-pending'});
		await sim.poll(31_000);
		await sim.poll();
		expect(sim.fleet.stops).toEqual([]);
		expect(sim.agents('production', live)).toHaveLength(1);
	});

	it('dry-run calls with DryRun: the fleet is unchanged, each instance permitted, logged as a dry run', async () => {
		const sim = start({scenario: 'dev-spike', options: {dryRun: true}});
		await pollsBeforeSpike(sim);
		await sim.poll();
		expect(sim.fleet.stops).toHaveLength(1);
		expect(sim.agents('dev', live)).toEqual(sim.agents('dev'));
		const action = sim.auditLines().find(entry => entry.type === 'action')!;
		expect(action).toMatchObject({kind: 'stop', outcome: 'dry-run', dryRun: true});
		expect(action.results!.map(result => result.result)).toEqual(Array(5).fill('permitted'));
		expect(sim.auditLines().every(entry => entry.dryRun)).toBe(true);
		// Nothing was stopped, so there is nothing to undo.
		expect(sim.state.loadLastStop()).toBeUndefined();
	});

	it('pause: the decision is logged as skipped and nothing stops; after resume the next poll acts', async () => {
		const sim = start({scenario: 'dev-spike'});
		await sim.monitor.command({kind: 'pause'});
		await pollsBeforeSpike(sim);
		const paused = await sim.poll();
		expect(paused.mode.paused).toBe(true);
		expect(sim.fleet.stops).toEqual([]);
		expect(sim.agents('dev', live)).toEqual(sim.agents('dev'));
		expect(sim.auditLines().find(entry => entry.outcome === 'skipped: paused')).toMatchObject({type: 'decision', kind: 'stop', environments: ['dev']});
		expect(sim.auditLines().find(entry => entry.kind === 'pause')).toMatchObject({actor: 'tester@jump'});

		await sim.monitor.command({kind: 'resume'});
		expect(sim.store.getSnapshot()!.mode.paused).toBe(false);
		await sim.poll();
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev'));
		expect(sim.fleet.stops).toHaveLength(1);
	});

	it('undo starts exactly the instances of the last stop', async () => {
		const sim = start({scenario: 'dev-spike'});
		await pollsBeforeSpike(sim);
		await sim.poll();
		const stopped = sim.agents('dev', halted);
		expect(stopped).toHaveLength(5);
		// Someone else stops a staging agent meanwhile: undo must not start it.
		const stagingAgent = sim.agents('staging')[0]!;
		await sim.sim.stop([{id: stagingAgent, region: 'us-east-1'}], {dryRun: false});
		sim.clock.advance(5000);
		const before = sim.states();

		const result = await sim.monitor.command({kind: 'undo'});
		expect(result).toMatchObject({kind: 'undo', outcome: 'executed'});
		expect(sim.fleet.starts.flat().map(target => target.id).sort()).toEqual(stopped);
		const after = sim.states();
		for (const [id, state] of Object.entries(before)) {
			expect(after[id], id).toBe(stopped.includes(id) ? 'pending' : state);
		}

		expect(after[stagingAgent]).toBe('stopped');
		expect(sim.auditLines().filter(entry => entry.kind === 'undo').map(entry => [entry.type, entry.actor])).toEqual([['decision', 'tester@jump'], ['progress', 'tester@jump'], ['action', 'tester@jump']]);
		// Undone: a second undo has nothing to do.
		expect(await sim.monitor.command({kind: 'undo'})).toMatchObject({outcome: 'nothing-to-do'});
	});

	it('manual stop goes through the same enforcer; a monitor-only environment is stopped only when its name is typed', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		const unconfirmed = await sim.monitor.command({kind: 'stop', environment: 'production'});
		expect(unconfirmed).toMatchObject({outcome: 'skipped'});
		expect(unconfirmed?.summary).toMatch(/production is monitor only: stopped only when the name is typed/);
		const wrongName = await sim.monitor.command({kind: 'stop', environment: 'production', confirm: 'prod'});
		expect(wrongName).toMatchObject({outcome: 'skipped'});
		const result = await sim.monitor.command({kind: 'stop', environment: 'production', confirm: 'production'});
		expect(result).toMatchObject({outcome: 'nothing-to-do'});
		expect(sim.instances().filter(instance => instance.environment === 'production').every(instance => instance.state === 'running')).toBe(true);
		expect(sim.fleet.stops).toEqual([]);

		const staging = await sim.monitor.command({kind: 'stop', environment: 'staging'});
		expect(staging).toMatchObject({outcome: 'executed', environments: ['staging']});
		expect(sim.agents('staging', halted)).toEqual(sim.agents('staging'));
		expect(sim.agents('dev', live)).toEqual(sim.agents('dev'));
		const decisions = sim.auditLines().filter(entry => entry.type === 'decision' && entry.kind === 'stop');
		expect(decisions.map(entry => [entry.actor, entry.environments])).toEqual([['tester@jump', []], ['tester@jump', []], ['tester@jump', ['production']], ['tester@jump', ['staging']]]);
	});
});

describe('history', () => {
	it('persists across a restart: a new Monitor on the same state dir keeps its windows', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-restart-'));
		const clock = new ManualClock();
		try {
			const first = start({scenario: 'dev-spike', dir, clock});
			await pollsBeforeSpike(first);
			await first.monitor.stop();
			expect(first.fleet.stops).toEqual([]);

			// The restart (same account, clock at +30 s, after the spike): the baseline from before the
			// restart is still there, so the spike is seen and acted on at the first poll.
			first.newMonitor();
			const snapshot = await first.poll();
			expect(snapshot.decisions.find(decision => decision.kind === 'stop')).toMatchObject({environment: 'dev'});
			const decided = first.auditLines().find(entry => entry.type === 'decision' && entry.kind === 'stop')!;
			expect(decided.figures!['baselineUsd']).toBeCloseTo(2.3364, 4);
			expect(first.agents('dev', halted)).toEqual(first.agents('dev'));

			// Without the persisted history the same moment has no baseline to compare with: no action.
			const fresh = start({scenario: 'dev-spike', clock: new ManualClock(clock.nowMs - 45_000)});
			fresh.clock.advance(30_000);
			const cold = await fresh.poll();
			expect(cold.environments.find(view => view.name === 'dev')!.level).toBe('ok');
			expect(fresh.fleet.stops).toEqual([]);
		} finally {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});

	it('is reset for an environment after envwatch stops its agents; the global series is not', async () => {
		const sim = start({scenario: 'dev-spike'});
		await pollsBeforeSpike(sim);
		await sim.poll();
		const stoppedAt = sim.clock.nowMs - 15_000;
		expect(sim.state.loadHistory()['dev']).toBeUndefined();
		const globalBefore = sim.state.loadHistory()[globalKey(['dev', 'staging', 'production'])]!;
		expect(globalBefore).toHaveLength(3);

		const next = await sim.poll();
		const history = sim.state.loadHistory();
		expect(history['dev']).toEqual([{at: stoppedAt + 15_000, usd: expect.closeTo(0.2324, 4)}]);
		expect(history['staging']).toHaveLength(4);
		expect(history[globalKey(['dev', 'staging', 'production'])]).toHaveLength(4);
		const dev = next.environments.find(view => view.name === 'dev')!;
		expect(dev).toMatchObject({status: 'STOPPED', level: 'ok'});
		expect(dev.baselineUsd).toBeCloseTo(0.2324, 4);
	});
});

describe('the poll loop', () => {
	it('polls never overlap: two concurrent polls make one provider list call', async () => {
		const sim = start({scenario: 'calm'});
		const [a, b] = await Promise.all([sim.monitor.poll(), sim.monitor.poll()]);
		expect(sim.fleet.lists).toHaveLength(1);
		expect(a).toBe(b);
		await sim.monitor.poll();
		expect(sim.fleet.lists).toHaveLength(2);
	});

	it('a list that throws: STALE, no action, last known figures kept; fresh data acts again', async () => {
		const sim = start({scenario: 'dev-spike'});
		await pollsBeforeSpike(sim);
		sim.fleet.onList = () => {
			throw Object.assign(new Error('Rate exceeded'), {name: 'RequestLimitExceeded'});
		};

		const stale = await sim.poll();
		expect(stale.error).toBe('RequestLimitExceeded: Rate exceeded');
		expect(stale.environments.map(view => view.status)).toEqual(['STALE', 'STALE', 'STALE']);
		expect(stale.global.status).toBe('STALE');
		expect(stale.decisions).toEqual([]);
		expect(sim.fleet.stops).toEqual([]);
		// Stale is never zero spend: the last known figures are shown.
		expect(stale.environments[0]!.hourlyUsd).toBeCloseTo(2.3364, 4);
		expect(stale.lastSuccessAt).toBe(sim.clock.nowMs - 30_000);
		// Nothing was recorded from the failed poll.
		expect(sim.state.loadHistory()['dev']).toHaveLength(2);

		sim.fleet.onList = undefined;
		const fresh = await sim.poll();
		expect(fresh.error).toBeNull();
		expect(fresh.decisions.find(decision => decision.kind === 'stop')).toMatchObject({environment: 'dev'});
		// The row shows the stop at once, not one poll later.
		expect(fresh.environments[0]).toMatchObject({status: 'STOPPED', agents: {running: 0}});
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev'));
	});

	it('a region that cannot be listed makes the data stale: no action on a partial fleet', async () => {
		const sim = start({
			scenario: 'dev-spike',
			wrap: fleet => ({
				list: async (query: FleetQuery): Promise<FleetListing> => {
					const listing = await fleet.list(query);
					return query.role ? listing : {...listing, instances: listing.instances.filter(instance => instance.region !== 'us-west-2'), errors: [{region: 'us-west-2', message: 'UnauthorizedOperation'}]};
				},
				stop: async (targets, options) => fleet.stop(targets, options),
				start: async (targets, options) => fleet.start(targets, options),
			}),
		});
		await pollsBeforeSpike(sim);
		const snapshot = await sim.poll();
		expect(snapshot.error).toBe('us-west-2: UnauthorizedOperation');
		expect(snapshot.environments.every(view => view.status === 'STALE')).toBe(true);
		expect(sim.fleet.stops).toEqual([]);
	});

	it('backs off while the list fails and returns to the interval once it succeeds', async () => {
		vi.useFakeTimers();
		const sim = start({scenario: 'calm'});
		let failing = true;
		sim.fleet.onList = () => {
			if (failing) {
				throw new Error('connect ETIMEDOUT');
			}
		};

		const interval = sim.config.pollIntervalSeconds * 1000;
		sim.monitor.start();
		await vi.advanceTimersByTimeAsync(0);
		expect(sim.fleet.lists).toHaveLength(1);
		// One failure: the next poll waits two intervals, not one.
		await vi.advanceTimersByTimeAsync(interval);
		expect(sim.fleet.lists).toHaveLength(1);
		await vi.advanceTimersByTimeAsync(interval);
		expect(sim.fleet.lists).toHaveLength(2);
		// Two failures: four intervals.
		await vi.advanceTimersByTimeAsync(3 * interval);
		expect(sim.fleet.lists).toHaveLength(2);
		failing = false;
		await vi.advanceTimersByTimeAsync(interval);
		expect(sim.fleet.lists).toHaveLength(3);
		expect(sim.store.getSnapshot()!.error).toBeNull();
		// Recovered: back to one interval.
		await vi.advanceTimersByTimeAsync(interval);
		expect(sim.fleet.lists).toHaveLength(4);
		await sim.monitor.stop();
	});
});

describe('scope re-check before acting', () => {
	/**
	 * A fake provider over the sim: after the monitor's poll has listed the fleet, and before the
	 * enforcer re-lists its targets, one dev agent's tags change (as a person re-tagging it in the
	 * console would). Listings then report the new tags and filter on them, as EC2's would.
	 */
	function retagging(change: Record<string, string>) {
		let victim: string | undefined;
		const retagged = new Map<string, Record<string, string>>();
		const wrap = (fleet: Fleet): Fleet => ({
			async list(query) {
				if (query.role && victim && !retagged.has(victim)) {
					retagged.set(victim, change);
				}

				const broad = await fleet.list({...query, envTagValues: undefined, role: undefined});
				const instances = broad.instances
					.map(instance => ({...instance, tags: {...instance.tags, ...retagged.get(instance.id)}}))
					.filter(instance => (!query.envTagValues || query.envTagValues.includes(instance.tags[query.envTagKey] ?? ''))
						&& (!query.role || instance.tags[query.role.key] === query.role.value));
				return {...broad, instances};
			},
			stop: async (targets, options) => fleet.stop(targets, options),
			start: async (targets, options) => fleet.start(targets, options),
		});
		return {wrap, choose: (id: string) => {
			victim = id;
		}};
	}

	it.each([
		['moved to an unmonitored environment', {Environment: 'qa'}],
		['became a monitor', {Role: 'monitor'}],
		['lost its role tag', {Role: ''}],
	])('an agent that %s between evaluation and action is not stopped', async (_what, change) => {
		const fake = retagging(change);
		const sim = start({scenario: 'dev-spike', wrap: fake.wrap});
		await pollsBeforeSpike(sim);
		const victim = sim.agents('dev')[0]!;
		fake.choose(victim);
		const snapshot = await sim.poll();
		const planned = snapshot.decisions.find(decision => decision.kind === 'stop')!;
		expect(planned.kind === 'stop' && planned.agentIds).toContain(victim);
		expect(sim.fleet.stops.flat().map(target => target.id)).not.toContain(victim);
		expect(sim.states()[victim]).toBe('running');
		expect(sim.agents('dev', halted)).toEqual(sim.agents('dev').filter(id => id !== victim));
		const action = sim.auditLines().find(entry => entry.type === 'action')!;
		expect(action.instanceIds).not.toContain(victim);
		expect(action.instanceIds).toHaveLength(4);
	});
});

describe('the audit log through stale data', () => {
	it('a poll with stale data does not log a warning as recovered', async () => {
		const sim = start({scenario: 'staging-spike', options: {readOnly: true}});
		await pollsBeforeSpike(sim);
		await sim.poll();
		expect(sim.auditLines().filter(entry => entry.kind === 'warn').map(entry => entry.environments)).toEqual([['dev']]);
		sim.fleet.onList = () => {
			throw new Error('connect ETIMEDOUT');
		};

		await sim.poll();
		await sim.poll();
		expect(sim.auditLines().filter(entry => entry.kind === 'recover')).toEqual([]);
		sim.fleet.onList = undefined;
		await sim.poll();
		// Still warning on fresh data: not a new warning either.
		expect(sim.auditLines().filter(entry => entry.kind === 'warn')).toHaveLength(1);
		expect(sim.auditLines().filter(entry => entry.kind === 'recover')).toEqual([]);
	});
});

describe('undo across a restart', () => {
	it('a new Monitor on the same state dir undoes the stop made before the restart', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-undo-'));
		try {
			const sim = start({scenario: 'dev-spike', dir});
			await pollsBeforeSpike(sim);
			await sim.poll();
			const stopped = sim.agents('dev', halted);
			expect(stopped).toHaveLength(5);
			await sim.monitor.stop();
			sim.newMonitor();
			await sim.poll();
			expect(sim.store.getSnapshot()!.lastStop).toMatchObject({environments: ['dev'], count: 5});
			const result = await sim.monitor.command({kind: 'undo'});
			expect(result).toMatchObject({outcome: 'executed'});
			expect(sim.fleet.starts.flat().map(target => target.id).sort()).toEqual(stopped);
			expect(sim.store.getSnapshot()!.lastStop).toBeNull();
		} finally {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});
});
