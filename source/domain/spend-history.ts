/**
 * What the spend chart (`t`) draws over its ranges: 1 hour and 6 hours from the polls, kept in
 * buckets (each bucket's highest $/h, so a spike stays seen however the polls fall), and 24 hours
 * and 7 days from the hourly rollup. Unlike the policy's windows, this history is not restarted
 * when envwatch stops or starts agents: the chart shows the spike that caused a stop. A bucket no
 * fresh poll fell in is null (not watched, or stale), never $0. Pure: times come in as arguments.
 */
import {hourMs, type Rollup} from './rollup.js';

/** The chart's ranges, shortest first. */
export const chartRanges = ['1h', '6h', '24h', '7d'] as const;
export type ChartRange = (typeof chartRanges)[number];

/** How each range is drawn: how long it spans, and one bucket's width. */
export const rangeSpans: Readonly<Record<ChartRange, {spanMs: number; stepMs: number}>> = {
	'1h': {spanMs: hourMs, stepMs: 30_000},
	'6h': {spanMs: 6 * hourMs, stepMs: 180_000},
	'24h': {spanMs: 24 * hourMs, stepMs: hourMs},
	'7d': {spanMs: 7 * 24 * hourMs, stepMs: hourMs},
};

/** `[bucket start (epoch ms), highest $/h in it]`, oldest first. */
export type Buckets = Array<[number, number]>;

/** Per key (an environment's name, or `global`): the 1-hour and the 6-hour buckets. */
export type SpendTrail = {fine: Record<string, Buckets>; coarse: Record<string, Buckets>};

/** The key of the guarded set's total. */
export const trailGlobal = 'global';

/** Keys are environment names from the configuration: no prototype, so none finds an inherited member. */
export function newTrail(): SpendTrail {
	return {fine: Object.create(null) as Record<string, Buckets>, coarse: Object.create(null) as Record<string, Buckets>};
}

function add(series: Record<string, Buckets>, key: string, stepMs: number, at: number, usd: number): void {
	const buckets = Object.hasOwn(series, key) ? series[key]! : (series[key] = []);
	const start = Math.floor(at / stepMs) * stepMs;
	const last = buckets.at(-1);
	if (last && last[0] === start) {
		last[1] = Math.max(last[1], usd);
	} else if (!last || last[0] < start) {
		buckets.push([start, usd]);
	}
}

/** A fresh poll's $/h for `key` at `at` (a figure that cannot be spend is not kept). */
export function noteSpend(trail: SpendTrail, key: string, at: number, usd: number): void {
	if (!Number.isFinite(usd) || usd < 0 || !Number.isFinite(at)) {
		return;
	}

	add(trail.fine, key, rangeSpans['1h'].stepMs, at, usd);
	add(trail.coarse, key, rangeSpans['6h'].stepMs, at, usd);
}

/** Drops buckets older than their range (and any dated after `now`: a clock stepped back). */
export function pruneTrail(trail: SpendTrail, now: number): void {
	for (const [series, range] of [[trail.fine, rangeSpans['1h']], [trail.coarse, rangeSpans['6h']]] as const) {
		for (const key of Object.keys(series)) {
			const kept = series[key]!.filter(([start]) => start > now - range.spanMs - range.stepMs && start <= now);
			if (kept.length === 0) {
				delete series[key];
			} else {
				series[key] = kept;
			}
		}
	}
}

/** Forgets a key's history (the guarded set changed: its total is another sum now). */
export function forgetTrail(trail: SpendTrail, key: string): void {
	delete trail.fine[key];
	delete trail.coarse[key];
}

/**
 * `count` buckets of `stepMs` ending with the one that holds `now`, oldest first: each bucket's
 * value, or null where the series has none.
 */
export function bucketValues(buckets: Buckets | undefined, now: number, stepMs: number, count: number): Array<number | null> {
	const last = Math.floor(now / stepMs) * stepMs;
	const first = last - (count - 1) * stepMs;
	const values: Array<number | null> = Array.from({length: count}, () => null);
	for (const [start, usd] of buckets ?? []) {
		const index = Math.round((start - first) / stepMs);
		if (index >= 0 && index < count) {
			values[index] = usd;
		}
	}

	return values;
}

/**
 * The last `count` whole UTC hours before the one that holds `now`, from the rollup, oldest first:
 * the dollars spent in each (its average $/h), summed over `keys`; null for an hour none of them
 * has (not watched). An hour watched in part reads low: the rollup holds what was watched.
 */
export function hourlyValues(rollup: Rollup, keys: readonly string[], now: number, count: number): Array<number | null> {
	const end = Math.floor(now / hourMs) * hourMs;
	const first = end - count * hourMs;
	const values: Array<number | null> = Array.from({length: count}, () => null);
	for (const key of keys) {
		for (const [hour, usd] of Object.hasOwn(rollup, key) ? rollup[key]! : []) {
			const index = Math.round((hour - first) / hourMs);
			if (index >= 0 && index < count && Number.isFinite(usd) && usd >= 0) {
				values[index] = (values[index] ?? 0) + usd;
			}
		}
	}

	return values;
}

/** A figure for the wire: six significant digits are plenty for a chart. */
export function chartFigure(value: number | null): number | null {
	return value === null ? null : Number(value.toPrecision(6));
}
