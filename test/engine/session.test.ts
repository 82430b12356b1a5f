import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import type {AuditEntry} from '../../source/engine/audit.js';
import {Monitor, type MonitorOptions} from '../../source/engine/monitor.js';
import {StateStore} from '../../source/engine/state.js';
import {SnapshotStore} from '../../source/engine/store.js';
import {OriginAuditLog} from '../../source/serve/origin.js';
import {EngineSession, type LocalEngine} from '../../source/serve/session.js';
import {SimHarness} from '../helpers/sim.js';

/**
 * Two engine sessions in one process on one state dir, over the real socket: the first runs the
 * engine on the simulated account, the second attaches; then the first stops and the second
 * carries on. (In one process both have the same pid, so the lock alone could not tell them
 * apart: the socket answering is what makes the second attach.)
 */
const cleanup: Array<() => Promise<void> | void> = [];

afterEach(async () => {
	for (const step of cleanup.splice(0).reverse()) {
		await step();
	}
});

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
 * A state dir and audit log of its own, the simulated account, and `createEngine(actor)`: an
 * engine on them for a session to run (`options`: more of the Monitor's options).
 */
function engines(options: Partial<MonitorOptions> = {}) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-session-'));
	cleanup.push(() => fs.rmSync(dir, {recursive: true, force: true}));
	const sim = new SimHarness({scenario: 'calm', dir});
	cleanup.push(async () => sim.monitor.stop());
	const stateDir = path.join(dir, 'state');
	const auditFile = path.join(dir, 'audit.log');
	const createEngine = (actor: string) => async (): Promise<LocalEngine> => {
		const store = new SnapshotStore();
		const audit = new OriginAuditLog(auditFile);
		const monitor = new Monitor({provider: {source: 'SIMULATED', fleet: sim.fleet, billing: undefined}, config: sim.config, monitored: ['dev', 'staging', 'production'], store, state: new StateStore(stateDir), audit, clock: sim.clock.now, options: {dryRun: false, readOnly: false, actor, ...options}});
		return {monitor, store, audit};
	};

	return {stateDir, auditFile, createEngine};
}

describe('EngineSession', () => {
	it('the second attaches and its stop is recorded with its actor via socket; when the first stops, the second takes over and keeps the events it showed', async () => {
		const {stateDir, auditFile, createEngine} = engines();

		const logs: string[] = [];
		const session = (actor: string) => new EngineSession({stateDir, mode: 'dashboard', client: 'dashboard', actor, version: 'test', createEngine: createEngine(actor), log: line => logs.push(line)});
		const first = session('first@jump');
		expect(await first.open()).toBe('running');
		cleanup.push(async () => first.stop());
		first.start();
		await until(() => first.store.getSnapshot() !== undefined, 'the first poll');

		const second = session('second@jump');
		expect(await second.open()).toBe('attached');
		cleanup.push(async () => second.stop());
		second.start();
		expect(second.attachedTo).toMatchObject({pid: process.pid, mode: 'dashboard'});
		await until(() => second.store.getSnapshot()?.attachedTo !== undefined, 'the server\'s snapshot');

		const result = await second.command({kind: 'stop', environment: 'dev'});
		expect(result?.outcome).toBe('executed');
		const stop = readAudit(auditFile).find(entry => entry.type === 'action' && entry.kind === 'stop');
		expect(stop).toMatchObject({actor: 'second@jump', via: 'socket', environments: ['dev']});
		await until(() => second.store.getSnapshot()?.environments.find(view => view.name === 'dev')?.status === 'STOPPED', 'dev STOPPED on the second');
		expect(first.store.getSnapshot()?.environments.find(view => view.name === 'dev')?.status).toBe('STOPPED');

		await first.stop();
		await until(() => second.monitor !== undefined && second.store.getSnapshot()?.attachedTo === undefined, 'the take-over');
		const takeover = readAudit(auditFile).find(entry => entry.kind === 'takeover');
		expect(takeover).toMatchObject({actor: 'second@jump'});
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
		const server = session('server@host');
		expect(await server.open()).toBe('running');
		cleanup.push(async () => server.stop());
		server.start();
		await until(() => server.store.getSnapshot() !== undefined, 'the first poll');
		const client = session('oncall@laptop');
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
		expect(entries.map(entry => [entry.kind, entry.actor, entry.via, entry.environments])).toEqual([['pause', 'server@host', undefined, ['dev']], ['pause', 'oncall@laptop', 'socket', ['staging']], ['resume', 'oncall@laptop', 'socket', ['dev']]]);
		expect(await client.command({kind: 'pause-env', environment: 'qa'})).toMatchObject({outcome: 'refused', summary: 'refused: qa is not a configured environment — expected one of: dev, staging, production'});

		// A --read-only dashboard changes nothing of the server's protection either.
		const looking = new EngineSession({stateDir, mode: 'dashboard', client: 'dashboard', actor: 'viewer@laptop', version: 'test', createEngine: createEngine('viewer@laptop'), log: () => undefined, readOnly: true});
		expect(await looking.open()).toBe('attached');
		cleanup.push(async () => looking.stop());
		for (const command of [{kind: 'resume-env', environment: 'staging'}, {kind: 'pause-env', environment: 'dev'}, {kind: 'pause'}, {kind: 'cancel-pending'}] as const) {
			expect(await looking.command(command)).toMatchObject({outcome: 'refused', summary: `refused: this dashboard is --read-only; it sends no ${command.kind} to the server`});
		}

		expect(pausedOn(server.store)).toBe('staging');
		expect(server.store.getSnapshot()!.mode.paused).toBe(false);
	});
});
