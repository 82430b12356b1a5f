import React, {useEffect, useMemo, useRef, useState} from 'react';
import {useInput, useStdin, type Key} from 'ink';
import type {AuditSource, Snapshot} from '../engine/index.js';
import {confirmRefusal, crampedKeys, Dashboard} from './components/Dashboard.js';
import {ViewScreen} from './components/ViewScreen.js';
import {initialState, keysFor, reducePress, selectedOf, withAudit, withdrawal, type DashboardState, type Effect, type KeyEnv} from './dashboard-reducer.js';
import {useCommands, type Controller} from './hooks/use-commands.js';
import {ClockContext} from './hooks/use-now.js';
import {useSnapshot, type SnapshotSource} from './hooks/use-snapshot.js';
import {useTerminalSize} from './hooks/use-terminal-size.js';
import {pressesOf} from './key-presses.js';
import type {UiCommand} from './keymap.js';
import {useTheme, type Glyphs} from './theme.js';
import type {Clock} from './ticker.js';

export type {Controller} from './hooks/use-commands.js';

export type AppProps = {
	/** The engine's `SnapshotStore` (or anything with its two methods). */
	store: SnapshotSource;
	controller: Controller;
	/** The 1-second clock for ages and countdowns. */
	clock: Clock;
	/** How long a flash message stays, in ms. @default 6000 */
	flashMs?: number;
	/** Called once when the user quits (q or Ctrl-C), before Ink unmounts. */
	onQuit?: () => void;
	/** The audit log, read when the log view opens (absent: the view says there is none). */
	audit?: AuditSource | undefined;
};

/**
 * The keys whose confirmation cannot be shown whole at this size, for `target` (the selected
 * environment, or the instances view's): the key bar does not offer them. Worked out again when the
 * snapshot, the size or the target changes.
 */
function useCramped({snapshot, columns, rows, target, glyphs, clock, controller}: {snapshot: Snapshot | undefined; columns: number; rows: number; target: string | undefined; glyphs: Glyphs; clock: Clock; controller: Controller}): UiCommand[] {
	return useMemo(() => {
		const context = keysFor(snapshot, target);
		return snapshot && !context.readOnly ? crampedKeys({snapshot, now: clock.getSnapshot(), columns, rows, selected: target, keys: context, glyphs, cascadeTarget: controller.cascadeTarget()}) : [];
	}, [snapshot, columns, rows, target, glyphs, clock, controller]);
}

/**
 * The interactive dashboard: reads the one store, sends commands, never calls a provider. Its
 * keys go through the pure reducer (dashboard-reducer.ts); this wires the reducer's effects to
 * the engine's controller, the status line and Ink.
 */
export function App({store, controller, clock, flashMs = 6000, onQuit, audit}: AppProps): React.JSX.Element {
	const snapshot = useSnapshot(store);
	const {columns, rows} = useTerminalSize();
	const {isRawModeSupported, internal_eventEmitter: inputEvents} = useStdin();
	const {glyphs} = useTheme();
	const [state, setState] = useState<DashboardState>(initialState);
	// The state after the last key: keys of one chunk arrive before React re-renders.
	const stateRef = useRef<DashboardState>(initialState);
	const {flash, busy, say, run, quit} = useCommands({controller, clock, flashMs, onQuit});
	const rawInput = useRef('');

	/**
	 * What keys are judged against now. The clock is read, never subscribed to here (a tick
	 * re-renders only the parts that show time): as of this key, not of the last render.
	 */
	const keyEnv = (): KeyEnv => {
		const now = clock.getSnapshot();
		return {
			snapshot,
			now,
			columns,
			rows,
			cascadeTarget: () => controller.cascadeTarget(),
			confirmRefusal: (panel, selected, keys, withdrawn) => (snapshot ? confirmRefusal({snapshot, now, columns, rows, selected, panel, keys, glyphs}, withdrawn) : undefined),
		};
	};

	/** Runs a step's effects; reading the audit log changes the state (the log view shows it). */
	const apply = (effects: readonly Effect[], after: DashboardState): DashboardState => {
		let next = after;
		for (const effect of effects) {
			switch (effect.kind) {
				case 'run': {
					run(effect.command, effect.label);
					break;
				}

				case 'say': {
					say(effect.text, effect.tone, effect.shorter);
					break;
				}

				case 'quit': {
					quit();
					break;
				}

				case 'read-audit': {
					// Read now, when the view asks: the dashboard never reads the file otherwise.
					next = withAudit(next, audit?.read() ?? {entries: [], skipped: 0, truncated: false, error: 'no audit log is kept in this run'});
					break;
				}
			}
		}

		return next;
	};

	const commit = (next: DashboardState) => {
		stateRef.current = next;
		setState(next);
	};

	const handle = (input: string, key: Key) => {
		const presses = pressesOf(input, key, rawInput.current);
		// Used once: a later event never reads this one's raw text.
		rawInput.current = '';
		const env = keyEnv();
		let next = stateRef.current;
		for (const press of presses) {
			const step = reducePress(next, press, env);
			next = apply(step.effects, step.state);
		}

		commit(next);
	};

	// A terminal shrunk under an open confirmation: it cannot be shown whole, so it is withdrawn.
	const withdrawn = withdrawal(stateRef.current, keyEnv());
	const withdrawnText = withdrawn?.effects[0]?.kind === 'say' ? withdrawn.effects[0].text : undefined;
	useEffect(() => {
		const step = withdrawal(stateRef.current, keyEnv());
		if (withdrawnText && step) {
			commit(apply(step.effects, step.state));
		}
		// Judged again when it runs, with this render's size and snapshot.
	}, [withdrawnText]);

	// Ink hands two Escs that arrive in one packet (`Esc Esc` typed fast over SSH) to useInput as one
	// Esc: the raw event, seen first by this listener (subscribed before useInput's), tells them apart.
	useEffect(() => {
		const listener = (input: unknown) => {
			rawInput.current = typeof input === 'string' ? input : '';
		};

		inputEvents.on('input', listener);
		return () => {
			inputEvents.off('input', listener);
		};
	}, [inputEvents]);

	// useInput throws where stdin cannot go raw (not a TTY): the dashboard then only draws.
	useInput(handle, {isActive: isRawModeSupported});

	const selected = selectedOf(state, snapshot);
	const {view, panel} = state;
	const cramped = useCramped({snapshot, columns, rows, target: view?.kind === 'detail' ? view.environment : selected, glyphs, clock, controller});
	const keys = {...keysFor(snapshot, selected), cramped};
	return (
		<ClockContext.Provider value={clock}>
			{view && snapshot && panel?.kind !== 'confirm'
				? <ViewScreen view={view} snapshot={snapshot} columns={columns} rows={rows} keys={keys} flash={flash} busy={busy} />
				: <Dashboard snapshot={snapshot} columns={columns} rows={rows} selected={selected} panel={panel} flash={flash} busy={busy} keys={keys} />}
		</ClockContext.Provider>
	);
}
