import React from 'react';
import {Box} from 'ink';
import {activeBindings, bindings, keysIn, labelOf, type Binding, type KeyContext, type UiCommand} from '../keymap.js';
import {compactMarkers, pad, wrap} from '../cells.js';
import {useTheme, type Glyphs} from '../theme.js';
import {Line, titleRule} from './Line.js';

type HelpLine = {keys: string; text: string; note: boolean};

/** Keys with a line of their own: folded keys are written with the key before them, the views' keys are in the title. */
const listed = (binding: Binding) => !binding.folded && !binding.unlisted;
const keyOf = (command: UiCommand) => bindings.find(binding => binding.scopes.includes('table') && binding.command === command)?.keyLabel ?? '';
/** `p` and `P` share a line: all automatic actions, or the selected environment's only. */
const pauseKeys = `${keyOf('pause')} ${keyOf('pause-env')}`;
function pauseText(context: KeyContext): string {
	const all = context.paused ? 'resume' : 'pause';
	const one = context.envPaused ? 'resume' : 'pause';
	return all === one ? `${all} all / this env` : `${all} all / ${one} this env`;
}

const viewKeys = bindings.filter(binding => binding.scopes.includes('table') && binding.command.startsWith('open-'));

/** The help's title, with the keys that open a view (the lines below are all taken at 80x24). */
export const helpTitle = (columns: number) => {
	const named = `views: ${viewKeys.map(binding => `${binding.keyLabel} ${binding.label}`).join(', ')}`;
	const keys = `${viewKeys.map(binding => binding.keyLabel).join(' ')}: views`;
	return columns >= 86 ? `keys (? or Esc closes) ${named}` : columns >= 79 ? `keys (? or Esc) ${named}` : columns >= 60 ? `keys (? or Esc closes) ${keys}` : `keys (? or Esc) ${keys}`;
};

/** The help's key column: keys padded to this, long text wrapped under it. */
const keyColumn = 8;

/** A help row as drawn at this width: its text word-wrapped under the key column (never cut). */
function drawn(row: {keys: string; text: string}, columns: number, note: boolean): HelpLine[] {
	return wrap(row.text, Math.max(1, columns - keyColumn)).map((text, index) => ({keys: index === 0 ? row.keys : '', text, note}));
}

const lineCount = (rows: ReadonlyArray<{keys: string; text: string}>, columns: number) => rows.reduce((sum, row) => sum + drawn(row, columns, false).length, 0);

/**
 * The help's rows for `room` lines below its title: every bound key from the keymap table (so
 * it cannot drift from the handler), then the legend (what the words, columns and colours mean).
 * A long line wraps under its key rather than being cut. Short of lines, two short bindings share
 * a line (from the end), so every key is still listed; the legend gives way first.
 */
function packHelp(context: KeyContext, glyphs: Glyphs, columns: number, room: number): {packed: Array<{keys: string; text: string}>; notes: Array<{keys: string; text: string}>} {
	// The two selection bindings share one line, `?` is in the title.
	const arrows = `${glyphs.up}${glyphs.down}`;
	const rows = activeBindings(context).filter(listed).map(binding => ({
		keys: binding.command === 'pause' ? pauseKeys : keysIn(binding.keyLabel, arrows),
		text: binding.command === 'pause' ? pauseText(context) : binding.help,
	}));
	const notes = [
		{keys: 'STATUS', text: 'ACTIVE LIMITED MONITOR: policy; WARN near, BREACH over a limit'},
		{keys: '', text: 'STOPPED: no agents left; STALE: last poll failed (figures are old)'},
		{keys: 'HELD', text: 'breaker tripped: envwatch stops agents that come back; R resets'},
		{keys: 'PAUSED', text: `automatic actions paused here (P); ${compactMarkers.HELD}${compactMarkers.PAUSED}: held and paused`},
		{keys: '$/H', text: 'spend now / hourly cap (~: has an estimate); INCREASE: now/threshold'},
		{keys: 'AGENTS', text: `running/allowed: ${glyphs.infinity} any, mon monitor-only, ? unknown`},
		{keys: 'colour', text: 'repeats the word: red over, yellow near, magenta stale or unknown'},
		...(context.readOnly ? [{keys: glyphs.lock, text: 'read-only: stop, cascade, emergency, undo, start, reset are off'}] : []),
	];
	const noteLines = lineCount(notes, columns);
	const pack = (list: Array<{keys: string; text: string}>) => {
		const packed = [...list];
		for (let index = packed.length - 2; index >= 0 && lineCount(packed, columns) + noteLines > room; index--) {
			const [a, b] = [packed[index]!, packed[index + 1]!];
			const merged = `${a.text}  ${pad(b.keys, Math.max(3, [...b.keys].length + 1))}${b.text}`;
			if (keyColumn + merged.length <= columns) {
				packed.splice(index, 2, {keys: a.keys, text: merged});
			}
		}

		return packed;
	};

	let packed = pack(rows);
	if (lineCount(packed, columns) > room) {
		// Still too many for the rows: the key bar's short words, so that every key is still listed.
		packed = pack(activeBindings(context).filter(listed).map(binding => ({
			keys: keysIn(binding.command === 'quit' ? binding.barKeys ?? binding.keyLabel : binding.keyLabel, arrows),
			text: binding.command === 'pause' ? `${labelOf(binding, context)} (${keyOf('pause-env')} env)` : labelOf(binding, context),
		})));
	}

	return {packed, notes};
}

/** The help's lines below its title, at most `room`: the keys, then the legend's notes that fit whole. */
export function helpLines(context: KeyContext, glyphs: Glyphs, columns: number, room: number): HelpLine[] {
	const {packed, notes} = packHelp(context, glyphs, columns, room);
	const lines = packed.flatMap(row => drawn(row, columns, false)).slice(0, Math.max(0, room));
	for (const note of notes) {
		const drawnNote = drawn(note, columns, true);
		// A note half shown would read as whole: it is shown whole, or (with the notes after it) not at all.
		if (lines.length + drawnNote.length > room) {
			break;
		}

		lines.push(...drawnNote);
	}

	return lines;
}

/** Lines the help wants: `min` lists every key (packed), `want` the legend too; the title included. */
export function helpNeeds(context: KeyContext, glyphs: Glyphs, columns: number): {min: number; want: number} {
	const tight = packHelp(context, glyphs, columns, 0);
	const loose = packHelp(context, glyphs, columns, Number.MAX_SAFE_INTEGER);
	return {min: 1 + lineCount(tight.packed, columns), want: 1 + lineCount(loose.packed, columns) + lineCount(loose.notes, columns)};
}

/** The help overlay. */
export function HelpPanel({context, height, columns}: {context: KeyContext; height: number; columns: number}): React.JSX.Element {
	const {glyphs} = useTheme();
	const lines = helpLines(context, glyphs, columns, height - 1);
	return (
		<Box flexDirection="column">
			<Line segments={[{text: titleRule(helpTitle(columns), columns, glyphs.rule), colour: 'cyan'}]} width={columns} />
			{lines.map((line, index) => <Line key={index} width={columns} segments={[{text: pad(line.keys, keyColumn), bold: true}, {text: line.text, dim: line.note}]} />)}
		</Box>
	);
}
