import type {EbsRates} from '../../domain/index.js';
import type {BilledCost, Target} from '../../providers/index.js';

// What each file of the state dir holds, and the check it passes on read (a file of another shape is moved aside).

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
export class ShapeError extends Error {}

export type Check<T> = (value: unknown) => T;

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

/**
 * sweep.json: the last sweep of the regions not watched (engine/sweep.ts), so that processes on one
 * state dir (cron's `--once` runs) sweep at most every 10 minutes between them. `at`: when it
 * finished; `basis`: what it looked for (watched regions, tag key, monitored environments and their
 * tag values), reused only for the same; `found`: by environment and region; `error`: what it could not see.
 */
export type SweepRecord = {
	version: 1;
	at: number;
	basis: string;
	regions: string[];
	found: Array<{environment: string; region: string; agents: number; instances: number}>;
	error: string | null;
};

export function checkSweep(value: unknown): SweepRecord {
	const top = object(value, '', ['version', 'at', 'basis', 'regions', 'found', 'error']);
	if (top['version'] !== 1) {
		throw shape('version', top['version'], '1');
	}

	const count = (item: Record<string, unknown>, key: string, where: string) => {
		const n = finite(item[key], `${where}.${key}`, 'a count');
		if (!Number.isInteger(n) || n < 0) {
			throw shape(`${where}.${key}`, n, 'a count');
		}

		return n;
	};

	return {
		version: 1,
		at: finite(top['at'], 'at', 'a time in ms'),
		basis: string(top['basis'], 'basis'),
		regions: array(top['regions'], 'regions', 'an array of region names').map((region, index) => string(region, `regions[${index}]`)),
		found: array(top['found'], 'found', 'an array of findings').map((entry, index) => {
			const where = `found[${index}]`;
			const item = object(entry, where, ['environment', 'region', 'agents', 'instances']);
			const found = {environment: string(item['environment'], `${where}.environment`), region: string(item['region'], `${where}.region`), agents: count(item, 'agents', where), instances: count(item, 'instances', where)};
			if (found.agents > found.instances) {
				throw shape(`${where}.agents`, found.agents, `at most its ${found.instances} instances`);
			}

			return found;
		}),
		error: top['error'] === null ? null : string(top['error'], 'error'),
	};
}

/** A tripped breaker: envwatch stopped this environment's agents and holds it stopped. */
export type Breaker = {trippedAt: number; actor: string; reason: string};

export type ActionInFlight = {kind: string; environments: string[]; at: number; actor: string; planned: number; done: number};

/** breaker.json: `{version: 1, environments: {name: {trippedAt, actor, reason}}}`, as entries (keys are data). */
export function checkBreakers(value: unknown): Array<[string, Breaker]> {
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

export function checkActionInFlight(value: unknown): ActionInFlight {
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

export function describe(value: unknown): string {
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

export function shape(where: string, value: unknown, expected: string): ShapeError {
	return new ShapeError(`${where || 'the content'}: ${describe(value)} — expected ${expected}`);
}

export function object(value: unknown, where: string, keys: readonly string[]): Record<string, unknown> {
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

export function at(where: string, key: string): string {
	return where === '' ? key : `${where}.${key}`;
}

export function finite(value: unknown, where: string, expected = 'a finite number'): number {
	if (typeof value !== 'number' || !Number.isFinite(value)) {
		throw shape(where, value, expected);
	}

	return value;
}

export function string(value: unknown, where: string): string {
	if (typeof value !== 'string') {
		throw shape(where, value, 'a string');
	}

	return value;
}

export function array(value: unknown, where: string, expected: string): unknown[] {
	if (!Array.isArray(value)) {
		throw shape(where, value, expected);
	}

	return value;
}

export function samplePairs(pairs: unknown, where: string): Array<[number, number]> {
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
export function checkSamples(value: unknown): {entries: Array<[string, Array<[number, number]>]>; id?: string; basis?: PriceBasis} {
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
export function checkBasis(value: unknown): PriceBasis {
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

export function checkLastStop(value: unknown): LastStop {
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

export function checkPrices(value: unknown): PriceCache {
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
export function checkEbsRates(value: unknown, where: string): EbsRates {
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
export function checkRollup(value: unknown): Array<[string, Array<[number, number]>]> {
	return checkSamples(value).entries.map(([key, pairs]) => {
		for (const [index, [, usd]] of pairs.entries()) {
			if (usd < 0) {
				throw shape(`series[${JSON.stringify(key)}][${index}][1]`, usd, 'dollars of at least 0');
			}
		}

		return [key, pairs];
	});
}
