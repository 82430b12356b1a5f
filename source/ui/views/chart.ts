/**
 * Spend over time (`t`): the window's $/h on an axis from $0, with the cap and the threshold as
 * lines, for an environment or the global row. Pure: no React, no Ink.
 */
import {duration, money, pct, type ChartRange, type EnvironmentView} from '../../domain/index.js';
import type {Snapshot} from '../../engine/index.js';
import {clockTime, fit, pad} from '../cells.js';
import type {Segment} from '../components/Line.js';
import type {Glyphs} from '../theme.js';
import {environmentOf, goneLine, title, type ViewRoom} from './parts.js';
import type {View} from './state.js';

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

/** At most `width` points, newest last: several samples to a column keep their highest (a spike stays seen); a column with no sample is null. */
export function resample(values: ReadonlyArray<number | null>, width: number): Array<number | null> {
	if (values.length <= width) {
		return [...values];
	}

	const points: Array<number | null> = [];
	for (let column = 0; column < width; column++) {
		const from = Math.floor((column * values.length) / width);
		const to = Math.max(from + 1, Math.floor(((column + 1) * values.length) / width));
		const known = values.slice(from, to).filter((value): value is number => value !== null);
		points.push(known.length > 0 ? Math.max(...known) : null);
	}

	return points;
}

export type Chart = {lines: string[]; top: number};

export type ChartOptions = {
	width: number;
	height: number;
	threshold: number | null;
	cap: number;
	glyphs: Glyphs;
	ascii: boolean;
	/** Seconds between two values, for the x axis's start (`-45s`) when `axis` does not say. */
	pollIntervalSeconds: number;
	/** The x axis's labels: where it starts (`-6h`) and ends (`now`, `14:00`). */
	axis?: {start: string; end: string};
	/** Values (by index) where envwatch stopped agents: marked under the x axis (`▲`, `^` under --ascii), on a line of their own. */
	marks?: readonly number[];
};

/**
 * The $/h over time on an absolute axis from $0, `height` rows of plot and an x-axis line, `width`
 * columns in all (the axis labels included). The cap (`═`, `=` under --ascii) and the threshold
 * (`╌`, `-`) are drawn across the rows they fall in; the spend is drawn in blocks (eighths), or `#`
 * under --ascii; a value not known (null: not watched) is left blank, never drawn as $0.
 */
export function chart(values: ReadonlyArray<number | null>, options: ChartOptions): Chart {
	const {height, threshold, cap, glyphs, ascii} = options;
	const known = values.filter((value): value is number => value !== null);
	const top = axisTop(known, [threshold, capOnChart(known, threshold, cap) ? cap : null]);
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
			const value = column >= offset ? points[column - offset] ?? undefined : undefined;
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

	// The x axis: the time the values span, from where they start to where they end; a stop's mark
	// on it under the column that holds it.
	const corner = ascii ? '+' : '└';
	const rule = ascii ? '-' : '─';
	const start = options.axis?.start ?? `-${duration(Math.max(0, values.length - 1) * options.pollIntervalSeconds * 1000)}`;
	const end = options.axis?.end ?? 'now';
	const lead = Math.min(offset, Math.max(0, plotWidth - start.length - end.length - 1));
	const gap = Math.max(1, plotWidth - lead - start.length - end.length);
	lines.push(`${' '.repeat(labelWidth)}${corner}${rule.repeat(lead)}${start}${rule.repeat(gap)}${end}`.slice(0, options.width));
	if (options.marks && options.marks.length > 0) {
		const cells = Array.from({length: plotWidth}, () => ' ');
		for (const mark of options.marks) {
			const column = values.length <= plotWidth ? offset + mark : Math.floor((mark * plotWidth) / values.length);
			if (column >= 0 && column < plotWidth) {
				cells[column] = ascii ? '^' : '▲';
			}
		}

		lines.push(`${' '.repeat(labelWidth + 1)}${cells.join('')}`.trimEnd());
	}

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

/**
 * The legend under the chart: what the lines are, with their figures (`values`: those charted,
 * the window's by default; `hourly`: no threshold, it is the window's).
 */
export function chartLegend(view: EnvironmentView, ascii: boolean, hourly = false, values: ReadonlyArray<number | null> = view.trend): string {
	const threshold = hourly ? null : thresholdUsd(view);
	const now = view.trend.at(-1) ?? view.hourlyUsd;
	return [
		`now ${money(now)}/h`,
		capOnChart(values.filter((value): value is number => value !== null), threshold, view.maxHourlyUsd) ? `${ascii ? '=' : '═'} cap ${money(view.maxHourlyUsd)}` : `cap ${money(view.maxHourlyUsd)} (${ascii ? '^' : '↑'} above the chart)`,
		hourly ? '$ per whole hour' : threshold === null ? `threshold +${pct(view.thresholdPct)} (no baseline yet)` : `${ascii ? '-' : '╌'} threshold ${money(threshold)} (+${pct(view.thresholdPct)})`,
	].join('  ');
}

/** What an action line that stopped agents looks like: the chart marks it. */
const stopKinds = new Set(['stop', 'cascade', 'emergency', 'violation', 'respawn']);

/** The stops of `target` (global: any) among the events, oldest first: when, who, what. */
export function stopsOf(events: Snapshot['events'], target: string): Array<{at: number; actor: string; text: string}> {
	return events
		.filter(entry => entry.type === 'action' && stopKinds.has(entry.kind) && (entry.outcome === 'executed' || entry.outcome === 'failed') && (target === 'global' || entry.environments.includes(target)))
		.map(entry => ({at: Date.parse(entry.at), actor: entry.actor, text: `${entry.kind} ${entry.environments.join(',')}: ${entry.reason}`}))
		.filter(stop => Number.isFinite(stop.at))
		.sort((a, b) => a.at - b.at);
}

/** The values a range charts for `target`, where they start (epoch ms) and how wide each is; undefined where the snapshot has no history (an older server). */
function rangeValues(snapshot: Snapshot, target: string, range: ChartRange): {values: Array<number | null>; startAt: number; stepMs: number; end: string} | undefined {
	const history = snapshot.history;
	const values = history?.ranges[range]?.series[target];
	if (!history || !values) {
		return undefined;
	}

	const {stepMs} = history.ranges[range];
	const hourly = range === '24h' || range === '7d';
	// 1h and 6h end with the bucket that holds the poll; 24h and 7d with the last whole hour.
	const endAt = hourly ? Math.floor(history.at / stepMs) * stepMs : Math.floor(history.at / stepMs) * stepMs + stepMs;
	return {values, startAt: endAt - values.length * stepMs, stepMs, end: hourly ? `${clockTime(new Date(endAt).toISOString()).slice(0, 5)}` : 'now'};
}

/** The spend view: the title (range, where the figures come from), the chart, its legend and the last stop in range. */
export function spendLines(view: Extract<View, {kind: 'spend'}>, {snapshot, columns, height, glyphs, ascii}: ViewRoom): Segment[][] {
	const body = Math.max(0, height - 1);
	const range = view.range ?? '1h';
	const environment = environmentOf(snapshot, view.target);
	const ranged = rangeValues(snapshot, view.target, range);
	const hourly = range === '24h' || range === '7d';
	const what = ranged ? `${range}${hourly ? ', hourly rollup' : ''}` : `${environment?.windowMinutes ?? '?'}m window: this server sends no longer ranges`;
	const lines: Segment[][] = [[title(`spend over time: ${view.target} (${what})`, columns, glyphs)]];
	if (!environment) {
		lines.push(goneLine(view.target));
		return lines;
	}

	const values = ranged?.values ?? environment.trend;
	if (!values.some(value => value !== null)) {
		lines.push([{text: hourly ? '  no whole hour in the rollup yet: its hours fill as envwatch watches' : '  no samples yet: the chart starts with the first good poll', dim: true}]);
		return lines;
	}

	const stops = ranged ? stopsOf(snapshot.events, view.target).filter(stop => stop.at >= ranged.startAt && stop.at < ranged.startAt + ranged.values.length * ranged.stepMs) : [];
	// A range spans the whole width: fewer values than columns (24 hours) each take several.
	const labelWidth = money(axisTop(values.filter((value): value is number => value !== null), [environment.maxHourlyUsd])).length + 1;
	const widen = ranged ? Math.max(1, Math.floor((columns - labelWidth - 1) / Math.max(1, values.length))) : 1;
	const drawnValues = widen > 1 ? values.flatMap(value => Array.from({length: widen}, () => value)) : values;
	const marks = ranged ? stops.map(stop => Math.floor((stop.at - ranged.startAt) / ranged.stepMs) * widen + Math.floor((widen - 1) / 2)) : [];
	const plotRows = Math.max(2, body - 3 - (marks.length > 0 ? 1 : 0));
	const drawn = chart(drawnValues, {
		width: columns, height: plotRows, threshold: hourly ? null : thresholdUsd(environment), cap: environment.maxHourlyUsd, glyphs, ascii, pollIntervalSeconds: snapshot.pollIntervalSeconds,
		...(ranged ? {axis: {start: `-${range}`, end: ranged.end}} : {}), marks,
	});
	lines.push(...drawn.lines.map(text => [{text}]));
	lines.push([{text: fit(chartLegend(environment, ascii, hourly, values), columns, glyphs.ellipsis), dim: true}]);
	const last = stops.at(-1);
	const markGlyph = ascii ? '^' : '▲';
	lines.push([{text: fit(last ? `${markGlyph} ${clockTime(new Date(last.at).toISOString())} by ${last.actor}: ${last.text}` : `${markGlyph} marks a stop; none in this range (< > changes it)`, columns, glyphs.ellipsis), ...(last ? {colour: 'yellow' as const} : {dim: true})}]);
	return lines.slice(0, height);
}
