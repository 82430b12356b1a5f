import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {newHistory, type History} from '../../domain/history.js';
import {newRollup, type Rollup} from '../../domain/rollup.js';
import type {EbsRates} from '../../domain/pricing.js';
import type {BilledCost, Target} from '../../providers/types.js';
import {describeError, inDirectory, writeFailed, type RecordNotice} from './record.js';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
	if (env['ENVWATCH_STATE_DIR']) {
		return env['ENVWATCH_STATE_DIR'];
	}

	if (process.platform === 'darwin') {
		return path.join(os.homedir(), 'Library', 'Application Support', 'envwatch', 'state');
	}

	if (process.platform === 'win32') {
		return path.join(env['LOCALAPPDATA'] ?? path.join(os.homedir(), 'AppData', 'Local'), 'envwatch', 'State');
	}

	return path.join(env['XDG_STATE_HOME'] || path.join(os.homedir(), '.local', 'state'), 'envwatch');
}

/**
 * `usdPerHour`: what the stopped agents' compute cost when they were stopped (the stop's "saves"),
 * so what an undo adds back; null when one had no price; absent from a file written before it was kept.
 */
export type LastStop = {at: number; actor: string; environments: string[]; targets: Target[]; dryRun: false; usdPerHour?: number | null};

/**
 * `cost` is null when no fetch has succeeded yet: no data, never $0. `spent`: the paid requests of
 * one UTC day (the daily cap's count; absent from a file written before it was kept).
 */
export type BillingCache = {cost: BilledCost | null; calls: number; costUsd: number; spent?: {day: string; requests: number}};

/** A state file's content does not have the shape envwatch writes: `problem` says where and what. */
class ShapeError extends Error {}

type Check<T> = (value: unknown) => T;

const fileParts = {
	'samples.json': 'the sample history starts fresh (baselines warm up again)',
	'samples.log': 'the samples since its last compaction are lost (the rest of the history is kept)',
	'last-stop.json': 'the last stop is forgotten (nothing to undo)',
	'billing.json': 'the billed-cost cache starts fresh (fetched again, paid requests counted from 0)',
	'breaker.json': 'every breaker starts reset (environments envwatch had stopped are no longer held)',
	'action.json': 'an action that was under way is not reported as cut short',
	'rollup.json': 'the hourly rollup of live spend starts fresh (the check against the bill waits for a day of it)',
	'prices.json': 'the price cache starts fresh (prices are fetched again; the shipped table and estimates until then)',
} as const;

type StateFile = keyof typeof fileParts;

/**
 * What survives a restart (or a `--once` run from cron): the sample history, the last stop (for
 * undo) and the billing cache.
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

	constructor(
		readonly dir: string,
		private readonly clock: () => number = Date.now,
		/** Only look (doctor): a damaged file is reported but left where it is. */
		private readonly lookOnly = false,
	) {}

	/** Why state files could not be written, or null when the last write of each succeeded. */
	get error(): string | null {
		return this.failures.size === 0 ? null : [...this.failures.values()].join('; ');
	}

	/** Damaged files moved aside and failure streaks that started since the last call. */
	takeNotices(): RecordNotice[] {
		return this.notices.splice(0);
	}

	private file(name: string): string {
		return path.join(this.dir, name);
	}

	/** A state file's text, or undefined when there is none (or it cannot be read: announced). */
	private readText(name: StateFile): string | undefined {
		const file = this.file(name);
		try {
			return fs.readFileSync(file, 'utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
				// Unreadable (a directory, no permission): it cannot be moved aside either; say so.
				this.notices.push({message: `cannot read the state file ${file} (${describeError(error)}); ${fileParts[name]}`, damaged: true});
			}

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
		const file = this.file(name);
		const movedTo = `${file}.damaged-${new Date(this.clock()).toISOString().replaceAll(':', '')}`;
		let aside = this.lookOnly ? 'left as it is' : `moved it aside to ${movedTo}`;
		try {
			if (!this.lookOnly) {
				fs.renameSync(file, movedTo);
			}
		} catch (error) {
			aside = `cannot move it aside (${describeError(error)})`;
		}

		this.notices.push({message: `the state file ${file} is damaged (${problem}); ${aside}; ${fileParts[name]}`, damaged: true});
	}

	private write(name: StateFile, value: unknown): void {
		const target = this.file(name);
		const temporary = `${target}.${process.pid}.tmp`;
		try {
			inDirectory(this.dir, () => fs.writeFileSync(temporary, JSON.stringify(value), {mode: 0o600}));
			fs.renameSync(temporary, target);
			this.failures.delete(name);
			this.unwritten.delete(name);
		} catch (error) {
			fs.rmSync(temporary, {force: true});
			this.failed(name, error, value);
		}
	}

	/** Tries again to write what could not be written (the last stop, say, when the disk has room again). */
	retry(): void {
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
		const file = this.file(name);
		if (!this.failures.has(name)) {
			this.notices.push(writeFailed(`the state file ${file}`, error));
		}

		this.failures.set(name, `cannot write ${file}: ${describeError(error)}`);
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
				this.snapshotBytes = fs.statSync(this.file('samples.json'), {throwIfNoEntry: false})?.size ?? 0;
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

		const file = this.file('samples.log');
		try {
			inDirectory(this.dir, () => fs.appendFileSync(file, line, {mode: 0o600}));
			this.logBytes += bytes;
			this.logged = lastMarks(series);
		} catch {
			// Part of the line may be on disk: cut it off if possible; either way write it all anew.
			try {
				fs.truncateSync(file, this.logBytes);
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

		this.snapshotBytes = fs.statSync(this.file('samples.json'), {throwIfNoEntry: false})?.size ?? 0;
		this.logBytes = 0;
		this.snapshotId = id;
		try {
			// A crash before this leaves the old log next to the new samples.json: its first line
			// names the old samples.json, so it is not replayed.
			fs.rmSync(this.file('samples.log'), {force: true});
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
			fs.rmSync(this.file('last-stop.json'), {force: true});
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

	loadBilling(): BillingCache | undefined {
		return this.read('billing.json', checkBilling);
	}

	saveBilling(cache: BillingCache): void {
		this.write('billing.json', cache);
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
			fs.rmSync(this.file('action.json'), {force: true});
		} catch {
			// Left behind, it is reported as cut short on the next start: loud, and harmless.
		}

		this.failures.delete('action.json');
		this.unwritten.delete('action.json');
	}
}

/**
 * prices.json: what the Price List and the spot price history answered, with when, as entries
 * (keys are data). `usd` null: the Price List has no such product (so it is not asked again soon).
 */
export type PriceCache = {
	version: 1;
	onDemand: Array<[key: string, usd: number | null, fetchedAt: number]>;
	spot: Array<[key: string, usd: number, fetchedAt: number]>;
	/** EBS $/h per instance (its volumes summed), so a restart counts them from its first poll. */
	storage: Array<[region: string, instanceId: string, usd: number, estimated: boolean]>;
	/** EBS rates by region from the Price List; absent in a prices.json written before they were fetched. */
	ebs?: Array<[region: string, rates: EbsRates | null, fetchedAt: number]>;
};

/**
 * The prices the sample history is priced under (samples.json's `basis`): the tables of the price
 * book its samples were last restated to, so a later process can restate them to its own book (a
 * price or volume learnt since is never read as a spike). `table` names the shipped price table
 * (its fingerprint: another envwatch's table cannot be rebuilt); the rest are the book's tables as
 * entries (keys are data).
 */
export type PriceBasis = {
	table: string;
	overrides: Array<[key: string, usd: number | Array<[type: string, usd: number]>]>;
	onDemand: Array<[key: string, usd: number | null]>;
	spot: Array<[key: string, usd: number]>;
	storage: Array<[instanceId: string, usd: number, estimated: boolean]>;
};

/** A tripped breaker: envwatch stopped this environment's agents and holds it stopped. */
export type Breaker = {trippedAt: number; actor: string; reason: string};

export type ActionInFlight = {kind: string; environments: string[]; at: number; actor: string; planned: number; done: number};

/** breaker.json: `{version: 1, environments: {name: {trippedAt, actor, reason}}}`, as entries (keys are data). */
function checkBreakers(value: unknown): Array<[string, Breaker]> {
	const top = object(value, '', ['version', 'environments']);
	if (top['version'] !== 1) {
		throw shape('version', top['version'], '1');
	}

	const environments = top['environments'];
	if (typeof environments !== 'object' || environments === null || Array.isArray(environments)) {
		throw shape('environments', environments, 'an object of breakers by environment');
	}

	return Object.entries(environments).map(([name, breaker]) => {
		const where = `environments[${JSON.stringify(name)}]`;
		const item = object(breaker, where, ['trippedAt', 'actor', 'reason']);
		return [name, {trippedAt: finite(item['trippedAt'], `${where}.trippedAt`, 'a time in ms'), actor: string(item['actor'], `${where}.actor`), reason: string(item['reason'], `${where}.reason`)}];
	});
}

function checkActionInFlight(value: unknown): ActionInFlight {
	const top = object(value, '', ['kind', 'environments', 'at', 'actor', 'planned', 'done']);
	const count = (key: string) => {
		const n = finite(top[key], key, 'a count of agents');
		if (!Number.isInteger(n) || n < 0) {
			throw shape(key, n, 'a count of agents');
		}

		return n;
	};

	return {
		kind: string(top['kind'], 'kind'),
		environments: array(top['environments'], 'environments', 'an array of environment names').map((name, index) => string(name, `environments[${index}]`)),
		at: finite(top['at'], 'at', 'a time in ms'),
		actor: string(top['actor'], 'actor'),
		planned: count('planned'),
		done: count('done'),
	};
}

function describe(value: unknown): string {
	if (value === null) {
		return 'null';
	}

	if (Array.isArray(value)) {
		return 'an array';
	}

	if (typeof value === 'object') {
		return 'an object';
	}

	const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
	return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`;
}

function shape(where: string, value: unknown, expected: string): ShapeError {
	return new ShapeError(`${where || 'the content'}: ${describe(value)} — expected ${expected}`);
}

function object(value: unknown, where: string, keys: readonly string[]): Record<string, unknown> {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw shape(where, value, `an object with ${keys.join(', ')}`);
	}

	const record = value as Record<string, unknown>;
	const other = Object.keys(record).filter(key => !keys.includes(key));
	if (other.length > 0) {
		throw new ShapeError(`${where || 'the content'}: unexpected field ${JSON.stringify(other[0])} — expected only ${keys.join(', ')}`);
	}

	for (const key of keys) {
		if (!Object.hasOwn(record, key)) {
			throw new ShapeError(`${at(where, key)}: missing — expected ${keys.join(', ')} in ${where || 'the content'}`);
		}
	}

	return record;
}

function at(where: string, key: string): string {
	return where === '' ? key : `${where}.${key}`;
}

function finite(value: unknown, where: string, expected = 'a finite number'): number {
	if (typeof value !== 'number' || !Number.isFinite(value)) {
		throw shape(where, value, expected);
	}

	return value;
}

function string(value: unknown, where: string): string {
	if (typeof value !== 'string') {
		throw shape(where, value, 'a string');
	}

	return value;
}

function array(value: unknown, where: string, expected: string): unknown[] {
	if (!Array.isArray(value)) {
		throw shape(where, value, expected);
	}

	return value;
}

type Series = Map<string, Array<[number, number]>>;

/** Where a series stood when last written: its last sample time and how many samples had it. */
type Mark = {at: number; same: number};

function lastMarks(series: Series): Map<string, Mark> {
	return new Map([...series].map(([key, pairs]) => {
		const at = pairs.at(-1)?.[0] ?? Number.NEGATIVE_INFINITY;
		let same = 0;
		for (let index = pairs.length - 1; index >= 0 && pairs[index]![0] === at; index--) {
			same++;
		}

		return [key, {at, same}];
	}));
}

/** The samples recorded after `mark` (two polls may share a time: counted, not compared). */
function since(pairs: Array<[number, number]>, mark: Mark | undefined): Array<[number, number]> {
	if (!mark) {
		return pairs;
	}

	let index = pairs.length;
	while (index > 0 && pairs[index - 1]![0] > mark.at) {
		index--;
	}

	let same = 0;
	while (index - same > 0 && pairs[index - same - 1]![0] === mark.at) {
		same++;
	}

	return pairs.slice(index - Math.max(0, same - mark.same));
}

/**
 * Applies samples.log's lines to the series of samples.json. The first line, `{after}`, names the
 * samples.json the log continues: another one's log is `stale` and not replayed. Each further line
 * is `{from, add, drop?}`: `from` the first sample time kept per series (null: none kept), `add`
 * the new samples per series, `drop` the series removed. The last line without its newline was
 * cut short by a crash: ignored (`torn`). Any other bad line throws.
 */
function replayLog(text: string, series: Series, snapshotId: string | undefined): {torn: boolean; stale: boolean} {
	const lines = text.split('\n');
	const tail = lines.pop();
	const torn = tail !== undefined && tail !== '';
	const first = lines.shift();
	if (first === undefined) {
		// Not even its first line complete: nothing to replay.
		return {torn, stale: false};
	}

	let header: unknown;
	try {
		header = JSON.parse(first);
	} catch (error) {
		throw new ShapeError(`line 1: malformed JSON (${describeError(error)})`);
	}

	const after = string(object(header, 'line 1', ['after'])['after'], 'line 1.after');
	if (after !== (snapshotId ?? '')) {
		return {torn, stale: true};
	}

	// Each series as its samples and the index of the first one kept: dropping from the front is
	// a step of the index, not a copy (a poll drops one sample of an hour's worth).
	const kept = new Map([...series].map(([key, pairs]) => [key, {pairs, start: 0}]));
	lines.forEach((line, index) => {
		const where = `line ${index + 2}`;
		let value: unknown;
		try {
			value = JSON.parse(line);
		} catch (error) {
			throw new ShapeError(`${where}: malformed JSON (${describeError(error)})`);
		}

		const top = object(value, where, typeof value === 'object' && value !== null && Object.hasOwn(value, 'drop') ? ['from', 'add', 'drop'] : ['from', 'add']);
		const from = top['from'];
		const add = top['add'];
		const drop = top['drop'] === undefined ? [] : array(top['drop'], `${where}.drop`, 'an array of series names').map((key, index) => string(key, `${where}.drop[${index}]`));
		for (const key of drop) {
			kept.delete(key);
		}

		if (typeof from !== 'object' || from === null || Array.isArray(from)) {
			throw shape(`${where}.from`, from, 'an object of first sample times by series');
		}

		if (typeof add !== 'object' || add === null || Array.isArray(add)) {
			throw shape(`${where}.add`, add, 'an object of sample series');
		}

		for (const [key, first] of Object.entries(from)) {
			if (first !== null) {
				finite(first, `${where}.from[${JSON.stringify(key)}]`, 'a time in ms or null');
			}

			const entry = kept.get(key) ?? {pairs: [], start: 0};
			if (first === null) {
				entry.pairs = [];
				entry.start = 0;
			} else {
				while (entry.start < entry.pairs.length && entry.pairs[entry.start]![0] < (first as number)) {
					entry.start++;
				}
			}

			kept.set(key, entry);
		}

		for (const [key, pairs] of Object.entries(add)) {
			const checked = samplePairs(pairs, `${where}.add[${JSON.stringify(key)}]`);
			const entry = kept.get(key) ?? {pairs: [], start: 0};
			for (const pair of checked) {
				// In time order (two polls may share a time); anything older is not this series'.
				if (entry.pairs.length === entry.start || pair[0] >= entry.pairs.at(-1)![0]) {
					entry.pairs.push(pair);
				}
			}

			kept.set(key, entry);
		}
	});
	series.clear();
	for (const [key, {pairs, start}] of kept) {
		series.set(key, start === 0 ? pairs : pairs.slice(start));
	}

	return {torn, stale: false};
}

function samplePairs(pairs: unknown, where: string): Array<[number, number]> {
	return array(pairs, where, 'an array of [time, usd] pairs').map((pair, index) => {
		const item = `${where}[${index}]`;
		if (!Array.isArray(pair) || pair.length !== 2) {
			throw shape(item, pair, 'a [time, usd] pair of numbers');
		}

		return [finite(pair[0], `${item}[0]`, 'a time in ms'), finite(pair[1], `${item}[1]`, 'a cost in $/h')] as [number, number];
	});
}

/**
 * samples.json: `{version: 1, series: {key: [[at, usd], ...]}, id?, basis?}`, as entries (never an
 * object: keys are data); `id` names it for the log that continues it, `basis` the prices its
 * samples are priced under (both absent in older files).
 */
function checkSamples(value: unknown): {entries: Array<[string, Array<[number, number]>]>; id?: string; basis?: PriceBasis} {
	const has = (key: string) => typeof value === 'object' && value !== null && Object.hasOwn(value, key);
	const top = object(value, '', ['version', 'series', ...(has('id') ? ['id'] : []), ...(has('basis') ? ['basis'] : [])]);
	if (top['version'] !== 1) {
		throw shape('version', top['version'], '1');
	}

	const series = top['series'];
	if (typeof series !== 'object' || series === null || Array.isArray(series)) {
		throw shape('series', series, 'an object of sample series');
	}

	const entries = Object.entries(series).map(([key, pairs]) => [key, samplePairs(pairs, `series[${JSON.stringify(key)}]`)] as [string, Array<[number, number]>]);
	return {
		entries,
		...(top['id'] === undefined ? {} : {id: string(top['id'], 'id')}),
		...(top['basis'] === undefined ? {} : {basis: checkBasis(top['basis'])}),
	};
}

/** samples.json's `basis`: every price a positive finite number (a volume's may be $0), every key a string. */
function checkBasis(value: unknown): PriceBasis {
	const top = object(value, 'basis', ['table', 'overrides', 'onDemand', 'spot', 'storage']);
	// A price is positive (a volume's may be $0): $0 is never a price envwatch stored.
	const price = (raw: unknown, where: string, zero = false) => {
		const expected = zero ? 'a price in $/h of at least 0' : 'a price in $/h greater than 0';
		const usd = finite(raw, where, expected);
		if (zero ? usd < 0 : usd <= 0) {
			throw shape(where, usd, expected);
		}

		return usd;
	};

	const tuples = <T>(key: string, length: number, read: (item: unknown[], where: string) => T): T[] => array(top[key], `basis.${key}`, `an array of ${length}-tuples`).map((item, index) => {
		const where = `basis.${key}[${index}]`;
		if (!Array.isArray(item) || item.length !== length) {
			throw shape(where, item, `a ${length}-tuple`);
		}

		return read(item, where);
	});
	return {
		table: string(top['table'], 'basis.table'),
		overrides: tuples('overrides', 2, ([key, usd], where) => [
			string(key, `${where}[0]`),
			Array.isArray(usd) ? usd.map((pair: unknown, index) => {
				if (!Array.isArray(pair) || pair.length !== 2) {
					throw shape(`${where}[1][${index}]`, pair, 'a [type, usd] pair');
				}

				return [string(pair[0], `${where}[1][${index}][0]`), price(pair[1], `${where}[1][${index}][1]`, true)] as [string, number];
			}) : price(usd, `${where}[1]`, true),
		]),
		onDemand: tuples('onDemand', 2, ([key, usd], where) => [string(key, `${where}[0]`), usd === null ? null : price(usd, `${where}[1]`)]),
		spot: tuples('spot', 2, ([key, usd], where) => [string(key, `${where}[0]`), price(usd, `${where}[1]`)]),
		storage: tuples('storage', 3, ([id, usd, estimated], where) => {
			if (typeof estimated !== 'boolean') {
				throw shape(`${where}[2]`, estimated, 'true or false');
			}

			return [string(id, `${where}[0]`), price(usd, `${where}[1]`, true), estimated];
		}),
	};
}

function checkLastStop(value: unknown): LastStop {
	// usdPerHour is optional: a last stop recorded before it was kept has none (unknown, never $0).
	const priced = typeof value === 'object' && value !== null && Object.hasOwn(value, 'usdPerHour');
	const top = object(value, '', ['at', 'actor', 'environments', 'targets', 'dryRun', ...(priced ? ['usdPerHour'] : [])]);
	if (top['dryRun'] !== false) {
		throw shape('dryRun', top['dryRun'], 'false');
	}

	const usdPerHour = top['usdPerHour'] === null || !priced ? null : finite(top['usdPerHour'], 'usdPerHour', 'a cost in $/h, 0 or more, or null');
	if (usdPerHour !== null && usdPerHour < 0) {
		throw shape('usdPerHour', usdPerHour, 'a cost in $/h, 0 or more, or null');
	}

	return {
		at: finite(top['at'], 'at', 'a time in ms'),
		actor: string(top['actor'], 'actor'),
		environments: array(top['environments'], 'environments', 'an array of environment names').map((name, index) => string(name, `environments[${index}]`)),
		targets: array(top['targets'], 'targets', 'an array of {id, region}').map((target, index) => {
			const item = object(target, `targets[${index}]`, ['id', 'region']);
			return {id: string(item['id'], `targets[${index}].id`), region: string(item['region'], `targets[${index}].region`)};
		}),
		dryRun: false,
		...(priced ? {usdPerHour} : {}),
	};
}

function checkBilling(value: unknown): BillingCache {
	const hasSpent = typeof value === 'object' && value !== null && Object.hasOwn(value, 'spent');
	const top = object(value, '', hasSpent ? ['cost', 'calls', 'costUsd', 'spent'] : ['cost', 'calls', 'costUsd']);
	const count = (raw: unknown, where: string) => {
		const n = finite(raw, where, 'a count of requests');
		if (!Number.isInteger(n) || n < 0) {
			throw shape(where, n, 'a count of requests');
		}

		return n;
	};

	const calls = count(top['calls'], 'calls');
	let spent: BillingCache['spent'];
	if (hasSpent) {
		const item = object(top['spent'], 'spent', ['day', 'requests']);
		const day = string(item['day'], 'spent.day');
		if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
			throw shape('spent.day', day, 'a day like 2026-11-27');
		}

		spent = {day, requests: count(item['requests'], 'spent.requests')};
	}

	return {cost: top['cost'] === null ? null : checkCost(top['cost']), calls, costUsd: finite(top['costUsd'], 'costUsd', 'a cost in $'), ...(spent ? {spent} : {})};
}

function checkCost(value: unknown): BilledCost {
	const hasYesterday = typeof value === 'object' && value !== null && Object.hasOwn(value, 'yesterday');
	const cost = object(value, 'cost', hasYesterday ? ['todayUsd', 'monthToDateUsd', 'fetchedAt', 'yesterday'] : ['todayUsd', 'monthToDateUsd', 'fetchedAt']);
	const table = (key: string, raw = cost[key], where = at('cost', key)): Record<string, number> => {
		if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
			throw shape(where, raw, 'an object of costs per tag value');
		}

		// Keys are tag values from the bill: a null-prototype object keeps `constructor` a plain key.
		const result = Object.create(null) as Record<string, number>;
		for (const [tag, usd] of Object.entries(raw)) {
			result[tag] = finite(usd, `${where}[${JSON.stringify(tag)}]`, 'a cost in $');
		}

		return result;
	};

	let yesterday: BilledCost['yesterday'];
	if (hasYesterday) {
		const item = object(cost['yesterday'], 'cost.yesterday', ['date', 'usd']);
		yesterday = {date: string(item['date'], 'cost.yesterday.date'), usd: table('usd', item['usd'], 'cost.yesterday.usd')};
	}

	return {todayUsd: table('todayUsd'), monthToDateUsd: table('monthToDateUsd'), fetchedAt: finite(cost['fetchedAt'], 'cost.fetchedAt', 'a time in ms'), ...(yesterday ? {yesterday} : {})};
}

function checkPrices(value: unknown): PriceCache {
	const hasEbs = typeof value === 'object' && value !== null && Object.hasOwn(value, 'ebs');
	const top = object(value, '', hasEbs ? ['version', 'onDemand', 'spot', 'storage', 'ebs'] : ['version', 'onDemand', 'spot', 'storage']);
	if (top['version'] !== 1) {
		throw shape('version', top['version'], '1');
	}

	const entries = <T>(key: string, usd: (value: unknown, where: string) => T) => array(top[key], key, 'an array of [key, usd, fetchedAt]').map((item, index) => {
		const where = `${key}[${index}]`;
		if (!Array.isArray(item) || item.length !== 3) {
			throw shape(where, item, 'a [key, usd, fetchedAt] triple');
		}

		return [string(item[0], `${where}[0]`), usd(item[1], `${where}[1]`), finite(item[2], `${where}[2]`, 'a time in ms')] as [string, T, number];
	});
	const price = (value: unknown, where: string) => {
		// A price is positive: $0 is never a price envwatch stored.
		const usd = finite(value, where, 'a price in $/h greater than 0');
		if (usd <= 0) {
			throw shape(where, usd, 'a price in $/h greater than 0');
		}

		return usd;
	};

	const storage = array(top['storage'], 'storage', 'an array of [region, instanceId, usd, estimated]').map((item, index) => {
		const where = `storage[${index}]`;
		if (!Array.isArray(item) || item.length !== 4 || typeof item[3] !== 'boolean') {
			throw shape(where, item, 'a [region, instanceId, usd, estimated] quadruple');
		}

		const usd = finite(item[2], `${where}[2]`, 'a cost in $/h of at least 0');
		if (usd < 0) {
			throw shape(`${where}[2]`, usd, 'a cost in $/h of at least 0');
		}

		return [string(item[0], `${where}[0]`), string(item[1], `${where}[1]`), usd, item[3]] as [string, string, number, boolean];
	});
	const ebs = hasEbs ? array(top['ebs'], 'ebs', 'an array of [region, rates, fetchedAt]').map((item, index) => {
		const where = `ebs[${index}]`;
		if (!Array.isArray(item) || item.length !== 3) {
			throw shape(where, item, 'a [region, rates or null, fetchedAt] triple');
		}

		return [string(item[0], `${where}[0]`), item[1] === null ? null : checkEbsRates(item[1], `${where}[1]`), finite(item[2], `${where}[2]`, 'a time in ms')] as [string, EbsRates | null, number];
	}) : undefined;
	return {version: 1, onDemand: entries('onDemand', (value, where) => (value === null ? null : price(value, where))), spot: entries('spot', price), storage, ...(ebs ? {ebs} : {})};
}

/** One region's EBS rates in prices.json: every rate positive (a rate of $0 was never stored). */
function checkEbsRates(value: unknown, where: string): EbsRates {
	const rates = object(value, where, ['gbMonth', 'gp3IopsMonth', 'gp3ThroughputMonth', 'io1IopsMonth', 'io2IopsMonth']);
	const rate = (raw: unknown, place: string): number => {
		const usd = finite(raw, place, 'a rate in $ per month greater than 0');
		if (usd <= 0) {
			throw shape(place, usd, 'a rate in $ per month greater than 0');
		}

		return usd;
	};

	const table = rates['gbMonth'];
	if (typeof table !== 'object' || table === null || Array.isArray(table)) {
		throw shape(at(where, 'gbMonth'), table, 'an object of $ per GB-month by volume type');
	}

	const gbMonth = Object.create(null) as Record<string, number>;
	for (const [type, usd] of Object.entries(table)) {
		gbMonth[type] = rate(usd, `${at(where, 'gbMonth')}[${JSON.stringify(type)}]`);
	}

	if (Object.keys(gbMonth).length === 0) {
		throw shape(at(where, 'gbMonth'), table, 'at least one volume type\'s rate');
	}

	const tiers = rates['io2IopsMonth'];
	if (!Array.isArray(tiers) || tiers.length !== 3) {
		throw shape(at(where, 'io2IopsMonth'), tiers, 'three rates (io2 IOPS tiers)');
	}

	return {
		gbMonth,
		gp3IopsMonth: rate(rates['gp3IopsMonth'], at(where, 'gp3IopsMonth')),
		gp3ThroughputMonth: rate(rates['gp3ThroughputMonth'], at(where, 'gp3ThroughputMonth')),
		io1IopsMonth: rate(rates['io1IopsMonth'], at(where, 'io1IopsMonth')),
		io2IopsMonth: [rate(tiers[0], `${at(where, 'io2IopsMonth')}[0]`), rate(tiers[1], `${at(where, 'io2IopsMonth')}[1]`), rate(tiers[2], `${at(where, 'io2IopsMonth')}[2]`)],
	};
}

/** rollup.json: `{version: 1, series: {name: [[hour start, dollars], ...]}}`, as entries (keys are data). */
function checkRollup(value: unknown): Array<[string, Array<[number, number]>]> {
	return checkSamples(value).entries.map(([key, pairs]) => {
		for (const [index, [, usd]] of pairs.entries()) {
			if (usd < 0) {
				throw shape(`series[${JSON.stringify(key)}][${index}][1]`, usd, 'dollars of at least 0');
			}
		}

		return [key, pairs];
	});
}
