import {describe, expect, it} from 'vitest';
import {createPriceBook, onDemandKey, onDemandQueryOf, overrideOf, spotKey} from '../../source/domain/pricing.js';

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

	it('estimates a type no source prices at the highest price known for its size, else the highest known', () => {
		const book = createPriceBook({overrides: {}, table});
		expect(book.price({region: 'us-east-1', type: 'zz9.xlarge'})).toEqual({usd: 0.526, source: 'estimate'});
		expect(book.price({region: 'us-east-1', type: 'zz9.large'})).toEqual({usd: 0.096, source: 'estimate'});
		expect(book.price({region: 'us-east-1', type: 'zz9.huge'})).toEqual({usd: 0.526, source: 'estimate'});
		// An unknown platform is not priced as Linux.
		expect(book.price({region: 'us-east-1', type: 'm5.large', platformDetails: 'Plan 9'})?.source).toBe('estimate');
		expect(createPriceBook({overrides: {}, table: {}}).price(linux)).toBeUndefined();
	});
});
