import type {BilledCost, BillingSource} from '../providers/index.js';
import {reasonOf} from './answer-errors.js';
import type {StateStore} from './state/store.js';

/** Cost Explorer's price: every request (every page) costs $0.01. */
export const usdPerBillingRequest = 0.01;

export type BillingCaps = {
	/** Pages one query may take (costExplorer.maxPagesPerQuery). @default 20 */
	maxPagesPerQuery?: number;
	/** Paid requests a UTC day may cost, in $ (costExplorer.maxUsdPerDay). @default 0.5 */
	maxUsdPerDay?: number;
	/**
	 * Every configured environment's tag values: a bill's value that matches one without regard to
	 * case counts for it under the configured spelling (as live spend does); the rest is shown as
	 * cost no environment claims, never dropped.
	 */
	tagValues?: readonly string[];
};

/** Billed cost no configured environment claims: untagged, tag values of no environment, groups of another tag key. */
export type Unattributed = {todayUsd: number; monthToDateUsd: number; groups: string[]};

/**
 * Billed cost is the reconciliation, not the alarm: fetched at most once per refresh interval,
 * cached in the state dir across restarts, with every paid request counted and capped: a query may
 * take at most `maxPagesPerQuery` pages and a UTC day at most `maxUsdPerDay` of requests (counted in
 * the state dir too, so runs from cron share it). A fetch that reaches a cap fails as a whole and
 * says so: the billed figures are shown as failed, never as a part of the bill.
 */
export class CachedBilling {
	private cost: BilledCost | undefined;
	private calls = 0;
	private spent: {day: string; requests: number} | undefined;
	private lastError: string | undefined;
	private inFlight: Promise<void> | undefined;
	private lastAttemptAt = 0;
	private readonly maxPagesPerQuery: number;
	private readonly maxUsdPerDay: number;
	private readonly canonical = new Map<string, string>();

	constructor(
		private readonly source: BillingSource | undefined,
		private readonly state: StateStore,
		private readonly refreshMs: number,
		caps: BillingCaps = {},
	) {
		this.maxPagesPerQuery = caps.maxPagesPerQuery ?? 20;
		this.maxUsdPerDay = caps.maxUsdPerDay ?? 0.5;
		for (const value of caps.tagValues ?? []) {
			this.canonical.set(value.toLowerCase(), value);
		}

		const cached = state.loadBilling();
		if (cached) {
			this.cost = cached.cost ? this.attribute(cached.cost) : undefined;
			this.calls = cached.calls;
			this.spent = cached.spent;
		}
	}

	get enabled(): boolean {
		return this.source !== undefined;
	}

	view(): {cost: BilledCost | undefined; calls: number; costUsd: number; error: string | null; unattributed: Unattributed | null} {
		return {cost: this.cost, calls: this.calls, costUsd: Math.round(this.calls * usdPerBillingRequest * 100) / 100, error: this.lastError ?? null, unattributed: this.cost ? this.unattributed(this.cost) : null};
	}

	/** Refreshes when the cache is older than the interval; a failure waits a full interval too. */
	async refresh(now: number): Promise<boolean> {
		if (!this.source) {
			return false;
		}

		const age = this.cost ? now - this.cost.fetchedAt : Number.POSITIVE_INFINITY;
		if (age < this.refreshMs || now - this.lastAttemptAt < this.refreshMs || this.inFlight) {
			return false;
		}

		this.lastAttemptAt = now;
		const day = new Date(now).toISOString().slice(0, 10);
		const today = this.spent?.day === day ? this.spent.requests : 0;
		const allowed = Math.floor((this.maxUsdPerDay / usdPerBillingRequest) + 1e-9);
		const cap = `the daily cap of $${this.maxUsdPerDay.toFixed(2)} (costExplorer.maxUsdPerDay)`;
		if (today >= allowed) {
			// Nothing asked, nothing paid: said, and the billed figures shown as failed until tomorrow.
			this.lastError = `Cost Explorer: ${cap} reached: ${today} paid requests today (UTC); billed cost is fetched again tomorrow`;
			return true;
		}

		const left = allowed - today;
		const limits = left < this.maxPagesPerQuery ? {maxPages: left, capName: `${cap}, ${left} page${left === 1 ? '' : 's'} left today`} : {maxPages: this.maxPagesPerQuery, capName: 'costExplorer.maxPagesPerQuery'};
		const source = this.source;
		this.inFlight = (async () => {
			let paid = 0;
			try {
				const {cost, requests} = await source.fetch(now, limits);
				// Counted even when the answer is unusable: every request was paid for.
				paid = Number.isInteger(requests) && requests > 0 ? requests : 1;
				const problem = costProblem(cost);
				if (problem) {
					throw new Error(`the billing source answered with ${problem}`);
				}

				this.cost = this.attribute(cost);
				this.lastError = undefined;
			} catch (error) {
				paid ||= paidRequestsOf(error);
				this.lastError = reasonOf(error);
			}

			this.calls += paid;
			this.spent = {day, requests: today + paid};
			this.state.saveBilling({cost: this.cost ?? null, calls: this.calls, costUsd: this.calls * usdPerBillingRequest, spent: this.spent});
		})();
		await this.inFlight;
		this.inFlight = undefined;
		return true;
	}

	/** The bill with each tag value that matches a configured one (without regard to case) under the configured spelling. */
	private attribute(cost: BilledCost): BilledCost {
		const rekey = (table: Record<string, number>): Record<string, number> => {
			const result = Object.create(null) as Record<string, number>;
			for (const [value, usd] of Object.entries(table)) {
				const key = this.canonical.get(value.toLowerCase()) ?? value;
				result[key] = Math.round(((result[key] ?? 0) + usd) * 1e6) / 1e6;
			}

			return result;
		};

		let byAccount: BilledCost['byAccount'];
		if (cost.byAccount) {
			byAccount = Object.create(null) as NonNullable<BilledCost['byAccount']>;
			for (const [account, share] of Object.entries(cost.byAccount)) {
				byAccount[account] = {todayUsd: rekey(share.todayUsd), monthToDateUsd: rekey(share.monthToDateUsd), ...(share.yesterdayUsd ? {yesterdayUsd: rekey(share.yesterdayUsd)} : {})};
			}
		}

		return {...cost, todayUsd: rekey(cost.todayUsd), monthToDateUsd: rekey(cost.monthToDateUsd), ...(cost.yesterday ? {yesterday: {...cost.yesterday, usd: rekey(cost.yesterday.usd)}} : {}), ...(byAccount ? {byAccount} : {})};
	}

	/** What the bill has that no configured environment claims: shown, never dropped. */
	private unattributed(cost: BilledCost): Unattributed | null {
		const groups = new Set<string>();
		let todayUsd = 0;
		let monthToDateUsd = 0;
		for (const [value, usd] of Object.entries(cost.todayUsd)) {
			if (!this.canonical.has(value.toLowerCase())) {
				groups.add(value);
				todayUsd += usd;
			}
		}

		for (const [value, usd] of Object.entries(cost.monthToDateUsd)) {
			if (!this.canonical.has(value.toLowerCase())) {
				groups.add(value);
				monthToDateUsd += usd;
			}
		}

		return groups.size === 0 ? null : {todayUsd: Math.round(todayUsd * 1e6) / 1e6, monthToDateUsd: Math.round(monthToDateUsd * 1e6) / 1e6, groups: [...groups].sort()};
	}
}

/** The paid requests a failed fetch made, when the source says (at least 1: a failure may still be billed). */
function paidRequestsOf(error: unknown): number {
	const paid = (error as {paidRequests?: unknown} | undefined)?.paidRequests;
	return typeof paid === 'number' && Number.isInteger(paid) && paid > 0 ? paid : 1;
}

/** What is wrong with a billed-cost answer (unknown is never $0), or undefined when it is usable. */
function costProblem(cost: unknown): string | undefined {
	if (typeof cost !== 'object' || cost === null) {
		return 'no cost data';
	}

	const {todayUsd, monthToDateUsd, fetchedAt} = cost as Partial<BilledCost>;
	if (typeof fetchedAt !== 'number' || !Number.isFinite(fetchedAt)) {
		return 'no fetch time';
	}

	for (const [name, table] of [['today', todayUsd], ['month to date', monthToDateUsd]] as const) {
		if (typeof table !== 'object' || table === null || Object.values(table).some(usd => typeof usd !== 'number' || !Number.isFinite(usd))) {
			return `${name}'s costs missing or not numbers`;
		}
	}

	return undefined;
}
