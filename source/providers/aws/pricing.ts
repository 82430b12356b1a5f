import {GetProductsCommand, PricingClient} from '@aws-sdk/client-pricing';
import {DescribeSpotPriceHistoryCommand, type _InstanceType, type EC2Client} from '@aws-sdk/client-ec2';
import {ebsRateBounds, fallbackEbsRates, fallbackPrices, isPlainObject, onDemandRange, spotRange, usd as dollars, type EbsRates, type OnDemandQuery} from '../../domain/index.js';
import type {PriceSource, SpotPrice} from '../types.js';
import {Budget, checkAnswers, ImplausibleAnswerError, MalformedAnswerError, paginate} from './answers.js';
import {clientConfig, type AwsConnection} from './clients.js';

export type AwsPricesOptions = AwsConnection & {
	/** Where the Price List Query API is reached (tests: a loopback server); else `endpointUrl`, else AWS. */
	pricingEndpointUrl?: string;
	/** The EC2 client of a region (the fleet's), for DescribeSpotPriceHistory. */
	ec2: (region: string) => EC2Client;
};

/** The Price List Query API answers only from a few regions; us-east-1 is one. */
const pricingRegion = 'us-east-1';
/** Pages of one GetProducts query (100 products a page: one type in one region is a few; a region's EBS rates a few dozen). */
const maxProductPages = 10;
/** Pages of one DescribeSpotPriceHistory refresh (1000 items a page: one item per type, AZ and product now). */
const maxSpotPages = 20;
/** What one question to the Price List or the spot price history may take. */
const budgetMs = 120_000;
/** How far a spot price's time may be ahead of the clock (the two clocks differ a little); beyond, it is from the future. */
const clockSkewMs = 5 * 60_000;

/**
 * Prices from AWS itself: on-demand from the Price List Query API (`pricing:GetProducts`), spot from
 * `ec2:DescribeSpotPriceHistory`. Every answer is checked for shape: an entry that does not parse
 * is no price from this source, never $0.
 */
export class AwsPrices implements PriceSource {
	private pricing: PricingClient | undefined;

	constructor(private readonly options: AwsPricesOptions) {}

	private client(): PricingClient {
		if (!this.pricing) {
			// AWS_ENDPOINT_URL_PRICING wins over --endpoint-url: an emulator for EC2 rarely serves the Price List.
			const endpoint = this.options.pricingEndpointUrl ?? (process.env['AWS_ENDPOINT_URL_PRICING'] || undefined) ?? this.options.endpointUrl;
			this.pricing = new PricingClient({...clientConfig({...this.options, ...(endpoint ? {endpointUrl: endpoint} : {})}, pricingRegion)});
			checkAnswers(this.pricing, pricingRegion, 'json');
		}

		return this.pricing;
	}

	async onDemand(query: OnDemandQuery): Promise<{usd: number | null; requests: number}> {
		const {entries, requests} = await this.products({
			instanceType: query.type, regionCode: query.region, operatingSystem: query.operatingSystem, tenancy: query.tenancy,
			preInstalledSw: query.preInstalledSw, capacitystatus: 'Used', licenseModel: 'No License required',
		}, describeQuery(query));
		return {usd: onDemandPriceOf(entries, query), requests};
	}

	/**
	 * A region's EBS rates: one GetProducts query per product family (Storage, System Operation,
	 * Provisioned Throughput) filtered by regionCode. A rate the answers lack is the shipped
	 * us-east-1 one; no entry at all is null (the Price List has no EBS there: the shipped table);
	 * entries with none of them usable are malformed (thrown).
	 */
	async ebs(region: string): Promise<{rates: EbsRates | null; requests: number}> {
		const entries: unknown[] = [];
		let requests = 0;
		for (const productFamily of ['Storage', 'System Operation', 'Provisioned Throughput']) {
			const family = await this.products({productFamily, regionCode: region, locationType: 'AWS Region'}, `EBS ${productFamily} in ${region}`);
			entries.push(...family.entries);
			requests += family.requests;
		}

		return {rates: entries.length === 0 ? null : ebsRatesOf(entries, region), requests};
	}

	/** Every page of one GetProducts query on EC2's price list (capped); `what` names it in errors. */
	private async products(filters: Record<string, string>, what: string): Promise<{entries: unknown[]; requests: number}> {
		const entries: unknown[] = [];
		const budget = new Budget(budgetMs);
		const pages = paginate({
			call: `GetProducts for ${what}`,
			region: pricingRegion,
			maxPages: maxProductPages,
			budget,
			send: async (paging, options) => this.client().send(new GetProductsCommand({
				ServiceCode: 'AmazonEC2',
				FormatVersion: 'aws_v1',
				MaxResults: 100,
				...paging,
				Filters: Object.entries(filters).map(([Field, Value]) => ({Type: 'TERM_MATCH', Field, Value})),
			}), options),
		});
		try {
			for await (const {output, page} of pages) {
				const list: unknown = output.PriceList ?? [];
				if (!Array.isArray(list)) {
					throw new MalformedAnswerError(pricingRegion, `GetProducts page ${page} for ${what}: its PriceList is not a list`);
				}

				entries.push(...list);
			}
		} finally {
			budget.done();
		}

		return {entries, requests: pages.requests};
	}

	async spot(region: string, types: string[], products: string[], now: number): Promise<{prices: SpotPrice[]; requests: number}> {
		const latest = new Map<string, SpotPrice & {at: number}>();
		const budget = new Budget(budgetMs);
		const pages = paginate({
			call: 'DescribeSpotPriceHistory',
			region,
			maxPages: maxSpotPages,
			budget,
			// StartTime now: EC2 answers the price in effect now for each type, AZ and product.
			send: async (paging, options) => this.options.ec2(region).send(new DescribeSpotPriceHistoryCommand({
				StartTime: new Date(now),
				InstanceTypes: types as _InstanceType[],
				// Accounts from the EC2-Classic era see the same products suffixed ` (Amazon VPC)`.
				ProductDescriptions: products.flatMap(product => [product, `${product} (Amazon VPC)`]),
				MaxResults: 1000,
				...paging,
			}), options),
		});
		try {
			for await (const {output, page} of pages) {
				for (const item of spotItems(output.SpotPriceHistory, region, page, now)) {
					const key = `${item.availabilityZone}|${item.type}|${item.product}`;
					if ((latest.get(key)?.at ?? -Infinity) < item.at) {
						latest.set(key, item);
					}
				}
			}
		} finally {
			budget.done();
		}

		return {prices: [...latest.values()].map(({at: _at, ...price}) => price), requests: pages.requests};
	}

	close(): void {
		this.pricing?.destroy();
		this.pricing = undefined;
	}
}

function describeQuery(query: OnDemandQuery): string {
	return `${query.type} ${query.operatingSystem}${query.preInstalledSw === 'NA' ? '' : ` ${query.preInstalledSw}`} ${query.tenancy} in ${query.region}`;
}

/**
 * The on-demand $/h in a GetProducts answer's entries (JSON strings of the Price List's product
 * documents): the hourly USD price of each entry's OnDemand terms for this very type and region.
 * No entry: null (the Price List has no such product). Entries that do not parse or do not match
 * (another type, another or no `regionCode`) are skipped; when some came and none is usable, the
 * answer is malformed (thrown, not cached). A price outside what EC2 charges for the type
 * (`onDemandRange`) makes the answer implausible (thrown, not cached). Several usable ones (it
 * happens across terms): the highest, to err high.
 */
export function onDemandPriceOf(entries: readonly unknown[], query: OnDemandQuery): number | null {
	if (entries.length === 0) {
		return null;
	}

	const prices: number[] = [];
	for (const entry of entries) {
		const usd = entryPrice(entry, query);
		if (usd !== undefined) {
			prices.push(usd);
		}
	}

	if (prices.length === 0) {
		throw new MalformedAnswerError(pricingRegion, `GetProducts answered ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} for ${describeQuery(query)}, none with an hourly USD on-demand price for it: expected Price List product documents with regionCode ${query.region} and terms.OnDemand...pricePerUnit.USD`);
	}

	const range = onDemandRange(query, fallbackPrices);
	for (const usd of prices) {
		if (usd < range.low * (1 - 1e-9) || usd > range.high * (1 + 1e-9)) {
			throw new ImplausibleAnswerError(pricingRegion, `GetProducts answered ${dollars(usd)}/h for ${describeQuery(query)}, outside what EC2 charges for it (${dollars(range.low)} to ${dollars(range.high)}/h): rejected`);
		}
	}

	return Math.max(...prices);
}

/** EBS volume types whose storage is priced by the GB-month. */
const ebsVolumeTypes = new Set(['gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1', 'standard']);

/**
 * A region's EBS rates in GetProducts entries: storage ($/GB-month, productFamily Storage, by
 * volumeApiName), provisioned IOPS ($/IOPS-month, System Operation: usagetype
 * `EBS:VolumeP-IOPS.gp3`, `.piops` for io1, `.io2`, `.io2.tier2`, `.io2.tier3`) and gp3 throughput
 * (Provisioned Throughput, `EBS:VolumeP-Throughput.gp3`, per GiBps-month: /1024 per MiB/s).
 * Missing rates are the shipped table's; io2 without its tiers scales the table's tiers by its base.
 * When none is usable, the answer is malformed (thrown).
 */
export function ebsRatesOf(entries: readonly unknown[], region: string): EbsRates {
	const gbMonth = Object.assign(Object.create(null) as Record<string, number>, fallbackEbsRates.gbMonth);
	const found = new Map<string, number>();
	const put = (key: string, usd: number) => found.set(key, Math.max(found.get(key) ?? 0, usd));
	for (const entry of entries) {
		const rate = ebsEntry(entry, region);
		if (!rate) {
			continue;
		}

		const {family, volume, usageType, unit, usd} = rate;
		if (family === 'Storage' && ebsVolumeTypes.has(volume) && /^GB-?Mo(nth)?$/i.test(unit)) {
			put(`gb:${volume}`, usd);
		} else if (family === 'System Operation' && /^IOPS-?Mo(nth)?$/i.test(unit)) {
			const iops = /EBS:VolumeP-IOPS\.(gp3|piops|io2)(\.tier[23])?$/.exec(usageType);
			if (iops) {
				put(`iops:${iops[1] === 'piops' ? 'io1' : iops[1]!}${iops[2] ?? ''}`, usd);
			}
		} else if (family === 'Provisioned Throughput' && volume === 'gp3' && /EBS:VolumeP-Throughput\.gp3$/.test(usageType)) {
			// The Price List prices gp3 throughput per GiBps-month; EBS provisions it in MiB/s.
			if (/^GiBps-?mo(nth)?$/i.test(unit)) {
				put('throughput:gp3', usd / 1024);
			} else if (/^MiBps-?mo(nth)?$/i.test(unit)) {
				put('throughput:gp3', usd);
			}
		}
	}

	if (found.size === 0) {
		throw new MalformedAnswerError(pricingRegion, `GetProducts answered ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} for EBS in ${region}, none an EBS storage, IOPS or throughput rate for it: expected Price List product documents with attributes volumeApiName, usagetype and terms.OnDemand...pricePerUnit.USD`);
	}

	for (const [key, usd] of found) {
		const [low, high] = key.startsWith('gb:') ? ebsRateBounds.gbMonth : key.startsWith('iops:') ? ebsRateBounds.iopsMonth : ebsRateBounds.throughputMonth;
		if (usd < low || usd > high) {
			throw new ImplausibleAnswerError(pricingRegion, `GetProducts answered an EBS rate of ${dollars(usd)} a month for ${key.replace(':', ' ')} in ${region}, outside what EBS charges (${dollars(low)} to ${dollars(high)}): rejected`);
		}

		if (key.startsWith('gb:')) {
			gbMonth[key.slice(3)] = usd;
		}
	}

	const [first, second, third] = fallbackEbsRates.io2IopsMonth;
	const io2Base = found.get('iops:io2');
	const scale = io2Base === undefined ? 1 : io2Base / first;
	return {
		gbMonth,
		gp3IopsMonth: found.get('iops:gp3') ?? fallbackEbsRates.gp3IopsMonth,
		gp3ThroughputMonth: found.get('throughput:gp3') ?? fallbackEbsRates.gp3ThroughputMonth,
		io1IopsMonth: found.get('iops:io1') ?? fallbackEbsRates.io1IopsMonth,
		io2IopsMonth: [io2Base ?? first, found.get('iops:io2.tier2') ?? second * scale, found.get('iops:io2.tier3') ?? third * scale],
	};
}

function ebsEntry(entry: unknown, region: string): {family: string; volume: string; usageType: string; unit: string; usd: number} | undefined {
	const document = priceDocument(entry);
	const attributes = document?.product['attributes'];
	const family = document?.product['productFamily'];
	if (!document || typeof family !== 'string' || !isPlainObject(attributes) || attributes['regionCode'] !== region || typeof attributes['volumeApiName'] !== 'string' || typeof attributes['usagetype'] !== 'string') {
		return undefined;
	}

	// $0 is no rate (a free tier's line), never a volume that costs nothing.
	const found = highestRate(document.terms, () => true);
	return found && {family, volume: attributes['volumeApiName'], usageType: attributes['usagetype'], unit: found.unit, usd: found.usd};
}

/** One Price List entry (a JSON string, as GetProducts answers) with its product and terms, or undefined. */
function priceDocument(entry: unknown): {product: Record<string, unknown>; terms: Record<string, unknown>} | undefined {
	let document: unknown;
	try {
		document = typeof entry === 'string' || entry instanceof String ? JSON.parse(String(entry)) : entry;
	} catch {
		return undefined;
	}

	return isPlainObject(document) && isPlainObject(document['product']) && isPlainObject(document['terms']) ? {product: document['product'], terms: document['terms']} : undefined;
}

/** The highest positive on-demand USD rate among the price dimensions whose unit `unit` accepts ($0 is no rate). */
function highestRate(terms: Record<string, unknown>, unit: (unit: string) => boolean): {unit: string; usd: number} | undefined {
	const onDemand = terms['OnDemand'];
	let found: {unit: string; usd: number} | undefined;
	for (const term of isPlainObject(onDemand) ? Object.values(onDemand) : []) {
		const dimensions = isPlainObject(term) ? term['priceDimensions'] : undefined;
		for (const dimension of isPlainObject(dimensions) ? Object.values(dimensions) : []) {
			if (!isPlainObject(dimension) || typeof dimension['unit'] !== 'string' || !unit(dimension['unit']) || !isPlainObject(dimension['pricePerUnit'])) {
				continue;
			}

			const text = dimension['pricePerUnit']['USD'];
			const usd = typeof text === 'string' && /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
			if (Number.isFinite(usd) && usd > 0 && usd > (found?.usd ?? 0)) {
				found = {unit: dimension['unit'], usd};
			}
		}
	}

	return found;
}

function entryPrice(entry: unknown, query: OnDemandQuery): number | undefined {
	const document = priceDocument(entry);
	const attributes = document?.product['attributes'];
	// An answer for another type or region, or one that does not say its region, is not this one's price.
	if (!document || !isPlainObject(attributes) || attributes['instanceType'] !== query.type || attributes['regionCode'] !== query.region) {
		return undefined;
	}

	// $0 is no price (a reservation's placeholder), never an instance that costs nothing.
	return highestRate(document.terms, unit => /^hrs?$/i.test(unit))?.usd;
}

/**
 * The items of one DescribeSpotPriceHistory page. An item missing a part errs the page; so does
 * one that cannot be true: dated in the future (it would beat the price in effect), or priced
 * outside what a spot price of its type can be (above the highest on-demand price EC2 charges for
 * it, or under a tenth of the lowest: `spotRange`).
 */
function spotItems(history: unknown, region: string, page: number, now: number): Array<SpotPrice & {at: number}> {
	if (history === undefined) {
		return [];
	}

	if (!Array.isArray(history)) {
		throw new MalformedAnswerError(region, `DescribeSpotPriceHistory page ${page}: its spotPriceHistorySet is not a list`);
	}

	return history.map((item: unknown, index) => {
		const where = `DescribeSpotPriceHistory page ${page} item ${index + 1}`;
		if (!isPlainObject(item)) {
			throw new MalformedAnswerError(region, `${where} is not an object`);
		}

		const usd = typeof item['SpotPrice'] === 'string' ? Number(item['SpotPrice']) : Number.NaN;
		const at = item['Timestamp'] instanceof Date ? item['Timestamp'].getTime() : Number.NaN;
		const {AvailabilityZone: availabilityZone, InstanceType: type, ProductDescription: product} = item;
		if (!Number.isFinite(usd) || usd <= 0 || typeof availabilityZone !== 'string' || typeof type !== 'string' || typeof product !== 'string' || !Number.isFinite(at)) {
			throw new MalformedAnswerError(region, `${where} lacks a positive price, an AZ, a type, a product or a time: expected all of them`);
		}

		// EC2-Classic-era accounts see `Linux/UNIX (Amazon VPC)`: the same product as `Linux/UNIX`.
		const plain = product.replace(/ \(Amazon VPC\)$/, '');
		const what = `${where}: ${type} ${plain} in ${availabilityZone} at ${dollars(usd)}/h`;
		if (at > now + clockSkewMs) {
			throw new ImplausibleAnswerError(region, `${what} dated ${new Date(at).toISOString()}, in the future: rejected`);
		}

		const range = spotRange({region, type, product: plain}, fallbackPrices);
		if (usd > range.high * (1 + 1e-9)) {
			throw new ImplausibleAnswerError(region, `${what} is more than EC2 charges for it on demand (at most ${dollars(range.high)}/h): rejected`);
		}

		if (usd < range.low * (1 - 1e-9)) {
			throw new ImplausibleAnswerError(region, `${what} is under a tenth of what EC2 charges for it on demand (at least ${dollars(range.low)}/h): rejected`);
		}

		return {availabilityZone, type, product: plain, usd, at};
	});
}
