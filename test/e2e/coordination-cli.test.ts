import fs from 'node:fs';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {version} from '../../source/app/io.js';
import {readMirrored, SnapshotMirror, TableLease} from '../../source/engine/index.js';
import {SnapshotStore} from '../../source/engine/snapshot-store.js';
import {CliProcess, isolatedEnv, runCli, tempDir} from '../helpers/cli.js';
import {instanceStates, launch, motoEnv, useFaultProxy, useMoto} from '../helpers/moto.js';
import {createTable} from '../helpers/table.js';
import type {Snapshot} from '../../source/engine/index.js';

// Lease contention between `envwatch serve` processes (the built CLI) on "hosts" of their own
// (a state dir and audit log each), coordinated by one DynamoDB table in moto, watching one EC2
// region there: only the leader acts; kill -9 of the leader, and the standby takes over and stops
// the next runaway; a leader paused with SIGSTOP past its lease, then resumed, does not act.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const moto = useMoto();
// Through the proxy, for an account with only the watched region enabled: no sweep of twenty-odd regions.
const proxy = useFaultProxy(moto, {enabledRegions: ['us-east-1']});
const running: CliProcess[] = [];
let config: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
	const dir = tempDir('envwatch-coord-');
	config = path.join(dir, 'config.json');
	fs.writeFileSync(config, JSON.stringify({
		regions: ['us-east-1'],
		pollIntervalSeconds: 1,
		costExplorer: {enabled: false},
		environments: {dev: {maxHourlyUsd: 1}},
		coordination: {dynamodb: {table: 'envwatch', leaseSeconds: 2}},
	}));
	const base = isolatedEnv();
	env = motoEnv(proxy.url, {ENVWATCH_CONFIG_DIR: base['ENVWATCH_CONFIG_DIR']!, ENVWATCH_STATE_DIR: base['ENVWATCH_STATE_DIR']!});
});

afterAll(async () => {
	for (const cli of running.splice(0)) {
		cli.child.kill('SIGCONT');
		await cli.stop('SIGKILL');
	}
});

/** One "host": `serve` on a state dir of its own, with its own audit log. */
function host(): {cli: CliProcess; state: string; audit: () => Json[]} {
	const root = tempDir('envwatch-host-');
	const state = path.join(root, 'state');
	const auditFile = path.join(root, 'audit.log');
	const cli = new CliProcess(['serve', '--config', config, '--state-dir', state, '--audit-log', auditFile], env);
	running.push(cli);
	const audit = () => (fs.existsSync(auditFile) ? fs.readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).map(line => JSON.parse(line) as Json) : []);
	return {cli, state, audit};
}

async function until(predicate: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!(await predicate())) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}; the hosts said:\n${running.map(cli => cli.stderr).join('\n---\n')}`);
		}

		await new Promise(resolve => setTimeout(resolve, 100));
	}
}

const halted = async (ids: string[]) => {
	const states = await instanceStates(moto.url, ['us-east-1']);
	return ids.every(id => ['stopping', 'stopped'].includes(states.get(id)!));
};

const covers = (acted: string[], ids: string[]) => ids.every(id => acted.includes(id));

/** The instances an engine's executed stops acted on. */
const stoppedBy = (audit: Json[]) => audit.filter(entry => entry['type'] === 'action' && entry['outcome'] === 'executed' && ['stop', 'respawn'].includes(entry['kind'])).flatMap(entry => entry['instanceIds'] as string[]);

describe('serve on two hosts, one table', () => {
	it('one leads and acts, the other stands by, one-off runs elsewhere act on nothing; kill -9 of the leader: the standby takes over and stops the next runaway; a leader SIGSTOPped past its lease does not act when resumed', async () => {
		// moto is reset before each test: the table (as deploy/envwatch.yaml makes it) is made here.
		const table = await createTable(moto.url);
		const a = host();
		await a.cli.waitForLine(line => line.includes(' poll '), 30_000);
		const b = host();
		await until(() => b.cli.stderr.includes('standby: the engine runs on'), 'b to stand by');
		// status on b's state dir names the leader and its host.
		const status = await runCli(['status', '--config', config, '--state-dir', b.state], {env});
		expect(status.stdout).toMatch(/engine: serve \(standby\) pid \d+/);
		expect(status.stdout).toMatch(new RegExp(`lease: the leader is serve pid ${a.cli.child.pid} on \\S+ .*fencing token 1`));

		// One-off runs on a third state dir: a stop is refused naming the leader; --once shows the leader's figures, polling nothing.
		const refused = await runCli(['stop', '-e', 'dev', '--yes', '--config', config, '--state-dir', tempDir()], {env});
		expect(refused.code).toBe(1);
		expect(refused.stderr).toMatch(new RegExp(`refused: the engine runs on \\S+ with the lease of DynamoDB table envwatch \\(us-east-1\\): serve pid ${a.cli.child.pid} `));
		const once = await runCli(['--once', '--config', config, '--state-dir', tempDir()], {env});
		expect(once.code, once.stderr).toBe(0);
		expect(once.stdout).toMatch(new RegExp(`\\(from the engine of serve pid ${a.cli.child.pid} on \\S+ .*the holder of the lease of DynamoDB table envwatch`));

		// Only the leader acts.
		const first = await launch(moto.url, {region: 'us-east-1', count: 12, environment: 'dev', role: 'agent'});
		await until(() => covers(stoppedBy(a.audit()), first), 'the leader to record its stop of the first runaway');
		expect(await halted(first)).toBe(true);
		expect(b.audit().filter(entry => entry['type'] === 'action')).toEqual([]);

		// kill -9: no release, no down line. The standby takes over past the lease and stops the next runaway.
		await a.cli.stop('SIGKILL');
		await until(() => b.audit().some(entry => entry['kind'] === 'takeover'), 'b to take over');
		expect(b.audit().find(entry => entry['kind'] === 'takeover')!['reason']).toMatch(/took over the lease of DynamoDB table envwatch \(us-east-1\) from serve pid \d+ .*no heartbeat for \d+s by this process's clock/);
		const second = await launch(moto.url, {region: 'us-east-1', count: 12, environment: 'dev', role: 'agent'});
		await until(() => covers(stoppedBy(b.audit()), second), 'b to stop the second runaway');
		expect(await halted(second)).toBe(true);

		// b leads; c stands by. b is paused past its lease: c takes over, and a runaway starts.
		const c = host();
		await until(() => c.cli.stderr.includes('standby: the engine runs on'), 'c to stand by');
		b.cli.child.kill('SIGSTOP');
		await until(() => c.audit().some(entry => entry['kind'] === 'takeover'), 'c to take over from the paused b');
		const third = await launch(moto.url, {region: 'us-east-1', count: 12, environment: 'dev', role: 'agent'});
		const beforeResume = b.audit().length;
		b.cli.child.kill('SIGCONT');
		// Resumed, b learns at its first write that the lease is c's: it stops acting and ends (exit 1).
		expect(await b.cli.exit()).toBe(1);
		const after = b.audit().slice(beforeResume);
		expect(stoppedBy(after)).toEqual([]);
		expect(after.find(entry => entry['kind'] === 'down')!['reason']).toMatch(/^lost the lease: .*(another engine holds the lease|no longer holds the lease|the lease ran out by this engine's clock)/);
		await until(() => covers(stoppedBy(c.audit()), third), 'c to stop the third runaway');
		expect(await halted(third)).toBe(true);

		// c ends (its lease released, its last figures in the table). Another host's engine takes the
		// lease and has published nothing yet: a cron --once shows none of c's figures as that leader's,
		// waits for its own, and when there are none (it let the lease go meanwhile) exits 1, acting on nothing.
		const cFigures = await readMirrored(table, version);
		expect('snapshot' in cFigures).toBe(true);
		await c.cli.stop();
		const fresh = async () => {
			const taken = await TableLease.acquire(table, {mode: 'serve', durationMs: 2000, host: 'jump-2', pid: 4242});
			expect(taken.kind).toBe('taken');
			const {lease} = taken as Extract<typeof taken, {kind: 'taken'}>;
			lease.hold({});
			return lease;
		};

		const silent = await fresh();
		const waiting = runCli(['--once', '--config', config, '--state-dir', tempDir()], {env});
		await new Promise(resolve => setTimeout(resolve, 2500));
		await silent.release();
		const gone = await waiting;
		expect(gone.code).toBe(1);
		expect(gone.stdout).toBe('');
		expect(gone.stderr).toMatch(/this --once does not poll: the engine runs on jump-2 .*serve pid 4242 .*fencing token 4.*has written no snapshot yet; the table's is an earlier engine's \(fencing token 3\).*let the lease go .*run again\): nothing looked at or acted on here \(exit 1\)/);

		// The next leader publishes its first figures while a --once waits: it prints them, whose they are, its exit code from them.
		const late = await fresh();
		const store = new SnapshotStore();
		const mirror = new SnapshotMirror(table, store, () => late.condition(), version, late.info.token, () => undefined);
		mirror.start();
		const shown = runCli(['--once', '--config', config, '--state-dir', tempDir()], {env});
		await new Promise(resolve => setTimeout(resolve, 1500));
		store.publish({...(cFigures as {snapshot: Snapshot}).snapshot, at: Date.now(), breachFoundIn: [], breachFound: false, error: null});
		const printed = await shown;
		mirror.stop();
		await late.release();
		expect(printed.stderr).toBe('');
		expect(printed.stdout).toMatch(/\(from the engine of serve pid 4242 on jump-2 .*fencing token 5.*the holder of the lease of DynamoDB table envwatch/);
		expect(printed.code).toBe(0);
		table.close();
	}, 180_000);
});
