import {fallbackPrices, onDemandRange, spotRange, usd as dollars, type EbsRates} from '../domain/index.js';
import type {PriceCache} from './state/validate.js';

// prices.json: the Price List, spot and EBS answers and the priced volumes kept between runs, read
// back (what cannot be true dropped) and written from the Pricing's tables.

/** The tables of Pricing that prices.json keeps (keys are data). */
export type CachedTables = {
	onDemand: Map<string, {usd: number | null; at: number}>;
	spot: Map<string, {usd: number; at: number}>;
	storage: Map<string, Map<string, {usd: number; estimated: boolean}>>;
	ebs: Map<string, {rates: EbsRates | null; at: number}>;
};

/**
 * Fills `tables` from prices.json: the prices when a price source runs (`prices`), the volumes'
 * storage when volumes are priced (`volumes`; EBS rates only with both). A cached price outside what
 * EC2 charges is not believed: it is left out, to be asked again, and the returned line says so.
 */
export function restorePrices(cache: PriceCache | undefined, tables: CachedTables, parts: {prices: boolean; volumes: boolean}): string | undefined {
	let problem: string | undefined;
	if (parts.prices) {
		const doubted: string[] = [];
		for (const [key, usd, at] of cache?.onDemand ?? []) {
			const [region = '', type = '', operatingSystem = '', preInstalledSw = '', tenancy = ''] = key.split('|');
			const range = onDemandRange({region, type, operatingSystem, preInstalledSw, tenancy}, fallbackPrices);
			if (usd !== null && (usd < range.low * (1 - 1e-9) || usd > range.high * (1 + 1e-9))) {
				doubted.push(`${type} in ${region} at ${dollars(usd)}/h`);
			} else {
				tables.onDemand.set(key, {usd, at});
			}
		}

		for (const [key, usd, at] of cache?.spot ?? []) {
			const [region = '', , type = '', product = ''] = key.split('|');
			const range = spotRange({region, type, product}, fallbackPrices);
			if (usd < range.low * (1 - 1e-9) || usd > range.high * (1 + 1e-9)) {
				doubted.push(`spot ${type} in ${region} at ${dollars(usd)}/h`);
			} else {
				tables.spot.set(key, {usd, at});
			}
		}

		if (doubted.length > 0) {
			problem = `prices.json: ${doubted.slice(0, 3).join(', ')}${doubted.length > 3 ? ` and ${doubted.length - 3} more` : ''} outside what EC2 charges: not believed, asked again`;
		}
	}

	if (parts.volumes) {
		if (parts.prices) {
			for (const [region, rates, at] of cache?.ebs ?? []) {
				tables.ebs.set(region, {rates, at});
			}
		}

		for (const [region, id, usd, estimated] of cache?.storage ?? []) {
			const byInstance = tables.storage.get(region) ?? new Map<string, {usd: number; estimated: boolean}>();
			byInstance.set(id, {usd, estimated});
			tables.storage.set(region, byInstance);
		}
	}

	return problem;
}

/** prices.json's content from the tables at `now`: spot prices older than a day are of no use after a restart. */
export function pricesCache(tables: CachedTables, now: number): PriceCache {
	return {
		version: 1,
		onDemand: [...tables.onDemand].map(([key, entry]) => [key, entry.usd, entry.at]),
		spot: [...tables.spot].filter(([, entry]) => now - entry.at < 86_400_000).map(([key, entry]) => [key, entry.usd, entry.at]),
		storage: [...tables.storage].flatMap(([region, byInstance]) => [...byInstance].map(([id, entry]): [string, string, number, boolean] => [region, id, entry.usd, entry.estimated])),
		ebs: [...tables.ebs].map(([region, entry]) => [region, entry.rates, entry.at]),
	};
}
