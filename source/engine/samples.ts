import type {Config} from '../config/index.js';
import {accrue, bucketValues, chartFigure, chartRanges, createPriceBook, dropFuture, fallbackPrices, forgetTrail, GLOBAL, globalKey, hourlyValues, hourMs, newHistory, newTrail, noteSpend, plural, prune, pruneRollup, pruneTrail, rangeSpans, record, seriesOf, shift, trailGlobal, type History, type PriceBook, type PriceOverrides, type PriceTables, type Rollup, type Spend, type SpendTrail} from '../domain/index.js';
import type {Breakers} from './breakers.js';
import type {SpendHistoryView} from './snapshot.js';
import {evaluateAt, type Evaluated} from './projection.js';
import type {Recorder} from './recorder.js';
import type {StateStore} from './state/store.js';
import type {PriceBasis} from './state/validate.js';

/** The rollup is saved at least this often while polls change it (and when an hour begins). */
const rollupSaveMs = 60_000;

/**
 * The spend history behind the windows (persisted in the state dir): one sample per environment
 * and one for the monitored set's total per fresh poll, restarted where envwatch itself changed
 * the fleet.
 */
export class Samples {
	private history: History;
	/**
	 * What the spend chart draws over 1 and 6 hours: fed by every fresh poll, and never restarted
	 * by envwatch's own actions (the chart shows the spike that caused a stop). In memory: it starts
	 * from the persisted windows' samples, and the 24-hour and 7-day ranges come from the rollup.
	 */
	private readonly trail: SpendTrail = newTrail();
	/**
	 * The prices the history is priced under, as persisted (samples.json's `basis`), and the book
	 * they make: the one this process last restated the history to, or, until it has, the one
	 * rebuilt from the basis a previous process left. Undefined before any sample was priced.
	 */
	private basis: {saved: PriceBasis; text: string; book: PriceBook | undefined} | undefined;
	/** Samples already saved were changed (restated for new prices, or dropped as future): save whole. */
	private rewrite = false;
	/** Dollars per UTC hour per environment, from the live $/h (checked against the bill). */
	readonly rollup: Rollup;
	private lastAccrualAt: number | undefined;
	/** When the rollup was last saved (poll time); undefined: not since start. */
	private rollupSavedAt: number | undefined;
	private rollupDirty = false;

	constructor(private readonly deps: {state: StateStore; recorder: Recorder; config: Config; monitored: string[]}) {
		this.history = deps.state.loadHistory();
		this.rollup = deps.state.loadRollup();
		const saved = deps.state.loadedBasis();
		if (saved && saved.table !== shippedTableId()) {
			// Priced with another envwatch's shipped table, which cannot be rebuilt: its samples cannot
			// be restated, and are not compared across books. The windows start afresh (the cap still applies).
			this.history = newHistory();
			this.rewrite = true;
			deps.recorder.log({type: 'decision', actor: 'auto', kind: 'state', environments: [], reason: 'the sample history was priced with another version\'s shipped price table and cannot be restated to this one: the windows start afresh (a price change is never read as a spike; the hourly caps still apply)', instanceIds: []});
		} else if (saved) {
			this.basis = {saved, text: JSON.stringify(saved), book: undefined};
		}

		const global = this.globalKey;
		for (const key of [...deps.monitored, global]) {
			const trailKey = key === global ? trailGlobal : key;
			for (const sample of seriesOf(this.history, key) ?? []) {
				noteSpend(this.trail, trailKey, sample.at, sample.usd);
			}
		}
	}

	/**
	 * The guarded set changed (the `guard` command changed the array every part reads): its total
	 * is another sum, kept under another key, and the chart's total starts again.
	 */
	guardChanged(): void {
		forgetTrail(this.trail, trailGlobal);
	}

	/**
	 * The book the history is priced under: the one this process last priced a sample with, or the
	 * one rebuilt from the basis a previous process saved (a `--once` run from cron restates the
	 * samples of the run before with it). Undefined before any sample was priced.
	 */
	pricedUnder(): PriceBook | undefined {
		if (this.basis && !this.basis.book) {
			this.basis.book = createPriceBook(tablesOf(this.basis.saved));
		}

		return this.basis?.book;
	}

	/**
	 * The history is now priced under `book` (a fresh poll priced its sample with it, and restated the
	 * earlier ones to it): its tables become the persisted basis, saved whole when they changed.
	 */
	pricedWith(book: PriceBook, tables: PriceTables): void {
		if (this.basis?.book === book) {
			return;
		}

		const saved = basisOf(tables);
		const text = JSON.stringify(saved);
		if (this.basis?.text === text) {
			this.basis.book = book;
			return;
		}

		this.basis = {saved, text, book};
		this.rewrite = true;
	}

	/**
	 * envwatch's own action is not a trend: restart the windows of what it changed. A start also
	 * restarts the global window, or the planned increase would look like a spike.
	 */
	restart(environments: string[], kind: 'stopped' | 'started'): void {
		for (const name of environments) {
			delete this.history[name];
		}

		if (kind === 'started') {
			// Every monitored set's total: another run (say, the dashboard) may watch this one too.
			for (const key of Object.keys(this.history)) {
				if (key.startsWith(GLOBAL)) {
					delete this.history[key];
				}
			}
		}
	}

	/** The global total's series: its key names the monitored set (rows split by account follow the accounts). */
	private get globalKey(): string {
		return globalKey(this.deps.monitored);
	}

	/**
	 * Every window restarts (the accounts watched changed: the totals now cover other accounts).
	 * Returns whether there was any history to restart.
	 */
	restartAll(): boolean {
		const had = Object.keys(this.history).length > 0;
		this.history = newHistory();
		this.rewrite = true;
		return had;
	}

	/**
	 * Samples dated after now (the clock stepped back, or a state file from a host whose clock ran
	 * fast) are dropped and noted, or they would freeze every window: a sample older than the last
	 * is never recorded. A step forward needs nothing: the old samples simply leave the window.
	 */
	dropFuture(at: number): void {
		const dropped = dropFuture(this.history, at);
		if (dropped.size > 0) {
			this.rewrite = true;
			const count = [...dropped.values()].reduce((sum, n) => sum + n, 0);
			const names = [...dropped.keys()].map(key => (key.startsWith(GLOBAL) ? 'global' : key));
			this.deps.recorder.log({type: 'decision', actor: 'auto', kind: 'clock', environments: [...new Set(names)].filter(name => name !== 'global'), reason: `dropped ${plural(count, 'sample')} dated after now (${new Date(at).toISOString()}) from ${[...new Set(names)].join(', ')}: the clock stepped back or the state came from a host with a fast clock`, instanceIds: []});
		}
	}

	/**
	 * Records a fresh poll's spend: each monitored environment, and their total. `stale`: rows whose
	 * figures are not known this poll (an account failed): neither they nor the total are recorded.
	 */
	record(at: number, spend: ReadonlyMap<string, Spend>, stale?: ReadonlyMap<string, string>): void {
		let total = 0;
		for (const name of this.deps.monitored) {
			// A stale row (an account that failed) is not recorded, nor noted in the chart's trail (its
			// bucket stays unknown, never $0); nor is the total then.
			if (stale?.has(name)) {
				continue;
			}

			const usd = spend.get(name)?.hourlyUsd ?? 0;
			total += usd;
			record(this.history, name, {at, usd});
			noteSpend(this.trail, name, at, usd);
		}

		if (!stale || stale.size === 0) {
			record(this.history, this.globalKey, {at, usd: total});
			noteSpend(this.trail, trailGlobal, at, total);
		}

		pruneTrail(this.trail, at);
	}

	/** The spend chart's ranges at `at`, for each guarded environment and their total (see spend-history.ts). */
	historyView(at: number): SpendHistoryView {
		const {monitored} = this.deps;
		const keys = [...monitored, trailGlobal];
		const ranges = Object.create(null) as SpendHistoryView['ranges'];
		for (const range of chartRanges) {
			const {spanMs, stepMs} = rangeSpans[range];
			const count = Math.round(spanMs / stepMs);
			const series = Object.create(null) as Record<string, Array<number | null>>;
			for (const key of keys) {
				const values = range === '1h' || range === '6h'
					? bucketValues((range === '1h' ? this.trail.fine : this.trail.coarse)[key], at, stepMs, count)
					: hourlyValues(this.rollup, key === trailGlobal ? monitored : [key], at, count);
				series[key] = values.map(value => chartFigure(value));
			}

			ranges[range] = {stepMs, series};
		}

		return {at, ranges};
	}

	/**
	 * Prices changed since the history was priced (in this process, or in the one that saved it):
	 * each window's samples move by what the change does to the same instances now, so an increase
	 * measures instances started, not a price that came in. Every series moves, those of
	 * environments this run does not monitor and the totals of other monitored sets too, so the
	 * whole history stays priced under one book.
	 */
	restate(before: ReadonlyMap<string, Spend>, after: ReadonlyMap<string, Spend>): void {
		const delta = (name: string) => (after.get(name)?.hourlyUsd ?? 0) - (before.get(name)?.hourlyUsd ?? 0);
		for (const key of Object.keys(this.history)) {
			// A total's key names its monitored set: `*global:dev,staging`.
			const moved = key.startsWith(GLOBAL) ? key.slice(GLOBAL.length + 1).split(',').filter(Boolean).reduce((sum, name) => sum + delta(name), 0) : delta(key);
			if (Math.abs(moved) > 1e-12) {
				// Samples already on disk change: the next save writes the history whole, not only what is new.
				this.rewrite = true;
				shift(this.history, key, moved);
			}
		}
	}

	/**
	 * The hourly rollup: the last fresh poll's $/h (`previous`) over the time since it (a gap longer
	 * than three intervals or 5 minutes was not watched, and is not made up), kept 35 days. The file
	 * grows to about 60 KB over those days, so it is saved once a minute, when an hour begins, and
	 * when the engine stops (`flushRollup`), not every poll: a crash loses at most a minute of the
	 * current hour's dollars, which the check against the bill (25%) cannot notice.
	 */
	accrue(at: number, previous: ReadonlyMap<string, Spend>, intervalMs: number): void {
		const from = this.lastAccrualAt;
		this.lastAccrualAt = at;
		if (from !== undefined && at - from <= Math.max(3 * intervalMs, 300_000)) {
			for (const name of this.deps.monitored) {
				const spend = previous.get(name);
				if (spend) {
					accrue(this.rollup, name, from, at, spend.hourlyUsd);
				}
			}
		}

		pruneRollup(this.rollup, at);
		this.rollupDirty = true;
		const saved = this.rollupSavedAt;
		// A clock stepped back saves too: what was saved may be ahead of what is kept now.
		if (saved === undefined || Math.floor(at / hourMs) !== Math.floor(saved / hourMs) || at - saved >= rollupSaveMs || at < saved) {
			this.saveRollup(at);
		}
	}

	/** Saves the rollup if it changed since it was last saved (the engine stopping). */
	flushRollup(): void {
		if (this.rollupDirty) {
			this.saveRollup(this.rollupSavedAt ?? 0);
		}
	}

	private saveRollup(at: number): void {
		this.deps.state.saveRollup(this.rollup);
		this.rollupSavedAt = at;
		this.rollupDirty = false;
	}

	/**
	 * The policy's verdict at `at` over these windows. `stale`: why the data is not fresh; `paused`:
	 * the environments whose automatic actions a person paused; `learning`: those whose figures are
	 * still being learnt (why).
	 */
	evaluate(at: number, spend: ReadonlyMap<string, Spend>, breakers: Breakers, stale: string | undefined, paused?: ReadonlySet<string>, learning?: ReadonlyMap<string, string>, staleRows?: ReadonlyMap<string, string>): Evaluated {
		const {config, monitored} = this.deps;
		return evaluateAt({config, monitored, globalKey: this.globalKey, history: this.history, spend, breakers: breakers.all(), at, stale, ...(paused ? {paused} : {}), ...(learning ? {learning} : {}), ...(staleRows ? {staleRows} : {})});
	}

	/** Drops samples older than the longest window needs, and saves (a failed save never throws: recordError). */
	pruneAndSave(at: number, intervalMs: number): void {
		const {config, monitored} = this.deps;
		const longest = Math.max(config.global.windowMinutes, ...monitored.map(name => config.environments[name]!.windowMinutes));
		prune(this.history, at, longest * 60_000 + intervalMs * 2);
		this.deps.state.saveHistory(this.history, this.rewrite, this.basis?.saved);
		this.rewrite = false;
	}
}

/** A book's tables as samples.json keeps them (sorted, so equal prices read alike). */
function basisOf(tables: PriceTables): PriceBasis {
	const byKey = <T extends [string, ...unknown[]]>(entries: T[]) => entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
	return {
		table: tables.table === fallbackPrices ? shippedTableId() : tableId(tables.table),
		overrides: byKey(Object.entries(tables.overrides).map(([key, value]): [string, number | Array<[string, number]>] => [key, typeof value === 'number' ? value : byKey(Object.entries(value))])),
		onDemand: byKey([...tables.onDemand ?? []]),
		spot: byKey([...tables.spot ?? []]),
		storage: byKey([...tables.storage ?? []].map(([id, {usd, estimated}]): [string, number, boolean] => [id, usd, estimated])),
	};
}

/** The tables a saved basis stands for (with this version's shipped table: the caller checked it is the same). */
function tablesOf(basis: PriceBasis): PriceTables {
	// Keys are data (instance types, regions): null-prototype objects.
	const overrides = Object.create(null) as Record<string, number | Record<string, number>>;
	for (const [key, value] of basis.overrides) {
		overrides[key] = typeof value === 'number' ? value : Object.assign(Object.create(null) as Record<string, number>, Object.fromEntries(value));
	}

	return {
		overrides: overrides as PriceOverrides,
		table: fallbackPrices,
		onDemand: new Map(basis.onDemand),
		spot: new Map(basis.spot),
		storage: new Map(basis.storage.map(([id, usd, estimated]) => [id, {usd, estimated}])),
	};
}

let shipped: string | undefined;

/** The shipped price table's fingerprint: a history priced with another table is not restated with this one. */
function shippedTableId(): string {
	shipped ??= tableId(fallbackPrices);
	return shipped;
}

/** FNV-1a over the table's entries in order of type: a short name for its content. */
function tableId(table: Readonly<Record<string, number>>): string {
	let hash = 0x81_1c_9d_c5;
	for (const char of JSON.stringify(Object.entries(table).sort((a, b) => (a[0] < b[0] ? -1 : 1)))) {
		hash = Math.imul(hash ^ char.charCodeAt(0), 0x01_00_01_93) >>> 0;
	}

	return `fnv1a:${hash.toString(16).padStart(8, '0')}`;
}
