import React, {useMemo} from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../../engine/index.js';
import {agentsCell, agentsKnown, gauge, markerWidth, spendCell} from '../cells.js';
import {confirmLines, ConfirmPanel} from './ConfirmPanel.js';
import type {Panel} from '../dashboard-reducer.js';
import {plan, type Layout, type LayoutInput} from '../layout.js';
import type {KeyContext} from '../keymap.js';
import {useNowWhen} from '../hooks/use-now.js';
import {useTheme, type Glyphs} from '../theme.js';
import {BilledBlock, billedLineCount} from './BilledBlock.js';
import {ColumnHeads, EnvRow} from './EnvTable.js';
import {EventsPane} from './EventsPane.js';
import {Header} from './Header.js';
import {HelpPanel, helpNeeds} from './HelpPanel.js';
import {KeyBar, keyBarLayout, type ConfirmKeys} from './KeyBar.js';
import {StatusLine, type Flash} from './StatusLine.js';

export type {Panel} from '../dashboard-reducer.js';

export type DashboardProps = {
	snapshot: Snapshot | undefined;
	columns: number;
	rows: number;
	/** The selected environment's name. */
	selected: string | undefined;
	panel?: Panel;
	flash?: Flash;
	busy?: string;
	keys: KeyContext;
};

/** The widest content of each measured column, for the layout. */
export function widestOf(snapshot: Snapshot | undefined, glyphs: Glyphs): LayoutInput['widest'] {
	if (!snapshot) {
		return {name: 4, spend: 9, agents: 6, figures: 8, held: false};
	}

	const views = [...snapshot.environments, snapshot.global];
	return {
		name: Math.max(...views.map(view => view.name.length)),
		spend: Math.max(...views.map(view => spendCell(view).text.length)),
		agents: Math.max(...views.map((view, index) => [...agentsCell(view.agents, glyphs, index === views.length - 1, agentsKnown(view, snapshot.lastSuccessAt)).text].length)),
		figures: Math.max(...views.map(view => gauge(view, glyphs).figures.length)),
		held: snapshot.environments.some(view => view.breaker),
		marker: markerWidth(snapshot.environments),
	};
}

export type FrameInput = {
	snapshot: Snapshot;
	now: number;
	columns: number;
	rows: number;
	selected: string | undefined;
	panel: Panel | undefined;
	keys: KeyContext;
	glyphs: Glyphs;
	widest?: LayoutInput['widest'];
};

/** The confirmation's keys for the key bar, when one is open. */
function confirmKeysOf(panel: Panel | undefined): ConfirmKeys | undefined {
	return panel?.kind === 'confirm' ? {typed: Boolean(panel.request.typed), ...(panel.request.count ? {count: true} : {})} : undefined;
}

/** The frame's layout: what the dashboard draws, and what the app checks before asking a confirmation. */
export function frameLayout({snapshot, now, columns, rows, selected, panel, keys, glyphs, widest}: FrameInput): Layout {
	const keyBarLines = keyBarLayout(keys, glyphs, columns, confirmKeysOf(panel)).lines.length;
	const panelLines = panel?.kind === 'confirm' ? confirmLines(panel.request, columns) : panel?.kind === 'help' ? helpNeeds(keys, glyphs, columns) : 0;
	return plan({
		columns,
		rows,
		environments: snapshot.environments.length,
		widest: widest ?? widestOf(snapshot, glyphs),
		// An open panel (confirmation, help) gets the billed lines' rows too.
		billedLines: panel ? 0 : billedLineCount(snapshot, now, columns),
		panelLines,
		keyBarLines,
		selected: Math.max(0, snapshot.environments.findIndex(view => view.name === selected)),
	});
}

/**
 * Whether a confirmation can be asked at this size with its whole blast radius; else the reason
 * it is refused ("terminal too small to confirm: need 14 rows").
 */
export function confirmRefusal(input: FrameInput): string | undefined {
	const layout = frameLayout(input);
	if (layout.tooSmall) {
		return `terminal too small to confirm: need ${layout.need.columns > input.columns ? `${layout.need.columns} columns and ` : ''}${layout.need.rows} rows`;
	}

	return layout.panelFits ? undefined : `terminal too small to confirm: need ${layout.panelNeedsRows} rows`;
}

/**
 * The whole frame as a function of plain props: what the store published, the clock, the
 * terminal size and the UI state. Always shorter than the terminal; lines are cut, never wrapped.
 */
export function Dashboard(props: DashboardProps): React.JSX.Element {
	const {snapshot, columns, rows, keys} = props;
	const theme = useTheme();
	const widest = useMemo(() => widestOf(snapshot, theme.glyphs), [snapshot, theme.glyphs]);
	// The frame's layout depends on the clock only through the billed block's line count (its age
	// can wrap it); the header, billed block and status line follow the clock themselves.
	const now = useNowWhen(at => snapshot && !props.panel ? billedLineCount(snapshot, at, columns) : 0);
	if (!snapshot) {
		return <Text>envwatch: waiting for the first poll...</Text>;
	}

	const confirmKeys = confirmKeysOf(props.panel);
	const layout = frameLayout({snapshot, now, columns, rows, selected: props.selected, panel: props.panel, keys, glyphs: theme.glyphs, widest});
	if (layout.tooSmall) {
		// Short words that wrap, rather than a garbled dashboard.
		return (
			<Box flexDirection="column" width={columns}>
				<Text>envwatch: terminal too small</Text>
				<Text>{`${columns}x${rows}, need ${layout.need.columns}x${layout.need.rows}`}</Text>
				<Text dimColor>q quits</Text>
			</Box>
		);
	}

	const {widths} = layout;
	const known = snapshot.lastSuccessAt !== null;
	return (
		// No fixed width: Yoga takes the terminal's, so even a frame drawn before React has seen a
		// resize is cut to the new width rather than wrapped.
		<Box flexDirection="column">
			<Header snapshot={snapshot} columns={columns} />
			{layout.showHeads ? <ColumnHeads widths={widths} /> : null}
			{layout.rows.map(index => snapshot.environments[index]!).map(view => <EnvRow key={view.name} view={view} widths={widths} selected={view.name === props.selected} known={known} />)}
			{layout.showRule ? <Text dimColor>{' '.repeat(widths.selector) + theme.glyphs.rule.repeat(Math.max(0, columns - widths.selector))}</Text> : null}
			{layout.showGlobal ? <EnvRow view={snapshot.global} widths={widths} global known={known} /> : null}
			{layout.showBilled ? <BilledBlock snapshot={snapshot} columns={columns} /> : null}
			{props.panel?.kind === 'confirm'
				? <ConfirmPanel request={props.panel.request} height={layout.bodyLines} columns={columns} />
				: props.panel?.kind === 'help'
					? <HelpPanel context={keys} height={layout.bodyLines} columns={columns} />
					: <EventsPane events={snapshot.events} height={layout.bodyLines} columns={columns} />}
			{layout.showStatus ? <StatusLine snapshot={snapshot} busy={props.busy} flash={props.flash} columns={columns} /> : null}
			<KeyBar context={keys} columns={columns} confirm={confirmKeys} />
		</Box>
	);
}
