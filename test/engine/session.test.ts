import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import type {AuditEntry} from '../../source/engine/state/audit.js';
import {Monitor, type MonitorOptions} from '../../source/engine/monitor.js';
import {StateStore} from '../../source/engine/state/store.js';
import {SnapshotStore} from '../../source/engine/snapshot-store.js';
import {OriginAuditLog} from '../../source/serve/origin.js';
import {EngineSession, type LocalEngine} from '../../source/serve/session.js';
import {attachNotifier} from '../../source/notify/attach.js';
import {resolveTargets} from '../../source/notify/targets.js';
import type {Notifier} from '../../source/notify/notifier.js';
import {useReceivers} from '../helpers/receiver.js';
import {SimHarness} from '../helpers/sim.js';

/**
 * Two engine sessions in one process on one state dir, over the real socket: the first runs the
 * engine on the simulated account, the second attaches; then the first stops and the second
 * carries on. (In one process both have the same pid, so the lock alone could not tell them
 * apart: the socket answering is what makes the second attach.)
 */
const cleanup: Array<() => Promise<void> | void> = [];
const receiver = useReceivers();

afterEach(async () => {
	for (const step of cleanup.splice(0).reverse()) {
		await step();
	}
});

/** Actors as a client names itself: this user (the server checks the user against the connection's uid), any host part. */
const user = os.userInfo().username;

function readAudit(file: string): AuditEntry[] {
	return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(line => JSON.parse(line) as AuditEntry);
}

async function until(predicate: () => boolean, what: string): Promise<void> {
	const deadline = Date.now() + 10_000;
	while (!predicate()) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, 20));
	}
}

/**
 * A state dir and audit log of its own, the simulated account, and `createEngine(actor, own)`: an
 * engine on them for a session to run, guarding `own` (or, at a hand-over, the set it is given),
 * as main's does (`options`: more of the Monitor's options).
 */
function engines(options: Partial<MonitorOptions> = {}) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-session-'));
	cleanup.push(() => fs.rmSync(dir, {recursive: true, force: true}));
	const sim = new SimHarness({scenario: 'calm', dir});
	cleanup.push(async () => sim.monitor.stop());
	const stateDir = path.join(dir, 'state');
	const auditFile = path.join(dir, 'audit.log');
	const createEngine = (actor: string, own: readonly string[] = ['dev', 'staging', 'production'], more: Partial<MonitorOptions> = {}) => async (guard?: readonly string[]): Promise<LocalEngine> => {
		const store = new SnapshotStore();
		const audit = new OriginAuditLog(auditFile);
		const monitored = [...(guard ?? own)];
		const all = {...options, ...more};
		const monitor = new Monitor({provider: {source: 'SIMULATED', fleet: sim.fleet, billing: undefined}, config: sim.config, monitored, store, state: new StateStore(stateDir), audit, clock: sim.clock.now, options: {dryRun: false, readOnly: false, actor, ...all}});
		return {monitor, store, audit, monitored, pausedAtStart: {paused: false, pausedEnvironments: all.pausedEnvironments ?? []}};
	};

	return {stateDir, auditFile, createEngine};
}

describe('EngineSession', () => {
	it('the second attaches and its stop is recorded with its actor via socket; when the first stops, the second takes over and keeps the events it showed', async () => {
		const {stateDir, auditFile, createEngine} = engines();

		const logs: string[] = [];
		const session = (actor: string) => new EngineSession({stateDir, mode: 'dashboard', client: 'dashboard', actor, version: 'test', createEngine: createEngine(actor), log: line => logs.push(line)});
		const first = session(`${user}@first-jump`);
		expect(await first.open()).toBe('running');
		cleanup.push(async () => first.stop());
		first.start();
		await until(() => first.store.getSnapshot() !== undefined, 'the first poll');

		const second = session(`${user}@second-jump`);
		expect(await second.open()).toBe('attached');
		cleanup.push(async () => second.stop());
		second.start();
		expect(second.attachedTo).toMatchObject({pid: process.pid, mode: 'dashboard'});
		await until(() => second.store.getSnapshot()?.attachedTo !== undefined, 'the server\'s snapshot');

		const result = await second.command({kind: 'stop', environment: 'dev'});
		expect(result?.outcome).toBe('executed');
		const stop = readAudit(auditFile).find(entry => entry.type === 'action' && entry.kind === 'stop');
		expect(stop).toMatchObject({actor: `${user}@second-jump`, via: 'socket', environments: ['dev']});
		await until(() => second.store.getSnapshot()?.environments.find(view => view.name === 'dev')?.status === 'STOPPED', 'dev STOPPED on the second');
		expect(first.store.getSnapshot()?.environments.find(view => view.name === 'dev')?.status).toBe('STOPPED');

		await first.stop();
		await until(() => second.monitor !== undefined && second.store.getSnapshot()?.attachedTo === undefined, 'the take-over');
		const takeover = readAudit(auditFile).find(entry => entry.kind === 'takeover');
		expect(takeover).toMatchObject({actor: `${user}@second-jump`});
		expect(takeover?.reason).toContain(`took over the engine from dashboard pid ${process.pid}`);
		const events: AuditEntry[] = second.store.getSnapshot()!.events;
		expect(events.map(entry => entry.kind)).toContain('takeover');
		expect(events.some(entry => entry.seq === stop!.seq)).toBe(true);
		// Newest first, each once.
		const seqs = events.map(entry => entry.seq);
		expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => b - a));
		expect(logs.some(line => line.startsWith('took over the engine'))).toBe(true);
	});

	it('an attached dashboard sees an environment paused on the server and pauses and resumes one through the same command channel', async () => {
		const {stateDir, auditFile, createEngine} = engines({pausedEnvironments: ['dev']});

		const session = (actor: string) => new EngineSession({stateDir, mode: 'serve', client: 'dashboard', actor, version: 'test', createEngine: createEngine(actor), log: () => undefined});
		const server = session(`${user}@server-host`);
		expect(await server.open()).toBe('running');
		cleanup.push(async () => server.stop());
		server.start();
		await until(() => server.store.getSnapshot() !== undefined, 'the first poll');
		const client = session(`${user}@oncall-laptop`);
		expect(await client.open()).toBe('attached');
		cleanup.push(async () => client.stop());
		const pausedOn = (store: SnapshotStore) => store.getSnapshot()?.environments.filter(view => view.paused).map(view => view.name).join(',');
		await until(() => pausedOn(client.store) === 'dev', 'dev paused on the attached dashboard');

		expect(await client.command({kind: 'pause-env', environment: 'staging'})).toBeUndefined();
		await until(() => pausedOn(client.store) === 'dev,staging', 'staging paused too');
		expect(pausedOn(server.store)).toBe('dev,staging');
		await client.command({kind: 'resume-env', environment: 'dev'});
		await until(() => pausedOn(client.store) === 'staging', 'dev resumed');
		const entries = readAudit(auditFile).filter(entry => entry.kind === 'pause' || entry.kind === 'resume');
		// The server's own --pause-env dev is logged as it starts, by whoever started it.
		expect(entries.map(entry => [entry.kind, entry.actor, entry.via, entry.environments])).toEqual([['pause', `${user}@server-host`, undefined, ['dev']], ['pause', `${user}@oncall-laptop`, 'socket', ['staging']], ['resume', `${user}@oncall-laptop`, 'socket', ['dev']]]);
		expect(await client.command({kind: 'pause-env', environment: 'qa'})).toMatchObject({outcome: 'refused', summary: 'refused: qa is not a configured environment — expected one of: dev, staging, production'});

		// A --read-only dashboard changes nothing of the server's protection either.
		const looking = new EngineSession({stateDir, mode: 'dashboard', client: 'dashboard', actor: `${user}@viewer-laptop`, version: 'test', createEngine: createEngine(`${user}@viewer-laptop`), log: () => undefined, readOnly: true});
		expect(await looking.open()).toBe('attached');
		cleanup.push(async () => looking.stop());
		for (const command of [{kind: 'resume-env', environment: 'staging'}, {kind: 'pause-env', environment: 'dev'}, {kind: 'pause'}, {kind: 'cancel-pending'}] as const) {
			expect(await looking.command(command)).toMatchObject({outcome: 'refused', summary: `refused: this dashboard is --read-only; it sends no ${command.kind} to the server`});
		}

		expect(pausedOn(server.store)).toBe('staging');
		expect(server.store.getSnapshot()!.mode.paused).toBe(false);
	});

	it('a hand-over keeps the guarded set of the engine before (serve -e dev staging, then a plain dashboard), and records each pause it drops as a resume; every end is one down line', async () => {
		const {stateDir, auditFile, createEngine} = engines();
		const session = (actor: string, own: string[], more: Partial<MonitorOptions> = {}, named = false) => new EngineSession({stateDir, mode: 'serve', client: 'dashboard', actor, version: 'test', createEngine: createEngine(actor, own, more), environmentsNamed: named, log: () => undefined});
		const server = session(`${user}@serve`, ['dev', 'staging'], {pausedEnvironments: ['dev']}, true);
		expect(await server.open()).toBe('running');
		cleanup.push(async () => server.stop());
		server.start();
		await until(() => server.store.getSnapshot() !== undefined, 'the first poll');
		// A person pauses everything too, on top of dev's --pause-env.
		await server.command({kind: 'pause'});
		await until(() => server.store.getSnapshot()?.mode.paused === true, 'the global pause');

		// A plain dashboard (it would guard every environment) attaches, then the server ends. Its
		// engine notifies PagerDuty (on the loopback receiver), where each pause is an incident of its own.
		const pager = await receiver();
		const targets = resolveTargets([{type: 'pagerduty', routingKey: 'R0UTINGKEY0123456789', url: `${pager.url}/pagerduty`}], {}, []);
		let notifier: Notifier | undefined;
		cleanup.push(() => notifier?.close());
		const make = createEngine(`${user}@dashboard`, ['dev', 'staging', 'production']);
		const heir = new EngineSession({stateDir, mode: 'dashboard', client: 'dashboard', actor: `${user}@dashboard`, version: 'test', log: () => undefined, async createEngine(guard) {
			const engine = await make(guard);
			notifier = attachNotifier({targets, audit: engine.audit, store: engine.store, host: 'jump', report: () => undefined});
			return engine;
		}});
		expect(await heir.open()).toBe('attached');
		cleanup.push(async () => heir.stop());
		heir.start();
		await server.stop('SIGTERM');
		await until(() => heir.monitor !== undefined, 'the take-over');
		const entries = readAudit(auditFile);
		const downs = entries.filter(entry => entry.kind === 'down');
		expect(downs).toEqual([expect.objectContaining({type: 'decision', actor: 'auto', environments: ['dev', 'staging'], reason: 'SIGTERM', instanceIds: []})]);
		const takeover = entries.find(entry => entry.kind === 'takeover');
		expect(takeover?.reason).toContain('guards dev, staging, as the engine before it did');
		expect(takeover?.environments).toEqual(['dev', 'staging']);
		await until(() => heir.store.getSnapshot()?.attachedTo === undefined && heir.store.getSnapshot()?.environments.length === 2, 'the heir\'s own poll');
		expect(heir.store.getSnapshot()!.environments.map(view => view.name)).toEqual(['dev', 'staging']);
		// The pauses are not kept across engines: each one dropped is a resume, by auto, saying why.
		const resumes = readAudit(auditFile).filter(entry => entry.kind === 'resume');
		expect(resumes.map(entry => [entry.actor, entry.environments])).toEqual([['auto', []], ['auto', ['dev']]]);
		expect(resumes[1]!.reason).toBe(`automatic actions resumed for dev: its pause was dropped at the hand-over from serve pid ${process.pid} on ${os.hostname()}: a pause is not kept when another engine takes over; pause again (p, P or --pause-env) if it is still wanted`);
		expect(heir.store.getSnapshot()!.mode.paused).toBe(false);
		// Notified as resumes: the pause incidents are resolved, not left open.
		await pager.waitFor(received => received.filter(request => (request.json as {event_action?: string}).event_action === 'resolve').length >= 2);
		expect(pager.at('/pagerduty').map(request => request.json as {event_action: string; dedup_key: string}).map(page => [page.event_action, page.dedup_key]).sort()).toEqual([['resolve', 'envwatch/paused/dev'], ['resolve', 'envwatch/paused/global']]);

		await heir.stop('quit');
		await heir.stop('quit');
		expect(readAudit(auditFile).filter(entry => entry.kind === 'down').map(entry => [entry.reason, entry.environments])).toEqual([['SIGTERM', ['dev', 'staging']], ['quit', ['dev', 'staging']]]);
	});

	it('an engine taking over that was told its environments (-e) and guards another set says so, loudly', async () => {
		const {stateDir, auditFile, createEngine} = engines();
		const logs: string[] = [];
		const session = (actor: string, own: string[]) => new EngineSession({stateDir, mode: 'dashboard', client: 'dashboard', actor, version: 'test', createEngine: createEngine(actor, own), environmentsNamed: true, log: line => logs.push(line)});
		const first = session(`${user}@first`, ['dev', 'staging']);
		expect(await first.open()).toBe('running');
		cleanup.push(async () => first.stop());
		const second = session(`${user}@second`, ['production']);
		expect(await second.open()).toBe('attached');
		cleanup.push(async () => second.stop());
		await first.stop('quit');
		await until(() => second.monitor !== undefined, 'the take-over');
		const takeover = readAudit(auditFile).find(entry => entry.kind === 'takeover');
		expect(takeover?.reason).toContain(`GUARDS A DIFFERENT SET: production; the engine before it (pid ${process.pid}, dashboard) guarded dev, staging`);
		expect(logs.some(line => line.includes('GUARDS A DIFFERENT SET'))).toBe(true);
	});

	it('an engine whose lock is taken from it stops, records its end (down: lost the engine lock), gives the socket up and asks to end the process', async () => {
		const {stateDir, auditFile, createEngine} = engines();
		const stopped: string[] = [];
		const session = new EngineSession({stateDir, mode: 'serve', client: 'dashboard', actor: `${user}@serve`, version: 'test', createEngine: createEngine(`${user}@serve`), log: () => undefined, onStopped: reason => stopped.push(reason)});
		expect(await session.open()).toBe('running');
		cleanup.push(async () => session.stop());
		session.start();
		await until(() => session.store.getSnapshot() !== undefined, 'the first poll');
		// Another host's engine broke the lock (this one looked hung), and heartbeats.
		fs.writeFileSync(path.join(stateDir, 'envwatch.lock'), JSON.stringify({version: 1, pid: 4242, host: 'other-host.example', since: Date.now(), heartbeatAt: Date.now(), mode: 'serve', token: 'theirs'}));
		await until(() => stopped.length > 0, 'the engine to stop (at its next heartbeat)');
		const why = `the lock of ${stateDir} is now held by pid 4242 on other-host.example`;
		expect(stopped).toEqual([`lost the engine lock: ${why}`]);
		expect(session.monitor).toBeUndefined();
		expect(fs.existsSync(path.join(stateDir, 'envwatch.sock'))).toBe(false);
		expect(readAudit(auditFile).filter(entry => entry.kind === 'down')).toEqual([expect.objectContaining({reason: `lost the engine lock: ${why}`, environments: ['dev', 'staging', 'production']})]);
		// It did not take the engine back, nor remove the new holder's lock.
		await session.stop('SIGTERM');
		expect(JSON.parse(fs.readFileSync(path.join(stateDir, 'envwatch.lock'), 'utf8'))).toMatchObject({token: 'theirs'});
		expect(readAudit(auditFile).filter(entry => entry.kind === 'down')).toHaveLength(1);
	});
});
