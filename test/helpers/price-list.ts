import http from 'node:http';
import type net from 'node:net';
import {afterAll, beforeAll, beforeEach} from 'vitest';

/**
 * The Price List Query API for tests: moto does not implement it, so a loopback server answers
 * `GetProducts` with recorded answers of the real shape (a `PriceList` array of JSON strings, each
 * a product document with `terms.OnDemand.<term>.priceDimensions.<dim>.pricePerUnit.USD`), chosen
 * by the request's TERM_MATCH filters. `requests` counts calls; `reply` can answer something else.
 */
export type Product = {region: string; type: string; operatingSystem: string; tenancy: string; preInstalledSw?: string; usd: string};

/**
 * One EBS rate as the Price List has it: productFamily `Storage` (usagetype `EBS:VolumeUsage.<type>`,
 * unit GB-Mo), `System Operation` (`EBS:VolumeP-IOPS.gp3|piops|io2[.tier2|.tier3]`, IOPS-Mo) or
 * `Provisioned Throughput` (`EBS:VolumeP-Throughput.gp3`, GiBps-mo), with volumeApiName and group.
 */
export type EbsProduct = {region: string; family: 'Storage' | 'System Operation' | 'Provisioned Throughput'; volumeApiName: string; usageType: string; group?: string; unit: string; usd: string};

const usagePrefixes: Record<string, string> = {'us-east-1': '', 'eu-west-1': 'EU-', 'us-west-2': 'USW2-', 'ap-southeast-2': 'APS2-'};

/** A region's EBS rates in the Price List's shape ($ per month; throughput per GiBps-month). */
export function ebsProducts(region: string, rates: {gb: Record<string, string>; gp3Iops: string; gp3ThroughputGiBps: string; io1Iops: string; io2Iops: [string, string, string]}): EbsProduct[] {
	const prefix = usagePrefixes[region] ?? '';
	return [
		...Object.entries(rates.gb).map(([type, usd]): EbsProduct => ({region, family: 'Storage', volumeApiName: type, usageType: `${prefix}EBS:VolumeUsage${type === 'standard' ? '' : type === 'io1' ? '.piops' : `.${type}`}`, unit: 'GB-Mo', usd})),
		{region, family: 'System Operation', volumeApiName: 'gp3', usageType: `${prefix}EBS:VolumeP-IOPS.gp3`, group: 'EBS IOPS', unit: 'IOPS-Mo', usd: rates.gp3Iops},
		{region, family: 'System Operation', volumeApiName: 'io1', usageType: `${prefix}EBS:VolumeP-IOPS.piops`, group: 'EBS IOPS', unit: 'IOPS-Mo', usd: rates.io1Iops},
		{region, family: 'System Operation', volumeApiName: 'io2', usageType: `${prefix}EBS:VolumeP-IOPS.io2`, group: 'EBS IOPS', unit: 'IOPS-Mo', usd: rates.io2Iops[0]},
		{region, family: 'System Operation', volumeApiName: 'io2', usageType: `${prefix}EBS:VolumeP-IOPS.io2.tier2`, group: 'EBS IOPS Tier 2', unit: 'IOPS-Mo', usd: rates.io2Iops[1]},
		{region, family: 'System Operation', volumeApiName: 'io2', usageType: `${prefix}EBS:VolumeP-IOPS.io2.tier3`, group: 'EBS IOPS Tier 3', unit: 'IOPS-Mo', usd: rates.io2Iops[2]},
		{region, family: 'Provisioned Throughput', volumeApiName: 'gp3', usageType: `${prefix}EBS:VolumeP-Throughput.gp3`, group: 'EBS Throughput', unit: 'GiBps-mo', usd: rates.gp3ThroughputGiBps},
	];
}

/** us-east-1 (the shipped table's rates) and eu-west-1 (higher), as the Price List answers them. */
export const recordedEbs: EbsProduct[] = [
	...ebsProducts('us-east-1', {
		gb: {gp2: '0.1000000000', gp3: '0.0800000000', io1: '0.1250000000', io2: '0.1250000000', st1: '0.0450000000', sc1: '0.0150000000', standard: '0.0500000000'},
		gp3Iops: '0.0050000000', gp3ThroughputGiBps: '40.9600000000', io1Iops: '0.0650000000', io2Iops: ['0.0650000000', '0.0455000000', '0.0320000000'],
	}),
	...ebsProducts('eu-west-1', {
		gb: {gp2: '0.1100000000', gp3: '0.0880000000', io1: '0.1380000000', io2: '0.1380000000', st1: '0.0500000000', sc1: '0.0168000000', standard: '0.0550000000'},
		gp3Iops: '0.0055000000', gp3ThroughputGiBps: '45.0560000000', io1Iops: '0.0720000000', io2Iops: ['0.0720000000', '0.0504000000', '0.0352800000'],
	}),
];

/** One EBS product document as GetProducts returns it (trimmed, of the real shape). */
export function ebsDocument(product: EbsProduct): string {
	return priceDocument(`SKU${Buffer.from(`${product.region}${product.usageType}`).toString('hex').slice(-12).toUpperCase()}`, product.family, {
		regionCode: product.region, location: locations[product.region] ?? product.region, locationType: 'AWS Region', servicecode: 'AmazonEC2',
		usagetype: product.usageType, volumeApiName: product.volumeApiName, ...(product.group ? {group: product.group, groupDescription: product.group} : {}),
		...(product.family === 'Storage' ? {storageMedia: product.volumeApiName.endsWith('1') && product.volumeApiName !== 'io1' ? 'HDD-backed' : 'SSD-backed', maxVolumeSize: '16 TiB'} : {}),
		operation: '', servicename: 'Amazon Elastic Compute Cloud',
	}, {unit: product.unit, usd: product.usd, description: `$${Number(product.usd)} per ${product.unit} of ${product.volumeApiName} in ${locations[product.region] ?? product.region}`});
}

/** A GetProducts document: the product, and one on-demand term with one price dimension. */
function priceDocument(sku: string, productFamily: string, attributes: Record<string, string>, price: {unit: string; usd: string; description: string}): string {
	return JSON.stringify({
		product: {productFamily, attributes, sku},
		serviceCode: 'AmazonEC2',
		terms: {
			OnDemand: {
				[`${sku}.JRTCKXETXF`]: {
					priceDimensions: {
						[`${sku}.JRTCKXETXF.6YS6EN2CT7`]: {
							unit: price.unit, endRange: 'Inf', beginRange: '0', appliesTo: [], rateCode: `${sku}.JRTCKXETXF.6YS6EN2CT7`,
							description: price.description,
							pricePerUnit: {USD: price.usd},
						},
					},
					sku, effectiveDate: '2026-11-01T00:00:00Z', offerTermCode: 'JRTCKXETXF', termAttributes: {},
				},
			},
		},
		version: '20261101000000',
		publicationDate: '2026-11-01T00:00:00Z',
	});
}

export type PriceListServer = {
	url: string;
	requests: Array<Record<string, string>>;
	/** Answers a request instead of the recorded products (status, body). */
	reply: ((filters: Record<string, string>) => {status: number; body: string} | undefined) | undefined;
	products: Product[];
	ebs: EbsProduct[];
	close(): Promise<void>;
};

const locations: Record<string, string> = {'us-east-1': 'US East (N. Virginia)', 'eu-west-1': 'EU (Ireland)', 'us-west-2': 'US West (Oregon)', 'ap-southeast-2': 'Asia Pacific (Sydney)'};

/** One product document as GetProducts returns it (trimmed of attributes envwatch does not read, but of the real shape). */
export function productDocument(product: Product): string {
	return priceDocument(`SKU${Buffer.from(`${product.region}${product.type}${product.operatingSystem}${product.tenancy}`).toString('hex').slice(0, 12).toUpperCase()}`, 'Compute Instance', {
		instanceType: product.type, regionCode: product.region, location: locations[product.region] ?? product.region, locationType: 'AWS Region',
		operatingSystem: product.operatingSystem, tenancy: product.tenancy, preInstalledSw: product.preInstalledSw ?? 'NA',
		capacitystatus: 'Used', licenseModel: 'No License required', operation: product.operatingSystem === 'Windows' ? 'RunInstances:0002' : 'RunInstances',
		servicecode: 'AmazonEC2', usagetype: `${product.tenancy === 'Dedicated' ? 'DedicatedUsage' : 'BoxUsage'}:${product.type}`, vcpu: '2', memory: '8 GiB',
	}, {unit: 'Hrs', usd: product.usd, description: `$${Number(product.usd)} per On Demand ${product.operatingSystem} ${product.type} Instance Hour`});
}

export async function startPriceList(products: Product[] = [], ebs: EbsProduct[] = recordedEbs): Promise<PriceListServer> {
	const server: PriceListServer = {url: '', requests: [], reply: undefined, products, ebs, close: async () => undefined};
	const http_ = http.createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', chunk => chunks.push(chunk as Buffer));
		request.on('end', () => {
			const send = (status: number, body: string) => {
				response.writeHead(status, {'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'price-list-test'});
				response.end(body);
			};

			if (request.headers['x-amz-target'] !== 'AWSPriceListService.GetProducts') {
				send(400, JSON.stringify({__type: 'InvalidParameterException', message: `not served here: ${String(request.headers['x-amz-target'])}`}));
				return;
			}

			const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {Filters?: Array<{Field: string; Value: string}>};
			const filters = Object.fromEntries((body.Filters ?? []).map(filter => [filter.Field, filter.Value]));
			server.requests.push(filters);
			const replied = server.reply?.(filters);
			if (replied) {
				send(replied.status, replied.body);
				return;
			}

			if (filters['productFamily'] !== undefined) {
				const rates = server.ebs.filter(product => product.family === filters['productFamily'] && product.region === filters['regionCode'] && (filters['locationType'] ?? 'AWS Region') === 'AWS Region');
				send(200, JSON.stringify({FormatVersion: 'aws_v1', PriceList: rates.map(product => ebsDocument(product))}));
				return;
			}

			const matching = server.products.filter(product => filters['instanceType'] === product.type && filters['regionCode'] === product.region
				&& filters['operatingSystem'] === product.operatingSystem && filters['tenancy'] === product.tenancy && (filters['preInstalledSw'] ?? 'NA') === (product.preInstalledSw ?? 'NA'));
			send(200, JSON.stringify({FormatVersion: 'aws_v1', PriceList: matching.map(product => productDocument(product))}));
		});
	});
	await new Promise<void>(resolve => {
		http_.listen(0, '127.0.0.1', resolve);
	});
	server.url = `http://127.0.0.1:${(http_.address() as net.AddressInfo).port}`;
	server.close = async () => new Promise(resolve => {
		http_.closeAllConnections();
		http_.close(() => resolve());
	});
	return server;
}

/** A Price List server for the test file; its requests and reply are cleared before each test. */
export function usePriceList(products: Product[], ebs: EbsProduct[] = recordedEbs): PriceListServer {
	const handle = {} as PriceListServer;
	let server: PriceListServer | undefined;
	beforeAll(async () => {
		server = await startPriceList(products, ebs);
		Object.assign(handle, {url: server.url});
		Object.defineProperties(handle, {
			requests: {get: () => server!.requests, set: value => (server!.requests = value), configurable: true},
			reply: {get: () => server!.reply, set: value => (server!.reply = value), configurable: true},
			products: {get: () => server!.products, set: value => (server!.products = value), configurable: true},
			ebs: {get: () => server!.ebs, set: value => (server!.ebs = value), configurable: true},
		});
	});
	beforeEach(() => {
		server!.requests.length = 0;
		server!.reply = undefined;
	});
	afterAll(async () => server?.close());
	return handle;
}
