/**
 * An environment by account (`A`, with `accounts` configured): billed $/h, agents and instances
 * running in each account, each account's share as a bar, and an account whose share could not be
 * listed as STALE, with why: shown, never left out. Pure: no React, no Ink.
 */
import {byText, money, type EnvironmentView, type InstanceRow} from '../../domain/index.js';
import type {AccountView} from '../../engine/index.js';
import {pad} from '../cells.js';
import type {Segment} from '../components/Line.js';
import {goneLine, title, wrapSay, type ViewRoom} from './parts.js';
import {counted, noTally, shareTable, sumTally, tally, type Tally} from './share.js';
import type {View} from './state.js';

export type AccountRow = {account: string; id: string | null; stale: string | null} & Tally;

/**
 * Per account: billed $/h, agents and instances of the environment running there. Every watched
 * account has a row (those with nothing show 0); a row split by account has its own account's only.
 * A STALE account sorts first: what is not known is not least.
 */
export function accountRows(environment: Pick<EnvironmentView, 'account'>, instances: readonly InstanceRow[], accounts: readonly AccountView[]): AccountRow[] {
	const rows = new Map<string, AccountRow>();
	for (const account of accounts) {
		if (environment.account === undefined || environment.account === account.name) {
			rows.set(account.name, {account: account.name, id: account.id, stale: account.stale, ...noTally()});
		}
	}

	for (const instance of instances) {
		const row = instance.accountName === undefined ? undefined : rows.get(instance.accountName);
		if (row && counted(instance)) {
			tally(row, instance);
		}
	}

	return [...rows.values()].sort((a, b) => Number(b.stale !== null) - Number(a.stale !== null) || b.hourlyUsd - a.hourlyUsd || b.instances - a.instances || byText(a.account, b.account));
}

/** The account view: a row per account (STALE ones first, then the dearest), those that do not fit counted, the total, and why each STALE one is. */
export function accountLines(view: Extract<View, {kind: 'account'}>, {snapshot, columns, height, glyphs}: ViewRoom): Segment[][] {
	const body = Math.max(0, height - 1);
	const environment = snapshot.environments.find(candidate => candidate.name === view.environment);
	const lines: Segment[][] = [[title(`by account: ${view.environment}${environment?.stale ? ' STALE (last good poll)' : ''}`, columns, glyphs)]];
	if (!environment) {
		lines.push(goneLine(view.environment));
		return lines;
	}

	if (!snapshot.accounts) {
		lines.push(...wrapSay('one account: envwatch watches the account its credentials belong to (`accounts` in the configuration watches more)', columns));
		return lines.slice(0, height);
	}

	if (environment.instancesWithheld !== undefined && !environment.instances) {
		lines.push(...wrapSay(`${environment.instancesWithheld} instances: too many to send to an attached dashboard; run the dashboard where envwatch serve runs to see them by account`, columns));
		return lines.slice(0, height);
	}

	const rows = accountRows(environment, environment.instances ?? [], snapshot.accounts);
	const stale = rows.filter(row => row.stale !== null);
	const sum = sumTally(rows);
	const table = shareTable(22, columns, glyphs);
	lines.push(table.heads('ACCOUNT'));
	// The rows, the total, and a line for each STALE account's reason (the first one at least).
	const reasons = stale.length > 0 ? Math.min(stale.length, Math.max(1, body - rows.length - 3)) : 0;
	const room = Math.max(0, body - 2 - reasons);
	const shown = rows.length > room ? rows.slice(0, Math.max(0, room - 1)) : rows;
	for (const row of shown) {
		lines.push(row.stale === null ? table.row(row.account, row, sum.hourlyUsd) : [{text: table.line(row.account, 'STALE', '?', '?', ''), colour: 'red'}]);
	}

	if (shown.length < rows.length && room > 0) {
		lines.push(table.more(rows.length - shown.length, 'account'));
	}

	const known = stale.length > 0 ? `, ${stale.length} STALE: unknown` : '';
	lines.push([{text: table.line('total', `${money(sum.hourlyUsd)}${sum.unpriced > 0 || stale.length > 0 ? '+' : ''}`, String(sum.agents), String(sum.instances), `${sum.unpriced > 0 ? `+: ${sum.unpriced} unpriced` : ''}${known}`), bold: true}]);
	for (const row of stale.slice(0, reasons)) {
		lines.push([{text: pad(`  ${row.account}${row.id ? ` (${row.id})` : ''}: ${row.stale}`, Math.max(0, columns - 1), 'left', glyphs.ellipsis).trimEnd(), colour: 'red'}]);
	}

	if (snapshot.accountsProblem) {
		lines.push([{text: pad(`  organization: ${snapshot.accountsProblem}`, Math.max(0, columns - 1), 'left', glyphs.ellipsis).trimEnd(), colour: 'yellow'}]);
	}

	return lines.slice(0, height);
}
