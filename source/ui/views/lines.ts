/**
 * Each drill-down view as lines of segments for a given size: the title, then the body. Pure, so
 * the components only place them and the tests read them.
 */
import {money} from '../domain/format.js';
import type {EnvironmentView} from '../domain/types.js';
import type {Snapshot} from '../engine/snapshot.js';
import {pad, fit, wrap} from './cells.js';
import type {Segment} from './components/Line.js';
import type {Glyphs} from './theme.js';
import {viewHelp, type View} from './view-keys.js';
import {type Sort, auditDetail, auditLine, chart, chartLegend, filterEntries, filterInstances, fitColumns, instanceHeads, instanceLine, regionRows, sortInstances, thresholdUsd} from './views.js';
import type {AuditEntry} from '../engine/audit.js';
import type {InstanceRow} from '../domain/types.js';

export type ViewLinesInput = {
	view: View;
	snapshot: Snapshot;
	now: number;
	columns: number;
	/** Rows for the title and body together. */
	height: number;
	glyphs: Glyphs;
	ascii: boolean;
};

let sorted: {list: readonly InstanceRow[]; filter: string; sort: Sort; rows: InstanceRow[]} | undefined;

/** What the view shows now: the filtered and sorted rows (the app keeps the cursor among them). */
export function viewRows(view: View, snapshot: Snapshot): {instances?: InstanceRow[]; entries?: AuditEntry[]} {
	if (view.kind === 'detail') {
		const environment = snapshot.environments.find(candidate => candidate.name === view.environment);
		const list = environment?.instances ?? [];
		// The 1-second clock redraws the view: the same list, filter and sort are not sorted again.
		if (sorted && sorted.list === list && sorted.filter === view.filter && sorted.sort === view.sort) {
			return {instances: sorted.rows};
		}

		const rows = sortInstances(filterInstances(list, view.filter), view.sort);
		sorted = {list, filter: view.filter, sort: view.sort, rows};
		return {instances: rows};
	}

	if (view.kind === 'log') {
		return {entries: filterEntries(view.tail.entries, view.filter)};
	}

	return {};
}

/** The columns the detail view shows at this width (for `<` and `>`). */
export function shownColumns(columns: number): Array<ReturnType<typeof fitColumns>[number]['key']> {
	return fitColumns(columns).map(column => column.key);
}

/** A message wrapped to the width, indented. */
function wrapSay(text: string, columns: number): Segment[][] {
	return wrap(text, columns - 2, 2).map(line => [{text: `  ${line}`, colour: 'yellow' as const}]);
}

function title(text: string, columns: number, glyphs: Glyphs): Segment {
	const head = `${glyphs.rule.repeat(2)} ${text} `;
	return {text: fit(head, columns, glyphs.ellipsis) + glyphs.rule.repeat(Math.max(0, columns - [...head].length)), colour: 'cyan'};
}

function filterText(view: {filter: string; editing: boolean}): string {
	return view.editing ? ` filter: ${view.filter}_` : view.filter ? ` filter: ${view.filter}` : '';
}

function selectedLine(text: string, selected: boolean, glyphs: Glyphs, columns: number): Segment[] {
	return selected
		? [{text: pad(glyphs.selected, 2), colour: 'cyan', inverse: true}, {text: pad(text, columns - 2), inverse: true, bold: true}]
		: [{text: `  ${text}`}];
}

/** The first row of a list `height` tall that keeps the cursor in sight. */
function firstShown(cursor: number, height: number): number {
	return cursor < height ? 0 : cursor - height + 1;
}

function environmentOf(snapshot: Snapshot, name: string): EnvironmentView | undefined {
	return name === 'global' ? snapshot.global : snapshot.environments.find(view => view.name === name);
}

export function viewLines({view, snapshot, now, columns, height, glyphs, ascii}: ViewLinesInput): Segment[][] {
	const body = Math.max(0, height - 1);
	if (view.help) {
		const lines = viewHelp(view).map(line => (ascii ? line.replace('↑↓', 'UpDn') : line));
		return [[title('keys (? or Esc closes)', columns, glyphs)], ...lines.slice(0, body).map(line => [{text: line}])];
	}

	switch (view.kind) {
		case 'detail': {
			const environment = snapshot.environments.find(candidate => candidate.name === view.environment);
			const all = environment?.instances ?? [];
			const rows = viewRows(view, snapshot).instances ?? [];
			const fitted = fitColumns(columns);
			const listed = environment?.instances ? all.length : environment?.instancesWithheld ?? 0;
			const counted = `${view.environment}: ${listed} instance${listed === 1 ? '' : 's'}${!environment?.instances || rows.length === listed ? '' : `, ${rows.length} shown`}`;
			// Stale: the list is the last good poll's, and says so.
			const lines: Segment[][] = [[title(`${counted}${environment ? ` ${money(environment.hourlyUsd)}/h` : ''}${environment?.stale ? ' STALE (last good poll)' : ''}${filterText(view)}`, columns, glyphs)]];
			if (!environment) {
				lines.push([{text: `  ${view.environment} is no longer monitored (Esc goes back)`, colour: 'yellow'}]);
				return lines;
			}

			if (environment.instancesWithheld !== undefined && !environment.instances) {
				lines.push(...wrapSay(`${environment.instancesWithheld} instances: too many to send to an attached dashboard; run the dashboard where envwatch serve runs to list them`, columns));
				return lines.slice(0, height);
			}

			lines.push([{text: `  ${instanceHeads(fitted, view.sort, glyphs)}`, dim: true}]);
			const room = Math.max(0, body - 1);
			if (rows.length === 0) {
				lines.push([{text: all.length === 0 ? `  no instances listed in ${view.environment}` : `  no instance matches "${view.filter}"`, dim: true}]);
				return lines.slice(0, height);
			}

			const cursor = Math.min(view.cursor, rows.length - 1);
			const top = firstShown(cursor, room);
			for (const [offset, row] of rows.slice(top, top + room).entries()) {
				lines.push(selectedLine(instanceLine(row, fitted, now, glyphs.ellipsis), top + offset === cursor, glyphs, columns));
			}

			return lines;
		}

		case 'log': {
			const {tail} = view;
			const entries = viewRows(view, snapshot).entries ?? [];
			// The filter comes before the notes: a narrow title cuts the notes, not what is typed.
			const notes = [
				`${tail.entries.length} entr${tail.entries.length === 1 ? 'y' : 'ies'}${entries.length === tail.entries.length ? '' : `, ${entries.length} shown`}${filterText(view)}`,
				...(tail.truncated ? ['the newest only'] : []),
				...(tail.skipped > 0 ? [`${tail.skipped} torn or invalid line${tail.skipped === 1 ? '' : 's'} skipped`] : []),
			];
			const lines: Segment[][] = [[title(`audit log: ${notes.join(', ')}`, columns, glyphs)]];
			if (tail.error) {
				lines.push([{text: fit(`  ${tail.error}`, columns), colour: 'red'}]);
				return lines;
			}

			if (entries.length === 0) {
				lines.push([{text: tail.entries.length === 0 ? '  the audit log is empty' : `  no entry matches "${view.filter}"`, dim: true}]);
				return lines;
			}

			const cursor = Math.min(view.cursor, entries.length - 1);
			// The list takes up to half the body; the selected entry's details take the rest.
			const listRows = Math.max(1, Math.min(entries.length, Math.ceil(body / 2)));
			const top = firstShown(cursor, listRows);
			for (const [offset, entry] of entries.slice(top, top + listRows).entries()) {
				const selected = top + offset === cursor;
				const colour = entry.outcome?.startsWith('failed') ? 'red' as const : entry.type === 'action' ? 'green' as const : undefined;
				const line = selectedLine(auditLine(entry), selected, glyphs, columns);
				lines.push(selected ? line : [{text: line[0]!.text, colour}]);
			}

			const selected = entries[cursor]!;
			const detailRoom = body - listRows - 1;
			if (detailRoom > 0) {
				lines.push([title(`entry ${cursor + 1} of ${entries.length}`, columns, glyphs)]);
				const detail = auditDetail(selected, columns - 2);
				const shown = detail.length > detailRoom ? [...detail.slice(0, detailRoom - 1), `... ${detail.length - detailRoom + 1} more lines`] : detail;
				lines.push(...shown.map(text => [{text: `  ${text}`}]));
			}

			return lines;
		}

		case 'spend': {
			const environment = environmentOf(snapshot, view.target);
			const lines: Segment[][] = [[title(`spend over time: ${view.target}${environment ? ` (${environment.windowMinutes}m window, ${environment.trend.length} samples)` : ''}`, columns, glyphs)]];
			if (!environment) {
				lines.push([{text: `  ${view.target} is no longer monitored (Esc goes back)`, colour: 'yellow'}]);
				return lines;
			}

			if (environment.trend.length === 0) {
				lines.push([{text: '  no samples yet: the chart starts with the first good poll', dim: true}]);
				return lines;
			}

			const plotRows = Math.max(2, body - 2);
			const drawn = chart(environment.trend, {width: columns, height: plotRows, threshold: thresholdUsd(environment), cap: environment.maxHourlyUsd, glyphs, ascii, intervalSeconds: snapshot.intervalSeconds});
			lines.push(...drawn.lines.map(text => [{text}]));
			lines.push([{text: fit(chartLegend(environment, ascii), columns, glyphs.ellipsis), dim: true}]);
			return lines.slice(0, height);
		}

		case 'region': {
			const environment = snapshot.environments.find(candidate => candidate.name === view.environment);
			const lines: Segment[][] = [[title(`by region: ${view.environment}${environment?.stale ? ' STALE (last good poll)' : ''}`, columns, glyphs)]];
			if (!environment) {
				lines.push([{text: `  ${view.environment} is no longer monitored (Esc goes back)`, colour: 'yellow'}]);
				return lines;
			}

			if (environment.instancesWithheld !== undefined && !environment.instances) {
				lines.push(...wrapSay(`${environment.instancesWithheld} instances: too many to send to an attached dashboard; run the dashboard where envwatch serve runs to see them by region`, columns));
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
	}
}
