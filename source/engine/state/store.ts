import {newHistory, newRollup, type History, type Rollup} from '../../domain/index.js';
import {DirectoryMedium, type StateMedium} from './medium.js';
import {describeError, writeFailed, type RecordNotice} from './record.js';
import {lastMarks, replayLog, since, type Mark, type Series} from './replay.js';
import {checkAccountsFile, checkBilling} from './validate-billing.js';
import {checkActionInFlight, checkBreakers, checkLastStop, checkPrices, checkRollup, checkSamples, checkSweep, ShapeError, type ActionInFlight, type BillingCache, type Breaker, type Check, type LastStop, type PriceBasis, type PriceCache, type SweepRecord} from './validate.js';

const fileParts = {
	'samples.json': 'the sample history starts fresh (baselines warm up again)',
	'samples.log': 'the samples since its last compaction are lost (the rest of the history is kept)',
	'last-stop.json': 'the last stop is forgotten (nothing to undo)',
	'billing.json': 'the billed-cost cache starts fresh (fetched again, paid requests counted from 0)',
	'breaker.json': 'every breaker starts reset (environments envwatch had stopped are no longer held)',
	'action.json': 'an action that was under way is not reported as cut short',
	'rollup.json': 'the hourly rollup of live spend starts fresh (the check against the bill waits for a day of it)',
	'prices.json': 'the price cache starts fresh (prices are fetched again; the shipped table and estimates until then)',
	'sweep.json': 'the last sweep of the regions not watched is forgotten (this run sweeps them again)',
	'accounts.json': 'the accounts the history was recorded over are forgotten (the windows restart at the next poll)',
} as const;

type StateFile = keyof typeof fileParts;

/**
 * What survives a restart (or a `--once` run from cron): the sample history, the last stop (for
 * undo) and the billing cache. The documents live in a `StateMedium`: the state dir's files, or
 * the coordination table's items (`coordination.dynamodb`); this store reads and checks them the
 * same either way.
 *
 * Every file is checked on read: one that is not what envwatch writes (malformed JSON, or valid
 * JSON of another shape) is moved aside to `<name>.damaged-<time>` and that part starts fresh.
 * Every write goes to a temporary file renamed into place, so a crash never leaves a half-written
 * file; a write that fails (disk full) removes its temporary file, never throws, and is kept in
 * `error` until that file is written again. Both are announced once through `takeNotices()`.
 */
export class StateStore {
	private readonly failures = new Map<string, string>();
	/** What could not be written, by file (null: the file was to be removed), for `retry()`. */
	private readonly unwritten = new Map<StateFile, unknown>();
	private notices: RecordNotice[] = [];
	/** The last sample time of each series in samples.json + samples.log; undefined: compact next. */
	private logged: Map<string, Mark> | undefined;
	/** The id of the samples.json the log continues (its first line names it). */
	private snapshotId = '';
	private logBytes = 0;
	private snapshotBytes = 0;
	/** The price basis in samples.json as read (loadHistory) or last written. */
	private basis: PriceBasis | undefined;

	readonly medium: StateMedium;

	constructor(
		/** The state dir, or another medium (the coordination table). */
		medium: string | StateMedium,
		private readonly clock: () => number = Date.now,
		/** Only look (doctor): a damaged file is reported but left where it is. */
		private readonly lookOnly = false,
	) {
		this.medium = typeof medium === 'string' ? new DirectoryMedium(medium) : medium;
	}

	/** Where the state is: the state dir, or the table. */
	get dir(): string {
		return this.medium.where;
	}

	/** Why state files could not be written, or null when the last write of each succeeded. */
	get error(): string | null {
		const errors = [...this.failures.values(), ...(this.medium.error ? [this.medium.error] : [])];
		return errors.length === 0 ? null : errors.join('; ');
	}

	/** Damaged files moved aside and failure streaks that started since the last call. */
	takeNotices(): RecordNotice[] {
		return [...this.notices.splice(0), ...(this.medium.takeNotices?.() ?? [])];
	}

	/** Resolves once every write so far has reached the medium (a table's are written behind), or failed (`error` says why). */
	async flush(): Promise<void> {
		await this.medium.flush?.();
	}

	/** A state file's text, or undefined when there is none (or it cannot be read: announced). */
	private readText(name: StateFile): string | undefined {
		try {
			return this.medium.read(name);
		} catch (error) {
			if ((error as {damaged?: boolean}).damaged) {
				// There, but not text envwatch wrote (a table item that does not inflate): moved aside.
				this.damaged(name, describeError(error));
				return undefined;
			}

			// Unreadable (a directory, no permission): it cannot be moved aside either; say so.
			this.notices.push({message: `cannot read ${this.medium.describe(name)} (${describeError(error)}); ${fileParts[name]}`, damaged: true});
			return undefined;
		}
	}

	private read<T>(name: StateFile, check: Check<T>): T | undefined {
		const text = this.readText(name);
		if (text === undefined) {
			return undefined;
		}

		try {
			return check(JSON.parse(text));
		} catch (error) {
			this.damaged(name, error instanceof ShapeError ? error.message : `malformed JSON (${describeError(error)})`);
			return undefined;
		}
	}

	/** Moves a damaged state file aside and says so. */
	private damaged(name: StateFile, problem: string): void {
		const movedTo = `${name}.damaged-${new Date(this.clock()).toISOString().replaceAll(':', '')}`;
		let aside = this.lookOnly ? 'left as it is' : `moved it aside to ${this.medium.locate(movedTo)}`;
		try {
			if (!this.lookOnly) {
				this.medium.rename(name, movedTo);
			}
		} catch (error) {
			aside = `cannot move it aside (${describeError(error)})`;
		}

		this.notices.push({message: `${this.medium.describe(name)} is damaged (${problem}); ${aside}; ${fileParts[name]}`, damaged: true});
	}

	private write(name: StateFile, value: unknown): void {
		try {
			this.medium.write(name, JSON.stringify(value));
			this.failures.delete(name);
			this.unwritten.delete(name);
		} catch (error) {
			this.failed(name, error, value);
		}
	}

	/** Tries again to write what could not be written (the last stop, say, when the disk has room again). */
	retry(): void {
		this.medium.retry?.();
		for (const [name, value] of [...this.unwritten]) {
			if (name === 'samples.json') {
				this.write(name, value);
				// Written: the next save compacts again, which also starts a fresh log.
				this.logged = undefined;
			} else if (name === 'last-stop.json' && value === null) {
				this.saveLastStop(undefined);
			} else {
				this.write(name, value);
			}
		}
	}

	private failed(name: StateFile, error: unknown, value: unknown): void {
		this.unwritten.set(name, value);
		if (!this.failures.has(name)) {
			this.notices.push(writeFailed(this.medium.describe(name), error));
		}

		this.failures.set(name, `cannot write ${this.medium.locate(name)}: ${describeError(error)}`);
	}

	/**
	 * The sample history: samples.json (the last compaction, written whole and renamed into place)
	 * then samples.log (one line appended per poll since, each checked like samples.json). A last
	 * line cut short by a crash is ignored; a damaged log is moved aside and only its samples are lost.
	 */
	loadHistory(): History {
		// Keys are environment names from the file: `constructor` or `__proto__` must be plain keys.
		const snapshot = this.read('samples.json', checkSamples);
		this.basis = snapshot?.basis;
		let series: Series = new Map(snapshot?.entries ?? []);
		const log = this.readText('samples.log');
		this.logged = undefined;
		if (log !== undefined) {
			try {
				// Onto a copy: a log damaged half-way leaves samples.json's history as it was.
				const replayed: Series = new Map([...series].map(([key, pairs]) => [key, [...pairs]]));
				const {torn, stale} = replayLog(log, replayed, snapshot?.id);
				series = stale ? series : replayed;
				this.snapshotId = snapshot?.id ?? '';
				this.snapshotBytes = this.medium.size('samples.json') ?? 0;
				this.logBytes = Buffer.byteLength(log);
				// Never append after a torn line or to a log of an older samples.json (a crash
				// between a compaction's rename and its removal of the log): the next save compacts.
				this.logged = torn || stale ? undefined : lastMarks(series);
			} catch (error) {
				this.damaged('samples.log', error instanceof ShapeError ? error.message : describeError(error));
			}
		}

		const history = newHistory();
		for (const [key, pairs] of series) {
			history[key] = pairs.map(([at, usd]) => ({at, usd}));
		}

		return history;
	}

	/** The prices the history read by `loadHistory` is priced under; undefined when samples.json has none (or none yet). */
	loadedBasis(): PriceBasis | undefined {
		return this.basis;
	}

	/**
	 * After each poll: the samples recorded since the last save are appended to samples.log (a few
	 * hundred bytes); once the log outgrows the last compaction (at least 16 KiB), or after a load
	 * that found no clean log, or when samples already saved were changed (`whole`), or the prices
	 * they are priced under (`basis`) are not those last written, the whole history is compacted
	 * into samples.json instead, with its basis.
	 */
	saveHistory(history: History, whole = false, basis: PriceBasis | undefined = this.basis): void {
		if (basis !== this.basis) {
			whole = true;
			this.basis = basis;
		}

		const series: Series = new Map();
		for (const [key, samples] of Object.entries(history)) {
			series.set(key, samples.map(sample => [sample.at, Math.round(sample.usd * 1e6) / 1e6]));
		}

		const logged = this.logged;
		if (whole || !logged || this.unwritten.has('samples.json')) {
			this.compactHistory(series);
			return;
		}

		const from: Record<string, number | null> = Object.create(null) as Record<string, number | null>;
		const add: Record<string, Array<[number, number]>> = Object.create(null) as Record<string, Array<[number, number]>>;
		for (const [key, pairs] of series) {
			from[key] = pairs[0]?.[0] ?? null;
			const fresh = since(pairs, logged.get(key));
			if (fresh.length > 0) {
				add[key] = fresh;
			}
		}

		// Series gone since the last save (an environment's history reset after a stop).
		const drop = [...logged.keys()].filter(key => !series.has(key));
		// A fresh log starts with a line naming the samples.json it continues.
		const header = this.logBytes === 0 ? `${JSON.stringify({after: this.snapshotId})}\n` : '';
		const line = `${header}${JSON.stringify(drop.length > 0 ? {from, add, drop} : {from, add})}\n`;
		const bytes = Buffer.byteLength(line);
		if (this.logBytes + bytes > Math.max(this.snapshotBytes, 16 * 1024)) {
			this.compactHistory(series);
			return;
		}

		try {
			this.medium.append('samples.log', line);
			this.logBytes += bytes;
			this.logged = lastMarks(series);
		} catch {
			// Part of the line may be on disk: cut it off if possible; either way write it all anew.
			try {
				this.medium.truncate('samples.log', this.logBytes);
			} catch {
				// A torn last line is ignored on read, and the compaction below replaces the log.
			}

			this.compactHistory(series);
		}
	}

	/** The whole history into samples.json (temporary file renamed into place), then a fresh log. */
	private compactHistory(series: Series): void {
		const id = `${this.clock()}-${Math.random().toString(36).slice(2, 10)}`;
		const snapshot = {version: 1, series: Object.fromEntries(series), id, ...(this.basis ? {basis: this.basis} : {})};
		this.write('samples.json', snapshot);
		if (this.unwritten.has('samples.json')) {
			// Not written: the log (if any) still holds what it held; compact again next time.
			this.logged = undefined;
			return;
		}

		this.snapshotBytes = this.medium.size('samples.json') ?? 0;
		this.logBytes = 0;
		this.snapshotId = id;
		try {
			// A crash before this leaves the old log next to the new samples.json: its first line
			// names the old samples.json, so it is not replayed.
			this.medium.remove('samples.log');
			this.logged = lastMarks(series);
		} catch (error) {
			this.logged = undefined;
			this.failed('samples.json', error, snapshot);
		}
	}

	loadLastStop(): LastStop | undefined {
		return this.read('last-stop.json', checkLastStop);
	}

	saveLastStop(lastStop: LastStop | undefined): void {
		if (lastStop) {
			this.write('last-stop.json', lastStop);
			return;
		}

		try {
			this.medium.remove('last-stop.json');
			this.failures.delete('last-stop.json');
			this.unwritten.delete('last-stop.json');
		} catch (error) {
			this.failed('last-stop.json', error, null);
		}
	}

	/** The hourly rollup of live spend (keys are environment names: a null-prototype object). */
	loadRollup(): Rollup {
		const rollup = newRollup();
		for (const [key, hours] of this.read('rollup.json', checkRollup) ?? []) {
			rollup[key] = hours;
		}

		return rollup;
	}

	saveRollup(rollup: Rollup): void {
		const series = Object.create(null) as Record<string, Array<[number, number]>>;
		for (const [key, hours] of Object.entries(rollup)) {
			series[key] = hours.map(([hour, usd]) => [hour, Math.round(usd * 1e6) / 1e6]);
		}

		this.write('rollup.json', {version: 1, series});
	}

	loadPrices(): PriceCache | undefined {
		return this.read('prices.json', checkPrices);
	}

	savePrices(cache: PriceCache): void {
		this.write('prices.json', cache);
	}

	/** The last sweep of the regions not watched, by whichever process made it (engine/sweep.ts). */
	loadSweep(): SweepRecord | undefined {
		return this.read('sweep.json', checkSweep);
	}

	saveSweep(record: SweepRecord): void {
		this.write('sweep.json', record);
	}

	loadBilling(): BillingCache | undefined {
		return this.read('billing.json', checkBilling);
	}

	saveBilling(cache: BillingCache): void {
		this.write('billing.json', cache);
	}

	/** The accounts the sample history was recorded over (with `accounts`): name and ID (null: not known yet), by name. */
	loadAccounts(): Array<{name: string; id: string | null}> | undefined {
		return this.read('accounts.json', checkAccountsFile);
	}

	saveAccounts(accounts: ReadonlyArray<{name: string; id: string | null}>): void {
		this.write('accounts.json', {version: 1, accounts});
	}

	/** Tripped breakers by environment name (a Map: names come from the user's config). */
	loadBreakers(): Map<string, Breaker> {
		return new Map(this.read('breaker.json', checkBreakers) ?? []);
	}

	saveBreakers(breakers: ReadonlyMap<string, Breaker>): void {
		this.write('breaker.json', {version: 1, environments: Object.fromEntries(breakers)});
	}

	/**
	 * The action under way, written before its first call and removed when it ends: one found at
	 * start-up was cut short (the process was killed mid-stop).
	 */
	loadActionInFlight(): ActionInFlight | undefined {
		return this.read('action.json', checkActionInFlight);
	}

	saveActionInFlight(action: ActionInFlight | undefined): void {
		if (action) {
			this.write('action.json', action);
			return;
		}

		try {
			this.medium.remove('action.json');
		} catch {
			// Left behind, it is reported as cut short on the next start: loud, and harmless.
		}

		this.failures.delete('action.json');
		this.unwritten.delete('action.json');
	}
}
