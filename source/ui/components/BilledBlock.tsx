import React from 'react';
import {Box} from 'ink';
import {billCheckLine, money} from '../../domain/index.js';
import type {Snapshot} from '../../engine/index.js';
import {age, flow} from '../cells.js';
import {useNowWhen} from '../hooks/use-now.js';
import {useTheme} from '../theme.js';
import {Line} from './Line.js';

type Cell = {text: string; width: number; head?: boolean; warn?: boolean};

const cell = (text: string, extra: Partial<Cell> = {}): Cell => ({text, width: [...text].length, ...extra});

/** The Cost Explorer calls and their cost; a failed last call is said, not passed off as a fetch. */
function callsText(billing: Snapshot['billing']): string {
	const calls = `${billing.calls} CE call${billing.calls === 1 ? '' : 's'}`;
	// Failed requests are counted as calls (and at $0.01 each) by the engine: say so, rather than
	// let a failure read as a billed fetch.
	return billing.error ? `${calls} (the last failed) at most ${money(billing.costUsd)}` : `${calls} ${money(billing.costUsd)}`;
}

/** The billed block's cells: a heading with age, calls and their cost, then one per environment. */
export function billedCells(snapshot: Snapshot, now: number): Cell[] {
	const {billing} = snapshot;
	if (!billing.enabled) {
		return [cell('billed: Cost Explorer off (costExplorer.enabled)', {head: true})];
	}

	if (billing.fetchedAt === null) {
		return [cell(`billed: ${billing.error ? `unavailable (${billing.error})` : 'not fetched yet'}`, {head: true, warn: Boolean(billing.error)}), cell(callsText(billing))];
	}

	// Whether to trust the live figure: yesterday's live estimate against its final bill.
	const check = billCheckLine(snapshot.environments);
	return [
		cell(`billed today/MTD, ${age(now, billing.fetchedAt)} old, ${callsText(billing)}:`, {head: true, warn: Boolean(billing.error)}),
		...snapshot.environments.map(view => cell(`${view.name} ${view.billed ? `${money(view.billed.todayUsd)}/${money(view.billed.monthToDateUsd)}` : '--'}`)),
		// What no environment claims (untagged, other tag values): shown, never dropped.
		...(billing.unattributed ? [cell(`other ${money(billing.unattributed.todayUsd)}/${money(billing.unattributed.monthToDateUsd)} (${billing.unattributed.groups.join(', ')})`)] : []),
		...(check ? [cell(check.text, {warn: check.mismatch})] : []),
	];
}

const indent = 2;

/**
 * The block's lines (at most two): the second is indented under the first, and cells that do not
 * fit are never dropped silently: the last line ends with `… +N more`.
 */
export function billedLines(snapshot: Snapshot, now: number, columns: number, ellipsis = '…'): Cell[][] {
	const cells = billedCells(snapshot, now);
	// Every line is laid out as if indented, so the second one fits under the first.
	const lines = flow(cells, columns - indent, 2);
	let placed = lines.reduce((sum, line) => sum + line.length, 0);
	if (placed < cells.length && lines.length > 0) {
		const last = lines.at(-1)!;
		const used = () => last.reduce((sum, item, index) => sum + (index > 0 ? 2 : 0) + item.width, 0);
		const more = () => cell(`${ellipsis} +${cells.length - placed} more`);
		while (last.length > 1 && used() + 2 + more().width > columns - indent) {
			last.pop();
			placed--;
		}

		last.push(more());
	}

	return lines;
}

/** Lines the billed block needs at this width (at most two). */
export function billedLineCount(snapshot: Snapshot, now: number, columns: number): number {
	return billedLines(snapshot, now, columns).length;
}

/**
 * Billed cost from the billing source: today and month to date per environment, with its age
 * (re-rendered on a clock tick only when that age changes: once a minute after the first).
 */
export function BilledBlock({snapshot, columns}: {snapshot: Snapshot; columns: number}): React.JSX.Element {
	const {glyphs} = useTheme();
	const now = useNowWhen(at => snapshot.billing.fetchedAt === null ? '' : age(at, snapshot.billing.fetchedAt));
	const lines = billedLines(snapshot, now, columns, glyphs.ellipsis);
	return (
		<Box flexDirection="column">
			{lines.map((line, index) => (
				<Line key={index} width={columns} segments={line.map((item, position) => ({text: (position > 0 ? '  ' : index > 0 ? ' '.repeat(indent) : '') + item.text, dim: item.head && !item.warn, colour: item.warn ? 'yellow' : undefined}))} />
			))}
		</Box>
	);
}
