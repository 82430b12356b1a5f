/**
 * docs/dashboard.md's key tables, written from the keymap (keymap.ts), so the page cannot drift
 * from what the dashboard binds: `npm run docs:keys` rewrites them, and a test fails when the
 * committed page differs. Pure: no React, no Ink.
 */
import {bindings, type Binding, type Scope} from './keymap.js';

/** Each scope's heading, in the page's order. */
export const scopeTitles: ReadonlyArray<[Scope, string]> = [
	['table', 'The table'],
	['detail', 'Instances (`Enter` on a row)'],
	['describe', 'One instance described (`d` or `c` in the instances)'],
	['log', 'Audit log (`l`)'],
	['entry', 'An audit entry in full (`Enter` in the log)'],
	['spend', 'Spend over time (`t`)'],
	['region', 'By region (`g`)'],
	['account', 'By account (`A`)'],
	['events', 'The events (`e`)'],
	['filter', 'A filter being typed (`/` on the table, in the instances and in the log)'],
	['command', 'Command mode (`:` on the table)'],
	['confirm', 'A confirmation'],
	['confirm-typed', 'A confirmation that asks for a word (`stop all`, or a monitor-only environment\'s name)'],
];

export const startMarker = '<!-- keys:start: generated from source/ui/keymap.ts by `npm run docs:keys`; edit the keymap, not this table -->';
export const endMarker = '<!-- keys:end -->';

/** When a binding is bound: what the key bar and the help only offer then. */
function when(binding: Binding): string {
	return [
		...(binding.needsPending ? ['only while an automatic action counts down its grace period'] : []),
		...(binding.needsBreaker ? ['only on a row whose breaker is tripped (`HELD`)'] : []),
		...(binding.needsCount ? ['only when starting agents'] : []),
		...(binding.needsAccounts ? ['only with `accounts` configured'] : []),
		...(binding.dangerous ? ['not bound under `--read-only`'] : []),
	].join('; ');
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/** A scope's table: a row a key (the keys written with another are on its row), in the keymap's order. */
export function scopeTable(scope: Scope): string {
	const rows = bindings.filter(binding => binding.scopes.includes(scope) && !binding.folded).map(binding => {
		const note = when(binding);
		const action = `${binding.help}${binding.note ? `. ${binding.note}` : ''}`;
		return `| \`${cell(binding.keyLabel)}\` | ${cell(action)}${note ? ` (${note})` : ''} |`;
	});
	return ['| key | action |', '| --- | --- |', ...rows].join('\n');
}

/** Every scope's table under its heading: what goes between the page's markers. */
export function keysMarkdown(): string {
	return scopeTitles.map(([scope, title]) => `### ${title}\n\n${scopeTable(scope)}`).join('\n\n');
}

/** The page with its key tables written afresh; an error when its markers are missing. */
export function withKeyTables(page: string): string {
	const start = page.indexOf(startMarker);
	const end = page.indexOf(endMarker);
	if (start === -1 || end === -1 || end < start) {
		throw new Error(`docs/dashboard.md: the markers ${startMarker} and ${endMarker} are missing or out of order`);
	}

	return `${page.slice(0, start + startMarker.length)}\n\n${keysMarkdown()}\n\n${page.slice(end)}`;
}
