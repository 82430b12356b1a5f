import React from 'react';
import {Box} from 'ink';
import {activeBindings, labelOf, type KeyContext} from '../keymap.js';
import {pad} from '../cells.js';
import {useTheme} from '../theme.js';
import {Line, titleRule} from './Line.js';

/** The help overlay: every bound key from the keymap table, so it cannot drift from the handler. */
export function HelpPanel({context, height, columns}: {context: KeyContext; height: number; columns: number}): React.JSX.Element {
	const {glyphs} = useTheme();
	const rows = activeBindings(context).map(binding => ({
		keys: binding.command === 'up' ? `${glyphs.up}/k` : binding.command === 'down' ? `${glyphs.down}/j` : binding.command === 'quit' ? 'q/^C' : binding.keyLabel,
		text: binding.command === 'pause' ? `${labelOf(binding, context)} automatic actions` : binding.help,
	}));
	const notes = [
		...(context.readOnly ? [`${glyphs.lock} read-only: stop, cascade, emergency and undo are not available`] : []),
		'? or Esc closes this help',
	];
	const lines = [...rows.map(row => ({...row, note: false})), ...notes.map(text => ({keys: '', text, note: true}))].slice(0, Math.max(0, height - 1));
	return (
		<Box flexDirection="column">
			<Line segments={[{text: titleRule('keys', columns, glyphs.rule), colour: 'cyan'}]} width={columns} />
			{lines.map((line, index) => <Line key={index} width={columns} segments={[{text: pad(line.keys, 6), bold: true}, {text: line.text, dim: line.note}]} />)}
		</Box>
	);
}
