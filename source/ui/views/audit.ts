/**
 * The audit log (`l`): every decision and action, newest first, filtered, with the selected entry
 * in full below the list. Pure: no React, no Ink (the log is read when the view opens).
 */
import type {AuditEntry} from '../../engine/index.js';
import {plural} from '../../domain/index.js';
import {clockTime, fit, pad, wrap} from '../cells.js';
import type {Segment} from '../components/Line.js';
import {filterText, firstShown, selectedLine, title, type ViewRoom} from './parts.js';
import type {View} from './state.js';

/** One line of the log list: time, kind, environments, outcome or reason. */
export function auditLine(entry: AuditEntry): string {
	const where = entry.environments.length > 0 ? entry.environments.join(',') : '-';
	const what = entry.type === 'action' ? entry.outcome ?? entry.reason : entry.outcome ? `${entry.reason} [${entry.outcome}]` : entry.reason;
	return `${clockTime(entry.at)} ${pad(entry.kind, 9)} ${pad(where, 10)} ${what}`;
}

export function filterEntries(entries: readonly AuditEntry[], filter: string): AuditEntry[] {
	const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
	if (words.length === 0) {
		return [...entries];
	}

	return entries.filter(entry => {
		const text = [entry.kind, entry.type, entry.actor, entry.reason, entry.outcome ?? '', ...entry.environments, ...entry.instanceIds].join(' ').toLowerCase();
		return words.every(word => text.includes(word));
	});
}

/** The selected entry in full: who, when, the whole reason, its figures and per-instance outcomes, word-wrapped (never cut). */
export function auditDetail(entry: AuditEntry, width: number): string[] {
	const lines = [
		...wrap(`#${entry.seq} ${entry.at} ${entry.type} ${entry.kind} by ${entry.actor}${entry.dryRun ? ' (dry run)' : ''}`, width, 2),
		...wrap(`reason: ${entry.reason}`, width, 2),
	];
	if (entry.outcome) {
		lines.push(...wrap(`outcome: ${entry.outcome}`, width, 2));
	}

	const figures = Object.entries(entry.figures ?? {});
	if (figures.length > 0) {
		lines.push(...wrap(`figures: ${figures.map(([key, value]) => `${key}=${value ?? 'unknown'}`).join(' ')}`, width, 2));
	}

	if (entry.results && entry.results.length > 0) {
		for (const result of entry.results) {
			const change = result.previousState && result.currentState ? ` ${result.previousState}->${result.currentState}` : '';
			lines.push(...wrap(`  ${result.id} ${result.region} ${result.result}${change}${result.message ? `: ${result.message}` : ''}`, width, 4));
		}
	} else if (entry.instanceIds.length > 0) {
		lines.push(...wrap(`instances: ${entry.instanceIds.join(' ')}`, width, 2));
	}

	return lines;
}

export type LogView = Extract<View, {kind: 'log'}>;

/** The entries the log view shows now (after its filter). */
export function logRows(view: LogView): AuditEntry[] {
	return filterEntries(view.tail.entries, view.filter);
}

/** The selected entry in full at this width (what Enter opens), or nothing when no entry is listed. */
export function entryLines(view: LogView, columns: number): string[] {
	const entries = logRows(view);
	return entries.length === 0 ? [] : auditDetail(entries[Math.min(view.cursor, entries.length - 1)]!, columns - 2);
}

/**
 * Rows an entry opened in full has for its lines in a terminal `rows` tall: all but the header,
 * its title, the status line, the key bar (one line: its four keys fit 40 columns) and the row kept free.
 */
export function entryRows(rows: number): number {
	return Math.max(1, rows - 5);
}

/** An entry opened in full: its title says which, and which of its lines show; ↑↓ scroll them. */
function entryView(view: LogView, entries: readonly AuditEntry[], {columns, height, glyphs}: Pick<ViewRoom, 'columns' | 'height' | 'glyphs'>): Segment[][] {
	const cursor = Math.min(view.cursor, entries.length - 1);
	const detail = auditDetail(entries[cursor]!, columns - 2);
	const room = Math.max(1, height - 1);
	const top = Math.min(view.entry ?? 0, Math.max(0, detail.length - room));
	const range = detail.length > room ? `, lines ${top + 1}-${Math.min(detail.length, top + room)} of ${detail.length}` : '';
	return [[title(`entry ${cursor + 1} of ${entries.length}${range}`, columns, glyphs)], ...detail.slice(top, top + room).map(text => [{text: `  ${text}`}])];
}

/** The log view: the title (counts, filter, what was skipped), the list and the selected entry. */
export function logLines(view: LogView, {columns, height, glyphs}: ViewRoom): Segment[][] {
	const body = Math.max(0, height - 1);
	const {tail} = view;
	const entries = logRows(view);
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

	if (view.entry !== undefined) {
		return entryView(view, entries, {columns, height, glyphs});
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
		// What does not fit is one key away: Enter opens the entry in full.
		const shown = detail.length > detailRoom ? [...detail.slice(0, detailRoom - 1), `${glyphs.ellipsis} ${plural(detail.length - detailRoom + 1, 'more line')}: Enter shows them`] : detail;
		lines.push(...shown.map(text => [{text: `  ${text}`}]));
	}

	return lines;
}
