import {describe, expect, it} from 'vitest';
import {age, ageColour, agentsCell, compactMoney, fit, flow, gauge, pad, sparkline, spendCell} from '../../source/ui/cells.js';
import {makeTheme} from '../../source/ui/theme.js';

const {glyphs} = makeTheme();
const asciiGlyphs = makeTheme({ascii: true}).glyphs;

describe('gauge', () => {
	it('fills the bar by increase against threshold', () => {
		expect(gauge({increasePct: 1.2, thresholdPct: 2, windowMinutes: 30}, glyphs)).toEqual({bar: '▮▮▮▮▮▮▯▯▯▯', figures: '1.2%/2.0% 30m', colour: 'green'});
		expect(gauge({increasePct: 1.6, thresholdPct: 2, windowMinutes: 30}, glyphs).colour).toBe('yellow');
		expect(gauge({increasePct: 3.6, thresholdPct: 2, windowMinutes: 30}, glyphs)).toEqual({bar: '▮▮▮▮▮▮▮▮▮▮', figures: '3.6%/2.0% 30m', colour: 'red'});
	});

	it('shows a tiny rise as one mark, a fall or no baseline as none', () => {
		expect(gauge({increasePct: 0.01, thresholdPct: 2, windowMinutes: 30}, glyphs).bar).toBe('▮▯▯▯▯▯▯▯▯▯');
		expect(gauge({increasePct: -5, thresholdPct: 2, windowMinutes: 30}, glyphs).bar).toBe('▯▯▯▯▯▯▯▯▯▯');
		expect(gauge({increasePct: null, thresholdPct: 2, windowMinutes: 30}, glyphs)).toEqual({bar: '▯▯▯▯▯▯▯▯▯▯', figures: '--/2.0% 30m', colour: 'gray'});
	});

	it('uses # and - under --ascii', () => {
		expect(gauge({increasePct: 1, thresholdPct: 2, windowMinutes: 30}, asciiGlyphs).bar).toBe('#####-----');
	});
});

describe('sparkline', () => {
	it('scales the newest samples between their min and max', () => {
		expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8], glyphs, 8)).toBe('▁▂▃▄▅▆▇█');
		expect(sparkline([9, 9, 1, 8], glyphs, 2)).toBe('▁█');
	});

	it('draws a flat line low and nothing without samples', () => {
		expect(sparkline([2, 2, 2], glyphs, 10)).toBe('▁▁▁');
		expect(sparkline([], glyphs, 10)).toBe('');
	});

	it('has an ASCII ramp', () => {
		expect(sparkline([0, 7], asciiGlyphs, 5)).toBe('_#');
	});
});

describe('cells', () => {
	it('agents running/allowed: ∞, N, mon', () => {
		expect(agentsCell({running: 4, allowed: 'all'}, glyphs).text).toBe('4/∞');
		expect(agentsCell({running: 3, allowed: 2}, glyphs)).toEqual({text: '3/2', over: true});
		expect(agentsCell({running: 0, allowed: 'monitor-only'}, glyphs)).toEqual({text: '0/mon', over: false});
		expect(agentsCell({running: 6, allowed: 'all'}, glyphs, true).text).toBe('6');
		expect(agentsCell({running: 4, allowed: 'all'}, asciiGlyphs).text).toBe('4/all');
	});

	it('spend against the cap, with estimates and unpriced marked and colour by closeness', () => {
		expect(spendCell({hourlyUsd: 2.34, maxHourlyUsd: 5, unpriced: 0, estimated: 0})).toEqual({text: '$2.34/$5', colour: undefined});
		expect(spendCell({hourlyUsd: 4, maxHourlyUsd: 5, unpriced: 1, estimated: 0})).toEqual({text: '$4.00+/$5', colour: 'yellow'});
		// An estimate is counted in the figure and marked `~`, so the user knows it is not a price.
		expect(spendCell({hourlyUsd: 4.5, maxHourlyUsd: 5, unpriced: 0, estimated: 2})).toEqual({text: '~$4.50/$5', colour: 'yellow'});
		expect(spendCell({hourlyUsd: 6, maxHourlyUsd: 5, unpriced: 0, estimated: 0}).colour).toBe('red');
		expect(compactMoney(2.5)).toBe('$2.50');
		expect(compactMoney(1200)).toBe('$1,200');
	});

	it('ages and their colour against the interval', () => {
		expect(age(10_000, 7_000)).toBe('3s');
		expect(age(200_000, 0)).toBe('3m');
		expect(age(0, null)).toBe('never');
		expect(ageColour(10_000, 0, 15, null)).toBe('green');
		expect(ageColour(40_000, 0, 15, null)).toBe('yellow');
		expect(ageColour(70_000, 0, 15, null)).toBe('red');
		expect(ageColour(10_000, 0, 15, 'boom')).toBe('yellow');
		expect(ageColour(10_000, null, 15, 'boom')).toBe('red');
	});

	it('fits, pads and flows text', () => {
		expect(fit('production', 6)).toBe('produ…');
		expect(pad('dev', 5)).toBe('dev  ');
		expect(pad('$1', 4, 'right')).toBe('  $1');
		const cells = [{width: 5}, {width: 5}, {width: 5}];
		expect(flow(cells, 12, 2).map(line => line.length)).toEqual([2, 1]);
		expect(flow(cells, 5, 2).map(line => line.length)).toEqual([1, 1]);
	});
});
