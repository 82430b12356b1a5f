import React from 'react';
import {Box, Text} from 'ink';
import {flow} from '../cells.js';
import {keyBarItems, type KeyContext} from '../keymap.js';
import {useTheme, type Glyphs} from '../theme.js';

type Item = {keys: string; label: string; width: number};

/**
 * The key bar laid out at this width: two spaces between items when they fit on one line, one
 * space when that makes them fit, else wrapped onto a second line.
 */
export function keyBarLayout(context: KeyContext, glyphs: Glyphs, columns: number): {lines: Item[][]; gap: number} {
	const items = keyBarItems(context, `${glyphs.up}${glyphs.down}`).map(item => ({...item, width: [...item.keys].length + 1 + item.label.length}));
	for (const gap of [2, 1]) {
		const lines = flow(items, columns, 2, gap);
		if (lines.length === 1) {
			return {lines, gap};
		}
	}

	return {lines: flow(items, columns, 2, 2), gap: 2};
}

/** Drawn from the same keymap table the input handler matches against. */
export function KeyBar({context, columns}: {context: KeyContext; columns: number}): React.JSX.Element {
	const {glyphs, tone} = useTheme();
	const {lines, gap} = keyBarLayout(context, glyphs, columns);
	return (
		<Box flexDirection="column">
			{lines.map((line, index) => (
				<Text key={index} wrap="truncate-end">
					{line.map((item, position) => (
						<Text key={item.keys}>
							{position > 0 ? ' '.repeat(gap) : ''}
							<Text bold color={tone(item.label === 'emergency' || item.label === 'cancel auto-stop' ? 'red' : 'cyan')}>{item.keys}</Text>
							<Text dimColor>{` ${item.label}`}</Text>
						</Text>
					))}
				</Text>
			))}
		</Box>
	);
}
