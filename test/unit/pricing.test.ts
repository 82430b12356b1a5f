import {describe, expect, it} from 'vitest';
import {createPriceBook, onDemandKey, onDemandQueryOf, overrideOf, spotKey, volumeProblem} from '../../source/domain/pricing.js';

const table = {'m5.large': 0.096, 'm5.xlarge': 0.192, 'g4dn.xlarge': 0.526, 'c5.large': 0.085};
const linux = {region: 'us-east-1', type: 'm5.large'};

describe('the price of an instance', () => {
	it('takes a per-region override over one for every region, and either over every other source', () => {
		const overrides = {'m5.large': 0.2, 'eu-west-1': {'m5.large': 0.3}};
		const book = createPriceBook({overrides, table, onDemand: new Map([[onDemandKey(onDemandQueryOf({region: 'eu-west-1', type: 'm5.large'})!), 0.107]])});
		expect(book.price({region: 'eu-west-1', type: 'm5.large'})).toEqual({usd: 0.3, source: 'override'});
		expect(book.price({region: 'us-west-2', type: 'm5.large'})).toEqual({usd: 0.2, source: 'override'});
		expect(overrideOf(overrides, 'eu-west-1', 'c5.large')).toBeUndefined();
		// A type called `constructor.x` or a region called `constructor` finds nothing inherited.
		expect(overrideOf(overrides, 'constructor', 'constructor.x')).toBeUndefined();
	});

	it("prices on demand from the Price List by region, OS and tenancy; the shipped table only for Linux on shared hardware", () => {
		const key = (region: string, platformDetails: string, tenancy = 'default') => onDemandKey(onDemandQueryOf({region, type: 'm5.large', platformDetails, tenancy})!);
		const onDemand = new Map<string, number | null>([
			[key('eu-west-1', 'Linux/UNIX'), 0.107],
			[key('us-east-1', 'Windows'), 0.188],
			[key('us-east-1', 'Linux/UNIX', 'dedicated'), 0.1056],
			[key('ap-south-1', 'Linux/UNIX'), null],
		]);
		const book = createPriceBook({overrides: {}, table, onDemand});
		expect(book.price({region: 'eu-west-1', type: 'm5.large', platformDetails: 'Linux/UNIX'})).toEqual({usd: 0.107, source: 'price-list'});
		expect(book.price({region: 'us-east-1', type: 'm5.large', platformDetails: 'Windows'})).toEqual({usd: 0.188, source: 'price-list'});
		expect(book.price({region: 'us-east-1', type: 'm5.large', tenancy: 'dedicated'})).toEqual({usd: 0.1056, source: 'price-list'});
		// Not in the Price List cache (unreachable, or no product): the shipped table for Linux...
		expect(book.price(linux)).toEqual({usd: 0.096, source: 'table'});
		expect(book.price({region: 'ap-south-1', type: 'm5.large'})).toEqual({usd: 0.096, source: 'table'});
		// ...but a Windows instance at a Linux price would read low: the estimate, marked.
		const windows = book.price({region: 'us-west-2', type: 'm5.large', platformDetails: 'Windows'});
		expect(windows?.source).toBe('estimate');
		expect(windows!.usd).toBeGreaterThanOrEqual(0.188);
	});

	it('prices a spot instance at its spot price by AZ and product, never at on-demand; without one, on-demand bounds it as an estimate', () => {
		const spot = new Map([[spotKey('us-east-1', 'us-east-1a', 'm5.large', 'Linux/UNIX'), 0.035]]);
		const book = createPriceBook({overrides: {}, table, spot});
		expect(book.price({...linux, lifecycle: 'spot', availabilityZone: 'us-east-1a'})).toEqual({usd: 0.035, source: 'spot'});
		expect(book.price({...linux, lifecycle: 'spot', availabilityZone: 'us-east-1b'})).toEqual({usd: 0.096, source: 'estimate'});
		expect(book.price({...linux, lifecycle: 'on-demand', availabilityZone: 'us-east-1a'})).toEqual({usd: 0.096, source: 'table'});
	});

	it('estimates a type no source prices at an upper bound of what EC2 charges for it, accelerated families included', () => {
		const book = createPriceBook({overrides: {}, table});
		// p4d.24xlarge costs $32.77/h on demand in us-east-1: the estimate is never under it (it was $12.24).
		const p4d = book.price({region: 'us-east-1', type: 'p4d.24xlarge'})!;
		expect(p4d.source).toBe('estimate');
		expect(p4d.usd).toBeGreaterThanOrEqual(32.77);
		// A family the table knows scales with its size: m5.24xlarge is 24 m5.xlarge ($4.608/h in us-east-1),
		// and a quarter more (the table may be out of date); elsewhere up to 1.7 times that (the dearest
		// region, sa-east-1, is about 1.6 times us-east-1).
		expect(book.price({region: 'us-east-1', type: 'm5.24xlarge'})!.usd).toBeCloseTo(24 * 0.192 * 1.25, 9);
		expect(book.price({region: 'sa-east-1', type: 'm5.24xlarge'})!.usd).toBeCloseTo(24 * 0.192 * 1.25 * 1.7, 9);
		// A series nobody knows: the dearest rate of any series, $2.50 an xlarge.
		expect(book.price({region: 'us-east-1', type: 'zz9.xlarge'})).toEqual({usd: 2.5, source: 'estimate'});
		// An unknown platform is not priced as Linux: it bears the dearest licence (SQL Server Enterprise).
		const plan9 = book.price({region: 'us-east-1', type: 'm5.large', platformDetails: 'Plan 9'})!;
		expect(plan9.source).toBe('estimate');
		expect(plan9.usd).toBeGreaterThan(0.096 + 0.75);
		expect(createPriceBook({overrides: {}, table: {}}).price(linux)).toBeUndefined();
	});

	it('errs high for every kind of instance EC2 sells (us-east-1 list prices, Linux, the table knowing none of them)', () => {
		const book = createPriceBook({overrides: {}, table: {'t3.micro': 0.0104}});
		const real: Record<string, number> = {
			'p5.48xlarge': 98.32, 'p4de.24xlarge': 40.9657, 'p4d.24xlarge': 32.7726, 'p3dn.24xlarge': 31.212, 'p3.2xlarge': 3.06, 'g6e.xlarge': 1.861,
			'g5.xlarge': 1.006, 'g5.48xlarge': 16.288, 'gr6.4xlarge': 1.5392, 'inf2.xlarge': 0.7582, 'inf2.48xlarge': 12.9813, 'trn1.32xlarge': 21.5, 'dl1.24xlarge': 13.1095,
			'f1.2xlarge': 1.65, 'vt1.24xlarge': 5.2, 'x2iedn.32xlarge': 26.676, 'x1e.xlarge': 0.834, 'u-24tb1.112xlarge': 218.4, 'u-6tb1.56xlarge': 46.4,
			'i3en.24xlarge': 10.848, 'i3en.large': 0.226, 'd3en.xlarge': 0.526, 'hpc7a.96xlarge': 7.2, 'm7i.48xlarge': 9.6768, 'c7gn.16xlarge': 3.9936,
			'r7iz.32xlarge': 11.904, 'z1d.12xlarge': 4.464, 'mac2-m2pro.metal': 1.56, 't3.2xlarge': 0.3328, 't4g.nano': 0.0042,
		};
		for (const [type, usd] of Object.entries(real)) {
			const estimate = book.price({region: 'us-east-1', type})!;
			expect(estimate.source, type).toBe('estimate');
			expect(estimate.usd, type).toBeGreaterThanOrEqual(usd);
		}
	});
});

describe('prices that cannot be true', () => {
	const spotAt = (usd: number, region = 'us-east-1') => createPriceBook({overrides: {}, table, spot: new Map([[spotKey(region, `${region}a`, 'm5.large', 'Linux/UNIX'), usd]])});
	const spotInstance = (region = 'us-east-1') => ({region, type: 'm5.large', lifecycle: 'spot' as const, availabilityZone: `${region}a`});

	it('a spot price above its on-demand price is not believed: the on-demand price counts, marked, and the book says why', () => {
		const book = spotAt(1_000_000_000);
		expect(book.price(spotInstance())).toEqual({usd: 0.096, source: 'estimate'});
		// The shipped table may be out of date: its price and a quarter bound a spot price where the Price List has not answered.
		expect(book.rejections!()).toEqual(['the spot price of m5.large Linux/UNIX in us-east-1a, $1000000000/h, is above its on-demand price ($0.12/h at most): not believed, counted at $0.096/h (~)']);
	});

	it('a spot price under a tenth of its on-demand price hides nothing: the on-demand price counts, marked', () => {
		const book = spotAt(0.000_01);
		expect(book.price(spotInstance())).toEqual({usd: 0.096, source: 'estimate'});
		// The table's price may have been cut since it shipped (by half at most): a tenth of that half.
		expect(book.rejections!()[0]).toMatch(/\$0\.00001\/h, is under a tenth of its on-demand price \(\$0\.048\/h at least\)/);
		// A tenth of it or more is a spot price: AWS's deepest discount is 90%.
		expect(spotAt(0.0048).price(spotInstance())).toEqual({usd: 0.0048, source: 'spot'});
		expect(spotAt(0.096).price(spotInstance())).toEqual({usd: 0.096, source: 'spot'});
	});

	it('against the Price List\'s own on-demand price where it answered', () => {
		const onDemand = new Map([[onDemandKey(onDemandQueryOf({region: 'eu-west-1', type: 'm5.large'})!), 0.107]]);
		const book = createPriceBook({overrides: {}, table, onDemand, spot: new Map([[spotKey('eu-west-1', 'eu-west-1a', 'm5.large', 'Linux/UNIX'), 0.11]])});
		expect(book.price(spotInstance('eu-west-1'))).toEqual({usd: 0.107, source: 'estimate'});
		expect(book.rejections!()[0]).toMatch(/above its on-demand price \(\$0\.107\/h\)/);
	});

	it('a Price List price outside what EC2 charges for the type (a lie, or a damaged cache) is not believed: the shipped table counts, marked', () => {
		const key = onDemandKey(onDemandQueryOf({region: 'us-east-1', type: 'm5.large'})!);
		const book = createPriceBook({overrides: {}, table, onDemand: new Map([[key, 1_000_000_000]])});
		expect(book.price(linux)).toEqual({usd: 0.096, source: 'estimate'});
		expect(book.rejections!()[0]).toBe('the Price List\'s m5.large Linux in us-east-1 at $1000000000/h is outside what EC2 charges for it ($0.048 to $0.12/h): not believed');
		// An answer the engine refused (ImplausibleAnswer): counted the same way, with its reason.
		const refused = createPriceBook({overrides: {}, table, rejected: new Map([[key, 'Price List: refused']])});
		expect(refused.price(linux)).toEqual({usd: 0.096, source: 'estimate'});
		expect(refused.rejections!()).toEqual(['Price List: refused']);
	});

	it('an EBS volume past EBS\'s limits (64 TiB, 256,000 IOPS, 4,000 MiB/s) or under 1 GiB is impossible', () => {
		expect(volumeProblem({sizeGb: 65_536, iops: 256_000, throughputMbps: 4000})).toBeUndefined();
		expect(volumeProblem({sizeGb: 1e15})).toMatch(/a size of 1000000000000000 GiB: EBS volumes are 1 GiB to 64 TiB/);
		expect(volumeProblem({sizeGb: 0})).toMatch(/a size of 0 GiB/);
		expect(volumeProblem({sizeGb: 8, iops: 256_001})).toMatch(/256001 IOPS/);
		expect(volumeProblem({sizeGb: 8, throughputMbps: 4001})).toMatch(/4001 MiB\/s/);
	});
});
