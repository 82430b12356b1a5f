import React from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../../engine/index.js';
import type {KeyContext} from '../keymap.js';
import type {ScopeView} from '../scope.js';
import {useNowWhen} from '../hooks/use-now.js';
import {useTheme} from '../theme.js';
import {viewBarItems, type View} from '../views/state.js';
import {viewLines} from '../views/lines.js';
import {Header} from './Header.js';
import {KeyBar, keyBarLayout} from './KeyBar.js';
import {Line} from './Line.js';
import {StatusLine, statusLinesWanted, statusText, type Flash} from './StatusLine.js';

export type ViewScreenProps = {
	view: View;
	snapshot: Snapshot;
	columns: number;
	rows: number;
	keys: KeyContext;
	flash?: Flash | undefined;
	busy?: string | undefined;
	/** What is guarded and what is shown, for the header. */
	scope?: ScopeView | undefined;
};

/** Rows a view needs at least: header, title, three body rows, status, key bar, and the row kept free. */
export function viewTooSmall(columns: number, rows: number, keyBarLines: number): boolean {
	return columns < 40 || rows < 1 + 1 + 3 + 1 + keyBarLines + 1;
}

/**
 * A drill-down view in the dashboard's frame: the same header, status line and key bar (with the
 * view's keys), always shorter than the terminal and cut to its width.
 */
export function ViewScreen({view, snapshot, columns, rows, keys, flash, busy, scope}: ViewScreenProps): React.JSX.Element {
	const {glyphs, ascii} = useTheme();
	// Only the detail view and the describe show ages (launch ages): they follow the clock each
	// second; and a long flash (a refusal) takes a second status line while it lasts.
	const statusWants = (at: number) => statusLinesWanted(statusText({snapshot, now: at, busy, flash}), columns);
	const now = useNowWhen(at => `${view.kind === 'detail' || view.kind === 'describe' ? Math.floor(at / 1000) : 0} ${statusWants(at)}`);
	const items = viewBarItems(view, `${glyphs.up}${glyphs.down}`, keys.readOnly, keys.cramped);
	const keyBarLines = keyBarLayout(keys, glyphs, columns, undefined, items).lines.length;
	if (viewTooSmall(columns, rows, keyBarLines)) {
		return (
			<Box flexDirection="column" width={columns}>
				<Text>envwatch: terminal too small</Text>
				<Text dimColor>Esc back, q quits</Text>
			</Box>
		);
	}

	// Header, status line(s), key bar and the row kept free; the second status line only where the view keeps three rows of body.
	const statusLines = statusWants(now) > 1 && rows - 1 - 1 - 2 - keyBarLines >= 1 + 3 ? 2 : 1;
	const height = rows - 1 - 1 - statusLines - keyBarLines;
	const lines = viewLines({view, snapshot, now, columns, height, glyphs, ascii, readOnly: keys.readOnly}).slice(0, height);
	return (
		<Box flexDirection="column">
			<Header snapshot={snapshot} columns={columns} scope={scope} />
			{lines.map((segments, index) => <Line key={index} segments={segments} width={columns} />)}
			<StatusLine snapshot={snapshot} busy={busy} flash={flash} columns={columns} lines={statusLines} />
			<KeyBar context={keys} columns={columns} view={items} />
		</Box>
	);
}
