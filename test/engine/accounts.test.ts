import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {loadConfig} from '../../source/config/load.js';
import type {Config} from '../../source/config/schema.js';
import type {AccountRef, InstanceState, RawInstance} from '../../source/domain/types.js';
import {splitForAccounts} from '../../source/engine/accounts.js';
import {AuditLog, type AuditEntry} from '../../source/engine/state/audit.js';
import type {ActionResult} from '../../source/engine/enforcer.js';
import {Monitor} from '../../source/engine/monitor.js';
import {toJson, type Snapshot} from '../../source/engine/snapshot.js';
import {formatDashboard} from '../../source/app/headless.js';
import {StateStore} from '../../source/engine/state/store.js';
import {SnapshotStore} from '../../source/engine/snapshot-store.js';
import {UsageError} from '../../source/domain/errors.js';
import type {AccountInfo, ActOptions, Fleet, FleetListing, FleetQuery, InstanceOutcome, Target} from '../../source/providers/types.js';
import {ManualClock} from '../helpers/sim.js';

/**
 * The engine over many accounts, with an in-memory composite fleet that behaves as AccountsFleet
 * does at its edges (each instance stamped with its account, each error naming its account, a
 * query narrowed to accounts, a stop routed by the target's account): the staleness of a failing
 * account, rows split by account, accounts that come and go. The real fleet is tested against
 * moto (test/integration/aws-accounts.test.ts, test/e2e/aws-accounts.test.ts).
 */
class Accounts implements Fleet {
	instances: RawInstance[] = [];
	/** Why an account cannot be listed (or acted on), by name. */
	failing = new Map<string, string>();
	/** Why the organization's accounts could not be listed again (as AccountsFleet says it). */
	problem: string | undefined;
	/** Every stop call's targets, and each batch the re-check was asked about. */
	stops: Target[][] = [];
	rechecks: Target[][] = [];
	private next = 0;

	constructor(public accounts: AccountInfo[]) {}

	ref(name: string): AccountRef {
		const account = this.accounts.find(candidate => candidate.name === name)!;
		return {id: account.id!, name};
	}

	run(account: string, environment: string, count: number, role = 'agent'): string[] {
		const ids: string[] = [];
		for (let index = 0; index < count; index++) {
			const id = `i-${(this.next++).toString(16).padStart(17, '0')}`;
			ids.push(id);
			this.instances.push({id, region: 'us-east-1', type: 't3.large', state: 'running', tags: {Environment: environment, Role: role}, account: this.ref(account), lifecycle: 'on-demand', platformDetails: 'Linux/UNIX'});
		}

		return ids;
	}

	state(id: string): InstanceState | undefined {
		return this.instances.find(instance => instance.id === id)?.state;
	}

	async list(query: FleetQuery): Promise<FleetListing> {
		const accounts = this.accounts.filter(account => !query.accounts || query.accounts.includes(account.name));
		const ok = accounts.filter(account => !this.failing.has(account.name));
		const instances = this.instances.filter(instance => ok.some(account => account.name === instance.account!.name)
			&& query.states.includes(instance.state)
			&& (!query.role || instance.tags[query.role.key] === query.role.value)
			&& (!query.instanceIds || query.instanceIds.includes(instance.id)));
		const errors = accounts.filter(account => this.failing.has(account.name)).map(account => ({region: 'us-east-1', message: this.failing.get(account.name)!, account: {name: account.name, id: account.id!}}));
		return {instances: instances.map(instance => ({...instance})), errors, calls: accounts.length, accounts: [...this.accounts], ...(this.problem ? {accountsProblem: this.problem} : {})};
	}

	async stop(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]> {
		this.stops.push(targets);
		const outcomes: InstanceOutcome[] = [];
		// As the composite does: each account's targets apart, each batch of one account.
		for (const name of new Set(targets.map(target => target.account!))) {
			const batch = targets.filter(target => target.account === name);
			this.rechecks.push(batch);
			const inScope = options.recheck ? await options.recheck(batch) : new Set(batch.map(target => target.id));
			for (const target of batch) {
				const instance = this.instances.find(candidate => candidate.id === target.id && candidate.account!.name === name);
				const result = !inScope.has(target.id) ? 'out-of-scope' : instance ? 'stopping' : 'not-found';
				if (instance && result === 'stopping') {
					instance.state = 'stopped';
				}

				outcomes.push({id: target.id, region: target.region, account: this.ref(name).id, accountName: name, result});
			}

			options.onBatch?.(outcomes.filter(outcome => outcome.accountName === name));
		}

		return outcomes;
	}

	async start(targets: Target[]): Promise<InstanceOutcome[]> {
		return targets.map(target => ({id: target.id, region: target.region, result: 'error', message: 'not in this test'}));
	}
}

const accountsOf = (names: string[]): AccountInfo[] => names.map((name, index) => ({name, id: String(111_111_111_111 * (index + 1)), via: 'role', through: `arn:aws:iam::${String(111_111_111_111 * (index + 1))}:role/envwatch-member`, regions: ['us-east-1']}));

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
	for (const done of cleanup.splice(0)) {
		await done();
	}
});

/** A monitor over `fleet`'s accounts (dev and staging monitored), on a manual clock, state in `dir`. */
function engine(fleet: Accounts, options: {split?: boolean; dir?: string; clock?: ManualClock} = {}) {
	const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-accounts-'));
	const clock = options.clock ?? new ManualClock();
	const flags: Record<string, unknown> = {
		regions: ['us-east-1'],
		costExplorer: {enabled: false, refreshMinutes: 60},
		accounts: fleet.accounts.map(account => ({name: account.name, roleArn: account.through})),
		...(options.split ? {environments: {dev: {splitBy: 'account'}}} : {}),
	};
	const config: Config = loadConfig({noStore: true, flags}).config;
	const monitored = splitForAccounts(config, fleet.accounts, ['dev', 'staging'], '-e');
	const store = new SnapshotStore();
	const audit = new AuditLog(path.join(dir, 'audit.jsonl'));
	audit.open();
	const monitor = new Monitor({
		provider: {source: 'test accounts', fleet, billing: undefined, accounts: () => fleet.accounts},
		config, monitored, store, state: new StateStore(path.join(dir, 'state')), audit, clock: clock.now,
		options: {dryRun: false, readOnly: false, actor: 'tester@jump'},
	});
	cleanup.push(async () => {
		await monitor.stop();
		audit.close();
		if (!options.dir) {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});
	const poll = async (): Promise<Snapshot> => {
		const snapshot = await monitor.poll();
		clock.advance(15_000);
		return snapshot;
	};

	const lines = (): AuditEntry[] => fs.readFileSync(audit.file, 'utf8').split('\n').filter(Boolean).map(line => JSON.parse(line) as AuditEntry);
	return {monitor, config, monitored, poll, lines, dir, clock};
}

const view = (snapshot: Snapshot, name: string) => snapshot.environments.find(environment => environment.name === name)!;

describe('environments that span accounts', () => {
	it('dev is one row over every account: a runaway in one account stops dev\'s agents everywhere, each batch in one account, staging untouched; the audit log names each instance\'s account', async () => {
		const fleet = new Accounts(accountsOf(['sandbox-a', 'sandbox-b']));
		const devA = fleet.run('sandbox-a', 'dev', 2);
		const devB = fleet.run('sandbox-b', 'dev', 1);
		const staging = fleet.run('sandbox-b', 'staging', 2);
		const {poll, lines, monitored} = engine(fleet);
		expect(monitored).toEqual(['dev', 'staging']);
		const first = await poll();
		expect(view(first, 'dev')).toMatchObject({agents: {running: 3}, stale: null});
		expect(first.accounts?.map(account => [account.name, account.status, account.instances, account.agents])).toEqual([['sandbox-a', 'OK', 2, 2], ['sandbox-b', 'OK', 3, 3]]);
		const runaway = fleet.run('sandbox-a', 'dev', 3);
		await poll();
		for (const id of [...devA, ...devB, ...runaway]) {
			expect(fleet.state(id)).toBe('stopped');
		}

		expect(staging.map(id => fleet.state(id))).toEqual(['running', 'running']);
		expect(fleet.rechecks.every(batch => new Set(batch.map(target => target.account)).size === 1)).toBe(true);
		const action = lines().find(entry => entry.type === 'action' && entry.kind === 'stop')!;
		expect(action).toMatchObject({environments: ['dev'], outcome: 'executed'});
		expect(action.reason).toMatch(/of accounts sandbox-a \(111111111111\): 5, sandbox-b \(222222222222\): 1/);
		expect(action.results?.map(result => `${result.id} ${result.account} ${result.accountName}`).sort()).toEqual([
			...[...devA, ...runaway].map(id => `${id} 111111111111 sandbox-a`),
			...devB.map(id => `${id} 222222222222 sandbox-b`),
		].sort());
	});

	it('a failing account makes every row it counts in STALE, naming it, with no automatic action; a person\'s stop still stops the other accounts\' agents and says what it could not re-check', async () => {
		const fleet = new Accounts(accountsOf(['sandbox-a', 'sandbox-b']));
		const devA = fleet.run('sandbox-a', 'dev', 2);
		const devB = fleet.run('sandbox-b', 'dev', 1);
		const {poll, lines, monitor} = engine(fleet);
		await poll();
		fleet.failing.set('sandbox-b', 'cannot assume arn:aws:iam::222222222222:role/envwatch-member (AccessDenied)');
		fleet.run('sandbox-a', 'dev', 5);
		const stale = await poll();
		expect(view(stale, 'dev').stale).toBe('account sandbox-b (222222222222): cannot assume arn:aws:iam::222222222222:role/envwatch-member (AccessDenied) (us-east-1)');
		expect(view(stale, 'dev').status).toBe('STALE');
		expect(stale.global.status).toBe('STALE');
		expect(stale.accounts?.map(account => [account.name, account.status, account.stale === null, account.agents])).toEqual([['sandbox-a', 'OK', true, 7], ['sandbox-b', 'STALE', false, null]]);
		// Unknown is never $0: dev's runaway in sandbox-a is not acted on while sandbox-b's share is unknown.
		expect(devA.map(id => fleet.state(id))).toEqual(['running', 'running']);
		expect(lines().filter(entry => entry.kind === 'accounts').map(entry => entry.outcome)).toEqual(['changed', 'failed: sandbox-b']);

		const result = await monitor.command({kind: 'stop', environment: 'dev'}) as ActionResult;
		expect(result).toMatchObject({outcome: 'failed'});
		expect(result!.results.map(outcome => outcome.id).sort()).toEqual(fleet.instances.filter(instance => instance.account!.name === 'sandbox-a').map(instance => instance.id).sort());
		expect(result!.entry.reason).toMatch(/; not re-checked, so not acted on: account sandbox-b \(222222222222\) us-east-1: cannot assume/);
		expect(fleet.state(devB[0]!)).toBe('running');
	});
	it('an organization whose list cannot be asked again is said (snapshot, --once, JSON, audit log once), while the accounts before stay watched and fresh', async () => {
		const fleet = new Accounts(accountsOf(['sandbox-a', 'sandbox-b']));
		fleet.run('sandbox-a', 'dev', 1);
		const {poll, lines} = engine(fleet);
		expect((await poll()).accountsProblem).toBeNull();
		fleet.problem = 'the organization\'s accounts could not be listed again (AccessDenied): the accounts listed before are still watched';
		await poll();
		const doubted = await poll();
		expect(doubted.accountsProblem).toBe(fleet.problem);
		expect(view(doubted, 'dev')).toMatchObject({stale: null, status: 'ACTIVE'});
		expect(formatDashboard(doubted)).toContain(`- organization: ${fleet.problem}`);
		expect(toJson(doubted)['accountsProblem']).toBe(fleet.problem);
		fleet.problem = undefined;
		expect((await poll()).accountsProblem).toBeNull();
		expect(lines().filter(entry => entry.kind === 'accounts').map(entry => `${entry.outcome}: ${entry.reason}`)).toEqual([
			expect.stringMatching(/^changed: /),
			'failed: organization: the organization\'s accounts could not be listed again (AccessDenied): the accounts listed before are still watched',
			'recovered: the organization\'s accounts are listed again',
		]);
	});
});

describe('splitBy: "account"', () => {
	it('dev@<account> rows, each with its own window and stop: only dev@sandbox-a is stopped, dev@sandbox-b stays; a failing account makes only its row (and the rows that span) STALE', async () => {
		const fleet = new Accounts(accountsOf(['sandbox-a', 'sandbox-b', 'sandbox-c']));
		fleet.run('sandbox-a', 'dev', 2);
		const devB = fleet.run('sandbox-b', 'dev', 2);
		fleet.run('sandbox-c', 'dev', 1);
		fleet.run('sandbox-a', 'staging', 1);
		const {poll, monitored, config} = engine(fleet, {split: true});
		expect(monitored).toEqual(['dev@sandbox-a', 'dev@sandbox-b', 'dev@sandbox-c', 'staging']);
		expect(config.environments['dev@sandbox-b']).toMatchObject({account: 'sandbox-b', splitOf: 'dev', thresholdPct: 2, maxHourlyUsd: 5});
		await poll();
		fleet.failing.set('sandbox-c', 'account sandbox-c did not answer within its time budget of 120 s');
		const runaway = fleet.run('sandbox-a', 'dev', 3);
		const after = await poll();
		expect(view(after, 'dev@sandbox-c')).toMatchObject({status: 'STALE', stale: 'account sandbox-c (333333333333): account sandbox-c did not answer within its time budget of 120 s (us-east-1)', account: 'sandbox-c', splitOf: 'dev'});
		// Listed before it failed: its last figures, not "never listed".
		expect(view(after, 'dev@sandbox-c').unlisted).toBeUndefined();
		expect(view(after, 'staging').status).toBe('STALE');
		expect(view(after, 'dev@sandbox-b')).toMatchObject({stale: null, agents: {running: 2}});
		expect(after.decisions).toEqual([expect.objectContaining({kind: 'stop', environment: 'dev@sandbox-a'})]);
		expect(runaway.map(id => fleet.state(id))).toEqual(['stopped', 'stopped', 'stopped']);
		// Fresh rows are fresh data: the last success moves on though one account failed.
		expect(after.lastSuccessAt).toBe(after.at);
		expect(devB.map(id => fleet.state(id))).toEqual(['running', 'running']);
		expect(fleet.stops.flat().every(target => target.account === 'sandbox-a')).toBe(true);
		expect(view(after, 'dev@sandbox-a').status).toBe('STOPPED');
	});

	it('an account that joins gets its rows and every window restarts (its running agents are no spike); one that leaves loses its rows; a later run over other accounts restarts them too', async () => {
		const fleet = new Accounts(accountsOf(['sandbox-a', 'sandbox-b', 'sandbox-c']));
		const joining = fleet.accounts.pop()!;
		fleet.run('sandbox-a', 'dev', 2);
		fleet.run('sandbox-b', 'staging', 1);
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-accounts-'));
		cleanup.push(async () => fs.rmSync(dir, {recursive: true, force: true}));
		const clock = new ManualClock();
		const {poll, lines, monitored} = engine(fleet, {split: true, dir, clock});
		await poll();
		await poll();
		fleet.accounts.push(joining);
		const theirs = fleet.run('sandbox-c', 'dev', 4);
		fleet.run('sandbox-c', 'staging', 1);
		const joined = await poll();
		expect(monitored).toContain('dev@sandbox-c');
		expect(view(joined, 'dev@sandbox-c')).toMatchObject({agents: {running: 4}, stale: null, warmingUp: true});
		// staging spans the accounts: +100% as a sum, but the accounts changed, so it is no spike.
		expect(view(joined, 'staging')).toMatchObject({agents: {running: 2}, increasePct: 0, baselineUsd: view(joined, 'staging').hourlyUsd, warmingUp: true});
		expect(joined.decisions.filter(decision => decision.kind === 'stop' || decision.kind === 'emergency')).toEqual([]);
		expect(theirs.map(id => fleet.state(id))).toEqual(['running', 'running', 'running', 'running']);
		expect(lines().filter(entry => entry.kind === 'accounts').at(-1)?.reason).toMatch(/^accounts joined: sandbox-c \(333333333333\): every window restarts/);

		fleet.accounts.splice(1, 1);
		const left = await poll();
		expect(left.environments.map(environment => environment.name)).toEqual(['dev@sandbox-a', 'dev@sandbox-c', 'staging']);
		expect(lines().filter(entry => entry.kind === 'accounts').at(-1)?.reason).toMatch(/^accounts left: sandbox-b \(222222222222\)/);

		// The accounts are kept with the history: a run over the same ones keeps the windows; one over others restarts them.
		await poll();
		const again = engine(new Accounts(fleet.accounts), {split: true, dir, clock});
		await again.poll();
		expect(again.lines().filter(entry => entry.kind === 'accounts').length).toBe(lines().filter(entry => entry.kind === 'accounts').length);
		const other = new Accounts(accountsOf(['sandbox-a', 'sandbox-b', 'sandbox-c']));
		const third = engine(other, {split: true, dir, clock});
		await third.poll();
		expect(third.lines().filter(entry => entry.kind === 'accounts').at(-1)?.reason).toMatch(/^accounts joined: sandbox-b \(222222222222\): every window restarts/);
	});

	it('-e names a row or a split environment (all its rows); a row of no account is a usage error', () => {
		const fleet = new Accounts(accountsOf(['sandbox-a', 'sandbox-b']));
		const config: Config = loadConfig({noStore: true, flags: {accounts: [{name: 'sandbox-a', profile: 'a'}, {name: 'sandbox-b', profile: 'b'}], environments: {dev: {splitBy: 'account'}}}}).config;
		expect(splitForAccounts(config, fleet.accounts, ['dev@sandbox-b', 'staging'], '-e')).toEqual(['dev@sandbox-b', 'staging']);
		expect(() => splitForAccounts(config, fleet.accounts, ['dev@sandbox-z'], '-e')).toThrow(UsageError);
		expect(() => splitForAccounts(config, fleet.accounts, ['dev@sandbox-z'], '-e')).toThrow(/-e dev@sandbox-z: not a configured environment or row — expected one of: dev@sandbox-a, dev@sandbox-b, staging, production/);
	});
});
