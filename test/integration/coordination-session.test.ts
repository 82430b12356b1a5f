import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {gzipSync} from 'node:zlib';
import {afterEach, describe, expect, it} from 'vitest';
import type {AuditEntry} from '../../source/engine/state/audit.js';
import {Monitor} from '../../source/engine/monitor.js';
import {StateStore} from '../../source/engine/state/store.js';
import {readLease} from '../../source/engine/state/lease.js';
import {SnapshotStore} from '../../source/engine/snapshot-store.js';
import {viewKey} from '../../source/engine/state/snapshot-mirror.js';
import type {CoordinationTable} from '../../source/providers/types.js';
import {OriginAuditLog} from '../../source/serve/origin.js';
import {EngineSession, type EngineHold, type LocalEngine} from '../../source/serve/session.js';
import {SimHarness} from '../helpers/sim.js';
import {useMoto} from '../helpers/moto.js';
import {createTable, putRaw} from '../helpers/table.js';
import {snapshot, view} from '../component/fixtures.js';

// Two engine sessions on two "hosts" (state dirs of their own, one process) coordinated by one
// table in moto (DynamoDB), over one simulated account: the lease, the standby's view of the
// leader, its refusal to act, and the hand-over with the state the leader left in the table.
const moto = useMoto();
const cleanup: Array<() => Promise<void> | void> = [];

afterEach(async () => {
	for (const step of cleanup.splice(0).reverse()) {
		await step();
	}
});

function readAudit(file: string): AuditEntry[] {
	return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(line => JSON.parse(line) as AuditEntry) : [];
}

async function until(predicate: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!(await predicate())) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, 50));
	}
}

/** One "host": its state dir and audit log, a session on `table`, its engine's state in the table (`hold.medium`). */
function host(name: string, sim: SimHarness, table: CoordinationTable, tweak?: (engine: LocalEngine, built: number) => LocalEngine) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), `envwatch-${name}-`));
	cleanup.push(() => fs.rmSync(dir, {recursive: true, force: true}));
	const auditFile = path.join(dir, 'audit.log');
	const logs: string[] = [];
	const stopped: string[] = [];
	let built = 0;
	const createEngine = async (guard?: readonly string[], hold?: EngineHold): Promise<LocalEngine> => {
		built++;
		const store = new SnapshotStore();
		const audit = new OriginAuditLog(auditFile);
		const monitored = [...(guard ?? ['dev', 'staging', 'production'])];
		const state = new StateStore(hold?.medium ?? path.join(dir, 'state'));
		const monitor = new Monitor({provider: {source: 'SIMULATED', fleet: sim.fleet, billing: undefined}, config: sim.config, monitored, store, state, audit, clock: sim.clock.now, options: {dryRun: false, readOnly: false, actor: `tester@${name}`}, ...(hold ? {fence: hold.fence} : {})});
		return tweak ? tweak({monitor, store, audit, monitored}, built) : {monitor, store, audit, monitored};
	};

	const session = new EngineSession({stateDir: path.join(dir, 'state'), mode: 'serve', client: 'dashboard', actor: `tester@${name}`, version: 'test', createEngine, log: line => logs.push(line), onStopped: why => stopped.push(why), coordination: {table, durationMs: 2000}});
	cleanup.push(async () => session.stop());
	return {session, auditFile, logs, stopped};
}

describe('two engines on one table', () => {
	it('one enforces, the other stands by: it shows the leader\'s figures, refuses to act, and takes over with the shared state once the leader ends', async () => {
		const table = await createTable(moto.url);
		cleanup.push(() => table.close());
		const sim = new SimHarness({scenario: 'calm'});
		cleanup.push(async () => sim.close());
		const a = host('host-a', sim, table);
		const b = host('host-b', sim, table);
		expect(await a.session.open()).toBe('running');
		a.session.start();
		expect(await b.session.open()).toBe('standby');
		b.session.start();
		expect(b.logs[0]).toMatch(/^standby: the engine runs on .* \(serve pid \d+ on .*fencing token 1/);
		// The standby shows the leader's figures, marked whose they are.
		await until(() => b.session.store.getSnapshot()?.leader !== undefined, 'the standby to show the leader\'s snapshot');
		expect(b.session.store.getSnapshot()!.leader).toEqual({pid: process.pid, host: expect.any(String) as unknown, mode: 'serve'});
		expect(b.session.store.getSnapshot()!.environments.map(view => view.name)).toEqual(['dev', 'staging', 'production']);
		// Only the leader acts: a stop sent to the standby is refused, one sent to the leader trips dev's breaker in the table.
		expect(await b.session.command({kind: 'stop', environment: 'dev'})).toMatchObject({outcome: 'refused', summary: expect.stringMatching(/this is a standby; the engine runs on .* \(serve pid \d+\)/)});
		expect(await a.session.command({kind: 'stop', environment: 'dev'})).toMatchObject({outcome: 'executed'});
		expect(readAudit(b.auditFile)).toEqual([]);
		// The leader ends: it lets the lease go, and the standby takes over at its next look, from the table's state.
		await a.session.stop('SIGTERM');
		await until(() => b.session.monitor !== undefined, 'the standby to take over');
		expect(b.session.store.getSnapshot()?.leader).toBeUndefined();
		await until(() => readAudit(b.auditFile).some(entry => entry.kind === 'takeover'), 'the takeover line');
		expect(readAudit(b.auditFile).find(entry => entry.kind === 'takeover')!.reason).toMatch(/took over the lease of DynamoDB table envwatch \(us-east-1\) from serve pid \d+ .*: it released the lease/);
		await until(() => Boolean(b.session.store.getSnapshot()?.environments.find(view => view.name === 'dev')?.breaker), 'the held breaker');
		expect((await readLease(table))!).toMatchObject({token: 2, released: false});
		// The table has one history: both engines' audit entries.
		const day = new Date(sim.clock.now()).toISOString().slice(0, 10);
		const entries = (await table.query(`audit#${day}`)).map(item => JSON.parse(item['entry'] as string) as AuditEntry);
		expect(entries.map(entry => entry.actor)).toEqual(expect.arrayContaining(['tester@host-a', 'auto']));
		expect(entries.some(entry => entry.kind === 'takeover')).toBe(true);
	});

	it('a takeover that fails gives the lease back and stands by again, and the next look takes over: never an engine gone silent, never a heartbeat without a poll', async () => {
		const table = await createTable(moto.url, 'envwatch-retry');
		cleanup.push(() => table.close());
		const sim = new SimHarness({scenario: 'calm'});
		cleanup.push(async () => sim.close());
		const a = host('host-a', sim, table);
		// B's first engine cannot be built (Organizations throttled, say); its second fails after the
		// lease's heartbeat started (its loop does not start); its third runs.
		const b = host('host-b', sim, table, (engine, built) => {
			if (built === 1) {
				throw Object.assign(new Error('Rate exceeded'), {name: 'ThrottlingException'});
			}

			if (built === 2) {
				engine.monitor.start = () => {
					throw new Error('the loop cannot start');
				};
			}

			return engine;
		});
		expect(await a.session.open()).toBe('running');
		a.session.start();
		expect(await b.session.open()).toBe('standby');
		b.session.start();
		await a.session.stop('SIGTERM');
		// The third engine is B's, and it polls: its own figures, not the leader's.
		await until(() => b.session.monitor !== undefined && b.session.store.getSnapshot()?.leader === undefined && (b.session.store.getSnapshot()?.environments.length ?? 0) > 0, 'the standby to take over at a later look and poll', 30_000);
		expect(b.logs.filter(line => line.startsWith('standby: could not take the engine over'))).toEqual([
			expect.stringMatching(/^standby: could not take the engine over \(ThrottlingException: Rate exceeded\); the lease is released, and this process stands by again/),
			expect.stringMatching(/^standby: could not take the engine over \(the loop cannot start\); the lease is released/),
		]);
		expect(b.logs.some(line => /trying again$/.test(line))).toBe(false);
		expect(b.stopped).toEqual([]);
		// Each failed start let the lease go (a heartbeat kept without a poll would have kept it at the second holder).
		expect((await readLease(table))!).toMatchObject({released: false, token: 4, mode: 'serve'});
	});

	it('a standby never shows the leader\'s figures when they cannot be true: its last good ones stay, marked old (STALE), saying which field was refused', async () => {
		const table = await createTable(moto.url, 'envwatch-lie');
		cleanup.push(() => table.close());
		const sim = new SimHarness({scenario: 'calm'});
		cleanup.push(async () => sim.close());
		// The leader's mirror writes what this store holds (its engine polls on, unmirrored): good figures first.
		const mirrored = new SnapshotStore();
		const a = host('host-a', sim, table, engine => ({...engine, store: mirrored}));
		const b = host('host-b', sim, table);
		expect(await a.session.open()).toBe('running');
		a.session.start();
		mirrored.publish(snapshot({at: Date.now(), lastSuccessAt: Date.now()}));
		expect(await b.session.open()).toBe('standby');
		b.session.start();
		await until(() => b.session.store.getSnapshot()?.environments.length === 3, 'the standby to show the leader\'s figures');
		// Then the table holds a lie under the leader's token (a NaN written as JSON is null): never shown.
		const lie = snapshot({at: Date.now(), environments: [view('dev'), view('staging', {hourlyUsd: Number.NaN})]});
		await table.put({...viewKey, version: 'test', token: 1, at: lie.at, body: gzipSync(JSON.stringify(lie))});
		await until(() => b.session.store.getSnapshot()?.refused !== undefined, 'the standby to refuse the leader\'s figures');
		const shown = b.session.store.getSnapshot()!;
		expect(shown.refused).toMatch(/^REFUSED the figures of serve pid \d+ \(.*\) in DynamoDB table envwatch-lie \(us-east-1\): environments\[1\]\.hourlyUsd is null, expected an amount from \$0 to \$416,667\/h$/);
		expect(shown.environments.map(row => [row.name, row.status, row.hourlyUsd])).toEqual([['dev', 'STALE', 2.34], ['staging', 'STALE', 1.85], ['production', 'STALE', 0.15]]);
		expect(shown.leader).toMatchObject({pid: process.pid, mode: 'serve'});
		expect(b.logs.filter(line => line.includes('were refused'))).toEqual([expect.stringMatching(/^standby: the leader's figures in DynamoDB table envwatch-lie \(us-east-1\) were refused: environments\[1\]\.hourlyUsd is null, .*: not shown$/)]);
	});

	it('a damaged engine.json in the table is moved aside and said, and the engine starts with its own configuration', async () => {
		const table = await createTable(moto.url, 'envwatch-damaged');
		cleanup.push(() => table.close());
		await putRaw(moto.url, {pk: {S: 'state'}, sk: {S: 'doc#engine.json'}, gen: {S: ''}, parts: {N: '0'}, bytes: {N: '5'}, body: {B: new TextEncoder().encode('not gzip')}}, 'envwatch-damaged');
		const sim = new SimHarness({scenario: 'calm'});
		cleanup.push(async () => sim.close());
		const a = host('host-a', sim, table);
		expect(await a.session.open()).toBe('running');
		const said = /^the state item engine\.json in DynamoDB table envwatch-damaged \(us-east-1\) is damaged \(.*not a document envwatch wrote\); moved it aside to state item engine\.json\.damaged-\S+ in DynamoDB table envwatch-damaged/;
		expect(a.logs.filter(line => said.test(line))).toHaveLength(1);
		await a.session.stop('SIGTERM');
		expect(readAudit(a.auditFile).filter(entry => entry.kind === 'state').map(entry => entry.reason)).toEqual([expect.stringMatching(said)]);
		expect((await table.query('state')).map(item => item.sk)).toEqual(expect.arrayContaining([expect.stringMatching(/^doc#engine\.json\.damaged-/), 'doc#engine.json']));
	});
});
