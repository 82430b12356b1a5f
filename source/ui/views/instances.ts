/**
 * The environment's instances (Enter on a row): every instance the last poll listed, sorted,
 * filtered and fitted to the width. Pure: no React, no Ink.
 */
import {byText, money, plural, type InstanceRow} from '../../domain/index.js';
import {age, pad} from '../cells.js';
import type {Segment} from '../components/Line.js';
import type {Glyphs} from '../theme.js';
import {filterText, firstShown, goneLine, selectedLine, title, wrapSay, type Listing, type ViewRoom} from './parts.js';

export type ColumnKey = 'id' | 'name' | 'type' | 'account' | 'region' | 'lifecycle' | 'state' | 'age' | 'by' | 'role' | 'usd';

export type InstanceColumn = {
	key: ColumnKey;
	head: string;
	/** The key that sorts by this column (shifted, so it never clashes with a view key). */
	sortKey: string;
	/** Fixed width, or the range a flexible column may take. */
	width: number;
	min?: number;
	align: 'left' | 'right';
	/** Lower gives way first when the terminal is narrow. */
	keep: number;
};

export const instanceColumns: readonly InstanceColumn[] = [
	{key: 'id', head: 'ID', sortKey: 'I', width: 19, align: 'left', keep: 10},
	{key: 'name', head: 'NAME', sortKey: 'N', width: 16, min: 6, align: 'left', keep: 6},
	{key: 'type', head: 'TYPE', sortKey: 'T', width: 11, align: 'left', keep: 7},
	{key: 'region', head: 'REGION/AZ', sortKey: 'Z', width: 12, align: 'left', keep: 3},
	{key: 'lifecycle', head: 'LIFE', sortKey: 'L', width: 9, align: 'left', keep: 2},
	{key: 'state', head: 'STATE', sortKey: 'S', width: 8, align: 'left', keep: 9},
	{key: 'age', head: 'AGE', sortKey: 'A', width: 5, align: 'right', keep: 4},
	{key: 'by', head: 'BY', sortKey: 'B', width: 14, min: 6, align: 'left', keep: 1},
	{key: 'role', head: 'ROLE', sortKey: 'O', width: 7, align: 'left', keep: 5},
	{key: 'usd', head: '$/H', sortKey: 'P', width: 8, align: 'right', keep: 8},
	// Only with `accounts` configured (fitColumns), placed after the type.
	{key: 'account', head: 'ACCOUNT', sortKey: 'C', width: 12, min: 9, align: 'left', keep: 4.5},
];

export type Sort = {column: ColumnKey; descending: boolean};

export const defaultSort: Sort = {column: 'usd', descending: true};

/** The column `key` sorts by, if it is a sort key. */
export function sortColumnOf(key: string): ColumnKey | undefined {
	return instanceColumns.find(column => column.sortKey === key)?.key;
}

/** The next sort after a press: the same column again reverses it; another column starts descending for $/h and age, ascending otherwise. */
export function nextSort(sort: Sort, column: ColumnKey): Sort {
	if (sort.column === column) {
		return {column, descending: !sort.descending};
	}

	return {column, descending: column === 'usd' || column === 'age'};
}

/** `<` and `>`: the sort moves to the column left or right of it among those shown. */
export function shiftSort(sort: Sort, shown: readonly ColumnKey[], step: -1 | 1): Sort {
	const index = shown.indexOf(sort.column);
	const next = shown[Math.min(shown.length - 1, Math.max(0, (index < 0 ? 0 : index) + step))];
	return next === undefined || next === sort.column ? sort : nextSort(sort, next);
}

function sortValue(row: InstanceRow, column: ColumnKey): string | number | null {
	switch (column) {
		case 'id': {
			return row.id;
		}

		case 'name': {
			return row.name;
		}

		case 'type': {
			return row.type;
		}

		case 'account': {
			return row.accountName ?? null;
		}

		case 'region': {
			return `${row.region} ${row.zone ?? ''}`;
		}

		case 'lifecycle': {
			return row.lifecycle;
		}

		case 'state': {
			return row.state;
		}

		case 'age': {
			// Older first when descending: an earlier launch is a greater age.
			return row.launchedAt === null ? null : -row.launchedAt;
		}

		case 'by': {
			return row.launchedBy;
		}

		case 'role': {
			return row.role;
		}

		case 'usd': {
			return row.usdPerHour;
		}
	}
}

/** Sorted by the column; unknown values (null) always last; ties by ID, so the order is stable. */
export function sortInstances(rows: readonly InstanceRow[], sort: Sort): InstanceRow[] {
	const direction = sort.descending ? -1 : 1;
	return [...rows].sort((a, b) => {
		const x = sortValue(a, sort.column);
		const y = sortValue(b, sort.column);
		if (x === null || y === null) {
			return x === y ? byText(a.id, b.id) : x === null ? 1 : -1;
		}

		const order = typeof x === 'number' && typeof y === 'number' ? x - y : byText(String(x).toLowerCase(), String(y).toLowerCase());
		return order === 0 ? byText(a.id, b.id) : order * direction;
	});
}

/** Case-insensitive: every word of the filter must appear in one of the row's cells. */
export function filterInstances(rows: readonly InstanceRow[], filter: string): InstanceRow[] {
	const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
	if (words.length === 0) {
		return [...rows];
	}

	return rows.filter(row => {
		const text = [row.id, row.name, row.type, row.accountName, row.account, row.region, row.zone, row.lifecycle, row.state, row.launchedBy, row.role].filter(Boolean).join(' ').toLowerCase();
		return words.every(word => text.includes(word));
	});
}

/**
 * The columns shown at this width, and their widths: the least kept give way first, flexible ones
 * shrink first. The account's column only with `accounts` (`withAccount`).
 */
export function fitColumns(columns: number, withAccount = false): Array<InstanceColumn & {shown: number}> {
	const room = columns - 2;
	const others = instanceColumns.filter(column => column.key !== 'account');
	const type = others.findIndex(column => column.key === 'type') + 1;
	const ordered = withAccount ? [...others.slice(0, type), ...instanceColumns.filter(column => column.key === 'account'), ...others.slice(type)] : others;
	let chosen = ordered.map(column => ({...column, shown: column.width}));
	const total = () => chosen.reduce((sum, column) => sum + column.shown, 0) + chosen.length - 1;
	for (const column of chosen) {
		if (column.min !== undefined && total() > room) {
			column.shown = Math.max(column.min, column.shown - (total() - room));
		}
	}

	for (const drop of [...chosen].sort((a, b) => a.keep - b.keep)) {
		if (total() <= room) {
			break;
		}

		chosen = chosen.filter(column => column.key !== drop.key);
	}

	// Room left over goes back to the account's column (with accounts), then to the name.
	const account = chosen.find(column => column.key === 'account');
	if (account && total() < room) {
		account.shown = Math.min(account.width, account.shown + room - total());
	}

	const name = chosen.find(column => column.key === 'name');
	if (name && total() < room) {
		name.shown = Math.min(24, name.shown + room - total());
	}

	return chosen;
}

/** One cell's text (not yet padded). */
export function instanceCell(row: InstanceRow, column: ColumnKey, now: number): string {
	switch (column) {
		case 'id': {
			return row.id;
		}

		case 'name': {
			return row.name ?? '-';
		}

		case 'type': {
			return row.type;
		}

		case 'account': {
			return row.accountName ?? '-';
		}

		case 'region': {
			return row.zone ?? row.region;
		}

		case 'lifecycle': {
			return row.lifecycle ?? '?';
		}

		case 'state': {
			return row.state;
		}

		case 'age': {
			return row.launchedAt === null ? '?' : age(now, row.launchedAt);
		}

		case 'by': {
			return row.launchedBy ?? '-';
		}

		case 'role': {
			return row.role;
		}

		case 'usd': {
			// A billed instance without a price is unknown, never $0.
			// `~`: a conservative estimate (no source prices the instance).
			return row.usdPerHour === null ? 'unpriced' : `${row.estimated ? '~' : ''}${money(row.usdPerHour)}`;
		}
	}
}

/** The whole row as one line of the fitted columns. */
export function instanceLine(row: InstanceRow, fitted: ReturnType<typeof fitColumns>, now: number, ellipsis: string): string {
	return fitted.map(column => pad(instanceCell(row, column.key, now), column.shown, column.align, ellipsis)).join(' ');
}

export function instanceHeads(fitted: ReturnType<typeof fitColumns>, sort: Sort, glyphs: Glyphs): string {
	const arrow = sort.descending ? (glyphs.down.length === 1 ? glyphs.down : 'v') : (glyphs.up.length === 1 ? glyphs.up : '^');
	return fitted.map(column => pad(column.key === sort.column ? `${column.head}${arrow}` : column.head, column.shown, column.align, glyphs.ellipsis)).join(' ');
}

/** `marked`: the instances marked with Space (x stops them); absent: none. */
export type DetailView = {kind: 'detail'; environment: string; sort: Sort; marked?: readonly string[]} & Listing;

let sorted: {list: readonly InstanceRow[]; filter: string; sort: Sort; rows: InstanceRow[]} | undefined;

/** The rows the detail view shows now: filtered and sorted (the app keeps the cursor among them). */
export function detailRows(view: DetailView, snapshot: ViewRoom['snapshot']): InstanceRow[] {
	const environment = snapshot.environments.find(candidate => candidate.name === view.environment);
	const list = environment?.instances ?? [];
	// The 1-second clock redraws the view: the same list, filter and sort are not sorted again.
	if (sorted && sorted.list === list && sorted.filter === view.filter && sorted.sort === view.sort) {
		return sorted.rows;
	}

	const rows = sortInstances(filterInstances(list, view.filter), view.sort);
	sorted = {list, filter: view.filter, sort: view.sort, rows};
	return rows;
}

/** The columns the detail view shows at this width (for `<` and `>`). */
export function shownColumns(columns: number, withAccount = false): ColumnKey[] {
	return fitColumns(columns, withAccount).map(column => column.key);
}

/** The detail view: its title (count, $/h, filter), the column heads and the rows around the cursor. */
export function detailLines(view: DetailView, {snapshot, now, columns, height, glyphs}: ViewRoom): Segment[][] {
	const body = Math.max(0, height - 1);
	const environment = snapshot.environments.find(candidate => candidate.name === view.environment);
	const all = environment?.instances ?? [];
	const rows = detailRows(view, snapshot);
	const fitted = fitColumns(columns, Boolean(snapshot.accounts));
	const listed = environment?.instances ? all.length : environment?.instancesWithheld ?? 0;
	const marked = new Set(view.marked ?? []);
	const counted = `${view.environment}: ${listed} instance${listed === 1 ? '' : 's'}${!environment?.instances || rows.length === listed ? '' : `, ${rows.length} shown`}${marked.size > 0 ? `, ${marked.size} marked` : ''}`;
	// Stale: the list is the last good poll's, and says so.
	const lines: Segment[][] = [[title(`${counted}${environment ? ` ${money(environment.hourlyUsd)}/h` : ''}${environment?.stale ? ' STALE (last good poll)' : ''}${filterText(view)}`, columns, glyphs)]];
	if (!environment) {
		lines.push(goneLine(view.environment));
		return lines;
	}

	if (environment.instancesWithheld !== undefined && !environment.instances) {
		lines.push(...wrapSay(`${plural(environment.instancesWithheld, 'instance')}: too many to send to an attached dashboard; run the dashboard where envwatch serve runs to list them`, columns));
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
		lines.push(selectedLine(instanceLine(row, fitted, now, glyphs.ellipsis), top + offset === cursor, glyphs, columns, marked.has(row.id)));
	}

	return lines;
}
