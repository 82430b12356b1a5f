import {collectDefaultMetrics, Counter, Gauge, Histogram, Registry} from 'prom-client';
import type {AuditEntry, Snapshot} from '../engine/index.js';
import type {DeliveryOutcome} from '../notify/index.js';
import {AccountMetrics} from './accounts.js';

const environmentStatuses = ['ACTIVE', 'LIMITED', 'MONITOR', 'WARN', 'BREACH', 'STOPPED', 'STALE'] as const;
const globalStatuses = ['NORMAL', 'WARN', 'BREACH', 'STALE'] as const;
const stopResults = new Set(['stopping', 'stopped', 'terminating']);
const stopKinds = new Set(['stop', 'cascade', 'emergency', 'violation', 'respawn']);

/**
 * envwatch's Prometheus metrics, on a registry of their own. Figures come from the published
 * snapshots (the dashboard's figures); counters from the audit log's entries and notification
 * outcomes. A figure that is stale or unknown is removed (absent from `/metrics`), never exported
 * as 0. The global total is the environment `global`.
 */
export class Metrics {
	readonly registry = new Registry();
	private readonly hourly: Gauge<'environment'>;
	private readonly estimated: Gauge<'environment'>;
	private readonly baseline: Gauge<'environment'>;
	private readonly increase: Gauge<'environment'>;
	private readonly threshold: Gauge<'environment'>;
	private readonly cap: Gauge<'environment'>;
	private readonly running: Gauge<'environment'>;
	private readonly allowed: Gauge<'environment'>;
	private readonly status: Gauge<'environment' | 'status'>;
	private readonly paused: Gauge<'environment'>;
	private readonly actions: Counter<'environment' | 'kind' | 'actor'>;
	private readonly stopped: Counter<'environment'>;
	private readonly pollDuration: Histogram;
	private readonly lastSuccess: Gauge;
	private readonly costExplorer: Counter;
	private readonly notifications: Counter<'type' | 'outcome'>;
	private costExplorerSeen = 0;
	/** With accounts: each account's gauges and stop counter. */
	private readonly accounts: AccountMetrics;
	/**
	 * Which environment each agent is in (for a multi-environment stop), as the latest snapshot
	 * listed them (a stale environment: as last listed), and as the one before (a stop recorded
	 * after the next snapshot was published still finds its agents). Agents gone since are
	 * dropped: with instances churning all day this holds two polls' agents, not every one seen.
	 */
	private agentEnvironment = new Map<string, string>();
	private agentEnvironmentBefore = new Map<string, string>();

	constructor(options: {defaults?: boolean} = {}) {
		const registers = [this.registry];
		const gauge = <T extends string>(name: string, help: string, labelNames: readonly T[]) => new Gauge<T>({name, help, labelNames, registers});
		this.hourly = gauge('envwatch_hourly_cost_usd', 'On-demand $/h of the instances running now, per environment (global: the monitored total); absent while stale', ['environment']);
		this.estimated = gauge('envwatch_hourly_cost_estimated', '1 when envwatch_hourly_cost_usd holds a conservative estimate (a type with no known price) or EBS volumes not known yet (counted as $0): the dashboard marks it ~; absent while stale', ['environment']);
		this.baseline = gauge('envwatch_baseline_cost_usd', '$/h at the start of the window; absent while unknown or stale', ['environment']);
		this.increase = gauge('envwatch_increase_percent', 'Increase in % over the window; absent while unknown (no spend a window ago) or stale', ['environment']);
		this.threshold = gauge('envwatch_threshold_percent', 'The configured increase threshold in %', ['environment']);
		this.cap = gauge('envwatch_max_hourly_usd', 'The configured hourly cap in $/h', ['environment']);
		this.running = gauge('envwatch_agents_running', 'Agents running now; absent while stale', ['environment']);
		this.allowed = gauge('envwatch_agents_allowed', 'Agents the policy allows (0: monitor only); absent when unlimited', ['environment']);
		this.status = gauge('envwatch_status', 'The status word: 1 for the current one, 0 for the others', ['environment', 'status']);
		this.paused = gauge('envwatch_automatic_paused', 'Automatic actions paused by a person: 1 paused, 0 not, per environment (P, --pause-env); global: all of them (p, or x cancelling a pending action)', ['environment']);
		this.actions = new Counter({name: 'envwatch_actions_total', help: 'Actions taken (stop, cascade, emergency, violation, respawn, undo, start), per environment, by auto or user@host', labelNames: ['environment', 'kind', 'actor'], registers});
		this.stopped = new Counter({name: 'envwatch_instances_stopped_total', help: 'Instances stopped (or terminated) by envwatch, dry runs excluded', labelNames: ['environment'], registers});
		this.pollDuration = new Histogram({name: 'envwatch_poll_duration_seconds', help: 'How long a poll took, from its listing to its published snapshot', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers});
		this.lastSuccess = new Gauge({name: 'envwatch_last_successful_poll_timestamp_seconds', help: 'When the last poll that returned fresh data finished (Unix seconds); absent before the first', registers});
		this.costExplorer = new Counter({name: 'envwatch_cost_explorer_requests_total', help: 'Cost Explorer API requests made ($0.01 each)', registers});
		this.notifications = new Counter({name: 'envwatch_notifications_total', help: 'Notification deliveries by target type and outcome (delivered, skipped, failed, gave-up, dropped)', labelNames: ['type', 'outcome'], registers});
		this.accounts = new AccountMetrics(registers);
		if (options.defaults ?? true) {
			collectDefaultMetrics({register: this.registry});
		}
	}

	/** How many agents the environment lookup holds now (bounded by the last two snapshots' agents). */
	get trackedAgents(): number {
		return new Set([...this.agentEnvironment.keys(), ...this.agentEnvironmentBefore.keys()]).size;
	}

	/** The figures of a published snapshot. */
	update(snapshot: Snapshot): void {
		const never = snapshot.lastSuccessAt === null;
		this.trackAgents(snapshot);
		this.accounts.update(snapshot);
		for (const view of [...snapshot.environments, snapshot.global]) {
			const isGlobal = view === snapshot.global;
			const environment = isGlobal ? 'global' : view.name;
			const labels = {environment};
			const stale = never || view.stale !== null;
			this.threshold.set(labels, view.thresholdPct);
			this.cap.set(labels, view.maxHourlyUsd);
			const allowed = view.agents.allowed;
			if (typeof allowed === 'number') {
				this.allowed.set(labels, allowed);
			} else if (allowed === 'monitor-only') {
				this.allowed.set(labels, 0);
			} else {
				this.allowed.remove(labels);
			}

			this.set(this.hourly, labels, stale ? null : view.hourlyUsd);
			this.set(this.estimated, labels, stale ? null : Number(view.estimated > 0 || Boolean(view.learning)));
			this.set(this.running, labels, stale ? null : view.agents.running);
			this.set(this.baseline, labels, stale ? null : view.baselineUsd);
			this.set(this.increase, labels, stale ? null : view.increasePct);
			for (const status of isGlobal ? globalStatuses : environmentStatuses) {
				this.status.set({environment, status}, view.status === status ? 1 : 0);
			}

			// Whether it is paused is known even while the figures are stale; not known is absent, never 0.
			const paused: unknown = isGlobal ? snapshot.mode.paused : view.paused;
			this.set(this.paused, labels, typeof paused === 'boolean' ? Number(paused) : null);
		}

		if (snapshot.lastSuccessAt === null) {
			this.lastSuccess.reset();
		} else {
			this.lastSuccess.set(snapshot.lastSuccessAt / 1000);
		}

		// The snapshot carries the run's count so far: the counter moves by what is new.
		if (snapshot.billing.calls > this.costExplorerSeen) {
			this.costExplorer.inc(snapshot.billing.calls - this.costExplorerSeen);
			this.costExplorerSeen = snapshot.billing.calls;
		}
	}

	private trackAgents(snapshot: Snapshot): void {
		const stale = new Set(snapshot.environments.filter(view => view.stale !== null).map(view => view.name));
		const next = new Map<string, string>();
		for (const [id, environment] of this.agentEnvironment) {
			if (stale.has(environment)) {
				next.set(id, environment);
			}
		}

		for (const view of snapshot.environments) {
			if (!stale.has(view.name)) {
				for (const id of view.agentIds ?? []) {
					next.set(id, view.name);
				}
			}
		}

		this.agentEnvironmentBefore = this.agentEnvironment;
		this.agentEnvironment = next;
	}

	/** An audit log entry: actions and the instances they stopped. */
	record(entry: AuditEntry): void {
		if (entry.type !== 'action') {
			return;
		}

		this.accounts.record(entry);
		const environments = entry.environments.length > 0 ? entry.environments : ['global'];
		for (const environment of environments) {
			this.actions.inc({environment, kind: entry.kind, actor: entry.actor});
		}

		if (entry.dryRun || !stopKinds.has(entry.kind)) {
			return;
		}

		for (const result of entry.results ?? []) {
			if (stopResults.has(result.result)) {
				const environment = entry.environments.length === 1 ? entry.environments[0]! : this.agentEnvironment.get(result.id) ?? this.agentEnvironmentBefore.get(result.id) ?? 'global';
				this.stopped.inc({environment});
			}
		}
	}

	notification(outcome: DeliveryOutcome): void {
		this.notifications.inc({type: outcome.type, outcome: outcome.outcome});
	}

	observePoll(seconds: number): void {
		if (Number.isFinite(seconds) && seconds >= 0) {
			this.pollDuration.observe(seconds);
		}
	}

	private set(gauge: Gauge<'environment'>, labels: {environment: string}, value: number | null): void {
		if (value === null || !Number.isFinite(value)) {
			gauge.remove(labels);
		} else {
			gauge.set(labels, value);
		}
	}
}

/** Why the data is stale (for `/healthz` 503), or null while polls succeed. */
export function staleReason(snapshot: Snapshot | undefined, now: number): string | null {
	if (!snapshot) {
		return 'no poll has finished yet';
	}

	if (snapshot.lastSuccessAt === null) {
		return `no poll has succeeded yet${snapshot.error ? `: ${snapshot.error}` : ''}`;
	}

	if (snapshot.error) {
		return `the last poll failed: ${snapshot.error}`;
	}

	const stale = [...snapshot.environments, snapshot.global].find(view => view.stale !== null);
	if (stale) {
		return `${stale.name} is stale: ${stale.stale}`;
	}

	const ageSeconds = Math.round((now - snapshot.lastSuccessAt) / 1000);
	if (ageSeconds > 4 * snapshot.pollIntervalSeconds + 30) {
		return `the last successful poll was ${ageSeconds}s ago (polls every ${snapshot.pollIntervalSeconds}s)`;
	}

	return null;
}
