import React from 'react';
import {Box, Text} from 'ink';
import {flow} from '../cells.js';
import {keyBarItems, type BarItem, type KeyContext} from '../keymap.js';
import {useTheme, type Glyphs} from '../theme.js';

type Item = {keys: string; label: string; width: number};

/** An open confirmation: the key bar then offers its keys only (nothing else is bound). */
export type ConfirmKeys = {typed: boolean; /** A start's count is typed in it. */ count?: boolean};

/** A confirmation's keys, from the keymap's `confirm` rows (`confirm-typed` where a word is asked for). */
export function confirmBarItems({typed, count}: ConfirmKeys): BarItem[] {
	return keyBarItems({readOnly: false, pending: false, count: Boolean(count)}, undefined, typed ? 'confirm-typed' : 'confirm');
}

/**
 * The key bar laid out at this width: two spaces between items when they fit on one line, one
 * space when that makes them fit, else wrapped onto a second line. Keys bound `where-room` (`a`)
 * come only where they fit without another line and without another key giving way.
 */
export function keyBarLayout(context: KeyContext, glyphs: Glyphs, columns: number, confirm?: ConfirmKeys, view?: ReadonlyArray<{keys: string; label: string; whereRoom?: true}>): {lines: Item[][]; gap: number} {
	const offered = (confirm ? confirmBarItems(confirm) : view ?? keyBarItems(context, `${glyphs.up}${glyphs.down}`)).map(item => ({...item, width: [...item.keys].length + 1 + item.label.length}));
	const needed = offered.filter(item => !('whereRoom' in item));
	if (needed.length === offered.length) {
		return barLayout(needed, columns);
	}

	// Keys shown where there is room: only when the bar keeps its rows and every other key with them.
	const without = barLayout(needed, columns);
	const withThem = barLayout(offered, columns);
	const count = (layout: {lines: Item[][]}) => layout.lines.reduce((sum, line) => sum + line.length, 0);
	return withThem.lines.length <= without.lines.length && count(withThem) === offered.length ? withThem : without;
}

function barLayout(offered: Item[], columns: number): {lines: Item[][]; gap: number} {
	let items = offered;
	for (const gap of [2, 1]) {
		const lines = flow(items, columns, 2, gap);
		if (lines.length === 1) {
			return {lines, gap};
		}
	}

	// Two lines. Where even they cannot hold every item, the least needed give way (help lists
	// them all); `? help` and `q quit` never do.
	const all = (list: Item[]) => flow(list, columns, Number.MAX_SAFE_INTEGER, 2).length <= 2;
	for (const label of dropOrder) {
		if (all(items)) {
			break;
		}

		items = items.filter(item => item.label !== label);
	}

	return {lines: flow(items, columns, 2, 2), gap: 2};
}

/** Key bar items in the order they give way on a narrow terminal. */
const dropOrder = ['refresh', 'pause', 'resume', 'undo', 'cascade', 'reload', 'sort', 'select', 'environment', 'filter', 'reset breaker', 'emergency', 'stop', 'stop env'];

/** Drawn from the same keymap table the key handlers match against. */
export function KeyBar({context, columns, confirm, view}: {context: KeyContext; columns: number; confirm?: ConfirmKeys | undefined; view?: ReadonlyArray<{keys: string; label: string}> | undefined}): React.JSX.Element {
	const {glyphs, tone} = useTheme();
	const {lines, gap} = keyBarLayout(context, glyphs, columns, confirm, view);
	return (
		<Box flexDirection="column">
			{lines.map((line, index) => (
				<Text key={index} wrap="truncate-end">
					{line.map((item, position) => (
						<Text key={`${item.keys} ${item.label}`}>
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
