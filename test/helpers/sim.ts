import fs from 'node:fs';
import {fallbackPrices} from '../../source/domain/price-table.js';
import os from 'node:os';
import path from 'node:path';
import {afterEach} from 'vitest';
import {loadConfig} from '../../source/config/load.js';
import type {Config} from '../../source/config/schema.js';
import type {InstanceState, RawInstance} from '../../source/domain/types.js';
import {AuditLog, type AuditEntry} from '../../source/engine/state/audit.js';
import {Monitor, type MonitorOptions} from '../../source/engine/monitor.js';
import {StateStore} from '../../source/engine/state/store.js';
import {SnapshotStore} from '../../source/engine/snapshot-store.js';
import {SimAccount} from '../../source/providers/sim/account.js';
import type {ScenarioName} from '../../source/providers/sim/scenarios.js';
import type {ActOptions, Fleet, FleetListing, FleetQuery, InstanceOutcome, LaunchOutcome, LaunchRequest, Target} from '../../source/providers/types.js';

/** A manual clock: time moves only when a test moves it. */
export class ManualClock {
	constructor(public nowMs = Date.UTC(2026, 10, 27, 9, 0, 0)) {}

	now = (): number => this.nowMs;

	advance(ms: number): void {
		this.nowMs += ms;
	}
}

/**
 * A fleet that passes every call through to another and counts them; tests swap in failures.
 * `onList` runs before each list call is answered (it may throw, or change the inner fleet).
 */
export class CountingFleet implements Fleet {
	lists: FleetQuery[] = [];
	stops: Target[][] = [];
	starts: Target[][] = [];
	onList: ((query: FleetQuery) => void | Promise<void>) | undefined;

	constructor(readonly inner: Fleet) {}

	async list(query: FleetQuery): Promise<FleetListing> {
		this.lists.push(query);
		await this.onList?.(query);
		return this.inner.list(query);
	}

	async stop(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]> {
		this.stops.push(targets);
		return this.inner.stop(targets, options);
	}

	async start(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]> {
		this.starts.push(targets);
		return this.inner.start(targets, options);
	}

	async launch(request: LaunchRequest): Promise<LaunchOutcome> {
		return this.inner.launch!(request);
	}

	async templateInstanceType(region: string, template: LaunchRequest['template']): Promise<string | undefined> {
		return this.inner.templateInstanceType?.(region, template);
	}
}

export type SimHarnessOptions = {
	scenario: ScenarioName;
	options?: Partial<MonitorOptions>;
	/** Config overrides, deep-merged as flags would be. */
	flags?: Record<string, unknown>;
	/** Wraps the counting fleet, e.g. in a fake that changes tags. */
	wrap?: (fleet: Fleet) => Fleet;
	/** Reuse this directory (state and audit log), e.g. to restart on the same state. */
	dir?: string;
	clock?: ManualClock;
	/** The monitored environments (default: all three). */
	monitored?: string[];
	/** The engine's fence before each batch (the lock's or the lease's). */
	fence?: () => Promise<void>;
};

/**
 * SimAccount + StateStore(tmp) + AuditLog(tmp) + SnapshotStore + Monitor, on a manual clock.
 * Monitors all three simulated environments over both regions the sim uses; Cost Explorer off.
 */
export class SimHarness {
	readonly clock: ManualClock;
	readonly config: Config;
	readonly sim: SimAccount;
	readonly fleet: CountingFleet;
	readonly store = new SnapshotStore();
	readonly state: StateStore;
	readonly audit: AuditLog;
	readonly dir: string;
	monitor: Monitor;
	private readonly harness: SimHarnessOptions;

	constructor(harness: SimHarnessOptions) {
		this.harness = harness;
		this.clock = harness.clock ?? new ManualClock();
		this.dir = harness.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-engine-'));
		this.config = loadConfig({noStore: true, flags: {regions: ['us-east-1', 'us-west-2'], costExplorer: {enabled: false, refreshMinutes: 60}, ...harness.flags}}).config;
		const config = this.config;
		this.sim = new SimAccount({
			scenario: harness.scenario,
			now: this.clock.now,
			envTagKey: config.envTagKey,
			roleTag: config.roleTag,
			tagValueOf: environment => config.environments[environment]!.tagValues[0]!,
			prices: fallbackPrices,
		});
		this.fleet = new CountingFleet(this.sim);
		this.state = new StateStore(path.join(this.dir, 'state'));
		this.audit = new AuditLog(path.join(this.dir, 'audit.jsonl'));
		this.monitor = this.newMonitor();
	}

	/** A new Monitor on the same account, state dir and audit log (a restart). */
	newMonitor(options: Partial<MonitorOptions> = {}): Monitor {
		const fleet = this.harness.wrap ? this.harness.wrap(this.fleet) : this.fleet;
		this.monitor = new Monitor({
			provider: {source: 'SIMULATED', fleet, billing: undefined},
			config: this.config,
			monitored: this.harness.monitored ?? ['dev', 'staging', 'production'],
			store: this.store,
			state: this.state,
			audit: this.audit,
			clock: this.clock.now,
			options: {dryRun: false, readOnly: false, actor: 'tester@jump', ...this.harness.options, ...options},
			...(this.harness.fence ? {fence: this.harness.fence} : {}),
		});
		return this.monitor;
	}

	/** Polls, then moves the clock on by `advanceMs` (default: one poll interval). */
	async poll(advanceMs = this.config.pollIntervalSeconds * 1000) {
		const snapshot = await this.monitor.poll();
		this.clock.advance(advanceMs);
		return snapshot;
	}

	/** Every instance of the simulated account with its environment (first tag value) and role. */
	instances(): Array<RawInstance & {environment: string | undefined; role: string | undefined}> {
		return this.sim.snapshot().map(instance => ({...instance, environment: instance.tags[this.config.envTagKey], role: instance.tags[this.config.roleTag.key]}));
	}

	/** IDs of agents in an environment, optionally in given states. */
	agents(environment: string, states?: InstanceState[]): string[] {
		return this.instances()
			.filter(instance => instance.environment === environment && instance.role === 'agent' && (!states || states.includes(instance.state)))
			.map(instance => instance.id)
			.sort();
	}

	/** id -> state of every instance. */
	states(): Record<string, InstanceState> {
		return Object.fromEntries(this.instances().map(instance => [instance.id, instance.state]));
	}

	/** The audit log as written to disk. */
	auditLines(): AuditEntry[] {
		const file = this.audit.file;
		if (!fs.existsSync(file)) {
			return [];
		}

		return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(line => JSON.parse(line) as AuditEntry);
	}

	async close(): Promise<void> {
		await this.monitor.stop();
		this.audit.close();
		if (!this.harness.dir) {
			fs.rmSync(this.dir, {recursive: true, force: true});
		}
	}
}

export const live: InstanceState[] = ['pending', 'running'];
export const halted: InstanceState[] = ['stopping', 'stopped'];

/**
 * `start(options)` makes a harness that is closed after the test; also `pollsBeforeSpike`, the two
 * polls (+0 s, +15 s) before the scenarios' +20 s change, so the next poll sees it.
 */
export function useSimHarnesses(): {start(options: SimHarnessOptions): SimHarness; pollsBeforeSpike(sim: SimHarness): Promise<void>} {
	let harnesses: SimHarness[] = [];
	afterEach(async () => {
		for (const harness of harnesses) {
			await harness.close();
		}

		harnesses = [];
	});
	return {
		start(options) {
			const harness = new SimHarness(options);
			harnesses.push(harness);
			return harness;
		},
		async pollsBeforeSpike(sim) {
			await sim.poll();
			await sim.poll();
		},
	};
}
