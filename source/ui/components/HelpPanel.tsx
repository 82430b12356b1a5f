import React from 'react';
import {Box, Text} from 'ink';
import {activeBindings, labelOf, type KeyContext} from '../keymap.js';
import {pad} from '../cells.js';
import {useTheme} from '../theme.js';

/** The help overlay: every bound key from the keymap table, so it cannot drift from the handler. */
export function HelpPanel({context, height}: {context: KeyContext; height: number}): React.JSX.Element {
	const {glyphs, tone} = useTheme();
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
			<Text color={tone('cyan')} wrap="truncate-end">{`${glyphs.rule.repeat(2)} keys ${glyphs.rule.repeat(200)}`}</Text>
			{lines.map((line, index) => (
				<Text key={index} wrap="truncate-end" dimColor={line.note}>
					<Text bold>{pad(line.keys, 6)}</Text>
					{line.text}
				</Text>
			))}
		</Box>
	);
}
