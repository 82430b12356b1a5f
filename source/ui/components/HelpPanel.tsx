import React from 'react';
import {Box} from 'ink';
import {activeBindings, labelOf, type KeyContext} from '../keymap.js';
import {pad} from '../cells.js';
import {useTheme} from '../theme.js';
import {Line, titleRule} from './Line.js';

/** The help overlay: every bound key from the keymap table, so it cannot drift from the handler. */
export function HelpPanel({context, height, columns}: {context: KeyContext; height: number; columns: number}): React.JSX.Element {
	const {glyphs} = useTheme();
	// The two selection bindings share one line, `?` is in the title; notes go first when rows are short.
	const rows = activeBindings(context).filter(binding => binding.command !== 'down' && binding.command !== 'help').map(binding => ({
		keys: binding.command === 'up' ? `${glyphs.up}${glyphs.down} jk` : binding.command === 'quit' ? 'q ^C' : binding.keyLabel,
		text: binding.command === 'up' ? 'select an environment' : binding.command === 'pause' ? `${labelOf(binding, context)} automatic actions` : binding.help,
	}));
	const notes = [
		'HELD: a tripped breaker: envwatch stopped the environment and stops agents that come back; R on its row resets it',
		...(context.readOnly ? [`${glyphs.lock} read-only: stop, cascade, emergency, undo, start and reset are not available`] : []),
	];
	const room = Math.max(0, height - 1);
	// Short of rows, two short bindings share a line (from the end), so every key is still listed.
	const packed = [...rows];
	for (let index = packed.length - 2; index >= 0 && packed.length + notes.length > room; index--) {
		const [a, b] = [packed[index]!, packed[index + 1]!];
		const merged = `${a.text}  ${pad(b.keys, 3)}${b.text}`;
		if (8 + merged.length <= columns) {
			packed.splice(index, 2, {keys: a.keys, text: merged});
		}
	}

	const lines = [...packed.map(row => ({...row, note: false})), ...notes.map(text => ({keys: '', text, note: true}))].slice(0, room);
	return (
		<Box flexDirection="column">
			<Line segments={[{text: titleRule('keys (? or Esc closes)', columns, glyphs.rule), colour: 'cyan'}]} width={columns} />
			{lines.map((line, index) => <Line key={index} width={columns} segments={[{text: pad(line.keys, 8), bold: true}, {text: line.text, dim: line.note}]} />)}
		</Box>
	);
}
