import {describe, expect, it} from 'vitest';
import {markerParts, markerWidth, wrap} from '../../source/ui/cells.js';
import {columnWidths, plan, tableWidth} from '../../source/ui/layout.js';

const widest = {name: 10, spend: 10, agents: 5, figures: 13};
const base = {environments: 3, widest, billedLines: 2, panelLines: 0, keyBarLines: 1};

describe('plan', () => {
	it('80x24 shows everything and stays one line short of the terminal', () => {
		const layout = plan({...base, columns: 80, rows: 24});
		expect(layout.tooSmall).toBe(false);
		if (!layout.tooSmall) {
			expect(layout.widths.trend).toBeGreaterThan(0);
			expect(layout.widths.bar).toBe(10);
			expect(layout.showBilled).toBe(true);
			expect(layout.height).toBe(23);
		}
	});

	it('narrowing drops the trend, then the gauge bar, then the figures, then the billed line', () => {
		const at = (columns: number) => {
			const layout = plan({...base, columns, rows: 24});
			if (layout.tooSmall) {
				throw new Error('too small');
			}

			return {trend: layout.widths.trend > 0, bar: layout.widths.bar > 0, figures: layout.widths.figures > 0, billed: layout.showBilled};
		};

		expect(at(79)).toEqual({trend: false, bar: true, figures: true, billed: true});
		expect(at(60)).toEqual({trend: false, bar: false, figures: true, billed: true});
		expect(at(50)).toEqual({trend: false, bar: false, figures: false, billed: true});
		expect(at(45)).toEqual({trend: false, bar: false, figures: false, billed: false});
	});

	it('every line fits and every frame is shorter than the terminal, at any size', () => {
		for (let columns = 40; columns <= 160; columns += 7) {
			for (let rows = 12; rows <= 60; rows += 5) {
				const layout = plan({...base, columns, rows});
				if (!layout.tooSmall) {
					expect(tableWidth(layout.widths)).toBeLessThanOrEqual(columns);
					expect(layout.height).toBeLessThan(rows);
				}
			}
		}
	});

	it('below the minimum size it says so', () => {
		expect(plan({...base, columns: 39, rows: 24})).toEqual({tooSmall: true, need: {columns: 40, rows: 10}});
		expect(plan({...base, columns: 80, rows: 8}).tooSmall).toBe(true);
		expect(plan({...base, environments: 10, columns: 80, rows: 16}).tooSmall).toBe(true);
	});

	it('gives the trend the spare width on wide terminals: the table spans the terminal, as the rules do', () => {
		expect(columnWidths(120, widest).trend).toBe(55);
		expect(tableWidth(columnWidths(120, widest))).toBe(119);
		expect(tableWidth(columnWidths(200, widest))).toBe(199);
	});
});

describe('a panel takes its rows first', () => {
	it('never makes the frame as tall as the terminal, and says when its minimum does not fit', () => {
		for (let rows = 10; rows <= 30; rows++) {
			for (const min of [3, 6, 9]) {
				const layout = plan({...base, columns: 80, rows, panelLines: {min, want: min + 1}, selected: 2});
				if (layout.tooSmall) {
					continue;
				}

				expect(layout.height).toBeLessThan(rows);
				expect(layout.panelFits).toBe(rows - 1 - 1 - 1 >= min);
				expect(layout.panelNeedsRows).toBe(1 + 1 + min + 1);
				if (layout.panelFits) {
					expect(layout.bodyLines).toBeGreaterThanOrEqual(min);
				}

				// The selected row is the table's last to go.
				if (layout.rows.length > 0) {
					expect(layout.rows).toContain(2);
				}
			}
		}
	});
});

describe('wrap', () => {
	it('wraps at words, keeps the first line\'s indent, indents the rest, and cuts over-long words', () => {
		expect(wrap('  instances: i-0aaa000000000001, i-0aaa000000000002', 34, 4)).toEqual(['  instances: i-0aaa000000000001,', '    i-0aaa000000000002']);
		expect(wrap('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
		expect(wrap('short', 40)).toEqual(['short']);
	});
});

describe('the marker column: HELD PAUSED, or HELD+P where the full words would cost a column', () => {
	const held = {...widest, marker: 'HELD PAUSED'.length, markerCompact: 'HELD+P'.length};
	it.each([
		// 80 columns: the full words leave no room for the trend; the compact form keeps it.
		{columns: 80, compact: true},
		// 100 and more: room for both, the words in full.
		{columns: 100, compact: false},
		{columns: 120, compact: false},
	])('$columns columns: compact $compact, the trend kept', ({columns, compact}) => {
		const widths = columnWidths(columns, held);
		expect(widths.trend).toBeGreaterThan(0);
		expect(Boolean(widths.compactMarkers)).toBe(compact);
		expect(widths.held).toBe(compact ? 6 : 11);
		expect(tableWidth(widths)).toBeLessThanOrEqual(columns);
		// Without the compact form, 80 columns would lose the trend (what the row looked like before).
		expect(columnWidths(columns, {...held, markerCompact: undefined}).trend > 0).toBe(!compact);
	});

	it('the same parts, in full or compact, and their widths', () => {
		const both = {breaker: {trippedAt: 0, actor: 'auto', reason: 'breach'}, paused: true};
		expect(markerParts(both)).toEqual([{word: 'HELD', text: 'HELD'}, {word: 'PAUSED', text: ' PAUSED'}]);
		expect(markerParts(both, true)).toEqual([{word: 'HELD', text: 'HELD'}, {word: 'PAUSED', text: '+P'}]);
		expect(markerParts({paused: true}, true)).toEqual([{word: 'PAUSED', text: 'PAUSED'}]);
		expect([markerWidth([both, {paused: true}]), markerWidth([both, {paused: true}], true), markerWidth([{}])]).toEqual([11, 6, 0]);
	});
});

describe('the marker column at 40 columns', () => {
	it('HELD+P where HELD PAUSED would push the spend and agents past the edge', () => {
		const narrow = {...widest, marker: 'HELD PAUSED'.length, markerCompact: 'HELD+P'.length};
		const widths = columnWidths(40, narrow);
		expect(widths.compactMarkers).toBe(true);
		expect(tableWidth(widths)).toBeLessThanOrEqual(39);
		expect(tableWidth(columnWidths(40, {...narrow, markerCompact: undefined}))).toBeGreaterThan(39);
	});
});
