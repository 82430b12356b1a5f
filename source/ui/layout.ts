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
	/**
	 * The marker column: as wide as its widest words (`HELD`, a tripped breaker; `PAUSED`, automatic
	 * actions paused for the environment; or both), else 0.
	 */
	held: number;
	spend: number;
	agents: number;
	/** 0 when the bar is dropped. */
	bar: number;
	/** 0 when the increase figures are dropped. */
	figures: number;
	/** 0 when the trend is dropped. */
	trend: number;
	/** The markers in their compact form (`HELD+P`): the full words would have cost a column. */
	compactMarkers?: boolean;
};

export type LayoutInput = {
	columns: number;
	rows: number;
	environments: number;
	/** Widest content of each measured column (header words included by the caller). */
	widest: {name: number; spend: number; agents: number; figures: number; held?: boolean; marker?: number; /** The marker column in its compact form (`HELD+P`). */ markerCompact?: number};
	/** Lines the billed block wants at this width (0 when there is nothing to say). */
	billedLines: number;
	/**
	 * An open confirmation or help panel (replaces the events pane): `min` lines it cannot do
	 * without (a confirmation's title, blast radius and prompt), `want` with its title rule.
	 * 0 / absent: no panel.
	 */
	panelLines: number | {min: number; want: number};
	/** Key bar lines at this width. */
	keyBarLines: number;
	/**
	 * Lines the status line would like: 2 for a flash no wording of fits on one line (the rule, the
	 * billed lines and the events give way to it; never with a panel open). @default 1
	 */
	statusLines?: number;
	/** The selected environment's index: its row is the last of the table to give way. @default 0 */
	selected?: number;
};

export type Layout =
	| {tooSmall: true; need: {columns: number; rows: number}}
	| {
		tooSmall: false;
		widths: ColumnWidths;
		showBilled: boolean;
		/** The dim rule that sets the global row apart. */
		showRule: boolean;
		/** The column heads. */
		showHeads: boolean;
		/** Indices of the environment rows drawn (all of them unless a panel needs their rows). */
		rows: number[];
		showGlobal: boolean;
		showStatus: boolean;
		/** Lines the status line takes (0 when it is not shown). */
		statusLines: number;
		/** Lines for the panel or the events pane (its title included). */
		bodyLines: number;
		/** An open panel's minimum fits (else a confirmation must not be asked). */
		panelFits: boolean;
		/** Rows a panel needs at least: the terminal height at which it fits. */
		panelNeedsRows: number;
		/** Total lines the frame will have: always < rows. */
		height: number;
	};

const gaugeBar = 10;
const gap = 1;

/**
 * The columns at this width. The marker column takes its compact form (`HELD+P` rather than
 * `HELD PAUSED`) where the full words would cost the row an optional column (the trend first).
 */
export function columnWidths(columns: number, widest: LayoutInput['widest']): ColumnWidths {
	const full = columnWidthsWith(columns, widest);
	if (widest.markerCompact === undefined || widest.markerCompact >= (widest.marker ?? 0)) {
		return full;
	}

	const compact = columnWidthsWith(columns, {...widest, marker: widest.markerCompact});
	const shown = (widths: ColumnWidths) => [widths.figures, widths.bar, widths.trend].filter(width => width > 0).length;
	// Narrow, the full words would not even leave the spend and agents whole (the name is at its least).
	const overflows = tableWidth(full) > columns - 1;
	return overflows || shown(compact) > shown(full) || compact.name > full.name ? {...compact, compactMarkers: true} : full;
}

function columnWidthsWith(columns: number, widest: LayoutInput['widest']): ColumnWidths {
	const base = {selector: 2, name: Math.min(Math.max(widest.name, 4), 16), status: 7, held: widest.marker ?? (widest.held ? 4 : 0), spend: Math.max(widest.spend, 9), agents: Math.max(widest.agents, 6)};
	let fixed = base.selector + base.name + gap + base.status + (base.held > 0 ? gap + base.held : 0) + gap + base.spend + gap + base.agents;
	// Too narrow for the fixed columns (long names, HELD): the name gives way (cut with …), so the
	// status, spend and agents still fit.
	const over = fixed - (columns - 1);
	if (over > 0) {
		const name = Math.max(4, base.name - over);
		fixed -= base.name - name;
		base.name = name;
	}

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
			// The trend only at full width (80 columns and more); it takes the rest, so the table
			// spans the terminal as the rules and the events do.
			if (columns >= 80 && room >= gap + 6) {
				widths.trend = room - gap;
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

	const widths = columnWidths(input.columns, input.widest);
	const budget = input.rows - 1;
	const all = Array.from({length: input.environments}, (_, index) => index);
	const panel = typeof input.panelLines === 'number' ? (input.panelLines > 0 ? {min: input.panelLines, want: input.panelLines} : undefined) : input.panelLines;
	if (!panel) {
		let used = required;
		// A flash that needs a second line (a refusal at 40 columns) gets it first: it lasts seconds.
		const statusLines = (input.statusLines ?? 1) > 1 && used + 1 <= budget ? 2 : 1;
		used += statusLines - 1;
		const showRule = used + 1 <= budget;
		if (showRule) {
			used++;
		}

		const showBilled = input.billedLines > 0 && input.columns >= 50 && used + input.billedLines <= budget;
		if (showBilled) {
			used += input.billedLines;
		}

		// The events pane's title alone says nothing: it needs a line for an event too.
		const bodyLines = budget - used >= 2 ? budget - used : 0;
		return {tooSmall: false, widths, showBilled, showRule, showHeads: true, rows: all, showGlobal: true, showStatus: true, statusLines, bodyLines, panelFits: true, panelNeedsRows: 0, height: used + bodyLines};
	}

	// A panel takes the rows it needs before anything else: the billed lines, then the table's
	// other rows give way (the selected row last). The header and key bar always stay.
	const essential = 1 + input.keyBarLines;
	const panelNeedsRows = essential + panel.min + 1;
	let left = budget - essential;
	const panelFits = left >= panel.min;
	let bodyLines = Math.min(Math.max(0, left), panel.min);
	left -= bodyLines;
	const take = (lines: number): boolean => {
		if (left >= lines) {
			left -= lines;
			return true;
		}

		return false;
	};

	const showStatus = take(1);
	const selected = Math.min(Math.max(0, input.selected ?? 0), Math.max(0, input.environments - 1));
	// Heads and the selected row go together: heads alone say nothing.
	const showHeads = input.environments > 0 && take(2);
	const rows = showHeads ? [selected] : [];
	for (const index of all) {
		if (showHeads && index !== selected && take(1)) {
			rows.push(index);
		}
	}

	rows.sort((a, b) => a - b);
	const showGlobal = showHeads && take(1);
	const showRule = showGlobal && rows.length === input.environments && take(1);
	// What the panel would like beyond its minimum (a title rule, help's notes) comes last.
	const extra = Math.min(left, panel.want - panel.min);
	bodyLines += extra;
	const height = 1 + (showHeads ? 1 : 0) + rows.length + (showRule ? 1 : 0) + (showGlobal ? 1 : 0) + bodyLines + (showStatus ? 1 : 0) + input.keyBarLines;
	return {tooSmall: false, widths, showBilled: false, showRule, showHeads, rows, showGlobal, showStatus, statusLines: showStatus ? 1 : 0, bodyLines, panelFits, panelNeedsRows, height};
}
