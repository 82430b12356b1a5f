import {Counter, Gauge, type Registry} from 'prom-client';
import type {AuditEntry, Snapshot} from '../engine/index.js';

const stopResults = new Set(['stopping', 'stopped', 'terminating']);
type Labels = 'account' | 'account_id';

/**
 * With `accounts`: per account, whether its share was listed this poll, what it runs and costs,
 * and what envwatch stopped there. Labels `account` (envwatch's name for it) and `account_id` (its
 * 12-digit ID, empty until known). A figure of an account whose share is stale is absent, never 0.
 */
export class AccountMetrics {
	private readonly up: Gauge<Labels>;
	private readonly hourly: Gauge<Labels>;
	private readonly agents: Gauge<Labels>;
	private readonly stopped: Counter<Labels>;
	/** The label sets exported so far: an account that left is removed. */
	private shown = new Map<string, Record<Labels, string>>();

	constructor(registers: Registry[]) {
		this.up = new Gauge({name: 'envwatch_account_up', help: 'Whether the account\'s share was listed by the last poll: 1 listed, 0 failed (its rows are STALE)', labelNames: ['account', 'account_id'], registers});
		this.hourly = new Gauge({name: 'envwatch_account_hourly_cost_usd', help: '$/h of the monitored environments\' instances running in the account; absent while it fails', labelNames: ['account', 'account_id'], registers});
		this.agents = new Gauge({name: 'envwatch_account_agents_running', help: 'Agents of the monitored environments running in the account; absent while it fails', labelNames: ['account', 'account_id'], registers});
		this.stopped = new Counter({name: 'envwatch_account_instances_stopped_total', help: 'Instances stopped (or terminated) by envwatch in the account, dry runs excluded', labelNames: ['account', 'account_id'], registers});
	}

	update(snapshot: Snapshot): void {
		const next = new Map<string, Record<Labels, string>>();
		for (const account of snapshot.accounts ?? []) {
			const labels = {account: account.name, account_id: account.id ?? ''};
			next.set(`${labels.account} ${labels.account_id}`, labels);
			this.up.set(labels, account.stale === null ? 1 : 0);
			for (const [gauge, value] of [[this.hourly, account.hourlyUsd], [this.agents, account.agents]] as const) {
				if (value === null) {
					gauge.remove(labels);
				} else {
					gauge.set(labels, value);
				}
			}
		}

		for (const [key, labels] of this.shown) {
			if (!next.has(key)) {
				this.up.remove(labels);
				this.hourly.remove(labels);
				this.agents.remove(labels);
			}
		}

		this.shown = next;
	}

	/** An action's stopped instances, by the account each ran in. */
	record(entry: AuditEntry): void {
		if (entry.type !== 'action' || entry.dryRun) {
			return;
		}

		for (const result of entry.results ?? []) {
			if (result.accountName !== undefined && stopResults.has(result.result) && entry.kind !== 'undo' && entry.kind !== 'start') {
				this.stopped.inc({account: result.accountName, account_id: result.account ?? ''});
			}
		}
	}
}
