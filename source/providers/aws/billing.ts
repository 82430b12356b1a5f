import {CostExplorerClient, GetCostAndUsageCommand, type Expression, type ResultByTime} from '@aws-sdk/client-cost-explorer';
import type {BilledCost, BillingLimits, BillingSource} from '../types.js';
import {Budget, checkAnswers, ImplausibleAnswerError, MalformedAnswerError, paginate} from './answers.js';
import {clientConfig, type AwsConnection} from './clients.js';
import {maxDailyUsdPerGroup} from '../../domain/index.js';

/** Cost Explorer is served from us-east-1 whatever the fleet's regions. */
export const costExplorerRegion = 'us-east-1';

/** Pages of one query when the caller sets no cap (costExplorer.maxPagesPerQuery's default). */
const defaultMaxPages = 20;

/** The most one group can be billed in a day (its reasons: domain/rollup.ts, where a snapshot's check reads it too). */
export {maxDailyUsdPerGroup};

/**
 * Credits and refunds are left out of the query: they are not what the fleet costs, and netted into
 * a day's figure they would lower it without saying so. What is left (usage, taxes, fees, discounts
 * that come with usage) is never negative for a day, so a negative amount is an answer not believed.
 */
export const withoutCredits: Expression = {Not: {Dimensions: {Key: 'RECORD_TYPE', Values: ['Credit', 'Refund']}}};

/**
 * Billed cost per environment tag value from Cost Explorer. One query covers both figures: DAILY
 * from the first of the month to tomorrow (End is exclusive), grouped by the environment tag,
 * credits and refunds left out; today is the last day, month to date the sum. Every page is a paid
 * request ($0.01), counted, and capped (`limits.maxPages`): a query that reaches the cap fails as a
 * whole, never a part of the bill. A failed fetch's error carries `paidRequests`, the requests it made.
 */
export class CostExplorerBilling implements BillingSource {
	private client: CostExplorerClient | undefined;
	private inFlight = 0;
	private closing = false;

	/**
	 * @param linkedAccounts With `accounts`: group by LINKED_ACCOUNT too (keys `[account ID,
	 * "Environment$dev"]`), asked with the management (payer) account's credentials, so each
	 * account's share of a tag value is known (`byAccount`). One query all the same.
	 */
	constructor(private readonly connection: AwsConnection, private readonly envTagKey: string, private readonly linkedAccounts = false) {}

	async fetch(now: number, limits?: BillingLimits): Promise<{cost: BilledCost; requests: number}> {
		this.inFlight++;
		try {
			return await this.query(now, limits);
		} finally {
			this.inFlight--;
			if (this.closing && this.inFlight === 0) {
				this.close();
			}
		}
	}

	private async query(now: number, limits: BillingLimits = {maxPages: defaultMaxPages}): Promise<{cost: BilledCost; requests: number}> {
		if (!this.client) {
			this.client = new CostExplorerClient(clientConfig(this.connection, costExplorerRegion));
			checkAnswers(this.client, costExplorerRegion, 'json');
		}

		const client = this.client;
		const {start, today, end, monthStart, yesterday} = period(now);
		const results: ResultByTime[] = [];
		const budget = new Budget(120_000);
		const pages = paginate({
			call: 'GetCostAndUsage',
			region: costExplorerRegion,
			token: 'NextPageToken',
			maxPages: limits.maxPages,
			capName: limits.capName ?? 'costExplorer.maxPagesPerQuery',
			capConsequence: 'billed cost is not shown rather than part of it',
			budget,
			send: async (paging, options) => client.send(new GetCostAndUsageCommand({
				TimePeriod: {Start: start, End: end},
				Granularity: 'DAILY',
				Metrics: ['UnblendedCost'],
				GroupBy: this.linkedAccounts ? [{Type: 'DIMENSION', Key: 'LINKED_ACCOUNT'}, {Type: 'TAG', Key: this.envTagKey}] : [{Type: 'TAG', Key: this.envTagKey}],
				Filter: withoutCredits,
				...paging,
			}), options),
		});
		try {
			for await (const {output, page} of pages) {
				if (!Array.isArray(output.ResultsByTime)) {
					throw new MalformedAnswerError(costExplorerRegion, `GetCostAndUsage page ${page} has no ResultsByTime list: expected the daily results, so billed cost is unknown`);
				}

				results.push(...output.ResultsByTime);
			}

			return {cost: {...parseCostResults(results, this.envTagKey, today, {start, end, monthStart, yesterday, linkedAccounts: this.linkedAccounts}), fetchedAt: now}, requests: pages.requests};
		} catch (error) {
			// Paid for all the same: the cache counts them.
			throw Object.assign(error instanceof Error ? error : new Error(String(error)), {paidRequests: pages.requests});
		} finally {
			budget.done();
		}
	}

	/** Releases the client; a query in flight (already paid for) is let finish first. */
	close(): void {
		if (this.inFlight > 0) {
			this.closing = true;
			return;
		}

		this.closing = false;
		this.client?.destroy();
		this.client = undefined;
	}
}

function day(ms: number): string {
	return new Date(ms).toISOString().slice(0, 10);
}

/** The query's period in UTC (Cost Explorer's days are UTC): month start, today, and tomorrow as the exclusive end. */
export function period(now: number): {start: string; today: string; end: string; monthStart: string; yesterday: string} {
	const date = new Date(now);
	const monthStart = day(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
	const yesterday = day(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - 1));
	return {
		// From yesterday on the 1st, so yesterday's bill is always in the one query.
		start: yesterday < monthStart ? yesterday : monthStart,
		monthStart,
		yesterday,
		today: day(now),
		end: day(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1)),
	};
}

/**
 * A group's key as a table key: `Environment$dev` -> `dev`; `Environment$` (cost without the tag)
 * -> `untagged`. A key of another tag key (`environment$Dev`: tag keys are case-sensitive, so live
 * spend does not count it either) or without `$` is kept whole, quoted (`(group "environment$Dev")`):
 * shown as cost no environment claims, never dropped.
 */
export function tagValueOf(key: string, envTagKey: string): string {
	const prefix = `${envTagKey}$`;
	if (!key.startsWith(prefix)) {
		return `(group ${JSON.stringify(key.slice(0, 80))})`;
	}

	const value = key.slice(prefix.length);
	return value === '' ? 'untagged' : value;
}

/**
 * Sums daily groups into today and month to date per tag value. Every group must carry its tag key
 * and a numeric UnblendedCost in USD, not negative (credits and refunds are not asked for): anything
 * else throws (a billing error shown as such), since a group skipped, read as 0 or netted against a
 * credit would understate the bill. What cannot be true throws too (answers.ts's discipline): a
 * day and group listed twice (the same page again under a new token), a day after today or outside
 * the period asked for (`days.start` to `days.end`, exclusive), more than `maxDailyUsdPerGroup`.
 */
export function parseCostResults(results: ResultByTime[], envTagKey: string, today: string, days: {start?: string; end?: string; monthStart?: string; yesterday?: string; linkedAccounts?: boolean} = {}): Omit<BilledCost, 'fetchedAt'> {
	const todayUsd: Record<string, number> = Object.create(null) as Record<string, number>;
	const yesterdayUsd: Record<string, number> = Object.create(null) as Record<string, number>;
	// Yesterday counts once Cost Explorer says its figure is final (Estimated false).
	let yesterdayFinal = false;
	const monthToDateUsd: Record<string, number> = Object.create(null) as Record<string, number>;
	const byAccount = Object.create(null) as NonNullable<BilledCost['byAccount']>;
	const add = (table: Record<string, number>, key: string, usd: number) => {
		table[key] = round((table[key] ?? 0) + usd);
	};
	const tables = (account: string | undefined) => {
		if (account === undefined) {
			return {today: todayUsd, month: monthToDateUsd, yesterday: yesterdayUsd};
		}

		const share = byAccount[account] ?? {todayUsd: Object.create(null) as Record<string, number>, monthToDateUsd: Object.create(null) as Record<string, number>, yesterdayUsd: Object.create(null) as Record<string, number>};
		byAccount[account] = share;
		return {today: share.todayUsd, month: share.monthToDateUsd, yesterday: share.yesterdayUsd!};
	};
	// Each day's groups, as answered: a second sighting is an answer that repeats itself.
	const seen = new Set<string>();

	for (const result of results) {
		const start = result?.TimePeriod?.Start;
		const bad = (what: string) => new Error(`Cost Explorer GetCostAndUsage answer (${costExplorerRegion}): ${what}: billed cost is unknown`);
		if (typeof start !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(start)) {
			throw bad(`a result has no TimePeriod.Start date (got ${JSON.stringify(start ?? null)?.slice(0, 40)})`);
		}

		const date = start.slice(0, 10);
		if (date > today) {
			throw new ImplausibleAnswerError(costExplorerRegion, `Cost Explorer GetCostAndUsage answer: a result dated ${date}, after today (${today}): billed cost is not believed`);
		}

		if ((days.start !== undefined && date < days.start) || (days.end !== undefined && date >= days.end)) {
			throw new ImplausibleAnswerError(costExplorerRegion, `Cost Explorer GetCostAndUsage answer: a result dated ${date}, outside the period asked for (${days.start ?? '...'} to ${days.end ?? '...'}): billed cost is not believed`);
		}

		if (!Array.isArray(result.Groups)) {
			throw bad(`the result for ${start} has no Groups list (expected groups by the ${envTagKey} tag)`);
		}

		for (const group of result.Groups) {
			// Grouped by LINKED_ACCOUNT too, the keys come in GroupBy order: the account, then the tag.
			const account = days.linkedAccounts ? group?.Keys?.[0] : undefined;
			const groupKey = group?.Keys?.[days.linkedAccounts ? 1 : 0];
			if (days.linkedAccounts && (typeof account !== 'string' || !/^\d{12}$/.test(account))) {
				throw bad(`a group of ${start} has no linked account ID (got ${JSON.stringify(account ?? null)?.slice(0, 20)}; expected 12 digits, then the tag key)`);
			}

			if (typeof groupKey !== 'string') {
				throw bad(`a group of ${start} has no tag key`);
			}

			const metric = group.Metrics?.['UnblendedCost'];
			const amount: unknown = metric?.Amount;
			if ((typeof amount !== 'string' && typeof amount !== 'number') || !/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(String(amount).trim())) {
				throw bad(`group ${groupKey.slice(0, 60)} of ${start} has UnblendedCost amount ${JSON.stringify(amount ?? null)?.slice(0, 40)}: expected a number`);
			}

			if (metric?.Unit !== undefined && metric.Unit !== 'USD') {
				throw bad(`group ${groupKey.slice(0, 60)} of ${start} is in ${String(metric.Unit).slice(0, 10)}: expected USD`);
			}

			const raw = Number(amount);
			if (raw > maxDailyUsdPerGroup) {
				throw new ImplausibleAnswerError(costExplorerRegion, `Cost Explorer GetCostAndUsage answer: group ${groupKey.slice(0, 60)} of ${date} has UnblendedCost $${String(amount).trim().slice(0, 20)} in one day: more than the $10,000,000 a day one group could be billed: billed cost is not believed`);
			}

			const once = `${date}\u0000${account ?? ''}\u0000${groupKey}`;
			if (seen.has(once)) {
				throw new MalformedAnswerError(costExplorerRegion, `Cost Explorer GetCostAndUsage answer: the result for ${date} lists group ${groupKey.slice(0, 60)}${account === undefined ? '' : ` of account ${account}`} twice: an answer that repeats itself, not believed`);
			}

			seen.add(once);
			// Rounding leaves -0.0000001 where a day cost nothing: not a credit.
			if (raw < -0.005) {
				throw new ImplausibleAnswerError(costExplorerRegion, `Cost Explorer GetCostAndUsage answer: group ${groupKey.slice(0, 60)} of ${start} has UnblendedCost ${String(amount).trim().slice(0, 20)}: a negative cost, though credits and refunds are left out of the query: billed cost is not believed`);
			}

			const usd = Math.max(0, raw);

			const key = tagValueOf(groupKey, envTagKey);
			// The totals over every account, and (grouped by account) the account's own share.
			for (const table of account === undefined ? [tables(undefined)] : [tables(undefined), tables(account)]) {
				if (days.monthStart === undefined || start.slice(0, 10) >= days.monthStart) {
					add(table.month, key, usd);
				}

				if (start === today) {
					add(table.today, key, usd);
				}

				if (days.yesterday !== undefined && start.slice(0, 10) === days.yesterday && result.Estimated === false) {
					add(table.yesterday, key, usd);
				}
			}
		}
	}

	for (const result of results) {
		if (days.yesterday !== undefined && result.TimePeriod?.Start?.slice(0, 10) === days.yesterday && result.Estimated === false) {
			yesterdayFinal = true;
		}
	}

	const shares = Object.create(null) as NonNullable<BilledCost['byAccount']>;
	for (const [account, share] of Object.entries(byAccount)) {
		shares[account] = {todayUsd: share.todayUsd, monthToDateUsd: share.monthToDateUsd, ...(yesterdayFinal ? {yesterdayUsd: share.yesterdayUsd} : {})};
	}

	return {todayUsd, monthToDateUsd, ...(yesterdayFinal ? {yesterday: {date: days.yesterday!, usd: yesterdayUsd}} : {}), ...(days.linkedAccounts ? {byAccount: shares} : {})};
}

function round(usd: number): number {
	return Math.round(usd * 1e6) / 1e6;
}
