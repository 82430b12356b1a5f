import React from 'react';
import {Box} from 'ink';
import {money} from '../../domain/format.js';
import type {Snapshot} from '../../engine/snapshot.js';
import {age, flow} from '../cells.js';
import {Line} from './Line.js';

type Cell = {text: string; width: number; head?: boolean; warn?: boolean};

/** The billed block's cells: a heading with age, calls and their cost, then one per environment. */
export function billedCells(snapshot: Snapshot, now: number): Cell[] {
	const {billing} = snapshot;
	const cell = (text: string, extra: Partial<Cell> = {}): Cell => ({text, width: [...text].length, ...extra});
	if (!billing.enabled) {
		return [cell('billed: Cost Explorer off (costExplorer.enabled)', {head: true})];
	}

	const calls = `${billing.calls} CE call${billing.calls === 1 ? '' : 's'} ${money(billing.costUsd)}`;
	if (billing.fetchedAt === null) {
		return [cell(`billed: ${billing.error ? `unavailable (${billing.error})` : 'not fetched yet'}`, {head: true, warn: Boolean(billing.error)}), cell(calls)];
	}

	return [
		cell(`billed today/MTD, ${age(now, billing.fetchedAt)} old, ${calls}:`, {head: true, warn: Boolean(billing.error)}),
		...snapshot.environments.map(view => cell(`${view.name} ${view.billed ? `${money(view.billed.todayUsd)}/${money(view.billed.monthToDateUsd)}` : '--'}`)),
	];
}

/** Lines the billed block needs at this width (at most two). */
export function billedLineCount(snapshot: Snapshot, now: number, columns: number): number {
	return flow(billedCells(snapshot, now), columns, 2).length;
}

/** Billed cost from the billing source: today and month to date per environment, with its age. */
export function BilledBlock({snapshot, now, columns}: {snapshot: Snapshot; now: number; columns: number}): React.JSX.Element {
	const lines = flow(billedCells(snapshot, now), columns, 2);
	return (
		<Box flexDirection="column">
			{lines.map((line, index) => (
				<Line key={index} width={columns} segments={line.map((cell, position) => ({text: (position > 0 ? '  ' : '') + cell.text, dim: cell.head && !cell.warn, colour: cell.warn ? 'yellow' : undefined}))} />
			))}
		</Box>
	);
}
