/**
 * What the by-region (`g`) and by-account (`A`) views count and draw alike: a row's figures summed
 * from the instances running, and the table of them, each row's share of the spend as a bar. Each
 * view keeps its own words (its name column, its title, its total's notes). Pure: no React, no Ink.
 */
import {money, type InstanceRow} from '../../domain/index.js';
import {pad} from '../cells.js';
import type {Segment} from '../components/Line.js';
import type {Glyphs} from '../theme.js';

/** A row's figures: billed $/h, the instances with no known price (`+`), agents and instances running. */
export type Tally = {hourlyUsd: number; unpriced: number; agents: number; instances: number};

/** A row with nothing counted yet. */
export function noTally(): Tally {
	return {hourlyUsd: 0, unpriced: 0, agents: 0, instances: 0};
}

/** Whether an instance is counted: it runs, or is starting. */
export function counted(instance: InstanceRow): boolean {
	return instance.state === 'running' || instance.state === 'pending';
}

/** Counts a running instance in its row. */
export function tally(row: Tally, instance: InstanceRow): void {
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

/** The rows' figures summed (the total line's). */
export function sumTally(rows: readonly Tally[]): Tally {
	const sum = noTally();
	for (const row of rows) {
		sum.hourlyUsd += row.hourlyUsd;
		sum.unpriced += row.unpriced;
		sum.agents += row.agents;
		sum.instances += row.instances;
	}

	return sum;
}

/**
 * The table's columns: the name (`nameWidth` wide), $/H, AGENTS, INSTANCES, and SHARE in the width
 * left; its heads, a row with its bar, and the line counting the rows that do not fit.
 */
export function shareTable(nameWidth: number, columns: number, glyphs: Glyphs) {
	const barWidth = Math.max(0, columns - 2 - nameWidth - 1 - 10 - 1 - 7 - 1 - 10 - 1);
	const line = (name: string, usd: string, agents: string, instances: string, bar: string) => `  ${pad(name, nameWidth, 'left', glyphs.ellipsis)} ${pad(usd, 10, 'right')} ${pad(agents, 7, 'right')} ${pad(instances, 10, 'right')} ${bar}`;
	return {
		line,
		heads: (name: string): Segment[] => [{text: line(name, '$/H', 'AGENTS', 'INSTANCES', barWidth > 0 ? 'SHARE' : ''), dim: true}],
		/** A row: its $/h (`+`: some of it unpriced), agents, instances, and its share of `total` as a bar. */
		row(name: string, row: Tally, total: number): Segment[] {
			const share = total > 0 ? row.hourlyUsd / total : 0;
			return [{text: line(name, `${money(row.hourlyUsd)}${row.unpriced > 0 ? '+' : ''}`, String(row.agents), String(row.instances), '')}, {text: glyphs.gaugeFull.repeat(Math.round(share * barWidth)), colour: 'cyan'}];
		},
		more: (count: number, noun: string): Segment[] => [{text: `  ${glyphs.ellipsis} +${count} more ${noun}${count === 1 ? '' : 's'} (a taller terminal shows them)`, dim: true}],
	};
}
