import type {RawInstance} from './types.js';

/**
 * Pricing rules: which price an instance is charged at, from the tables the caller has. Pure: the
 * tables (configuration overrides, the Price List cache, spot prices, the shipped table) come in as
 * arguments; fetching and caching them is the engine's and the providers' business.
 *
 * Order: a configured override for the region, then one for every region; a spot instance at its
 * spot price; the Price List's on-demand price for (region, type, OS, tenancy); the shipped table
 * (Linux, shared tenancy); else a conservative estimate, marked as such: never $0, never left out.
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
};

/**
 * A price book over the tables. The estimate for an instance no source prices is the highest price
 * known for an instance of its size (any family, any region, any OS), or the highest price known at
 * all when nothing of its size is known: a figure that errs high, so a runaway of an unknown type
 * still breaches, and is marked so the user knows.
 */
export function createPriceBook(tables: PriceTables, onFirst?: (instance: Parameters<PriceBook['price']>[0]) => void): PriceBook {
	const highestBySize = new Map<string, number>();
	let highest: number | undefined;
	const know = (type: string, usd: number | null | undefined) => {
		if (typeof usd !== 'number' || !Number.isFinite(usd) || usd <= 0) {
			return;
		}

		const size = sizeOf(type);
		highestBySize.set(size, Math.max(highestBySize.get(size) ?? 0, usd));
		highest = Math.max(highest ?? 0, usd);
	};

	for (const [type, usd] of Object.entries(tables.table)) {
		know(type, usd);
	}

	for (const [key, usd] of tables.onDemand ?? []) {
		know(key.split('|')[1] ?? '', usd);
	}

	for (const [key, value] of Object.entries(tables.overrides)) {
		if (typeof value === 'number') {
			know(key, value);
		} else {
			for (const [type, usd] of Object.entries(value)) {
				know(type, usd);
			}
		}
	}

	const estimateFor = (type: string): Priced | undefined => {
		const usd = highestBySize.get(sizeOf(type)) ?? highest;
		return usd === undefined ? undefined : {usd, source: 'estimate'};
	};

	const onDemand = (instance: Parameters<PriceBook['price']>[0]): Priced | undefined => {
		const query = onDemandQueryOf(instance);
		if (query) {
			const listed = tables.onDemand?.get(onDemandKey(query));
			if (typeof listed === 'number') {
				return {usd: listed, source: 'price-list'};
			}

			// The shipped table is Linux on shared hardware: for any other OS or tenancy it is too low.
			if (query.operatingSystem === 'Linux' && query.preInstalledSw === 'NA' && query.tenancy === 'Shared' && Object.hasOwn(tables.table, instance.type)) {
				return {usd: tables.table[instance.type]!, source: 'table'};
			}
		}

		return estimateFor(instance.type);
	};

	const price: PriceBook['price'] = instance => {
		const override = overrideOf(tables.overrides, instance.region, instance.type);
		if (override !== undefined) {
			return {usd: override, source: 'override'};
		}

		if (instance.lifecycle === 'spot') {
			const os = operatingSystemOf(instance.platformDetails);
			const spot = os && instance.availabilityZone ? tables.spot?.get(spotKey(instance.region, instance.availabilityZone, instance.type, os.spotProduct)) : undefined;
			if (spot !== undefined) {
				return {usd: spot, source: 'spot'};
			}

			// No spot price yet: what it would cost on demand bounds it from above; an estimate.
			const bound = onDemand(instance);
			return bound ? {usd: bound.usd, source: 'estimate'} : undefined;
		}

		return onDemand(instance);
	};

	// A fleet runs few distinct (region, type, OS, tenancy, market, AZ): each is worked out once per book.
	const known = new Map<string, Priced | undefined>();
	return {
		storage: id => tables.storage?.get(id),
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
