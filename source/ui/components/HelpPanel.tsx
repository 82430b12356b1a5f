import React from 'react';
import {Box} from 'ink';
import {activeBindings, bindings, keysIn, labelOf, type Binding, type KeyContext, type UiCommand} from '../keymap.js';
import {pad} from '../cells.js';
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
export const helpTitle = (columns: number) => (columns >= 72
	? `keys (? or Esc closes) views: ${viewKeys.map(binding => `${binding.keyLabel} ${binding.label}`).join(', ')}`
	: `keys (? or Esc closes) ${viewKeys.map(binding => binding.keyLabel).join(' ')}: views`);

/**
 * The help's lines for `room` rows below its title: every bound key from the keymap table (so
 * it cannot drift from the handler), then what the words, columns and colours mean. Short of
 * rows, two short bindings share a line (from the end), so every key is still listed; the notes
 * give way first.
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
		{keys: '$/H', text: 'spend now / hourly cap (~: has an estimate); INCREASE: now/threshold'},
		{keys: 'AGENTS', text: `running/allowed: ${glyphs.infinity} any, mon monitor-only, ? unknown`},
		{keys: 'colour', text: 'repeats the word: red over, yellow near, magenta stale or unknown'},
		...(context.readOnly ? [{keys: glyphs.lock, text: 'read-only: stop, cascade, emergency, undo, start, reset are off'}] : []),
	];
	const pack = (list: Array<{keys: string; text: string}>) => {
		const packed = [...list];
		for (let index = packed.length - 2; index >= 0 && packed.length + notes.length > room; index--) {
			const [a, b] = [packed[index]!, packed[index + 1]!];
			const merged = `${a.text}  ${pad(b.keys, Math.max(3, [...b.keys].length + 1))}${b.text}`;
			if (8 + merged.length <= columns) {
				packed.splice(index, 2, {keys: a.keys, text: merged});
			}
		}

		return packed;
	};

	let packed = pack(rows);
	if (packed.length > room) {
		// Still too many for the rows: the key bar's short words, so that every key is still listed.
		packed = pack(activeBindings(context).filter(listed).map(binding => ({
			keys: keysIn(binding.command === 'quit' ? binding.barKeys ?? binding.keyLabel : binding.keyLabel, arrows),
			text: binding.command === 'pause' ? `${labelOf(binding, context)} (${keyOf('pause-env')} env)` : labelOf(binding, context),
		})));
	}

	return {packed, notes};
}

export function helpLines(context: KeyContext, glyphs: Glyphs, columns: number, room: number): HelpLine[] {
	const {packed, notes} = packHelp(context, glyphs, columns, room);
	return [...packed.map(row => ({...row, note: false})), ...notes.map(note => ({...note, note: true}))].slice(0, Math.max(0, room));
}

/** Lines the help wants: `min` lists every key (packed), `want` everything; the title included. */
export function helpNeeds(context: KeyContext, glyphs: Glyphs, columns: number): {min: number; want: number} {
	const tight = packHelp(context, glyphs, columns, 0);
	const loose = packHelp(context, glyphs, columns, Number.MAX_SAFE_INTEGER);
	return {min: 1 + tight.packed.length, want: 1 + loose.packed.length + loose.notes.length};
}

/** The help overlay. */
export function HelpPanel({context, height, columns}: {context: KeyContext; height: number; columns: number}): React.JSX.Element {
	const {glyphs} = useTheme();
	const lines = helpLines(context, glyphs, columns, height - 1);
	return (
		<Box flexDirection="column">
			<Line segments={[{text: titleRule(helpTitle(columns), columns, glyphs.rule), colour: 'cyan'}]} width={columns} />
			{lines.map((line, index) => <Line key={index} width={columns} segments={[{text: pad(line.keys, 8), bold: true}, {text: line.text, dim: line.note}]} />)}
		</Box>
	);
}
