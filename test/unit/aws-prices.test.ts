import {describe, expect, test} from 'vitest';
import {ImplausibleAnswerError} from '../../source/providers/aws/answers.js';
import {ebsRatesOf, onDemandPriceOf} from '../../source/providers/aws/pricing.js';
import {ebsProducts, ebsDocument, productDocument} from '../helpers/price-list.js';

// The Price List answers' checks, on documents of the real shape (test/helpers/price-list.ts); the
// same through the SDK against a loopback Price List are in test/integration/aws-pricing.test.ts.
const query = {region: 'us-east-1', type: 'm5.large', operatingSystem: 'Linux', preInstalledSw: 'NA', tenancy: 'Shared'};
const m5 = (usd: string, region = 'us-east-1') => productDocument({region, type: 'm5.large', operatingSystem: 'Linux', tenancy: 'Shared', usd});

describe('GetProducts: on-demand prices', () => {
	test('a product of another region, or one that does not say its region, is not this region\'s price', () => {
		expect(onDemandPriceOf([m5('0.0960000000')], query)).toBe(0.096);
		// eu-west-1's price in an answer about us-east-1: skipped, and with nothing else the answer is malformed.
		expect(() => onDemandPriceOf([m5('0.1070000000', 'eu-west-1')], query)).toThrow(/none with an hourly USD on-demand price for it: expected Price List product documents with regionCode us-east-1/);
		const regionless = JSON.parse(m5('0.0960000000')) as {product: {attributes: Record<string, string>}};
		delete regionless.product.attributes['regionCode'];
		expect(() => onDemandPriceOf([JSON.stringify(regionless)], query)).toThrow(/none with an hourly USD on-demand price/);
		expect(onDemandPriceOf([JSON.stringify(regionless), m5('0.0960000000')], query)).toBe(0.096);
	});

	test('a price outside what EC2 charges for the type is an implausible answer: never a price, never cached', () => {
		for (const usd of ['1000000000.0000000000', '0.1300000000', '0.0000100000']) {
			const error = (() => {
				try {
					return onDemandPriceOf([m5(usd)], query);
				} catch (caught) {
					return caught;
				}
			})();
			expect(error, usd).toBeInstanceOf(ImplausibleAnswerError);
			expect((error as ImplausibleAnswerError).detail).toMatch(/^GetProducts answered \$[\d.]+\/h for m5\.large Linux Shared in us-east-1, outside what EC2 charges for it \(\$0\.048 to \$0\.12\/h\): rejected$/);
		}

		// Windows with SQL Server Enterprise costs far more than Linux: within its own range.
		expect(onDemandPriceOf([productDocument({region: 'us-east-1', type: 'm5.large', operatingSystem: 'Windows', preInstalledSw: 'SQL Ent', tenancy: 'Shared', usd: '0.9380000000'})], {...query, operatingSystem: 'Windows', preInstalledSw: 'SQL Ent'})).toBe(0.938);
	});
});

describe('GetProducts: EBS rates', () => {
	test('a rate outside what EBS charges is an implausible answer; the shipped table is used instead', () => {
		const rates = (gp2: string) => ebsProducts('eu-west-1', {
			gb: {gp2, gp3: '0.0880000000'}, gp3Iops: '0.0055000000', gp3ThroughputGiBps: '45.0560000000', io1Iops: '0.0720000000', io2Iops: ['0.0720000000', '0.0504000000', '0.0352800000'],
		}).map(product => ebsDocument(product));
		expect(ebsRatesOf(rates('0.1100000000'), 'eu-west-1').gbMonth['gp2']).toBe(0.11);
		expect(() => ebsRatesOf(rates('1000000.0000000000'), 'eu-west-1')).toThrow(ImplausibleAnswerError);
		expect(() => ebsRatesOf(rates('1000000.0000000000'), 'eu-west-1')).toThrow('GetProducts answered an EBS rate of $1000000 a month for gb gp2 in eu-west-1, outside what EBS charges ($0.005 to $0.5): rejected');
	});
});
