/**
 * The events on the whole screen (`e`): what the events pane shows, newest first, for a terminal
 * that leaves the pane no room (40x11) and for more than the pane has rows for. Each event is
 * written whole, word-wrapped under its time (never cut), and the list scrolls an event at a time.
 * Pure: no React, no Ink.
 */
import {wrap} from '../cells.js';
import type {Segment} from '../components/Line.js';
import {eventRows} from '../event-rows.js';
import {title, type ViewRoom} from './parts.js';
import type {View} from './state.js';

/** The time column: `12:03:04 `. */
const timeWidth = 9;

/** The events view: its title (which events are in sight, of how many), then each event whole from the cursor's. */
export function eventsLines(view: Extract<View, {kind: 'events'}>, {snapshot, columns, height, glyphs}: ViewRoom): Segment[][] {
	const rows = eventRows(snapshot.events);
	const body = Math.max(0, height - 1);
	const first = Math.min(view.cursor, Math.max(0, rows.length - 1));
	const lines: Segment[][] = [];
	let last = first;
	for (const row of rows.slice(first)) {
		const text = wrap(`${row.actor} ${row.text}`, Math.max(1, columns - timeWidth));
		if (lines.length > 0 && lines.length + text.length > body) {
			break;
		}

		for (const [index, line] of text.entries()) {
			const [actor, ...rest] = index === 0 ? [row.actor, line.slice(row.actor.length)] : ['', line];
			lines.push([
				{text: index === 0 ? `${row.time} ` : ' '.repeat(timeWidth), dim: true},
				...(actor ? [{text: actor, colour: row.actor === 'auto' ? undefined : 'cyan' as const}] : []),
				{text: rest.join(''), colour: row.colour},
			]);
		}

		last++;
	}

	const more = last < rows.length;
	// At 40 columns the title says where the list is in fewer words: `events 1-2/7 ↓`.
	const where = rows.length === 0 ? '' : columns >= 50 ? ` ${first + 1}-${last} of ${rows.length}${more ? `, ${glyphs.down} more` : ''}` : ` ${first + 1}-${last}/${rows.length}${more ? ` ${glyphs.down}` : ''}`;
	const head: Segment[] = [title(`events${columns >= 50 ? ', newest first' : ''}${where}`, columns, glyphs)];
	return [head, ...(rows.length === 0 ? [[{text: '  no decisions or actions yet', dim: true}]] : lines.slice(0, body))];
}

/** How many events there are to scroll through (the cursor is the first one shown). */
export function eventsCount(view: View, snapshot: {events: Parameters<typeof eventRows>[0]}): number {
	return view.kind === 'events' ? eventRows(snapshot.events).length : 0;
}
