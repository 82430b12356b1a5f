import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import type {AuditEntry} from '../../source/engine/state/audit.js';
import type {ActionResult} from '../../source/engine/enforcer.js';
import {Monitor} from '../../source/engine/monitor.js';
import {wireSnapshot} from '../../source/engine/snapshot.js';
import {StateStore} from '../../source/engine/state/store.js';
import {SnapshotStore} from '../../source/engine/snapshot-store.js';
import {eventOf} from '../../source/notify/messages.js';
import {readEngineRecord} from '../../source/serve/handover.js';
import {OriginAuditLog} from '../../source/serve/origin.js';
import {parseCommand} from '../../source/serve/protocol.js';
import {EngineSession, type LocalEngine} from '../../source/serve/session.js';
import {halted, live, SimHarness, useSimHarnesses} from '../helpers/sim.js';

/**
 * The dashboard's instance actions and `:guard` as the engine carries them out: the same enforcer,
 * re-check, scope and audit lines as an environment stop; the guarded set changed at run time and
 * kept by the engine that takes over.
 */
const {start, pollsBeforeSpike} = useSimHarnesses();

describe('an instance stop (the detail view\'s x)', () => {
	it('stops exactly the named agents, re-listed with the scope filters; the others run on, and no breaker trips', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		const [first, second, ...rest] = sim.agents('dev');
		const result = await sim.monitor.command({kind: 'stop-instances', environment: 'dev', ids: [first!, second!]}) as ActionResult;
		expect(result).toMatchObject({kind: 'stop', outcome: 'executed', environments: ['dev']});
		expect(result.summary).toMatch(/^stopped 2\/2 agents in dev \(2 stopping; saves \$/);
		expect(sim.agents('dev', halted)).toEqual([first, second].sort());
		expect(sim.agents('dev', live)).toEqual(rest);
		// Listed right before the call with the agent role and the environment's tag, and only those IDs.
		const listing = sim.fleet.lists.at(-2)!;
		expect(listing).toMatchObject({role: {key: sim.config.roleTag.key, value: sim.config.roleTag.agent}, instanceIds: [first, second]});
		// The audit lines are a stop's: the decision naming the instances, then the result.
		const lines = sim.auditLines().filter(entry => entry.kind === 'stop');
		expect(lines.map(entry => [entry.type, entry.actor, entry.instanceIds])).toEqual([['decision', 'tester@jump', [first, second]], ['action', 'tester@jump', [first, second]]]);
		expect(lines[0]!.reason).toBe(`manual stop of 2 instances in dev: ${first}, ${second}`);
		// Notified as a stop, as an environment stop is.
		expect(eventOf(lines[1]!)).toBe('stop');
		// No breaker: the agents not named are not re-spawns, polls later.
		for (let index = 0; index < 3; index++) {
			const snapshot = await sim.poll();
			expect(snapshot.environments.find(view => view.name === 'dev')!.breaker).toBeNull();
		}

		expect(sim.agents('dev', live)).toEqual(rest);
		expect(sim.fleet.stops).toHaveLength(1);
		// Undo starts exactly those two again.
		expect(sim.store.getSnapshot()!.lastStop).toMatchObject({environments: ['dev'], count: 2});
		await sim.monitor.command({kind: 'undo'});
		expect(sim.agents('dev', live)).toEqual(sim.agents('dev'));
	});

	it('leaves alone, and names, what is not a running agent of the environment: a monitor, another environment\'s agent, a stopped one', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		const other = sim.instances().find(instance => instance.environment === 'dev' && instance.role === undefined)!.id;
		const staging = sim.agents('staging')[0]!;
		const [agent] = sim.agents('dev');
		const result = await sim.monitor.command({kind: 'stop-instances', environment: 'dev', ids: [agent!, other, staging]}) as ActionResult;
		expect(result.outcome).toBe('executed');
		expect(result.summary).toContain(`left alone, not a running agent of dev: ${other}, ${staging}`);
		expect(sim.fleet.stops).toEqual([[expect.objectContaining({id: agent})]]);
		expect(sim.states()[other]).toBe('running');
		expect(sim.states()[staging]).toBe('running');
		// Nothing in scope at all: nothing is called.
		const none = await sim.monitor.command({kind: 'stop-instances', environment: 'dev', ids: [other]}) as ActionResult;
		expect(none).toMatchObject({outcome: 'nothing-to-do'});
		expect(none.summary).toContain(`left alone, not a running agent of dev: ${other}`);
		expect(sim.fleet.stops).toHaveLength(1);
	});

	it('in a monitor-only environment, only with its name typed; an environment not guarded is out of scope', async () => {
		const sim = start({scenario: 'calm', monitored: ['dev', 'production']});
		const [rogue] = sim.sim.spawn({environment: 'production', role: 'agent', type: 't3.micro', count: 1, region: 'us-east-1', name: 'rogue'});
		await sim.poll();
		expect(await sim.monitor.command({kind: 'stop-instances', environment: 'production', ids: [rogue!]})).toMatchObject({outcome: 'skipped'});
		expect(sim.states()[rogue!]).toBe('running');
		expect(await sim.monitor.command({kind: 'stop-instances', environment: 'production', ids: [rogue!], confirm: 'production'})).toMatchObject({outcome: 'executed'});
		expect(halted).toContain(sim.states()[rogue!]);
		const staging = sim.agents('staging')[0]!;
		expect(await sim.monitor.command({kind: 'stop-instances', environment: 'staging', ids: [staging]})).toMatchObject({outcome: 'nothing-to-do', environments: []});
		expect(sim.states()[staging]).toBe('running');
	});

	it('cut short by a crash, it trips no breaker at the next start either', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		sim.state.saveActionInFlight({kind: 'stop-instances', environments: ['dev'], at: sim.clock.now(), actor: 'tester@jump', planned: 2, done: 1});
		await sim.monitor.stop();
		sim.newMonitor();
		const snapshot = await sim.poll();
		expect(snapshot.environments.find(view => view.name === 'dev')!.breaker).toBeNull();
		expect(sim.auditLines().find(entry => entry.kind === 'interrupted')?.reason).not.toContain('stays stopped');
	});

	it('the rows carry what the describe shows (AMI, price source, tags) from the same listing; over the socket, tags past their bound are left out, not cut', async () => {
		const sim = start({scenario: 'calm'});
		const snapshot = await sim.poll();
		const row = snapshot.environments.find(view => view.name === 'dev')!.instances!.find(candidate => candidate.role === 'agent')!;
		expect(row).toMatchObject({image: 'ami-0e5e1d0c0ffee0001', priceSource: 'table', tags: {[sim.config.roleTag.key]: sim.config.roleTag.agent}});
		// One listing a poll, as before: the describe asks AWS nothing.
		expect(sim.fleet.lists).toHaveLength(1);
		expect(wireSnapshot(snapshot)).toBe(snapshot);
		const wired = wireSnapshot(snapshot, 2000, 10);
		expect(wired.environments.flatMap(view => view.instances ?? []).some(candidate => candidate.tags !== undefined)).toBe(false);
		expect(wired.environments.find(view => view.name === 'dev')!.instances).toHaveLength(snapshot.environments.find(view => view.name === 'dev')!.instances!.length);
	});

	it('the socket takes it checked, field by field', () => {
		expect(parseCommand({kind: 'stop-instances', environment: 'dev', ids: ['i-0abc']})).toEqual({kind: 'stop-instances', environment: 'dev', ids: ['i-0abc']});
		expect(parseCommand({kind: 'stop-instances', environment: 'dev', ids: ['i-0abc'], confirm: 'dev'})).toEqual({kind: 'stop-instances', environment: 'dev', ids: ['i-0abc'], confirm: 'dev'});
		expect(parseCommand({kind: 'stop-instances', environment: 'dev', ids: []})).toMatch(/^stop-instances: expected/);
		expect(parseCommand({kind: 'stop-instances', environment: 'dev', ids: ['sg-1']})).toMatch(/^stop-instances: expected/);
		expect(parseCommand({kind: 'stop-instances', environment: 'dev', ids: 'i-0abc'})).toMatch(/^stop-instances: expected/);
		expect(parseCommand({kind: 'guard', environments: ['dev']})).toEqual({kind: 'guard', environments: ['dev']});
		expect(parseCommand({kind: 'guard', environments: []})).toMatch(/^guard: expected/);
		expect(parseCommand({kind: 'guard', environments: 'dev'})).toMatch(/^guard: expected/);
	});
});

describe('the guarded set, changed at run time (:guard)', () => {
	it('what is no longer guarded is not polled into the snapshot, evaluated or stopped; the change is an audit line; what is guarded again is', async () => {
		const sim = start({scenario: 'dev-spike'});
		await pollsBeforeSpike(sim);
		expect(await sim.monitor.command({kind: 'guard', environments: ['staging', 'production']})).toMatchObject({outcome: 'executed', summary: 'guarding staging, production; no longer dev'});
		const entry = sim.auditLines().find(line => line.kind === 'guard')!;
		expect(entry).toMatchObject({type: 'decision', actor: 'tester@jump', environments: ['staging', 'production'], outcome: 'executed'});
		expect(entry.reason).toBe('guarded set changed from dev, staging, production to staging, production: no longer guards dev (not polled, evaluated or stopped by envwatch; E leaves it alone)');
		// dev's spike comes: nothing stops it, and the snapshot and an emergency leave it out.
		const snapshot = await sim.poll();
		expect(snapshot.environments.map(view => view.name)).toEqual(['staging', 'production']);
		expect(snapshot.configured).toEqual(['dev', 'staging', 'production']);
		expect(sim.fleet.stops).toEqual([]);
		await sim.monitor.command({kind: 'emergency'});
		expect(sim.agents('dev', live)).toEqual(sim.agents('dev'));
		// Guarded again (in the configuration's order), it is evaluated again.
		await sim.monitor.command({kind: 'undo'});
		expect(await sim.monitor.command({kind: 'guard', environments: ['production', 'dev', 'staging', 'dev']})).toMatchObject({outcome: 'executed', summary: 'guarding dev, staging, production'});
		expect(sim.store.getSnapshot()!.environments.map(view => view.name)).toEqual(['dev', 'staging', 'production']);
	});

	it('refuses names that are not configured, or none, naming what would be right; the same set changes nothing', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		expect(await sim.monitor.command({kind: 'guard', environments: ['dev', 'qa']})).toMatchObject({outcome: 'refused', summary: 'refused: qa is not configured — expected one or more of: dev, staging, production'});
		expect(await sim.monitor.command({kind: 'guard', environments: []})).toMatchObject({outcome: 'refused'});
		expect(await sim.monitor.command({kind: 'guard', environments: ['staging', 'dev', 'production']})).toMatchObject({outcome: 'skipped', summary: 'already guarding dev, staging, production: nothing changed'});
		expect(sim.store.getSnapshot()!.environments).toHaveLength(3);
	});

	it('a confirmation against a set that changed since it was opened (another dashboard\'s :guard) is refused, naming the change; nothing is dropped unseen', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		// Someone else narrows the set to dev and staging; this dashboard confirms a change it
		// computed from dev, staging and production.
		expect(await sim.monitor.command({kind: 'guard', environments: ['dev', 'staging']})).toMatchObject({outcome: 'executed'});
		expect(await sim.monitor.command({kind: 'guard', environments: ['dev'], expected: ['dev', 'staging', 'production']})).toMatchObject({
			outcome: 'refused',
			summary: 'refused: changed since you confirmed: the guarded set is now dev, staging (no longer production); nothing done — look again and type :guard again',
		});
		expect(sim.store.getSnapshot()!.environments.map(view => view.name)).toEqual(['dev', 'staging']);
		// Against the set as it is, it goes through.
		expect(await sim.monitor.command({kind: 'guard', environments: ['dev'], expected: ['staging', 'dev']})).toMatchObject({outcome: 'executed', summary: 'guarding dev; no longer staging'});
		expect(parseCommand({kind: 'guard', environments: ['dev'], expected: ['dev', 'staging']})).toEqual({kind: 'guard', environments: ['dev'], expected: ['dev', 'staging']});
		expect(parseCommand({kind: 'guard', environments: ['dev'], expected: 'dev'})).toMatch(/^guard: "expected" must be a list/);
	});
});

describe('the guarded set at a hand-over', () => {
	const cleanup: Array<() => Promise<void> | void> = [];
	afterEach(async () => {
		for (const step of cleanup.splice(0).reverse()) {
			await step();
		}
	});

	it('a guard sent from an attached dashboard is written to engine.json, and the engine that takes over guards that set', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-guard-'));
		cleanup.push(() => fs.rmSync(dir, {recursive: true, force: true}));
		const sim = new SimHarness({scenario: 'calm', dir});
		cleanup.push(async () => sim.monitor.stop());
		const stateDir = path.join(dir, 'state');
		const auditFile = path.join(dir, 'audit.log');
		const user = os.userInfo().username;
		const createEngine = (actor: string) => async (guard?: readonly string[]): Promise<LocalEngine> => {
			const store = new SnapshotStore();
			const audit = new OriginAuditLog(auditFile);
			const monitored = [...(guard ?? ['dev', 'staging', 'production'])];
			const monitor = new Monitor({provider: {source: 'SIMULATED', fleet: sim.fleet, billing: undefined}, config: sim.config, monitored, store, state: new StateStore(stateDir), audit, clock: sim.clock.now, options: {dryRun: false, readOnly: false, actor}});
			return {monitor, store, audit, monitored};
		};

		const session = (actor: string, mode: 'serve' | 'dashboard') => new EngineSession({stateDir, mode, client: 'dashboard', actor, version: 'test', createEngine: createEngine(actor), log: () => undefined});
		const until = async (predicate: () => boolean, what: string) => {
			for (const deadline = Date.now() + 10_000; !predicate();) {
				if (Date.now() > deadline) {
					throw new Error(`timed out waiting for ${what}`);
				}

				await new Promise(resolve => setTimeout(resolve, 20));
			}
		};

		const server = session(`${user}@serve`, 'serve');
		expect(await server.open()).toBe('running');
		cleanup.push(async () => server.stop());
		server.start();
		const dashboard = session(`${user}@dashboard`, 'dashboard');
		expect(await dashboard.open()).toBe('attached');
		cleanup.push(async () => dashboard.stop());
		dashboard.start();
		await until(() => dashboard.store.getSnapshot() !== undefined, 'the attached snapshot');
		expect(await dashboard.command({kind: 'guard', environments: ['dev', 'staging']})).toMatchObject({outcome: 'executed'});
		await until(() => readEngineRecord(stateDir)?.environments.length === 2, 'engine.json to follow');
		expect(readEngineRecord(stateDir)!.environments).toEqual(['dev', 'staging']);
		const entries = fs.readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).map(line => JSON.parse(line) as AuditEntry);
		expect(entries.find(entry => entry.kind === 'guard')).toMatchObject({actor: `${user}@dashboard`, via: 'socket', environments: ['dev', 'staging']});

		await server.stop('SIGTERM');
		await until(() => dashboard.monitor !== undefined, 'the take-over');
		await until(() => dashboard.store.getSnapshot()?.attachedTo === undefined && dashboard.store.getSnapshot()?.environments.length === 2, 'the heir\'s own poll');
		expect(dashboard.store.getSnapshot()!.environments.map(view => view.name)).toEqual(['dev', 'staging']);
		const takeover = fs.readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).map(line => JSON.parse(line) as AuditEntry).find(entry => entry.kind === 'takeover');
		expect(takeover?.reason).toContain('guards dev, staging, as the engine before it did');
	});
});
