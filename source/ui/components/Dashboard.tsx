import React, {useMemo} from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../../engine/snapshot.js';
import {agentsCell, agentsKnown, gauge, spendCell} from '../cells.js';
import {confirmLines, ConfirmPanel} from './ConfirmPanel.js';
import type {ConfirmRequest} from '../confirm.js';
import {plan, tableWidth} from '../layout.js';
import type {KeyContext} from '../keymap.js';
import {useTheme} from '../theme.js';
import {BilledBlock, billedLineCount} from './BilledBlock.js';
import {ColumnHeads, EnvRow} from './EnvTable.js';
import {EventsPane} from './EventsPane.js';
import {Header} from './Header.js';
import {HelpPanel} from './HelpPanel.js';
import {KeyBar, keyBarLayout} from './KeyBar.js';
import {StatusLine, type Flash} from './StatusLine.js';

export type Panel = {kind: 'confirm'; request: ConfirmRequest} | {kind: 'help'};

export type DashboardProps = {
	snapshot: Snapshot | undefined;
	now: number;
	columns: number;
	rows: number;
	/** The selected environment's name. */
	selected: string | undefined;
	panel?: Panel;
	flash?: Flash;
	busy?: string;
	keys: KeyContext;
};

/**
 * The whole frame as a function of plain props: what the store published, the clock, the
 * terminal size and the UI state. Always shorter than the terminal; lines are cut, never wrapped.
 */
export function Dashboard(props: DashboardProps): React.JSX.Element {
	const {snapshot, now, columns, rows, keys} = props;
	const theme = useTheme();
	const confirmKeys = props.panel?.kind === 'confirm' ? {typed: Boolean(props.panel.request.typed)} : undefined;
	const keyLines = keyBarLayout(keys, theme.glyphs, columns, confirmKeys).lines.length;
	const widest = useMemo(() => {
		if (!snapshot) {
			return {name: 4, spend: 9, agents: 6, figures: 8, held: false};
		}

		const views = [...snapshot.environments, snapshot.global];
		return {
			name: Math.max(...views.map(view => view.name.length)),
			spend: Math.max(...views.map(view => spendCell(view).text.length)),
			agents: Math.max(...views.map((view, index) => [...agentsCell(view.agents, theme.glyphs, index === views.length - 1, agentsKnown(view, snapshot.lastSuccessAt)).text].length)),
			figures: Math.max(...views.map(view => gauge(view, theme.glyphs).figures.length)),
			held: snapshot.environments.some(view => view.breaker),
		};
	}, [snapshot, theme.glyphs]);

	if (!snapshot) {
		return <Text>envwatch: waiting for the first poll...</Text>;
	}

	const panelLines = props.panel?.kind === 'confirm' ? confirmLines(props.panel.request) : props.panel?.kind === 'help' ? 14 : 0;
	const layout = plan({
		columns,
		rows,
		environments: snapshot.environments.length,
		widest,
		// An open panel (confirmation, help) gets the billed lines' rows too.
		billedLines: props.panel ? 0 : billedLineCount(snapshot, now, columns),
		panelLines,
		keyBarLines: keyLines,
	});
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
	return (
		// No fixed width: Yoga takes the terminal's, so even a frame drawn before React has seen a
		// resize is cut to the new width rather than wrapped.
		<Box flexDirection="column">
			<Header snapshot={snapshot} now={now} columns={columns} />
			<ColumnHeads widths={widths} />
			{snapshot.environments.map(view => <EnvRow key={view.name} view={view} widths={widths} selected={view.name === props.selected} known={snapshot.lastSuccessAt !== null} />)}
			{layout.showRule ? <Text dimColor>{' '.repeat(widths.selector) + theme.glyphs.rule.repeat(Math.max(0, tableWidth(widths) - widths.selector))}</Text> : null}
			<EnvRow view={snapshot.global} widths={widths} global known={snapshot.lastSuccessAt !== null} />
			{layout.showBilled ? <BilledBlock snapshot={snapshot} now={now} columns={columns} /> : null}
			{props.panel?.kind === 'confirm'
				? <ConfirmPanel request={props.panel.request} height={layout.bodyLines} columns={columns} />
				: props.panel?.kind === 'help'
					? <HelpPanel context={keys} height={layout.bodyLines} columns={columns} />
					: <EventsPane events={snapshot.events} height={layout.bodyLines} columns={columns} />}
			<StatusLine snapshot={snapshot} now={now} busy={props.busy} flash={props.flash} columns={columns} />
			<KeyBar context={keys} columns={columns} confirm={confirmKeys} />
		</Box>
	);
}
