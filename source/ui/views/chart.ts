/**
 * Spend over time (`t`): the window's $/h on an axis from $0, with the cap and the threshold as
 * lines, for an environment or the global row. Pure: no React, no Ink.
 */
import {duration, money, pct, plural, type EnvironmentView} from '../../domain/index.js';
import {fit, pad} from '../cells.js';
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
export function chart(values: readonly number[], options: {width: number; height: number; threshold: number | null; cap: number; glyphs: Glyphs; ascii: boolean; pollIntervalSeconds: number}): Chart {
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
	const start = `-${duration(Math.max(0, values.length - 1) * options.pollIntervalSeconds * 1000)}`;
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

/** The spend view: the title (window, samples), the chart and its legend. */
export function spendLines(view: Extract<View, {kind: 'spend'}>, {snapshot, columns, height, glyphs, ascii}: ViewRoom): Segment[][] {
	const body = Math.max(0, height - 1);
	const environment = environmentOf(snapshot, view.target);
	const lines: Segment[][] = [[title(`spend over time: ${view.target}${environment ? ` (${environment.windowMinutes}m window, ${plural(environment.trend.length, 'sample')})` : ''}`, columns, glyphs)]];
	if (!environment) {
		lines.push(goneLine(view.target));
		return lines;
	}

	if (environment.trend.length === 0) {
		lines.push([{text: '  no samples yet: the chart starts with the first good poll', dim: true}]);
		return lines;
	}

	const plotRows = Math.max(2, body - 2);
	const drawn = chart(environment.trend, {width: columns, height: plotRows, threshold: thresholdUsd(environment), cap: environment.maxHourlyUsd, glyphs, ascii, pollIntervalSeconds: snapshot.pollIntervalSeconds});
	lines.push(...drawn.lines.map(text => [{text}]));
	lines.push([{text: fit(chartLegend(environment, ascii), columns, glyphs.ellipsis), dim: true}]);
	return lines.slice(0, height);
}
