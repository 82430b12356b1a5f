import type {Sample, WindowStats} from './types.js';

/** Sample series per key (an environment name, or GLOBAL for the total over monitored ones). */
export type History = Record<string, Sample[]>;

export const GLOBAL = '*global';

/**
 * An empty history. Keys are environment names from the user's config (`constructor` is a valid
 * one): no prototype, so no name ever finds an inherited member.
 */
export function newHistory(): History {
	return Object.create(null) as History;
}

/** A key's series, or undefined: never an inherited member. */
export function seriesOf(history: History, key: string): Sample[] | undefined {
	return Object.hasOwn(history, key) ? history[key] : undefined;
}

/**
 * The global total's series key for a set of monitored environments: a run with
 * `--environments dev` and one watching all three keep separate totals in the same state dir.
 */
export function globalKey(monitored: readonly string[]): string {
	return `${GLOBAL}:${[...monitored].sort().join(',')}`;
}

/** Appends a sample, keeping the series in time order (a sample older than the last is ignored). */
export function record(history: History, key: string, sample: Sample): void {
	const series = seriesOf(history, key) ?? (history[key] = []);
	const last = series.at(-1);
	if (last && sample.at < last.at) {
		return;
	}

	series.push(sample);
}

/**
 * Drops samples dated after `now` (the clock stepped back, or a state file was written by a host
 * whose clock ran fast): kept, they would freeze every window, since a sample older than the last is
 * never recorded. Returns how many were dropped, per series key.
 */
export function dropFuture(history: History, now: number): Map<string, number> {
	const dropped = new Map<string, number>();
	for (const [key, series] of Object.entries(history)) {
		const keep = firstIndexAtOrAfter(series, now + 1);
		if (keep < series.length) {
			dropped.set(key, series.length - keep);
			history[key] = series.slice(0, keep);
		}
	}

	return dropped;
}

/** Drops samples older than `keepMs` before `now`. */
export function prune(history: History, now: number, keepMs: number): void {
	const cutoff = now - keepMs;
	for (const [key, series] of Object.entries(history)) {
		const first = firstIndexAtOrAfter(series, cutoff);
		if (first >= series.length) {
			// Nothing left (an environment or a monitored set no longer watched): forget the series.
			delete history[key];
		} else if (first > 0) {
			history[key] = series.slice(first);
		}
	}
}

function firstIndexAtOrAfter(series: readonly Sample[], at: number): number {
	let low = 0;
	let high = series.length;
	while (low < high) {
		const middle = (low + high) >>> 1;
		if (series[middle]!.at < at) {
			low = middle + 1;
		} else {
			high = middle;
		}
	}

	return low;
}

/**
 * Spend now against the baseline: the oldest sample not older than the window. Until the history
 * spans the window the series is warming up, yet it is still measured against its oldest sample.
 * A zero baseline gives no increase (starting agents from nothing is not a spike).
 */
export function windowStats(series: readonly Sample[] | undefined, windowMs: number, now: number): WindowStats {
	const samples = series ? series.slice(firstIndexAtOrAfter(series, now - windowMs)) : [];
	const current = samples.at(-1);
	const baseline = samples[0];
	// Polls do not land exactly on the window's edge; history within 2% of it counts as spanning it.
	const warmingUp = !series?.[0] || series[0].at > now - windowMs * 0.98;
	// When it will span the window: from its oldest sample, by the same 2% rule.
	const fullAt = warmingUp && series?.[0] ? series[0].at + windowMs * 0.98 : undefined;
	if (!current || !baseline) {
		return {currentUsd: 0, baselineUsd: undefined, baselineAt: undefined, increasePct: undefined, increaseUsd: undefined, warmingUp: true, fullAt, samples};
	}

	const increaseUsd = current.usd - baseline.usd;
	return {
		currentUsd: current.usd,
		baselineUsd: baseline.usd,
		baselineAt: baseline.at,
		increasePct: baseline.usd > 0 ? (increaseUsd / baseline.usd) * 100 : undefined,
		increaseUsd,
		warmingUp,
		fullAt,
		samples,
	};
}

/**
 * Moves a series by `deltaUsd` (never below $0): when a price changes (a Price List answer came in,
 * a spot price moved), the window's earlier samples are restated at the new price, so the change of
 * a price is never read as a change of spend.
 */
export function shift(history: History, key: string, deltaUsd: number): void {
	const series = seriesOf(history, key);
	if (!series || deltaUsd === 0 || !Number.isFinite(deltaUsd)) {
		return;
	}

	for (const sample of series) {
		sample.usd = Math.max(0, sample.usd + deltaUsd);
	}
}
