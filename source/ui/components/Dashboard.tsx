import React, {useMemo} from 'react';
import {Box, Text} from 'ink';
import type {Snapshot} from '../../engine/index.js';
import {agentsCell, agentsKnown, gauge, markerWidth, spendCell} from '../cells.js';
import {confirmLines, ConfirmPanel} from './ConfirmPanel.js';
import type {Panel} from '../dashboard-reducer.js';
import {plan, type Layout, type LayoutInput} from '../layout.js';
import {cliAlternative, sizeRefusalTexts, type AskedKind} from '../refusal.js';
import {buildConfirmation} from '../confirm.js';
import type {BarItem, KeyContext, UiCommand} from '../keymap.js';
import type {ScopeView} from '../scope.js';
import type {StandbyLeader} from '../hooks/use-commands.js';
import {useNowWhen} from '../hooks/use-now.js';
import {useTheme, type Glyphs} from '../theme.js';
import {BilledBlock, billedLineCount} from './BilledBlock.js';
import {ColumnHeads, EnvRow} from './EnvTable.js';
import {EventsPane} from './EventsPane.js';
import {Header, Waiting} from './Header.js';
import {HelpPanel, helpNeeds} from './HelpPanel.js';
import {Line} from './Line.js';
import {KeyBar, keyBarLayout, type ConfirmKeys} from './KeyBar.js';
import {StatusLine, statusLinesWanted, statusText, type Flash} from './StatusLine.js';

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
	/** What is guarded and what is shown, for the header. */
	scope?: ScopeView | undefined;
	/** A line being typed (`:env dev_`, `/stag_`): drawn where the status line is. */
	prompt?: string | undefined;
	/** The key bar's items instead of the table's (the keys of the line being typed). */
	bar?: readonly BarItem[] | undefined;
	/** On a standby: the leader it shows the figures of (named before they come). */
	standingBy?: (() => StandbyLeader | undefined) | undefined;
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
		markerCompact: markerWidth(snapshot.environments, true),
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
	/** Lines the status line would like (a long flash: 2). @default 1 */
	statusLines?: number;
	/** The key bar's items, when not the table's. */
	bar?: readonly BarItem[] | undefined;
};

/** The confirmation's keys for the key bar, when one is open. */
function confirmKeysOf(panel: Panel | undefined): ConfirmKeys | undefined {
	return panel?.kind === 'confirm' ? {typed: Boolean(panel.request.typed), ...(panel.request.count ? {count: true} : {})} : undefined;
}

/**
 * The help's lines for the layout: its legend is part of what it says, so where the terminal can
 * hold every key and the legend below the header, with the status line and the key bar, the
 * table's rows give way to it rather than the legend to them.
 */
function helpLinesAt(needs: {min: number; want: number}, rows: number, keyBarLines: number): {min: number; want: number} {
	const room = rows - 1 - 1 - keyBarLines - 1;
	return {min: Math.max(needs.min, Math.min(needs.want, room)), want: needs.want};
}

/** The frame's layout: what the dashboard draws, and what the app checks before asking a confirmation. */
export function frameLayout({snapshot, now, columns, rows, selected, panel, keys, glyphs, widest, statusLines, bar}: FrameInput): Layout {
	const keyBarLines = keyBarLayout(keys, glyphs, columns, confirmKeysOf(panel), bar).lines.length;
	const panelLines = panel?.kind === 'confirm' ? confirmLines(panel.request, columns) : panel?.kind === 'help' ? helpLinesAt(helpNeeds(keys, glyphs, columns), rows, keyBarLines) : 0;
	return plan({
		columns,
		rows,
		environments: snapshot.environments.length,
		widest: widest ?? widestOf(snapshot, glyphs),
		// An open panel (confirmation, help) gets the billed lines' rows too.
		billedLines: panel ? 0 : billedLineCount(snapshot, now, columns),
		panelLines,
		keyBarLines,
		...(statusLines === undefined ? {} : {statusLines}),
		selected: Math.max(0, snapshot.environments.findIndex(view => view.name === selected)),
	});
}

/**
 * Whether a confirmation can be asked at this size with its whole blast radius; else why it is
 * refused, with the rows it needs and the command that does it from a shell, in every length it
 * can be said in, longest first (refusal.ts). `withdrawn`: it was open as the terminal shrank.
 */
export function confirmRefusal(input: FrameInput, withdrawn = false): string[] | undefined {
	const {panel} = input;
	if (panel?.kind !== 'confirm') {
		return undefined;
	}

	const layout = frameLayout(input);
	const need = layout.tooSmall
		? {rows: layout.need.rows, ...(layout.need.columns > input.columns ? {columns: layout.need.columns} : {})}
		: layout.panelFits ? undefined : {rows: layout.panelNeedsRows};
	if (!need) {
		return undefined;
	}

	const {command} = panel.request;
	return sizeRefusalTexts({command, kind: command.kind as AskedKind, need, alternative: cliAlternative(command, input.snapshot), withdrawn});
}

const asked = ['stop', 'cascade', 'emergency', 'undo', 'start', 'reset', 'pause-env'] as const satisfies readonly AskedKind[];

/**
 * The keys the key bar must not offer at this size: those whose confirmation, as it would be asked
 * now, the terminal cannot show whole (pressed, they say what they need and what to run instead).
 * `stop-env` (s in the instances view) goes with `stop`. A key refused for another reason (nothing
 * to undo) still works: it says why.
 */
export function crampedKeys(input: Omit<FrameInput, 'panel'> & {cascadeTarget: string | undefined}): UiCommand[] {
	const cramped: UiCommand[] = [];
	for (const kind of asked) {
		const request = buildConfirmation(kind, {snapshot: input.snapshot, selected: input.selected, cascadeTarget: kind === 'cascade' ? input.cascadeTarget : undefined, now: input.now});
		if (!('refused' in request) && confirmRefusal({...input, panel: {kind: 'confirm', request}})) {
			cramped.push(kind);
		}
	}

	return cramped.includes('stop') ? [...cramped, 'stop-env'] : cramped;
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
	// can wrap it) and the status line's (a long flash takes two lines until it runs out); the
	// header, billed block and status line follow the clock themselves.
	const statusWants = (at: number) => (snapshot ? statusLinesWanted(statusText({snapshot, now: at, busy: props.busy, flash: props.flash}), columns) : 1);
	const now = useNowWhen(at => snapshot && !props.panel ? `${billedLineCount(snapshot, at, columns)} ${statusWants(at)}` : 0);
	if (!snapshot || (snapshot.refused && snapshot.lastSuccessAt === null && snapshot.environments.length === 0)) {
		return <Waiting standingBy={props.standingBy} columns={columns} refused={snapshot?.refused} />;
	}

	const confirmKeys = confirmKeysOf(props.panel);
	const layout = frameLayout({snapshot, now, columns, rows, selected: props.selected, panel: props.panel, keys, glyphs: theme.glyphs, widest, statusLines: statusWants(now), bar: props.bar});
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
			<Header snapshot={snapshot} columns={columns} scope={props.scope} />
			{layout.showHeads ? <ColumnHeads widths={widths} /> : null}
			{layout.rows.map(index => snapshot.environments[index]!).map(view => <EnvRow key={view.name} view={view} widths={widths} selected={view.name === props.selected} known={known && !view.unlisted} />)}
			{layout.showRule ? <Text dimColor>{' '.repeat(widths.selector) + theme.glyphs.rule.repeat(Math.max(0, columns - widths.selector))}</Text> : null}
			{layout.showGlobal ? <EnvRow view={snapshot.global} widths={widths} global known={known && !snapshot.global.unlisted} /> : null}
			{layout.showBilled ? <BilledBlock snapshot={snapshot} columns={columns} /> : null}
			{props.panel?.kind === 'confirm'
				? <ConfirmPanel request={props.panel.request} height={layout.bodyLines} columns={columns} />
				: props.panel?.kind === 'help'
					? <HelpPanel context={keys} height={layout.bodyLines} columns={columns} />
					: <EventsPane events={snapshot.events} height={layout.bodyLines} columns={columns} />}
			{layout.showStatus ? (props.prompt === undefined ? <StatusLine snapshot={snapshot} busy={props.busy} flash={props.flash} columns={columns} lines={layout.statusLines} /> : <Line segments={[{text: props.prompt, bold: true}]} width={columns} />) : null}
			<KeyBar context={keys} columns={columns} confirm={confirmKeys} view={props.bar} />
		</Box>
	);
}
