/**
 * What every drill-down view draws alike: its title rule, the filter being typed, the selected
 * row, a list's scroll position. Pure: lines of segments, placed by the components.
 */
import type {EnvironmentView} from '../../domain/index.js';
import type {Snapshot} from '../../engine/index.js';
import {fit, pad, wrap} from '../cells.js';
import type {Segment} from '../components/Line.js';
import type {Glyphs} from '../theme.js';

/** What a view is drawn from: the snapshot, the clock and the room it has. */
/** What a list view (instances, audit log) keeps besides its rows: the filter, the cursor, help. */
export type Listing = {filter: string; editing: boolean; cursor: number; help?: boolean};

export type ViewRoom = {
	snapshot: Snapshot;
	now: number;
	columns: number;
	/** Rows for the title and body together. */
	height: number;
	glyphs: Glyphs;
	ascii: boolean;
};

/** A message wrapped to the width, indented. */
export function wrapSay(text: string, columns: number): Segment[][] {
	return wrap(text, columns - 2, 2).map(line => [{text: `  ${line}`, colour: 'yellow' as const}]);
}

/** The view's title: `── dev: 4 instances ────`, cut to the width. */
export function title(text: string, columns: number, glyphs: Glyphs): Segment {
	const head = `${glyphs.rule.repeat(2)} ${text} `;
	return {text: fit(head, columns, glyphs.ellipsis) + glyphs.rule.repeat(Math.max(0, columns - [...head].length)), colour: 'cyan'};
}

/** The filter in the title: being typed (with a cursor), or kept. */
export function filterText(view: {filter: string; editing: boolean}): string {
	return view.editing ? ` filter: ${view.filter}_` : view.filter ? ` filter: ${view.filter}` : '';
}

/** A list's row: the cursor's in reverse video; `marked` (the detail view's Space) with a `*` beside it. */
export function selectedLine(text: string, selected: boolean, glyphs: Glyphs, columns: number, marked = false): Segment[] {
	if (selected) {
		return [
			{text: marked ? glyphs.selected : pad(glyphs.selected, 2), colour: 'cyan', inverse: true},
			...(marked ? [{text: '*', colour: 'yellow' as const, bold: true, inverse: true}] : []),
			{text: pad(text, columns - 2), inverse: true, bold: true},
		];
	}

	// A row unmarked stays one segment, as the lists have always drawn it (a leading segment of
	// spaces alone left some rows of the log view blank in Ink's debug frames).
	return marked ? [{text: ' *', colour: 'yellow', bold: true}, {text}] : [{text: `  ${text}`}];
}

/** The first row of a list `height` tall that keeps the cursor in sight. */
export function firstShown(cursor: number, height: number): number {
	return cursor < height ? 0 : cursor - height + 1;
}

/** An environment by name, or the global row (`global`). */
export function environmentOf(snapshot: Snapshot, name: string): EnvironmentView | undefined {
	return name === 'global' ? snapshot.global : snapshot.environments.find(view => view.name === name);
}

/** The line of a view whose environment went away. */
export function goneLine(name: string): Segment[] {
	return [{text: `  ${name} is no longer monitored (Esc goes back)`, colour: 'yellow'}];
}
