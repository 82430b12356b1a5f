import type {Config} from '../config/schema.js';
import {dropFuture, GLOBAL, globalKey, prune, record, shift, type History} from '../domain/history.js';
import {accrue, hourMs, pruneRollup, type Rollup} from '../domain/rollup.js';
import type {Spend} from '../domain/types.js';
import type {Breakers} from './breakers.js';
import {evaluateAt, type Evaluated} from './projection.js';
import type {Recorder} from './recorder.js';
import type {StateStore} from './state.js';
import {plural} from '../domain/format.js';

/** The rollup is saved at least this often while polls change it (and when an hour begins). */
const rollupSaveMs = 60_000;

/**
 * The spend history behind the windows (persisted in the state dir): one sample per environment
 * and one for the monitored set's total per fresh poll, restarted where envwatch itself changed
 * the fleet.
 */
export class Samples {
	private readonly history: History;
	private readonly globalKey: string;
	/** Samples already saved were changed (restated for new prices, or dropped as future): save whole. */
	private rewrite = false;
	/** Dollars per UTC hour per environment, from the live $/h (checked against the bill). */
	readonly rollup: Rollup;
	private lastAccrualAt: number | undefined;
	/** When the rollup was last saved (poll time); undefined: not since start. */
	private rollupSavedAt: number | undefined;
	private rollupDirty = false;

	constructor(private readonly deps: {state: StateStore; recorder: Recorder; config: Config; monitored: string[]}) {
		this.globalKey = globalKey(deps.monitored);
		this.history = deps.state.loadHistory();
		this.rollup = deps.state.loadRollup();
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

	/** Records a fresh poll's spend: each monitored environment, and their total. */
	record(at: number, spend: ReadonlyMap<string, Spend>): void {
		let total = 0;
		for (const name of this.deps.monitored) {
			const usd = spend.get(name)?.hourlyUsd ?? 0;
			total += usd;
			record(this.history, name, {at, usd});
		}

		record(this.history, this.globalKey, {at, usd: total});
	}

	/**
	 * Prices changed since the last poll: each window's samples move by what the change does to the
	 * same instances now, so an increase measures instances started, not a price that came in.
	 */
	restate(before: ReadonlyMap<string, Spend>, after: ReadonlyMap<string, Spend>): void {
		// Samples already on disk change: the next save writes the history whole, not only what is new.
		this.rewrite = true;
		let total = 0;
		for (const name of this.deps.monitored) {
			const delta = (after.get(name)?.hourlyUsd ?? 0) - (before.get(name)?.hourlyUsd ?? 0);
			total += delta;
			shift(this.history, name, delta);
		}

		shift(this.history, this.globalKey, total);
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
	 * the environments whose automatic actions a person paused.
	 */
	evaluate(at: number, spend: ReadonlyMap<string, Spend>, breakers: Breakers, stale: string | undefined, paused?: ReadonlySet<string>): Evaluated {
		const {config, monitored} = this.deps;
		return evaluateAt({config, monitored, globalKey: this.globalKey, history: this.history, spend, breakers: breakers.all(), at, stale, ...(paused ? {paused} : {})});
	}

	/** Drops samples older than the longest window needs, and saves (a failed save never throws: recordError). */
	pruneAndSave(at: number, intervalMs: number): void {
		const {config, monitored} = this.deps;
		const longest = Math.max(config.global.windowMinutes, ...monitored.map(name => config.environments[name]!.windowMinutes));
		prune(this.history, at, longest * 60_000 + intervalMs * 2);
		this.deps.state.saveHistory(this.history, this.rewrite);
		this.rewrite = false;
	}
}
