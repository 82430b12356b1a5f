/**
 * An environment by region (`g`): billed $/h, agents and instances running in each region, with
 * each region's share of the spend as a bar. Pure: no React, no Ink.
 */
import {byText, money, plural, type InstanceRow} from '../../domain/index.js';
import {pad} from '../cells.js';
import type {Segment} from '../components/Line.js';
import {goneLine, title, wrapSay, type ViewRoom} from './parts.js';
import type {View} from './state.js';

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
	const total = rows.reduce((sum, row) => sum + row.hourlyUsd, 0);
	const barWidth = Math.max(0, columns - 2 - 16 - 1 - 10 - 1 - 7 - 1 - 10 - 1);
	const line = (region: string, usd: string, agents: string, instances: string, bar: string) => `  ${pad(region, 16, 'left', glyphs.ellipsis)} ${pad(usd, 10, 'right')} ${pad(agents, 7, 'right')} ${pad(instances, 10, 'right')} ${bar}`;
	lines.push([{text: line('REGION', '$/H', 'AGENTS', 'INSTANCES', barWidth > 0 ? 'SHARE' : ''), dim: true}]);
	// Rows for the regions between the heads and the total; those that do not fit are counted.
	const room = Math.max(0, body - 2);
	const shown = rows.length > room ? rows.slice(0, Math.max(0, room - 1)) : rows;
	for (const row of shown) {
		const share = total > 0 ? row.hourlyUsd / total : 0;
		const filled = Math.round(share * barWidth);
		lines.push([{text: line(row.region, `${money(row.hourlyUsd)}${row.unpriced > 0 ? '+' : ''}`, String(row.agents), String(row.instances), '')}, {text: glyphs.gaugeFull.repeat(filled), colour: 'cyan'}]);
	}

	if (shown.length < rows.length && room > 0) {
		lines.push([{text: `  ${glyphs.ellipsis} +${rows.length - shown.length} more region${rows.length - shown.length === 1 ? '' : 's'} (a taller terminal shows them)`, dim: true}]);
	}

	const unpriced = rows.reduce((sum, row) => sum + row.unpriced, 0);
	lines.push([{text: line('total', `${money(total)}${unpriced > 0 ? '+' : ''}`, String(rows.reduce((sum, row) => sum + row.agents, 0)), String(rows.reduce((sum, row) => sum + row.instances, 0)), unpriced > 0 ? `+: ${unpriced} unpriced` : ''), bold: true}]);
	return lines.slice(0, height);
}
