/**
 * Pure object -> text for each cell of the dashboard, tested field by field. No React, no Ink:
 * the components only place these strings and colour them.
 */
import {money, moneyPair, pct, type EnvironmentView} from '../domain/index.js';
import type {Colour, Glyphs} from './theme.js';

/** Dollars without cents when whole: `$5`, `$2.34`, `$1,200`. */
export function compactMoney(usd: number): string {
	if (Math.abs(usd) < 1000 && Number.isInteger(usd)) {
		return `$${usd}`;
	}

	return money(usd);
}

export type Gauge = {bar: string; figures: string; colour: Colour};

/** The increase against the threshold: `▮▮▮▮▮▯▯▯▯▯` and `1.2%/2.0% 30m`. */
export function gauge(view: Pick<EnvironmentView, 'increasePct' | 'thresholdPct' | 'windowMinutes'>, glyphs: Glyphs, width = 10): Gauge {
	const {increasePct, thresholdPct, windowMinutes} = view;
	const ratio = increasePct === null || thresholdPct <= 0 ? 0 : Math.max(0, Math.min(1, increasePct / thresholdPct));
	const filled = increasePct !== null && increasePct > 0 ? Math.max(1, Math.round(ratio * width)) : 0;
	const bar = glyphs.gaugeFull.repeat(filled) + glyphs.gaugeEmpty.repeat(width - filled);
	// No baseline (nothing ran a window ago) is not a 0% increase: say so.
	const now = increasePct === null ? '--' : pct(increasePct);
	const colour: Colour = increasePct === null ? 'gray' : increasePct >= thresholdPct ? 'red' : increasePct >= thresholdPct * 0.75 ? 'yellow' : 'green';
	return {bar, figures: `${now}/${pct(thresholdPct)} ${windowMinutes}m`, colour};
}

/** Spend against the hourly cap: `$2.34/$5`, coloured by how close it is. */
export function spendCell(view: Pick<EnvironmentView, 'hourlyUsd' | 'maxHourlyUsd' | 'unpriced' | 'estimated'>, known = true): {text: string; colour: Colour | undefined} {
	if (!known) {
		// No poll has returned data yet: the spend is unknown, never $0.
		return {text: `--/${compactMoney(view.maxHourlyUsd)}`, colour: 'magenta'};
	}

	const ratio = view.maxHourlyUsd > 0 ? view.hourlyUsd / view.maxHourlyUsd : 0;
	const colour = ratio >= 1 ? 'red' : ratio >= 0.75 ? 'yellow' : undefined;
	// Unpriced instances are never $0: a `+` says the figure is a lower bound; `~` that it includes
	// a conservative estimate for instances no source prices.
	return {text: `${view.estimated > 0 ? '~' : ''}${money(view.hourlyUsd)}${view.unpriced > 0 ? '+' : ''}/${compactMoney(view.maxHourlyUsd)}`, colour};
}

/**
 * Agents running / allowed: `4/∞`, `2/2`, `0/mon`. `known` false (no fresh data: the view is
 * stale, or no poll has returned yet): `?/∞`, never a count that may be wrong.
 */
export function agentsCell(agents: EnvironmentView['agents'], glyphs: Glyphs, global = false, known = true): {text: string; over: boolean} {
	const running = known ? String(agents.running) : '?';
	if (global) {
		return {text: running, over: false};
	}

	if (agents.allowed === 'all') {
		return {text: `${running}/${glyphs.infinity}`, over: false};
	}

	if (agents.allowed === 'monitor-only') {
		return {text: `${running}/mon`, over: known && agents.running > 0};
	}

	return {text: `${running}/${agents.allowed}`, over: known && agents.running > agents.allowed};
}

/** Whether a view's agent count is current: a poll returned data and this view is not stale. */
export function agentsKnown(view: Pick<EnvironmentView, 'stale'>, lastSuccessAt: number | null): boolean {
	return lastSuccessAt !== null && !view.stale;
}

/**
 * The window's spend as a sparkline of at most `width` glyphs (the newest samples). Its height
 * spans the samples' min to max, but never less than `minSpan`: given the increase that would
 * breach, a 0.5% wobble stays low instead of filling the height like a spike.
 */
export function sparkline(values: readonly number[], glyphs: Glyphs, width: number, minSpan = 0): string {
	if (width <= 0 || values.length === 0) {
		return '';
	}

	const recent = values.slice(-width);
	const min = Math.min(...recent);
	const span = Math.max(Math.max(...recent) - min, minSpan);
	const top = glyphs.spark.length - 1;
	return recent.map(value => glyphs.spark[span <= 0 ? 0 : Math.min(top, Math.round(((value - min) / span) * top))]).join('');
}

/**
 * The TREND cell: the sparkline on the threshold's scale (a breach-sized rise fills it), then its
 * range (`$2.31–$2.34`) when the column has room for both.
 */
export function trendCell(view: Pick<EnvironmentView, 'trend' | 'thresholdPct' | 'baselineUsd'>, glyphs: Glyphs, width: number): string {
	const samples = view.trend;
	if (samples.length === 0 || width <= 0) {
		return '';
	}

	const low = Math.min(...samples);
	const high = Math.max(...samples);
	const minSpan = Math.max(0, (view.baselineUsd ?? low) * view.thresholdPct / 100);
	const [from, to] = moneyPair(low, high);
	const range = low === high ? from : `${from}${glyphs.dash}${to}`;
	const drawn = Math.min(samples.length, width);
	if (drawn + 1 + [...range].length <= width) {
		return `${sparkline(samples, glyphs, drawn, minSpan)} ${range}`;
	}

	return sparkline(samples, glyphs, width, minSpan);
}

/** `3s`, `2m`, `1h5m` since a time, or `never`. */
export function age(now: number, at: number | null): string {
	if (at === null) {
		return 'never';
	}

	const seconds = Math.max(0, Math.round((now - at) / 1000));
	if (seconds < 60) {
		return `${seconds}s`;
	}

	const minutes = Math.floor(seconds / 60);
	return minutes < 60 ? `${minutes}m` : `${Math.floor(minutes / 60)}h${minutes % 60 ? `${minutes % 60}m` : ''}`;
}

/** Fresh, then yellow, then red, as the last good update ages against the poll interval. */
export function ageColour(now: number, lastSuccessAt: number | null, pollIntervalSeconds: number, error: string | null): Colour {
	if (lastSuccessAt === null) {
		return error ? 'red' : 'yellow';
	}

	const elapsed = (now - lastSuccessAt) / 1000;
	if (elapsed > pollIntervalSeconds * 4 || (error && elapsed > pollIntervalSeconds * 2)) {
		return 'red';
	}

	return elapsed > pollIntervalSeconds * 2 || error ? 'yellow' : 'green';
}

/** Cuts `text` to `width` display cells, ending in the ellipsis when cut. */
export function fit(text: string, width: number, ellipsis = '…'): string {
	if (width <= 0) {
		return '';
	}

	const chars = [...text];
	return chars.length <= width ? text : chars.slice(0, Math.max(0, width - 1)).join('') + ellipsis;
}

/**
 * Word-wraps `text` to `width` columns; continuation lines start with `indent` spaces. A word
 * longer than a line is cut across lines, so nothing is lost.
 */
export function wrap(text: string, width: number, indent = 0): string[] {
	if (width <= indent + 1) {
		return [fit(text, width)];
	}

	// Leading spaces are the first line's own indent: kept, not taken for empty words.
	const lead = /^ */.exec(text)![0];
	const lines: string[] = [];
	let line = lead;
	const room = () => width - (lines.length > 0 ? indent : 0);
	for (const word of text.slice(lead.length).split(' ')) {
		let rest = word;
		while ([...line].length + (line.trim() ? 1 : 0) + [...rest].length > room()) {
			if (line.trim()) {
				lines.push(line);
				line = '';
				continue;
			}

			const chars = [...rest];
			const cut = room();
			lines.push(chars.slice(0, cut).join(''));
			rest = chars.slice(cut).join('');
		}

		line = line.trim() ? `${line} ${rest}` : line + rest;
	}

	lines.push(line);
	return lines.map((text, index) => (index > 0 ? ' '.repeat(indent) + text : text));
}

export function pad(text: string, width: number, align: 'left' | 'right' = 'left', ellipsis = '…'): string {
	const cut = fit(text, width, ellipsis);
	const room = width - [...cut].length;
	return align === 'left' ? cut + ' '.repeat(room) : ' '.repeat(room) + cut;
}

/** Places cells left to right, wrapping to the next line, never past `maxLines`. */
export function flow<T extends {width: number}>(cells: readonly T[], width: number, maxLines: number, gap = 2): T[][] {
	const lines: T[][] = [];
	let line: T[] = [];
	let used = 0;
	for (const cell of cells) {
		const need = (line.length > 0 ? gap : 0) + cell.width;
		if (line.length > 0 && used + need > width) {
			lines.push(line);
			line = [];
			used = 0;
			if (lines.length === maxLines) {
				return lines;
			}
		}

		used += line.length > 0 ? gap + cell.width : cell.width;
		line.push(cell);
	}

	if (line.length > 0 && lines.length < maxLines) {
		lines.push(line);
	}

	return lines;
}

/** `HH:MM:SS` of an audit entry's ISO time, in the terminal's time zone. */
export function clockTime(iso: string): string {
	const date = new Date(iso);
	return Number.isNaN(date.getTime()) ? iso.slice(11, 19) : date.toTimeString().slice(0, 8);
}

/**
 * The row's marker words: `HELD` (a tripped breaker: envwatch stops agents that come back) and
 * `PAUSED` (automatic actions paused for this environment: breaches show, nothing is stopped).
 */
export function markerWords(view: Pick<EnvironmentView, 'breaker' | 'paused'>): Array<'HELD' | 'PAUSED'> {
	return [...(view.breaker ? ['HELD' as const] : []), ...(view.paused ? ['PAUSED' as const] : [])];
}

/** The compact form of both markers together, `HELD+P`: as wide as `PAUSED` alone. */
export const compactMarkers = {HELD: 'HELD', PAUSED: '+P'} as const;

/**
 * The marker column's parts as drawn, each with its word (for its colour): `HELD PAUSED`, or,
 * `compact` (where the full words would cost the row a column, the trend first), `HELD+P`.
 */
export function markerParts(view: Pick<EnvironmentView, 'breaker' | 'paused'>, compact = false): Array<{word: 'HELD' | 'PAUSED'; text: string}> {
	const words = markerWords(view);
	const short = compact && words.length > 1;
	return words.map((word, index) => ({word, text: short ? compactMarkers[word] : `${index > 0 ? ' ' : ''}${word}`}));
}

/** The marker column's width: its widest parts (0: no row has any, the column is not drawn). */
export function markerWidth(views: ReadonlyArray<Pick<EnvironmentView, 'breaker' | 'paused'>>, compact = false): number {
	return Math.max(0, ...views.map(view => markerParts(view, compact).reduce((sum, part) => sum + part.text.length, 0)));
}

/** What a plain terminal is given for the non-ASCII characters envwatch's own messages use. */
const asciiFor: Readonly<Record<string, string>> = {
	'\u2014': '-', '\u2013': '-', '\u2026': '...', '\u2018': '\'', '\u2019': '\'', '\u201C': '"', '\u201D': '"', '\u2192': '->', '\u2190': '<-',
	'\u2191': '^', '\u2193': 'v', '\u00D7': 'x', '\u2265': '>=', '\u2264': '<=', '\u00A0': ' ', '\u2022': '*', '\u00B7': '.', '\u221E': 'all',
};

/**
 * Text for a terminal that shows ASCII only (--ascii, a locale that is not UTF-8, a plain TERM):
 * the punctuation envwatch's messages use in its ASCII form, anything else (a tag value from
 * outside, say) as `?`, as a C-locale program writes what it cannot show.
 */
export function asciiText(text: string): string {
	// eslint-disable-next-line no-control-regex -- the ASCII range itself
	return /[^\u0000-\u007F]/.test(text) ? [...text].map(char => (char <= '\u007F' ? char : asciiFor[char] ?? '?')).join('') : text;
}
