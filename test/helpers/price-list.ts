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

export type PriceListServer = {
	url: string;
	requests: Array<Record<string, string>>;
	/** Answers a request instead of the recorded products (status, body). */
	reply: ((filters: Record<string, string>) => {status: number; body: string} | undefined) | undefined;
	products: Product[];
	close(): Promise<void>;
};

const locations: Record<string, string> = {'us-east-1': 'US East (N. Virginia)', 'eu-west-1': 'EU (Ireland)', 'us-west-2': 'US West (Oregon)', 'ap-southeast-2': 'Asia Pacific (Sydney)'};

/** One product document as GetProducts returns it (trimmed of attributes envwatch does not read, but of the real shape). */
export function productDocument(product: Product): string {
	const sku = `SKU${Buffer.from(`${product.region}${product.type}${product.operatingSystem}${product.tenancy}`).toString('hex').slice(0, 12).toUpperCase()}`;
	return JSON.stringify({
		product: {
			productFamily: 'Compute Instance',
			attributes: {
				instanceType: product.type, regionCode: product.region, location: locations[product.region] ?? product.region, locationType: 'AWS Region',
				operatingSystem: product.operatingSystem, tenancy: product.tenancy, preInstalledSw: product.preInstalledSw ?? 'NA',
				capacitystatus: 'Used', licenseModel: 'No License required', operation: product.operatingSystem === 'Windows' ? 'RunInstances:0002' : 'RunInstances',
				servicecode: 'AmazonEC2', usagetype: `${product.tenancy === 'Dedicated' ? 'DedicatedUsage' : 'BoxUsage'}:${product.type}`, vcpu: '2', memory: '8 GiB',
			},
			sku,
		},
		serviceCode: 'AmazonEC2',
		terms: {
			OnDemand: {
				[`${sku}.JRTCKXETXF`]: {
					priceDimensions: {
						[`${sku}.JRTCKXETXF.6YS6EN2CT7`]: {
							unit: 'Hrs', endRange: 'Inf', beginRange: '0', appliesTo: [], rateCode: `${sku}.JRTCKXETXF.6YS6EN2CT7`,
							description: `$${Number(product.usd)} per On Demand ${product.operatingSystem} ${product.type} Instance Hour`,
							pricePerUnit: {USD: product.usd},
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

export async function startPriceList(products: Product[] = []): Promise<PriceListServer> {
	const server: PriceListServer = {url: '', requests: [], reply: undefined, products, close: async () => undefined};
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
export function usePriceList(products: Product[]): PriceListServer {
	const handle = {} as PriceListServer;
	let server: PriceListServer | undefined;
	beforeAll(async () => {
		server = await startPriceList(products);
		Object.assign(handle, {url: server.url});
		Object.defineProperties(handle, {
			requests: {get: () => server!.requests, set: value => (server!.requests = value), configurable: true},
			reply: {get: () => server!.reply, set: value => (server!.reply = value), configurable: true},
			products: {get: () => server!.products, set: value => (server!.products = value), configurable: true},
		});
	});
	beforeEach(() => {
		server!.requests.length = 0;
		server!.reply = undefined;
	});
	afterAll(async () => server?.close());
	return handle;
}
