import React from 'react';
import {Text} from 'ink';
import type {EnvironmentView} from '../../domain/index.js';
import {agentsCell, gauge, markerParts, pad, spendCell, trendCell} from '../cells.js';
import type {ColumnWidths} from '../layout.js';
import {statusColour, useTheme} from '../theme.js';

/** The column heads, aligned with `EnvRow`. */
export function ColumnHeads({widths}: {widths: ColumnWidths}): React.JSX.Element {
	const {glyphs} = useTheme();
	const cells = [
		' '.repeat(widths.selector) + pad('ENV', widths.name, 'left', glyphs.ellipsis),
		pad('STATUS', widths.status),
		...(widths.held > 0 ? [' '.repeat(widths.held)] : []),
		pad('$/H / CAP', widths.spend, 'right'),
		pad('AGENTS', widths.agents, 'right'),
		...(widths.bar > 0 ? [pad('INCREASE', widths.bar)] : []),
		...(widths.figures > 0 ? [pad(widths.bar > 0 ? 'NOW/MAX WIN' : 'INCREASE', widths.figures)] : []),
		...(widths.trend > 0 ? [pad('TREND', widths.trend)] : []),
	];
	return <Text dimColor wrap="truncate-end">{cells.join(' ')}</Text>;
}

export type EnvRowProps = {
	view: EnvironmentView;
	widths: ColumnWidths;
	/** Under the cursor: marked with the selector glyph and a bold name. */
	selected?: boolean;
	/** The global row: agents without an allowance. */
	global?: boolean;
	/** False until a poll has returned data: figures are unknown, not zero. @default true */
	known?: boolean;
};

/**
 * One environment: status word and colour, $/h against the cap, agents running/allowed, the
 * threshold gauge and the window's sparkline. Every state has its word; colour only reinforces.
 */
function EnvRowView({view, widths, selected = false, global = false, known = true}: EnvRowProps): React.JSX.Element {
	const theme = useTheme();
	const {glyphs, tone} = theme;
	const status = view.status;
	const spend = spendCell(view, known);
	// Stale figures are the last known: the spend says so by its STALE word, the agents by `?`.
	const agents = agentsCell(view.agents, glyphs, global, known && !view.stale);
	const meter = gauge(view, glyphs, widths.bar || 10);
	const dim = status === 'STOPPED';
	// The selected row is a reverse-video bar across the table (with colour; the marker says it without).
	const bar = selected && tone('white') !== undefined;
	const trend = widths.trend > 0 ? trendCell(view, glyphs, widths.trend) : '';
	return (
		<Text wrap="truncate-end" dimColor={dim} inverse={bar}>
			{/* Colour codes only where they show: every byte is rewritten on each change over SSH. */}
			{selected ? <Text color={tone('cyan')}>{pad(glyphs.selected, widths.selector)}</Text> : ' '.repeat(widths.selector)}
			<Text bold={selected || global}>{pad(view.name, widths.name, 'left', glyphs.ellipsis)}</Text>
			{' '}
			<Text color={dim ? undefined : tone(statusColour[status])} bold={status === 'BREACH'}>{pad(status, widths.status)}</Text>
			{/* A tripped breaker: envwatch stopped it and stops agents that come back, until R resets it. */}
			{/* PAUSED: automatic actions paused for this environment (P or --pause-env); breaches still show. */}
			{widths.held > 0 ? <Markers parts={markerParts(view, widths.compactMarkers)} width={widths.held} /> : null}
			{' '}
			<Text color={spend.colour ? tone(spend.colour) : undefined}>{pad(spend.text, widths.spend, 'right')}</Text>
			{' '}
			<Text color={agents.over ? tone('yellow') : undefined}>{pad(agents.text, widths.agents, 'right')}</Text>
			{widths.bar > 0 ? <Text color={tone(meter.colour)}>{' ' + meter.bar}</Text> : null}
			{widths.figures > 0 ? ' ' + pad(meter.figures, widths.figures) : null}
			{widths.trend > 0 ? <Text color={tone('cyan')}>{' ' + (bar ? pad(trend, widths.trend) : trend)}</Text> : null}
		</Text>
	);
}

/** The marker column: each word (or its compact part) in its colour, padded to the column. */
function Markers({parts, width}: {parts: ReturnType<typeof markerParts>; width: number}): React.JSX.Element {
	const {tone} = useTheme();
	const used = parts.reduce((sum, part) => sum + part.text.length, 0);
	return (
		<>
			{' '}
			{parts.map(part => <Text key={part.word} color={tone(part.word === 'HELD' ? 'red' : 'yellow')} bold dimColor={false}>{part.text}</Text>)}
			{' '.repeat(Math.max(0, width - used))}
		</>
	);
}

/** Memoised: a publish that leaves a row's figures alone does not re-render it. */
export const EnvRow = React.memo(EnvRowView, (before, after) => before.selected === after.selected && before.global === after.global && before.known === after.known && sameWidths(before.widths, after.widths) && sameView(before.view, after.view));

/** Everything the row shows, and nothing else (a cheap test: a few fields and the window's samples). */
function sameView(a: EnvironmentView, b: EnvironmentView): boolean {
	return a === b || (a.status === b.status && a.hourlyUsd === b.hourlyUsd && a.increasePct === b.increasePct && a.agents.running === b.agents.running && a.agents.allowed === b.agents.allowed
		&& a.stale === b.stale && Boolean(a.breaker) === Boolean(b.breaker) && Boolean(a.paused) === Boolean(b.paused) && a.maxHourlyUsd === b.maxHourlyUsd && a.thresholdPct === b.thresholdPct && a.windowMinutes === b.windowMinutes && a.unpriced === b.unpriced && a.estimated === b.estimated && a.name === b.name
		&& a.baselineUsd === b.baselineUsd && a.trend.length === b.trend.length && a.trend.every((value, index) => value === b.trend[index]));
}

function sameWidths(a: ColumnWidths, b: ColumnWidths): boolean {
	return a === b || (Object.keys(a) as Array<keyof ColumnWidths>).every(key => a[key] === b[key]);
}
