import type {BilledCost, BillingSource} from '../providers/types.js';
import {messageOf} from './record.js';
import type {StateStore} from './state.js';

/** Cost Explorer's price: every request (every page) costs $0.01. */
export const usdPerBillingRequest = 0.01;

/**
 * Billed cost is the reconciliation, not the alarm: fetched at most once per refresh interval,
 * cached in the state dir across restarts, with every paid request counted.
 */
export class CachedBilling {
	private cost: BilledCost | undefined;
	private calls = 0;
	private lastError: string | undefined;
	private inFlight: Promise<void> | undefined;
	private lastAttemptAt = 0;

	constructor(
		private readonly source: BillingSource | undefined,
		private readonly state: StateStore,
		private readonly refreshMs: number,
	) {
		const cached = state.loadBilling();
		if (cached) {
			this.cost = cached.cost ?? undefined;
			this.calls = cached.calls;
		}
	}

	get enabled(): boolean {
		return this.source !== undefined;
	}

	view(): {cost: BilledCost | undefined; calls: number; costUsd: number; error: string | null} {
		return {cost: this.cost, calls: this.calls, costUsd: Math.round(this.calls * usdPerBillingRequest * 100) / 100, error: this.lastError ?? null};
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
		const source = this.source;
		const callsBefore = this.calls;
		this.inFlight = (async () => {
			try {
				const {cost, requests} = await source.fetch(now);
				// Counted even when the answer is unusable: every request was paid for.
				this.calls += Number.isInteger(requests) && requests > 0 ? requests : 1;
				const problem = costProblem(cost);
				if (problem) {
					throw new Error(`the billing source answered with ${problem}`);
				}

				this.cost = cost;
				this.lastError = undefined;
			} catch (error) {
				this.calls += this.calls === callsBefore ? 1 : 0;
				this.lastError = messageOf(error);
			}

			this.state.saveBilling({cost: this.cost ?? null, calls: this.calls, costUsd: this.calls * usdPerBillingRequest});
		})();
		await this.inFlight;
		this.inFlight = undefined;
		return true;
	}
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
