/**
 * What the dashboard shows, as against what the engine guards: the `/` filter on the table and the
 * view set by `:env`, `:region` and `:account` narrow what is drawn, never what is guarded (that
 * changes only through a confirmed `:guard`). The header says what is guarded, always, and what is
 * shown when that differs. Pure: no React, no Ink.
 */
import type {EnvironmentView, InstanceRow} from '../domain/index.js';
import type {Snapshot} from '../engine/index.js';
import {markerWords} from './cells.js';

/** The view set by command mode (`:env`, `:region`, `:account`); each absent: not narrowed. */
export type ViewScope = {environments?: readonly string[]; region?: string; account?: string};

/** The table's `/` filter: being typed, or kept. */
export type TableFilter = {text: string; editing: boolean};

export const noFilter: TableFilter = {text: '', editing: false};

/** The environments' names, in table order. */
export function namesOf(snapshot: Snapshot | undefined): string[] {
	return snapshot?.environments.map(view => view.name) ?? [];
}

/** The account an instance runs in (its name, else its ID), with `accounts` configured; undefined otherwise. */
export function accountOf(row: InstanceRow): string | undefined {
	return row.accountName || row.account || undefined;
}

/** The account's 12-digit ID, where known. */
export function accountIdOf(row: InstanceRow): string | undefined {
	return row.account || undefined;
}

/**
 * The accounts the dashboard knows, sorted: every account watched (the snapshot's `accounts`, an
 * account running nothing included) and those its instances run in; empty with one account.
 */
export function accountsOf(snapshot: Snapshot): string[] {
	const names = new Set<string>(snapshot.accounts?.map(account => account.name) ?? []);
	for (const view of snapshot.environments) {
		for (const row of view.instances ?? []) {
			const account = accountOf(row);
			if (account !== undefined) {
				names.add(account);
			}
		}
	}

	return [...names].sort();
}

/** The regions the dashboard knows: those watched and those its instances run in. */
export function regionsOf(snapshot: Snapshot): string[] {
	const regions = new Set(snapshot.regions);
	for (const view of snapshot.environments) {
		for (const row of view.instances ?? []) {
			regions.add(row.region);
		}
	}

	return [...regions].sort();
}

/** Every word of the filter (case-insensitive) appears in the row: its name, status, HELD or PAUSED. */
export function filterMatches(view: EnvironmentView, filter: string): boolean {
	const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
	const text = [view.name, view.status, ...markerWords(view)].join(' ').toLowerCase();
	return words.every(word => text.includes(word));
}

function instanceInScope(row: InstanceRow, scope: ViewScope): boolean {
	return (scope.region === undefined || row.region === scope.region) && (scope.account === undefined || accountOf(row) === scope.account);
}

/**
 * The snapshot as the dashboard draws it: the environments the view and the filter keep (in
 * table order), each with only the instances of the region and account viewed. An environment
 * whose instances were not sent (an attached dashboard, a long fleet) is kept: what it has there
 * cannot be told. The global row and every figure stay the guarded set's.
 */
export function scopedSnapshot(snapshot: Snapshot, scope: ViewScope, filter: TableFilter): Snapshot {
	if (!narrowed(scope, filter)) {
		return snapshot;
	}

	const narrowInstances = scope.region !== undefined || scope.account !== undefined;
	const environments = snapshot.environments
		.filter(view => scope.environments === undefined || scope.environments.includes(view.name))
		.filter(view => filterMatches(view, filter.text))
		.flatMap(view => {
			if (!narrowInstances || !view.instances) {
				return [view];
			}

			const instances = view.instances.filter(row => instanceInScope(row, scope));
			return instances.length > 0 ? [{...view, instances}] : [];
		});
	return {...snapshot, environments};
}

/** Whether the table shows less than the guarded set. */
export function narrowed(scope: ViewScope, filter: TableFilter): boolean {
	return scope.environments !== undefined || scope.region !== undefined || scope.account !== undefined || filter.text !== '';
}

/** How the header says what is guarded and what is shown. */
export type ScopeView = {
	/** The guarded environments (the snapshot's). */
	guarded: readonly string[];
	/** Every configured environment, when the snapshot says. */
	configured?: readonly string[] | undefined;
	/** The environments the table shows. */
	shown: readonly string[];
	/** What narrows the view (`region us-west-2, /stag`), or undefined when nothing does. */
	narrowedBy?: string | undefined;
};

/** `dev,staging region us-west-2 /stag`: what narrows the view, in words. */
export function scopeWords(scope: ViewScope, filter: TableFilter): string | undefined {
	const words = [
		...(scope.environments ? [scope.environments.join(',')] : []),
		...(scope.region ? [`region ${scope.region}`] : []),
		...(scope.account ? [`account ${scope.account}`] : []),
		...(filter.text ? [`/${filter.text}`] : []),
	];
	return words.length > 0 ? words.join(' ') : undefined;
}

/**
 * What the header says is guarded: `guards all` (every configured environment: the table's rows),
 * the names when some are not (`guards dev,staging`), or how many where the snapshot does not say
 * what is configured (an older server).
 */
export function guardText(view: Pick<ScopeView, 'guarded' | 'configured'>): string {
	if (view.guarded.length === 0) {
		return 'guards nothing';
	}

	if (view.configured === undefined) {
		return `guards ${view.guarded.length}`;
	}

	const all = view.configured.length === view.guarded.length && view.configured.every(name => view.guarded.includes(name));
	return all ? 'guards all' : `guards ${view.guarded.join(',')}`;
}

/** What the header says of the view when it differs from the guarded set (undefined when it does not). */
export function showingText(view: ScopeView): string | undefined {
	if (view.narrowedBy === undefined) {
		return undefined;
	}

	return `showing ${view.shown.length}/${view.guarded.length}: ${view.narrowedBy}`;
}
