/**
 * The pure parts of the drill-down views (environment detail, audit log, spend over time, by
 * region): sorting, filtering, column fitting, the chart. No React, no Ink.
 */
import {byText, duration, money, pct} from '../domain/format.js';
import type {EnvironmentView, InstanceRow} from '../domain/types.js';
import type {AuditEntry} from '../engine/audit.js';
import {age, clockTime, fit, pad, wrap} from './cells.js';
import type {Glyphs} from './theme.js';

// ---------------------------------------------------------------- environment detail

export type ColumnKey = 'id' | 'name' | 'type' | 'region' | 'lifecycle' | 'state' | 'age' | 'by' | 'role' | 'usd';

export type InstanceColumn = {
	key: ColumnKey;
	head: string;
	/** The key that sorts by this column (shifted, so it never clashes with a view key). */
	sortKey: string;
	/** Fixed width, or the range a flexible column may take. */
	width: number;
	min?: number;
	align: 'left' | 'right';
	/** Lower gives way first when the terminal is narrow. */
	keep: number;
};

export const instanceColumns: readonly InstanceColumn[] = [
	{key: 'id', head: 'ID', sortKey: 'I', width: 19, align: 'left', keep: 10},
	{key: 'name', head: 'NAME', sortKey: 'N', width: 16, min: 6, align: 'left', keep: 6},
	{key: 'type', head: 'TYPE', sortKey: 'T', width: 11, align: 'left', keep: 7},
	{key: 'region', head: 'REGION/AZ', sortKey: 'Z', width: 12, align: 'left', keep: 3},
	{key: 'lifecycle', head: 'LIFE', sortKey: 'L', width: 9, align: 'left', keep: 2},
	{key: 'state', head: 'STATE', sortKey: 'S', width: 8, align: 'left', keep: 9},
	{key: 'age', head: 'AGE', sortKey: 'A', width: 5, align: 'right', keep: 4},
	{key: 'by', head: 'BY', sortKey: 'B', width: 14, min: 6, align: 'left', keep: 1},
	{key: 'role', head: 'ROLE', sortKey: 'O', width: 7, align: 'left', keep: 5},
	{key: 'usd', head: '$/H', sortKey: 'P', width: 8, align: 'right', keep: 8},
];

export type Sort = {column: ColumnKey; descending: boolean};

export const defaultSort: Sort = {column: 'usd', descending: true};

/** The column `key` sorts by, if it is a sort key. */
export function sortColumnOf(key: string): ColumnKey | undefined {
	return instanceColumns.find(column => column.sortKey === key)?.key;
}

/** The next sort after a press: the same column again reverses it; another column starts descending for $/h and age, ascending otherwise. */
export function nextSort(sort: Sort, column: ColumnKey): Sort {
	if (sort.column === column) {
		return {column, descending: !sort.descending};
	}

	return {column, descending: column === 'usd' || column === 'age'};
}

/** `<` and `>`: the sort moves to the column left or right of it among those shown. */
export function shiftSort(sort: Sort, shown: readonly ColumnKey[], step: -1 | 1): Sort {
	const index = shown.indexOf(sort.column);
	const next = shown[Math.min(shown.length - 1, Math.max(0, (index < 0 ? 0 : index) + step))];
	return next === undefined || next === sort.column ? sort : nextSort(sort, next);
}

function sortValue(row: InstanceRow, column: ColumnKey): string | number | null {
	switch (column) {
		case 'id': {
			return row.id;
		}

		case 'name': {
			return row.name;
		}

		case 'type': {
			return row.type;
		}

		case 'region': {
			return `${row.region} ${row.zone ?? ''}`;
		}

		case 'lifecycle': {
			return row.lifecycle;
		}

		case 'state': {
			return row.state;
		}

		case 'age': {
			// Older first when descending: an earlier launch is a greater age.
			return row.launchedAt === null ? null : -row.launchedAt;
		}

		case 'by': {
			return row.launchedBy;
		}

		case 'role': {
			return row.role;
		}

		case 'usd': {
			return row.usdPerHour;
		}
	}
}

/** Sorted by the column; unknown values (null) always last; ties by ID, so the order is stable. */
export function sortInstances(rows: readonly InstanceRow[], sort: Sort): InstanceRow[] {
	const direction = sort.descending ? -1 : 1;
	return [...rows].sort((a, b) => {
		const x = sortValue(a, sort.column);
		const y = sortValue(b, sort.column);
		if (x === null || y === null) {
			return x === y ? byText(a.id, b.id) : x === null ? 1 : -1;
		}

		const order = typeof x === 'number' && typeof y === 'number' ? x - y : byText(String(x).toLowerCase(), String(y).toLowerCase());
		return order === 0 ? byText(a.id, b.id) : order * direction;
	});
}

/** Case-insensitive: every word of the filter must appear in one of the row's cells. */
export function filterInstances(rows: readonly InstanceRow[], filter: string): InstanceRow[] {
	const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
	if (words.length === 0) {
		return [...rows];
	}

	return rows.filter(row => {
		const text = [row.id, row.name, row.type, row.region, row.zone, row.lifecycle, row.state, row.launchedBy, row.role].filter(Boolean).join(' ').toLowerCase();
		return words.every(word => text.includes(word));
	});
}

/** The columns shown at this width, and their widths: the least kept give way first, flexible ones shrink first. */
export function fitColumns(columns: number): Array<InstanceColumn & {shown: number}> {
	const room = columns - 2;
	let chosen = instanceColumns.map(column => ({...column, shown: column.width}));
	const total = () => chosen.reduce((sum, column) => sum + column.shown, 0) + chosen.length - 1;
	for (const column of chosen) {
		if (column.min !== undefined && total() > room) {
			column.shown = Math.max(column.min, column.shown - (total() - room));
		}
	}

	for (const drop of [...instanceColumns].sort((a, b) => a.keep - b.keep)) {
		if (total() <= room) {
			break;
		}

		chosen = chosen.filter(column => column.key !== drop.key);
	}

	// Room left over goes to the name.
	const name = chosen.find(column => column.key === 'name');
	if (name && total() < room) {
		name.shown = Math.min(24, name.shown + room - total());
	}

	return chosen;
}

/** One cell's text (not yet padded). */
export function instanceCell(row: InstanceRow, column: ColumnKey, now: number): string {
	switch (column) {
		case 'id': {
			return row.id;
		}

		case 'name': {
			return row.name ?? '-';
		}

		case 'type': {
			return row.type;
		}

		case 'region': {
			return row.zone ?? row.region;
		}

		case 'lifecycle': {
			return row.lifecycle ?? '?';
		}

		case 'state': {
			return row.state;
		}

		case 'age': {
			return row.launchedAt === null ? '?' : age(now, row.launchedAt);
		}

		case 'by': {
			return row.launchedBy ?? '-';
		}

		case 'role': {
			return row.role;
		}

		case 'usd': {
			// A billed instance without a price is unknown, never $0.
			// `~`: a conservative estimate (no source prices the instance).
			return row.usdPerHour === null ? 'unpriced' : `${row.estimated ? '~' : ''}${money(row.usdPerHour)}`;
		}
	}
}

/** The whole row as one line of the fitted columns. */
export function instanceLine(row: InstanceRow, fitted: ReturnType<typeof fitColumns>, now: number, ellipsis: string): string {
	return fitted.map(column => pad(instanceCell(row, column.key, now), column.shown, column.align, ellipsis)).join(' ');
}

export function instanceHeads(fitted: ReturnType<typeof fitColumns>, sort: Sort, glyphs: Glyphs): string {
	const arrow = sort.descending ? (glyphs.down.length === 1 ? glyphs.down : 'v') : (glyphs.up.length === 1 ? glyphs.up : '^');
	return fitted.map(column => pad(column.key === sort.column ? `${column.head}${arrow}` : column.head, column.shown, column.align, glyphs.ellipsis)).join(' ');
}

// ---------------------------------------------------------------- by region

export type RegionRow = {region: string; hourlyUsd: number; unpriced: number; agents: number; instances: number};

/** Per region: billed $/h, agents and instances running (configured regions with nothing show as 0). */
export function regionRows(instances: readonly InstanceRow[], regions: readonly string[]): RegionRow[] {
	const rows = new Map<string, RegionRow>();
	for (const region of regions) {
		rows.set(region, {region, hourlyUsd: 0, unpriced: 0, agents: 0, instances: 0});
	}

	for (const instance of instances) {
		if (instance.state !== 'running' && instance.state !== 'pending') {
			continue;
		}

		let row = rows.get(instance.region);
		if (!row) {
			row = {region: instance.region, hourlyUsd: 0, unpriced: 0, agents: 0, instances: 0};
			rows.set(instance.region, row);
		}

		row.instances++;
		if (instance.role === 'agent') {
			row.agents++;
		}

		if (instance.usdPerHour === null) {
			row.unpriced++;
		} else {
			row.hourlyUsd += instance.usdPerHour;
		}
	}

	return [...rows.values()].sort((a, b) => b.hourlyUsd - a.hourlyUsd || b.instances - a.instances || byText(a.region, b.region));
}

// ---------------------------------------------------------------- spend over time

/** The threshold as a $/h level: the window's baseline raised by the threshold; null without a baseline. */
export function thresholdUsd(view: Pick<EnvironmentView, 'baselineUsd' | 'thresholdPct'>): number | null {
	return view.baselineUsd === null ? null : view.baselineUsd * (1 + view.thresholdPct / 100);
}

/** The axis's top: a round figure at or above every value, the threshold and the cap. */
export function axisTop(values: readonly number[], marks: ReadonlyArray<number | null>): number {
	const high = Math.max(0, ...values, ...marks.filter((mark): mark is number => mark !== null && Number.isFinite(mark)));
	if (high <= 0) {
		return 1;
	}

	const magnitude = 10 ** Math.floor(Math.log10(high));
	for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
		// Above the highest mark (a cap's line stays below the top), rounded off the float noise.
		const top = Number((step * magnitude).toPrecision(12));
		if (top >= high * 1.0001) {
			return top;
		}
	}

	return 10 * magnitude;
}

/** At most `width` points, newest last: several samples to a column keep their highest (a spike stays seen). */
export function resample(values: readonly number[], width: number): number[] {
	if (values.length <= width) {
		return [...values];
	}

	const points: number[] = [];
	for (let column = 0; column < width; column++) {
		const from = Math.floor((column * values.length) / width);
		const to = Math.max(from + 1, Math.floor(((column + 1) * values.length) / width));
		points.push(Math.max(...values.slice(from, to)));
	}

	return points;
}

export type Chart = {lines: string[]; top: number};

/**
 * The $/h over the window on an absolute axis from $0, `height` rows of plot and an x-axis line,
 * `width` columns in all (the axis labels included). The cap (`═`, `=` under --ascii) and the
 * threshold (`╌`, `-`) are drawn across the rows they fall in; the spend is drawn in blocks
 * (eighths), or `#` under --ascii.
 */
export function chart(values: readonly number[], options: {width: number; height: number; threshold: number | null; cap: number; glyphs: Glyphs; ascii: boolean; intervalSeconds: number}): Chart {
	const {height, threshold, cap, glyphs, ascii} = options;
	const top = axisTop(values, [threshold, capOnChart(values, threshold, cap) ? cap : null]);
	const labels = [money(top), money(0)];
	const labelWidth = Math.max(...labels.map(label => label.length));
	const plotWidth = Math.max(1, options.width - labelWidth - 1);
	const points = resample(values, plotWidth);
	const offset = plotWidth - points.length;
	const rowOf = (value: number) => Math.min(height - 1, Math.max(0, height - 1 - Math.floor((value / top) * height - 1e-9)));
	const capRow = cap > 0 && cap <= top ? rowOf(cap) : undefined;
	const thresholdRow = threshold !== null && threshold > 0 && threshold <= top ? rowOf(threshold) : undefined;
	const capGlyph = ascii ? '=' : '═';
	const thresholdGlyph = ascii ? '-' : '╌';
	const axis = ascii ? '|' : '│';
	const lines: string[] = [];
	for (let row = 0; row < height; row++) {
		const low = ((height - 1 - row) / height) * top;
		const high = ((height - row) / height) * top;
		let text = '';
		for (let column = 0; column < plotWidth; column++) {
			const value = column >= offset ? points[column - offset]! : undefined;
			let cell = row === capRow ? capGlyph : row === thresholdRow ? thresholdGlyph : ' ';
			if (value !== undefined && value > low) {
				if (value >= high) {
					cell = ascii ? '#' : '█';
				} else if (ascii) {
					cell = value - low >= (high - low) / 2 ? '#' : cell;
				} else {
					// Any spend above $0 shows: at least the lowest eighth in the bottom row.
					const eighths = Math.max(row === height - 1 ? 1 : 0, Math.round(((value - low) / (high - low)) * 8));
					cell = eighths > 0 ? glyphs.spark[Math.min(7, eighths - 1)]! : cell;
				}
			}

			text += cell;
		}

		const label = row === 0 ? labels[0]! : row === height - 1 ? labels[1]! : '';
		lines.push(`${pad(label, labelWidth, 'right')}${axis}${text}`);
	}

	// The x axis: the time the drawn samples span (one poll apart), from where they start to now.
	const corner = ascii ? '+' : '└';
	const rule = ascii ? '-' : '─';
	const start = `-${duration(Math.max(0, values.length - 1) * options.intervalSeconds * 1000)}`;
	const end = 'now';
	const lead = Math.min(offset, Math.max(0, plotWidth - start.length - end.length - 1));
	const gap = Math.max(1, plotWidth - lead - start.length - end.length);
	lines.push(`${' '.repeat(labelWidth)}${corner}${rule.repeat(lead)}${start}${rule.repeat(gap)}${end}`.slice(0, options.width));
	return {lines, top};
}

/**
 * Whether the cap goes on the axis: not when it is more than three times everything else (a $50
 * cap over $0.15 of spend would flatten the chart to nothing); the legend then says it is above.
 */
export function capOnChart(values: readonly number[], threshold: number | null, cap: number): boolean {
	const high = Math.max(0, ...values, threshold ?? 0);
	return cap > 0 && (high <= 0 || cap <= high * 3);
}

/** The legend under the chart: what the lines are, with their figures. */
export function chartLegend(view: EnvironmentView, ascii: boolean): string {
	const threshold = thresholdUsd(view);
	const now = view.trend.at(-1) ?? view.hourlyUsd;
	return [
		`now ${money(now)}/h`,
		capOnChart(view.trend, threshold, view.maxHourlyUsd) ? `${ascii ? '=' : '═'} cap ${money(view.maxHourlyUsd)}` : `cap ${money(view.maxHourlyUsd)} (${ascii ? '^' : '↑'} above the chart)`,
		threshold === null ? `threshold +${pct(view.thresholdPct)} (no baseline yet)` : `${ascii ? '-' : '╌'} threshold ${money(threshold)} (+${pct(view.thresholdPct)})`,
	].join('  ');
}

// ---------------------------------------------------------------- audit log

/** One line of the log list: time, kind, environments, outcome or reason. */
export function auditLine(entry: AuditEntry): string {
	const where = entry.environments.length > 0 ? entry.environments.join(',') : '-';
	const what = entry.type === 'action' ? entry.outcome ?? entry.reason : entry.outcome ? `${entry.reason} [${entry.outcome}]` : entry.reason;
	return `${clockTime(entry.at)} ${pad(entry.kind, 9)} ${pad(where, 10)} ${what}`;
}

export function filterEntries(entries: readonly AuditEntry[], filter: string): AuditEntry[] {
	const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
	if (words.length === 0) {
		return [...entries];
	}

	return entries.filter(entry => {
		const text = [entry.kind, entry.type, entry.actor, entry.reason, entry.outcome ?? '', ...entry.environments, ...entry.instanceIds].join(' ').toLowerCase();
		return words.every(word => text.includes(word));
	});
}

/** The selected entry in full: who, when, the whole reason, its figures and per-instance outcomes. */
export function auditDetail(entry: AuditEntry, width: number): string[] {
	const lines = [
		fit(`#${entry.seq} ${entry.at} ${entry.type} ${entry.kind} by ${entry.actor}${entry.dryRun ? ' (dry run)' : ''}`, width),
		...wrap(`reason: ${entry.reason}`, width, 2),
	];
	if (entry.outcome) {
		lines.push(...wrap(`outcome: ${entry.outcome}`, width, 2));
	}

	const figures = Object.entries(entry.figures ?? {});
	if (figures.length > 0) {
		lines.push(...wrap(`figures: ${figures.map(([key, value]) => `${key}=${value ?? 'unknown'}`).join(' ')}`, width, 2));
	}

	if (entry.results && entry.results.length > 0) {
		for (const result of entry.results) {
			const change = result.previousState && result.currentState ? ` ${result.previousState}->${result.currentState}` : '';
			lines.push(fit(`  ${result.id} ${result.region} ${result.result}${change}${result.message ? `: ${result.message}` : ''}`, width));
		}
	} else if (entry.instanceIds.length > 0) {
		lines.push(...wrap(`instances: ${entry.instanceIds.join(' ')}`, width, 2));
	}

	return lines;
}

