import type {RawInstance} from './types.js';

/**
 * Pricing rules: which price an instance is charged at, from the tables the caller has. Pure: the
 * tables (configuration overrides, the Price List cache, spot prices, the shipped table) come in as
 * arguments; fetching and caching them is the engine's and the providers' business.
 *
 * Order: a configured override for the region, then one for every region; a spot instance at its
 * spot price; the Price List's on-demand price for (region, type, OS, tenancy); the shipped table
 * (Linux, shared tenancy); else a conservative estimate, marked as such: never $0, never left out.
 * A price is believed only within what EC2 can charge (`onDemandRange`, and for spot at most its
 * on-demand price and at least a tenth of it).
 */

export type PriceSource = 'override' | 'spot' | 'price-list' | 'table' | 'estimate';

export type Priced = {usd: number; source: PriceSource};

/** `prices` in the configuration: `{type: usd}` for every region, `{region: {type: usd}}` for one. */
export type PriceOverrides = Readonly<Record<string, number | Readonly<Record<string, number>>>>;

export type PriceTables = {
	overrides: PriceOverrides;
	/** The shipped table: us-east-1, Linux, shared tenancy. */
	table: Readonly<Record<string, number>>;
	/** Price List on-demand prices by `onDemandKey` (null: the Price List has no such product). */
	onDemand?: ReadonlyMap<string, number | null>;
	/** Latest spot prices by `spotKey`. */
	spot?: ReadonlyMap<string, number>;
	/** EBS $/h by instance ID (its volumes summed). */
	storage?: ReadonlyMap<string, {usd: number; estimated: boolean}>;
	/**
	 * Price List answers refused as impossible, by `onDemandKey`, with why: their instances are
	 * counted at what the book would use without the answer, marked estimated.
	 */
	rejected?: ReadonlyMap<string, string>;
};

/** The operating system an instance is billed for, as the Price List names it. */
export type OperatingSystem = {operatingSystem: string; preInstalledSw: string; spotProduct: string};

const platforms: Record<string, OperatingSystem> = {
	'Linux/UNIX': {operatingSystem: 'Linux', preInstalledSw: 'NA', spotProduct: 'Linux/UNIX'},
	Windows: {operatingSystem: 'Windows', preInstalledSw: 'NA', spotProduct: 'Windows'},
	'Red Hat Enterprise Linux': {operatingSystem: 'RHEL', preInstalledSw: 'NA', spotProduct: 'Red Hat Enterprise Linux'},
	'SUSE Linux': {operatingSystem: 'SUSE', preInstalledSw: 'NA', spotProduct: 'SUSE Linux'},
	'Ubuntu Pro': {operatingSystem: 'Ubuntu Pro', preInstalledSw: 'NA', spotProduct: 'Ubuntu Pro Linux'},
	'Windows with SQL Server Standard': {operatingSystem: 'Windows', preInstalledSw: 'SQL Std', spotProduct: 'Windows'},
	'Windows with SQL Server Enterprise': {operatingSystem: 'Windows', preInstalledSw: 'SQL Ent', spotProduct: 'Windows'},
	'Windows with SQL Server Web': {operatingSystem: 'Windows', preInstalledSw: 'SQL Web', spotProduct: 'Windows'},
};

/**
 * The OS of EC2's PlatformDetails; undefined for one envwatch does not know (an estimate then).
 * No PlatformDetails at all is Linux/UNIX, EC2's default (its answers omit it for Linux at times).
 */
export function operatingSystemOf(platformDetails: string | undefined): OperatingSystem | undefined {
	return Object.hasOwn(platforms, platformDetails ?? 'Linux/UNIX') ? platforms[platformDetails ?? 'Linux/UNIX'] : undefined;
}

/** The Price List's tenancy word for EC2's: `default` -> Shared. */
export function tenancyOf(tenancy: string | undefined): 'Shared' | 'Dedicated' | 'Host' | undefined {
	switch (tenancy ?? 'default') {
		case 'default': {
			return 'Shared';
		}

		case 'dedicated': {
			return 'Dedicated';
		}

		case 'host': {
			return 'Host';
		}

		default: {
			return undefined;
		}
	}
}

/** What the Price List is asked for one instance (undefined: nothing it could answer). */
export type OnDemandQuery = {region: string; type: string; operatingSystem: string; preInstalledSw: string; tenancy: string};

export function onDemandQueryOf(instance: Pick<RawInstance, 'region' | 'type' | 'platformDetails' | 'tenancy'>): OnDemandQuery | undefined {
	const os = operatingSystemOf(instance.platformDetails);
	const tenancy = tenancyOf(instance.tenancy);
	if (!os || !tenancy) {
		return undefined;
	}

	return {region: instance.region, type: instance.type, operatingSystem: os.operatingSystem, preInstalledSw: os.preInstalledSw, tenancy};
}

export function onDemandKey(query: OnDemandQuery): string {
	return `${query.region}|${query.type}|${query.operatingSystem}|${query.preInstalledSw}|${query.tenancy}`;
}

export function spotKey(region: string, availabilityZone: string, type: string, product: string): string {
	return `${region}|${availabilityZone}|${type}|${product}`;
}

/** `m5.xlarge` -> `xlarge`: instances of one size cost alike within a few times, not orders. */
export function sizeOf(type: string): string {
	const dot = type.indexOf('.');
	return dot === -1 ? '' : type.slice(dot + 1);
}

// What EC2 can charge.

/**
 * What EC2 can charge, for the bounds an answer must fall within to be believed and for the
 * estimate of a type no source prices (which must err high). EC2 sizes scale by vCPUs: an `xlarge`
 * is 4 vCPUs (a `large` half of one, a `12xlarge` twelve), and within a family the price scales
 * with them. These are us-east-1 Linux on-demand list prices, per xlarge, of the dearest type of
 * each series (the letters a family starts with), rounded up:
 * - `p` (GPU training): p6-b200.48xlarge about $113.93/h, $2.37 an xlarge (p5.48xlarge $98.32 at
 *   launch: $2.05; p4de.24xlarge $40.97: $1.71; p4d.24xlarge $32.77: $1.37);
 * - `u` (high memory): u-24tb1.112xlarge $218.40/h, $1.95 (u7in-32tb.224xlarge about $407.68: $1.82);
 * - `g`, `gr` (graphics, inference): g6e.xlarge $1.861/h; `mac` (whole Mac hosts): mac2-m2pro.metal $1.56;
 * - `f`, `trn`, `inf`, `dl`, `x`, `vt`: at most about $1 an xlarge (f1.2xlarge $1.65: $0.83;
 *   x2iedn.xlarge and x1e.xlarge $0.834; inf2.xlarge $0.758; trn1.2xlarge $1.34: $0.67);
 * - every other series (general purpose, compute, memory, storage, HPC): at most $0.70 an xlarge
 *   (d3en.xlarge $0.526, i7ie.xlarge about $0.56, i3en.large $0.226: $0.45).
 * A series not listed (a new one) is bounded by the dearest of all.
 */
export const seriesUsdPerXlarge: Readonly<Record<string, number>> = Object.freeze(Object.assign(Object.create(null) as Record<string, number>, {
	p: 2.5, u: 2, g: 2, gr: 2, mac: 2, f: 1, trn: 1, inf: 1, dl: 1, x: 1, vt: 1,
	a: 0.7, c: 0.7, d: 0.7, h: 0.7, hpc: 0.7, i: 0.7, im: 0.7, is: 0.7, m: 0.7, r: 0.7, t: 0.7, z: 0.7,
}));

/** The bound of a series not in `seriesUsdPerXlarge`: the dearest of all. */
export const anySeriesUsdPerXlarge = 2.5;

/**
 * Series whose price is not linear in vCPUs (accelerated and Mac): a size of a family the table
 * knows is bounded by its series, not scaled from the sizes the table has (g5.xlarge costs $1.006,
 * g5.2xlarge $0.606 an xlarge).
 */
export const acceleratedSeries: ReadonlySet<string> = new Set(['p', 'g', 'gr', 'f', 'trn', 'inf', 'dl', 'vt', 'mac']);

/**
 * The cheapest on-demand $/h per xlarge of any type, anywhere, halved: hpc6a.48xlarge is $2.88/h
 * ($0.06 an xlarge), a1.xlarge $0.102, t4g.nano $0.0042 ($0.134 an xlarge). A price below this for
 * its size is not EC2's.
 */
export const cheapestUsdPerXlarge = 0.03;

/**
 * How much dearer than us-east-1 any region is, at most: sa-east-1, the dearest, charges about 1.6
 * times as much (m5.large $0.153 against $0.096, t3.micro $0.0168 against $0.0104); no region
 * charges less than half of us-east-1's price.
 */
export const regionMarkup = {max: 1.7, min: 0.5} as const;

/**
 * The shipped table can be out of date: AWS cuts prices often (the low end already allows half) and
 * has seldom raised one; a price up to a quarter above the table's rate is believed.
 */
export const tableSlack = 1.25;

/**
 * What an operating system or pre-installed software adds to a Linux price, at most, per xlarge
 * and per instance ($/h): Windows $0.046 a vCPU-hour ($0.184 an xlarge); SQL Server Web, Standard
 * and Enterprise on top of Windows (Enterprise about $0.375 a vCPU-hour, $1.50 an xlarge); RHEL and
 * SUSE a flat fee of $0.06 to $0.13 an hour plus a per-vCPU part; Ubuntu Pro a small per-vCPU fee.
 * An OS envwatch does not know is bounded by the dearest (Windows with SQL Server Enterprise).
 */
export const licenseUsd: Readonly<Record<string, {perXlarge: number; flat: number}>> = Object.freeze(Object.assign(Object.create(null) as Record<string, {perXlarge: number; flat: number}>, {
	'Linux|NA': {perXlarge: 0, flat: 0},
	'Windows|NA': {perXlarge: 0.2, flat: 0},
	'Windows|SQL Web': {perXlarge: 0.4, flat: 0},
	'Windows|SQL Std': {perXlarge: 1, flat: 0},
	'Windows|SQL Ent': {perXlarge: 1.8, flat: 0},
	'RHEL|NA': {perXlarge: 0.1, flat: 0.15},
	'SUSE|NA': {perXlarge: 0.1, flat: 0.15},
	'Ubuntu Pro|NA': {perXlarge: 0.05, flat: 0},
}));
export const unknownLicenseUsd = {perXlarge: 1.8, flat: 0.15} as const;

/** Dedicated instances and hosts cost about a tenth more than shared ones: bounded by a quarter more. */
export const dedicatedMarkup = 1.25;

/**
 * What an EBS volume can be (any type): 64 TiB (io2 Block Express; gp3 since 2025), 256,000 IOPS
 * and 4,000 MiB/s (io2 Block Express). A volume is at least 1 GiB.
 */
export const ebsLimits = Object.freeze({minSizeGiB: 1, maxSizeGiB: 65_536, maxIops: 256_000, maxThroughputMiBps: 4000});

/**
 * EBS rates a Price List answer may give, $ a month: storage per GB (sc1 $0.015 to io2 $0.125 in
 * us-east-1, at most 1.7 times that elsewhere), provisioned IOPS, and gp3 throughput per MiB/s.
 */
export const ebsRateBounds = Object.freeze({gbMonth: [0.005, 0.5], iopsMonth: [0.001, 0.5], throughputMonth: [0.005, 0.5]} as const);

/**
 * Spot prices: never above the on-demand price (AWS caps them there), and at most 90% off it ("up
 * to 90% off On-Demand" is AWS's own word for the deepest discount), so never under a tenth of it.
 */
export const spotFloorOfOnDemand = 0.1;

/** The lowest price EC2 charges for anything by the hour, halved (t4g.nano: $0.0042/h). */
export const cheapestUsdPerHour = 0.001;

const namedSizes: Readonly<Record<string, number>> = {nano: 1 / 32, micro: 1 / 16, small: 1 / 8, medium: 1 / 4, large: 1 / 2, xlarge: 1};

/**
 * An instance's size in xlarges (4 vCPUs): `t3.micro` 1/16, `m5.large` 1/2, `p4d.24xlarge` 24,
 * `m7a.metal-48xl` 48; undefined for a size that does not say (`metal`, or one envwatch does not know).
 */
export function xlargeUnits(type: string): number | undefined {
	const size = sizeOf(type);
	if (Object.hasOwn(namedSizes, size)) {
		return namedSizes[size];
	}

	const scaled = /^(\d{1,4})xlarge$/.exec(size) ?? /^metal-(\d{1,4})xl$/.exec(size);
	const units = scaled ? Number(scaled[1]) : Number.NaN;
	return units >= 1 ? units : undefined;
}

/** The letters a family starts with (its series): `p4d` -> `p`, `u-24tb1` -> `u`, `trn1` -> `trn`. */
function seriesOf(type: string): string {
	return /^[a-z]+/.exec(type.toLowerCase())?.[0] ?? '';
}

/** A family's dearest and cheapest rate per xlarge in a table, by family (`m5`): once per table, not once per instance priced. */
const familyRates = new WeakMap<Readonly<Record<string, number>>, Map<string, {dearest: number; cheapest: number}>>();

function familyRatesOf(table: Readonly<Record<string, number>>): Map<string, {dearest: number; cheapest: number}> {
	let rates = familyRates.get(table);
	if (!rates) {
		rates = new Map();
		for (const [type, price] of Object.entries(table)) {
			const known = xlargeUnits(type);
			const family = type.slice(0, Math.max(0, type.indexOf('.')));
			if (known !== undefined && price > 0 && family !== '') {
				const rate = rates.get(family);
				rates.set(family, {dearest: Math.max(rate?.dearest ?? 0, price / known), cheapest: Math.min(rate?.cheapest ?? Number.POSITIVE_INFINITY, price / known)});
			}
		}

		familyRates.set(table, rates);
	}

	return rates;
}

/** Where the true on-demand price of an instance lies ($/h). */
export type PriceRange = {low: number; high: number};

/**
 * What EC2 can charge on demand for an instance of this kind, from the shipped table (on-demand,
 * us-east-1, Linux, shared) and what EC2 charges at its extremes (see `seriesUsdPerXlarge`):
 * - the Linux price per xlarge: a family the table knows scales linearly (its dearest xlarge rate
 *   and a quarter, `tableSlack`, except for accelerated series); else the series' bound; times the
 *   region's markup (none in us-east-1, at most 1.7 elsewhere);
 * - plus what the OS and software add at most (all of an unknown OS's), times 1.25 off shared hardware;
 * - a size that does not say (`metal`) is taken as the largest (48 xlarges; 224 for `u`).
 * The low end is half the family's cheapest rate (the cheapest of all when it is unknown), never
 * under $0.001/h. `high` is the estimate for a type no source prices: it errs high, never low.
 */
export function onDemandRange(kind: {region: string; type: string; operatingSystem?: string; preInstalledSw?: string; tenancy?: string}, table: Readonly<Record<string, number>>): PriceRange {
	const series = seriesOf(kind.type);
	const units = xlargeUnits(kind.type);
	const family = kind.type.slice(0, Math.max(0, kind.type.indexOf('.')));
	const {dearest, cheapest} = family === '' ? {} : familyRatesOf(table).get(family) ?? {};

	const linear = dearest !== undefined && !acceleratedSeries.has(series);
	const perXlarge = linear ? dearest! * tableSlack : Object.hasOwn(seriesUsdPerXlarge, series) ? seriesUsdPerXlarge[series]! : anySeriesUsdPerXlarge;
	const markup = kind.region === 'us-east-1' ? 1 : regionMarkup.max;
	const license = kind.operatingSystem === undefined ? unknownLicenseUsd : licenseUsd[`${kind.operatingSystem}|${kind.preInstalledSw ?? 'NA'}`] ?? unknownLicenseUsd;
	const tenancy = kind.tenancy === undefined || kind.tenancy === 'Shared' ? 1 : dedicatedMarkup;
	const highUnits = units ?? (series === 'u' ? 224 : 48);
	const high = ((highUnits * ((perXlarge * markup) + license.perXlarge)) + license.flat) * tenancy;
	const low = Math.max(cheapestUsdPerHour, (units ?? 1 / 32) * (cheapest === undefined ? cheapestUsdPerXlarge : cheapest * regionMarkup.min));
	return {low: Math.min(low, high), high};
}

/** The OS a spot product is sold for (its licence bounds the spot price): `Linux/UNIX` -> Linux. */
export function operatingSystemOfSpotProduct(product: string): OperatingSystem | undefined {
	return Object.values(platforms).find(platform => platform.spotProduct === product && platform.preInstalledSw === 'NA');
}

/** What a spot price of this kind may be: at most the on-demand price's high end, at least a tenth of its low end. */
export function spotRange(kind: {region: string; type: string; product: string}, table: Readonly<Record<string, number>>): PriceRange {
	const os = operatingSystemOfSpotProduct(kind.product);
	const range = onDemandRange({region: kind.region, type: kind.type, ...(os ? {operatingSystem: os.operatingSystem, preInstalledSw: 'NA'} : {}), tenancy: 'Shared'}, table);
	return {low: range.low * spotFloorOfOnDemand, high: range.high};
}

/** What is impossible about an EBS volume as described (past EBS's limits), or undefined. */
export function volumeProblem(volume: Pick<Volume, 'sizeGb' | 'iops' | 'throughputMbps'>): string | undefined {
	if (!Number.isInteger(volume.sizeGb) || volume.sizeGb < ebsLimits.minSizeGiB || volume.sizeGb > ebsLimits.maxSizeGiB) {
		return `a size of ${volume.sizeGb} GiB: EBS volumes are 1 GiB to 64 TiB (${ebsLimits.maxSizeGiB} GiB)`;
	}

	if (volume.iops !== undefined && (volume.iops < 0 || volume.iops > ebsLimits.maxIops)) {
		return `${volume.iops} IOPS: EBS provisions at most ${ebsLimits.maxIops}`;
	}

	if (volume.throughputMbps !== undefined && (volume.throughputMbps < 0 || volume.throughputMbps > ebsLimits.maxThroughputMiBps)) {
		return `${volume.throughputMbps} MiB/s: EBS provisions at most ${ebsLimits.maxThroughputMiBps} MiB/s`;
	}

	return undefined;
}

/** The configured override for an instance type in a region, if any. */
export function overrideOf(overrides: PriceOverrides, region: string, type: string): number | undefined {
	const regional = Object.hasOwn(overrides, region) ? overrides[region] : undefined;
	if (typeof regional === 'object' && Object.hasOwn(regional, type)) {
		return regional[type];
	}

	const all = Object.hasOwn(overrides, type) ? overrides[type] : undefined;
	return typeof all === 'number' ? all : undefined;
}

export type PriceBook = {
	/** The price of one instance, running; undefined only when no price is known at all. */
	price(instance: Pick<RawInstance, 'region' | 'type' | 'platformDetails' | 'tenancy' | 'lifecycle' | 'availabilityZone'>): Priced | undefined;
	/**
	 * What an instance's EBS volumes cost by the hour, running or stopped (`estimated`: some volume
	 * type had no known rate); undefined when its volumes are not known (yet).
	 */
	storage?(instanceId: string): {usd: number; estimated: boolean; /** Its volumes are not known yet: an unknown amount, not $0. */ unknown?: boolean} | undefined;
	/**
	 * Prices this book would not believe, as it met them (a spot price outside what its on-demand
	 * price allows, a Price List price outside what EC2 charges): each one's instances are counted at
	 * the conservative figure instead, marked estimated. One line each, for the user.
	 */
	rejections?(): readonly string[];
};

/** A price with the range the true on-demand price of the instance lies in (what a spot price is checked against). */
type Bounded = Priced & {low: number; high: number};

/**
 * A price book over the tables. The estimate for an instance no source prices is an upper bound of
 * what EC2 charges for its kind (`onDemandRange`): it errs high, so a runaway of an unknown type
 * still breaches, and is marked so the user knows. A price outside what EC2 can charge (a spot
 * price above its on-demand price or under a tenth of it; a Price List price, from the cache too,
 * outside `onDemandRange`) is not believed: the conservative figure is counted, marked estimated,
 * and `rejections` says why.
 */
export function createPriceBook(tables: PriceTables, onFirst?: (instance: Parameters<PriceBook['price']>[0]) => void): PriceBook {
	// With no price known at all (an empty table, no Price List answer, no override) an instance is
	// unpriced rather than estimated from nothing.
	const knowsAny = Object.keys(tables.table).length > 0 || (tables.onDemand?.size ?? 0) > 0 || Object.keys(tables.overrides).length > 0;
	const rejected: string[] = [];
	const reject = (reason: string) => {
		if (!rejected.includes(reason)) {
			rejected.push(reason);
		}
	};

	const onDemand = (instance: Parameters<PriceBook['price']>[0]): Bounded | undefined => {
		const query = onDemandQueryOf(instance);
		const range = onDemandRange({region: instance.region, type: instance.type, ...(query ? {operatingSystem: query.operatingSystem, preInstalledSw: query.preInstalledSw, tenancy: query.tenancy} : {})}, tables.table);
		// A Price List answer refused as impossible: its instances are marked, whatever figure counts them.
		let refused = false;
		if (query) {
			const key = onDemandKey(query);
			const listed = tables.onDemand?.get(key);
			const reason = tables.rejected?.get(key);
			if (reason !== undefined) {
				refused = true;
				reject(reason);
			} else if (typeof listed === 'number') {
				if (listed >= range.low * (1 - 1e-9) && listed <= range.high * (1 + 1e-9)) {
					return {usd: listed, source: 'price-list', low: listed, high: listed};
				}

				refused = true;
				reject(`the Price List's ${describeKind(query)} at ${usd(listed)}/h is outside what EC2 charges for it (${usd(range.low)} to ${usd(range.high)}/h): not believed`);
			}

			// The shipped table is Linux on shared hardware: for any other OS or tenancy it is too low.
			if (query.operatingSystem === 'Linux' && query.preInstalledSw === 'NA' && query.tenancy === 'Shared' && Object.hasOwn(tables.table, instance.type)) {
				const table = tables.table[instance.type]!;
				// The table is us-east-1's, and may be out of date: the true price lies within the regions' spread of it.
				const high = table * tableSlack * (instance.region === 'us-east-1' ? 1 : regionMarkup.max);
				return {usd: table, source: refused ? 'estimate' : 'table', low: table * regionMarkup.min, high};
			}
		}

		return knowsAny ? {usd: range.high, source: 'estimate', low: range.low, high: range.high} : undefined;
	};

	const price: PriceBook['price'] = instance => {
		const override = overrideOf(tables.overrides, instance.region, instance.type);
		if (override !== undefined) {
			return {usd: override, source: 'override'};
		}

		if (instance.lifecycle === 'spot') {
			const os = operatingSystemOf(instance.platformDetails);
			const spot = os && instance.availabilityZone ? tables.spot?.get(spotKey(instance.region, instance.availabilityZone, instance.type, os.spotProduct)) : undefined;
			// What it would cost on demand bounds it from above (and a tenth of that from below).
			const bound = onDemand(instance);
			if (spot !== undefined && bound) {
				if (spot >= bound.low * spotFloorOfOnDemand * (1 - 1e-9) && spot <= bound.high * (1 + 1e-9)) {
					return {usd: spot, source: 'spot'};
				}

				const what = `the spot price of ${instance.type} ${os!.spotProduct} in ${instance.availabilityZone!}, ${usd(spot)}/h,`;
				reject(spot > bound.high
					? `${what} is above its on-demand price (${usd(bound.high)}/h${bound.low === bound.high ? '' : ' at most'}): not believed, counted at ${usd(bound.usd)}/h (~)`
					: `${what} is under a tenth of its on-demand price (${usd(bound.low)}/h${bound.low === bound.high ? '' : ' at least'}): not believed, counted at ${usd(bound.usd)}/h (~)`);
			}

			// No spot price (yet), or one not believed: its on-demand price bounds it; an estimate.
			return bound ? {usd: bound.usd, source: 'estimate'} : undefined;
		}

		const found = onDemand(instance);
		return found ? {usd: found.usd, source: found.source} : undefined;
	};

	// A fleet runs few distinct (region, type, OS, tenancy, market, AZ): each is worked out once per book.
	const known = new Map<string, Priced | undefined>();
	return {
		storage: id => tables.storage?.get(id),
		rejections: () => rejected,
		price(instance) {
			const key = `${instance.region}|${instance.type}|${instance.platformDetails ?? ''}|${instance.tenancy ?? ''}|${instance.lifecycle ?? ''}|${instance.lifecycle === 'spot' ? instance.availabilityZone ?? '' : ''}`;
			if (known.has(key)) {
				return known.get(key);
			}

			const priced = price(instance);
			known.set(key, priced);
			// The caller may want to fetch what this kind of instance needs (in the background).
			onFirst?.(instance);
			return priced;
		},
	};
}

function describeKind(query: OnDemandQuery): string {
	return `${query.type} ${query.operatingSystem}${query.preInstalledSw === 'NA' ? '' : ` ${query.preInstalledSw}`}${query.tenancy === 'Shared' ? '' : ` ${query.tenancy}`} in ${query.region}`;
}

/** A price as a user reads it: `$0.0832`, `$0.00001`, `$1000000000` (every digit that matters, no exponent). */
export function usd(value: number): string {
	if (!Number.isFinite(value)) {
		return `$${String(value)}`;
	}

	if (Math.abs(value) >= 1) {
		return `$${Number(value.toFixed(4))}`;
	}

	const text = Math.abs(value) < 1e-6 ? value.toFixed(12) : value.toPrecision(4);
	return `$${text.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '')}`;
}

/** A flat table as a book (tests, benches and the simulated account: no Price List there). */
export function tableBook(table: Readonly<Record<string, number>>): PriceBook {
	return createPriceBook({overrides: {}, table});
}

/** An EBS volume as a provider reports it, with the instance it is attached to. */
export type Volume = {id: string; region: string; type: string; sizeGb: number; iops?: number; throughputMbps?: number; instanceId: string};

export type EbsRates = {
	gbMonth: Readonly<Record<string, number>>;
	gp3IopsMonth: number;
	gp3ThroughputMonth: number;
	io1IopsMonth: number;
	io2IopsMonth: readonly [number, number, number];
};

/** EBS is priced by the month: AWS's month is 730 hours. */
export const hoursPerMonth = 730;

/**
 * The $/h of a volume: size x its type's GB-month rate; gp3's IOPS over 3,000 and throughput over
 * 125 MB/s; io1/io2's provisioned IOPS (io2 in tiers). A type with no known rate is priced at the
 * highest GB-month rate known and marked estimated, never $0.
 */
export function volumeHourlyUsd(volume: Pick<Volume, 'type' | 'sizeGb' | 'iops' | 'throughputMbps'>, rates: EbsRates): Priced {
	const known = Object.hasOwn(rates.gbMonth, volume.type);
	let month = volume.sizeGb * (known ? rates.gbMonth[volume.type]! : Math.max(...Object.values(rates.gbMonth)));
	const iops = volume.iops ?? 0;
	if (volume.type === 'gp3') {
		month += Math.max(0, iops - 3000) * rates.gp3IopsMonth + Math.max(0, (volume.throughputMbps ?? 125) - 125) * rates.gp3ThroughputMonth;
	} else if (volume.type === 'io1') {
		month += iops * rates.io1IopsMonth;
	} else if (volume.type === 'io2') {
		const [first, second, third] = rates.io2IopsMonth;
		month += Math.min(iops, 32_000) * first + Math.min(Math.max(iops - 32_000, 0), 32_000) * second + Math.max(iops - 64_000, 0) * third;
	}

	return {usd: month / hoursPerMonth, source: known ? 'table' : 'estimate'};
}
