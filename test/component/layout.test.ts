import {describe, expect, it} from 'vitest';
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

	it('gives the trend the spare width on wide terminals', () => {
		expect(columnWidths(120, widest).trend).toBe(30);
	});
});
