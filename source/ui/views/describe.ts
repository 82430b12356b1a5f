/**
 * One instance described (`d` in the detail view): what the last poll listed of it (state, type,
 * placement, AMI, launch, tags), its price and where the price comes from, its volumes' cost, its
 * account where there are accounts, and its EC2 console link written whole. Pure: no React, no Ink.
 */
import {byText, money, type InstanceRow} from '../../domain/index.js';
import {age, pad} from '../cells.js';
import type {Segment} from '../components/Line.js';
import {consoleUrl} from '../instance-actions.js';
import {accountIdOf, accountOf} from '../scope.js';
import {goneLine, title, type ViewRoom} from './parts.js';
import type {View} from './state.js';

type DescribeView = Extract<View, {kind: 'describe'}>;

/** Where a price comes from, in words. */
const sources: Record<string, string> = {
	'price-list': 'the AWS Price List',
	table: 'the shipped price table',
	spot: 'the spot market',
	override: 'the configuration (prices)',
	estimate: 'a conservative estimate: no source prices it',
};

function priceText(row: InstanceRow): string {
	if (row.state !== 'running' && row.state !== 'pending') {
		return `$0/h: ${row.state}, its compute is not billed`;
	}

	if (row.usdPerHour === null) {
		return 'unpriced: billed at a price not known (never counted as $0)';
	}

	const source = row.priceSource === undefined ? '' : ` from ${sources[row.priceSource] ?? row.priceSource}`;
	return `${row.estimated ? '~' : ''}${money(row.usdPerHour)}/h${source}`;
}

function volumesText(row: InstanceRow): string {
	if (!row.storage) {
		return 'not priced here (this provider does not list volumes)';
	}

	if (row.storage.unknown) {
		return 'not known yet (asked; counted as ~$0 meanwhile)';
	}

	return `${row.storage.estimated ? '~' : ''}${money(row.storage.usdPerHour)}/h of EBS${row.storage.estimated ? ' (marked ~: a rate not believed)' : ''}; a stop does not save it`;
}

function launchText(row: InstanceRow, now: number): string {
	if (row.launchedAt === null) {
		return 'not known';
	}

	return `${new Date(row.launchedAt).toISOString().replace('T', ' ').slice(0, 16)} UTC (${age(now, row.launchedAt)} ago)${row.launchedBy ? ` by ${row.launchedBy}` : ''}`;
}

/** The describe's lines, each a field (label and value), the link, then the tags. */
export function describeRows(row: InstanceRow, now: number): Array<{label: string; value: string} | {link: string}> {
	const account = accountOf(row);
	const accountId = accountIdOf(row);
	const tags = row.tags ? Object.keys(row.tags).sort(byText) : undefined;
	return [
		{label: 'state', value: `${row.state}, ${row.role}${row.name ? `, named ${row.name}` : ''}`},
		{label: 'type', value: `${row.type}${row.lifecycle ? `, ${row.lifecycle}` : ''}`},
		{label: 'where', value: `${row.zone ?? row.region}${row.zone ? ` (${row.region})` : ''}`},
		...(account === undefined ? [] : [{label: 'account', value: accountId !== undefined && accountId !== account ? `${account} (${accountId})` : account}]),
		{label: 'AMI', value: row.image ?? 'not listed'},
		{label: 'launched', value: launchText(row, now)},
		{label: '$/h', value: priceText(row)},
		{label: 'volumes', value: volumesText(row)},
		{label: 'console', value: 'c copies the link below (OSC 52)'},
		{link: consoleUrl(row.region, row.id)},
		{label: 'tags', value: tags === undefined ? 'not sent to this attached dashboard (too many); the dashboard where envwatch serve runs shows them' : tags.length === 0 ? 'none' : String(tags.length)},
		...(tags ?? []).map(key => ({label: `  ${key}`, value: row.tags![key]!})),
	];
}

/** The describe's line that introduces the console link (the link follows it): where `c` scrolls to. */
export function consoleLine(row: InstanceRow, now: number): number {
	return describeRows(row, now).findIndex(item => 'link' in item) - 1;
}

/** The describe view: its title, then the fields from `cursor` on; the link is cut into whole lines, never shortened. */
export function describeLines(view: DescribeView, {snapshot, now, columns, height, glyphs}: ViewRoom): Segment[][] {
	const environment = snapshot.environments.find(candidate => candidate.name === view.environment);
	const row = environment?.instances?.find(candidate => candidate.id === view.id);
	const lines: Segment[][] = [[title(`${view.id}${row?.name ? ` (${row.name})` : ''} in ${view.environment}`, columns, glyphs)]];
	if (!environment) {
		lines.push(goneLine(view.environment));
		return lines;
	}

	if (!row) {
		lines.push([{text: `  ${view.id} is no longer listed in ${view.environment} (Esc goes back)`, colour: 'yellow'}]);
		return lines;
	}

	const body: Segment[][] = [];
	const labelWidth = 10;
	for (const item of describeRows(row, now)) {
		if ('link' in item) {
			// Whole, from the first column, so it can be selected by hand where the clipboard does not reach.
			for (let start = 0; start < item.link.length; start += columns) {
				body.push([{text: item.link.slice(start, start + columns), colour: 'cyan'}]);
			}

			continue;
		}

		body.push([{text: `  ${pad(item.label, labelWidth, 'left', glyphs.ellipsis)} `, dim: true}, {text: item.value}]);
	}

	const room = Math.max(0, height - 1);
	const top = Math.min(view.cursor, Math.max(0, body.length - room));
	lines.push(...body.slice(top, top + room));
	return lines;
}

/** How many lines the describe has (its scroll stays within them). */
export function describeCount(view: DescribeView, snapshot: ViewRoom['snapshot'], columns: number, now: number): number {
	const row = snapshot.environments.find(candidate => candidate.name === view.environment)?.instances?.find(candidate => candidate.id === view.id);
	if (!row) {
		return 0;
	}

	const url = consoleUrl(row.region, row.id);
	return describeRows(row, now).length - 1 + Math.ceil(url.length / Math.max(1, columns));
}
