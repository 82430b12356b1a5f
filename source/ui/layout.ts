/**
 * Decides what fits. Pure: terminal size and content in, a plan out. The frame is always at least
 * one line shorter than the terminal (Ink 6.8 clears the whole screen, scrollback included, when a
 * frame is as tall as the terminal), and every line fits the width (lines are cut, never wrapped).
 *
 * Narrowing drops, in order: the trend, the gauge bar, the gauge figures, the billed line. The
 * status word and the spend are never dropped; below the minimum size the dashboard says so.
 */

export const minColumns = 40;

export type ColumnWidths = {
	selector: number;
	name: number;
	status: number;
	/** 4 (`HELD`, a tripped breaker) when some environment's breaker is tripped, else 0. */
	held: number;
	spend: number;
	agents: number;
	/** 0 when the bar is dropped. */
	bar: number;
	/** 0 when the increase figures are dropped. */
	figures: number;
	/** 0 when the trend is dropped. */
	trend: number;
};

export type LayoutInput = {
	columns: number;
	rows: number;
	environments: number;
	/** Widest content of each measured column (header words included by the caller). */
	widest: {name: number; spend: number; agents: number; figures: number; held?: boolean};
	/** Lines the billed block wants at this width (0 when there is nothing to say). */
	billedLines: number;
	/** Lines of an open confirmation or help panel (replaces the events pane). */
	panelLines: number;
	/** Key bar lines at this width. */
	keyBarLines: number;
};

export type Layout =
	| {tooSmall: true; need: {columns: number; rows: number}}
	| {
		tooSmall: false;
		widths: ColumnWidths;
		showBilled: boolean;
		/** The dim rule that sets the global row apart. */
		showRule: boolean;
		/** Lines for the panel or the events pane (its title included). */
		bodyLines: number;
		/** Total lines the frame will have: always < rows. */
		height: number;
	};

const gaugeBar = 10;
const gap = 1;

export function columnWidths(columns: number, widest: LayoutInput['widest']): ColumnWidths {
	const base = {selector: 2, name: Math.min(Math.max(widest.name, 4), 16), status: 7, held: widest.held ? 4 : 0, spend: Math.max(widest.spend, 9), agents: Math.max(widest.agents, 6)};
	const fixed = base.selector + base.name + gap + base.status + (base.held > 0 ? gap + base.held : 0) + gap + base.spend + gap + base.agents;
	const figures = Math.max(widest.figures, 8);
	let room = columns - fixed - 1;
	const widths: ColumnWidths = {...base, bar: 0, figures: 0, trend: 0};
	// Each optional column is granted in priority order: figures, bar, trend.
	if (room >= gap + figures) {
		widths.figures = figures;
		room -= gap + figures;
		if (room >= gap + gaugeBar) {
			widths.bar = gaugeBar;
			room -= gap + gaugeBar;
			// The trend only at full width (80 columns and more).
			if (columns >= 80 && room >= gap + 6) {
				widths.trend = Math.min(room - gap, 30);
			}
		}
	}

	return widths;
}

export function tableWidth(widths: ColumnWidths): number {
	const optional = [widths.held, widths.bar, widths.figures, widths.trend].filter(width => width > 0);
	return widths.selector + widths.name + gap + widths.status + gap + widths.spend + gap + widths.agents + optional.reduce((sum, width) => sum + gap + width, 0);
}

export function plan(input: LayoutInput): Layout {
	// Always there: header, column heads, one row per environment, global, status line, key bar.
	const required = 1 + 1 + input.environments + 1 + 1 + input.keyBarLines;
	if (input.columns < minColumns || input.rows < required + 1 + 1) {
		return {tooSmall: true, need: {columns: minColumns, rows: required + 2}};
	}

	const budget = input.rows - 1;
	let used = required;
	const showRule = used + 1 <= budget;
	if (showRule) {
		used++;
	}

	const showBilled = input.billedLines > 0 && input.columns >= 50 && used + input.billedLines <= budget;
	if (showBilled) {
		used += input.billedLines;
	}

	const bodyLines = Math.max(0, budget - used);
	return {tooSmall: false, widths: columnWidths(input.columns, input.widest), showBilled, showRule, bodyLines, height: used + (input.panelLines > 0 ? Math.min(bodyLines, input.panelLines) : bodyLines)};
}
