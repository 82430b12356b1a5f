/**
 * An environment by region (`g`): billed $/h, agents and instances running in each region, with
 * each region's share of the spend as a bar. Pure: no React, no Ink.
 */
import {byText, money, plural, type InstanceRow} from '../../domain/index.js';
import type {Segment} from '../components/Line.js';
import {goneLine, title, wrapSay, type ViewRoom} from './parts.js';
import {counted, noTally, shareTable, sumTally, tally, type Tally} from './share.js';
import type {View} from './state.js';

export type RegionRow = {region: string} & Tally;

/** Per region: billed $/h, agents and instances running (configured regions with nothing show as 0). */
export function regionRows(instances: readonly InstanceRow[], regions: readonly string[]): RegionRow[] {
	const rows = new Map<string, RegionRow>();
	for (const region of regions) {
		rows.set(region, {region, ...noTally()});
	}

	for (const instance of instances) {
		if (!counted(instance)) {
			continue;
		}

		let row = rows.get(instance.region);
		if (!row) {
			row = {region: instance.region, ...noTally()};
			rows.set(instance.region, row);
		}

		tally(row, instance);
	}

	return [...rows.values()].sort((a, b) => b.hourlyUsd - a.hourlyUsd || b.instances - a.instances || byText(a.region, b.region));
}

/** The region view: a row per region (the dearest first), those that do not fit counted, and the total. */
export function regionLines(view: Extract<View, {kind: 'region'}>, {snapshot, columns, height, glyphs}: ViewRoom): Segment[][] {
	const body = Math.max(0, height - 1);
	const environment = snapshot.environments.find(candidate => candidate.name === view.environment);
	const lines: Segment[][] = [[title(`by region: ${view.environment}${environment?.stale ? ' STALE (last good poll)' : ''}`, columns, glyphs)]];
	if (!environment) {
		lines.push(goneLine(view.environment));
		return lines;
	}

	if (environment.instancesWithheld !== undefined && !environment.instances) {
		lines.push(...wrapSay(`${plural(environment.instancesWithheld, 'instance')}: too many to send to an attached dashboard; run the dashboard where envwatch serve runs to see them by region`, columns));
		return lines.slice(0, height);
	}

	const rows = regionRows(environment.instances ?? [], snapshot.regions);
	const sum = sumTally(rows);
	const table = shareTable(16, columns, glyphs);
	lines.push(table.heads('REGION'));
	// Rows for the regions between the heads and the total; those that do not fit are counted.
	const room = Math.max(0, body - 2);
	const shown = rows.length > room ? rows.slice(0, Math.max(0, room - 1)) : rows;
	for (const row of shown) {
		lines.push(table.row(row.region, row, sum.hourlyUsd));
	}

	if (shown.length < rows.length && room > 0) {
		lines.push(table.more(rows.length - shown.length, 'region'));
	}

	lines.push([{text: table.line('total', `${money(sum.hourlyUsd)}${sum.unpriced > 0 ? '+' : ''}`, String(sum.agents), String(sum.instances), sum.unpriced > 0 ? `+: ${sum.unpriced} unpriced` : ''), bold: true}]);
	return lines.slice(0, height);
}
