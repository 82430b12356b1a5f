import {describe, expect, it} from 'vitest';
import {byText, grouped, money, moneyPair} from '../../source/domain/format.js';

describe('grouped (thousands without ICU)', () => {
	it('separates thousands as toLocaleString(\'en-US\') does, rounding as toFixed does, zero unsigned', () => {
		const values = [0, -0, 0.004, -0.004, 0.005, 1, 9.999, 999.995, 1000, -1000, 1234.5, 12_345.675, 999_999.999, 1_000_000, -1_234_567.891, 2 ** 53, 1e21, Number.NaN, Number.POSITIVE_INFINITY];
		for (let index = 0; index < 500; index++) {
			values.push((((index * 7919) % 10_007) / 10_007 - 0.3) * 10 ** (index % 12));
		}

		for (const value of values) {
			for (const digits of [0, 2]) {
				// Rounded first as toFixed rounds; a zero has no sign.
				const rounded = Number.isFinite(value) && Math.abs(value) < 1e21 ? Number(value.toFixed(digits)) || 0 : value;
				expect(grouped(value, digits), `${value} ${digits}`).toBe(rounded.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits}));
			}
		}
	});

	it('is what money and moneyPair show for large amounts', () => {
		expect(money(1483.4)).toBe('$1,483');
		expect(money(-25_000.6)).toBe('$-25,001');
		expect(moneyPair(1234.41, 1234.44)).toEqual(['$1,234.41', '$1,234.44']);
	});
});

describe('byText', () => {
	it('orders by characters, whatever the locale: upper case before lower, ties are 0', () => {
		expect(['staging', 'Dev', 'dev', 'qa-2', 'qa-10', 'constructor'].sort(byText)).toEqual(['Dev', 'constructor', 'dev', 'qa-10', 'qa-2', 'staging']);
		expect(byText('i-0a', 'i-0a')).toBe(0);
	});
});
