import realStringWidth from 'string-width';
import {describe, expect, it} from 'vitest';
import stringWidth, {graphemes, narrowRanges} from '../../source/ui/text-width.js';

// The bundle gives Ink this stringWidth in place of the real one: it must agree with it everywhere.
describe('the dashboard\'s fast string-width', () => {
	it('counts one column for each character it handles itself, as string-width does', () => {
		const wrong: string[] = [];
		for (const [from, to] of narrowRanges) {
			for (let code = from; code <= to; code++) {
				const text = `a${String.fromCodePoint(code)}b`;
				if (realStringWidth(text) !== 3 || stringWidth(text) !== 3) {
					wrong.push(`U+${code.toString(16)}: ${realStringWidth(text)}`);
				}
			}
		}

		expect(wrong).toEqual([]);
	});

	it('agrees with string-width on the dashboard\'s text, colour codes, hyperlinks and text it hands over', () => {
		const samples = [
			'',
			'› dev        ACTIVE   $2.34/$5    4/∞ ▯▯▯▮▮ 0.0%/2.0% 30m ▁▂▃▅▇ $2.34',
			'\u001B[7m\u001B[36m› \u001B[39m\u001B[1mdev\u001B[22m ─┼─ ↑↓ ≤ −1 … ·\u001B[27m',
			'\u001B]8;;https://example.com\u0007link\u001B]8;;\u0007',
			'環境 staging',
			'dev 🚀 up',
			'e\u0301 café',
			'ｆｕｌｌ',
			'a\u00ADb',
			'tab\there',
			'◽◾',
		];
		for (const sample of samples) {
			expect(stringWidth(sample), JSON.stringify(sample)).toBe(realStringWidth(sample));
		}
	});

	it('passes options it does not handle to string-width', () => {
		expect(stringWidth('─│', {ambiguousIsNarrow: false})).toBe(realStringWidth('─│', {ambiguousIsNarrow: false}));
		expect(stringWidth('\u001B[1mx\u001B[22m', {countAnsiEscapeCodes: true})).toBe(realStringWidth('\u001B[1mx\u001B[22m', {countAnsiEscapeCodes: true}));
	});
});

// The bundle gives Ink's colour-code tokenizer these graphemes in place of Intl.Segmenter's.
describe('the dashboard\'s graphemes', () => {
	const segmenter = new Intl.Segmenter(undefined, {granularity: 'grapheme'});
	const expected = (text: string) => Array.from(segmenter.segment(text), ({segment, index}) => ({segment, index}));
	const actual = (text: string) => Array.from(graphemes(text), ({segment, index}) => ({segment, index}));

	it('are Intl.Segmenter\'s for every character it handles itself, next to each other and to colour codes', () => {
		const all = narrowRanges.flatMap(([from, to]) => Array.from({length: to - from + 1}, (_, offset) => String.fromCodePoint(from + offset))).join('');
		expect(actual(all)).toEqual(expected(all));
		expect(actual(`\u001B[1m${all}\u001B[22m\u001B]8;;https://example.com\u0007x\u001B]8;;\u0007`)).toEqual(expected(`\u001B[1m${all}\u001B[22m\u001B]8;;https://example.com\u0007x\u001B]8;;\u0007`));
	});

	it('are Intl.Segmenter\'s for text that needs it: combining marks, emoji, flags, CJK, CR LF, Hangul', () => {
		for (const sample of ['e\u0301 café', 'dev 🚀 up', '👩\u200D💻 ok', '🇩🇪🇫🇷', '環境 staging', 'a\r\nb', '\u1100\u1161\u11A8', '✔\uFE0F done', '\u001B[31m\u0301x\u001B[39m']) {
			expect(actual(sample), JSON.stringify(sample)).toEqual(expected(sample));
		}
	});
});
