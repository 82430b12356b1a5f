import React, {useEffect, useRef, useState} from 'react';
import {useInput, useStdin, type Key} from 'ink';
import type {AuditSource} from '../engine/index.js';
import {confirmRefusal, Dashboard} from './components/Dashboard.js';
import {ViewScreen} from './components/ViewScreen.js';
import {initialState, keysFor, reducePress, selectedOf, withAudit, withdrawal, type DashboardState, type Effect, type KeyEnv} from './dashboard-reducer.js';
import {useCommands, type Controller} from './hooks/use-commands.js';
import {useCramped} from './hooks/use-cramped.js';
import {ClockContext} from './hooks/use-now.js';
import {useRawInput} from './hooks/use-raw-input.js';
import {scopeViewOf, typedLine, useShown} from './hooks/use-shown.js';
import {useSnapshot, type SnapshotSource} from './hooks/use-snapshot.js';
import {useTerminalSize} from './hooks/use-terminal-size.js';
import {pressesOf} from './key-presses.js';
import {useTheme} from './theme.js';
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
	/** The audit log, read when the log view opens, and its last entries once at the start (the events pane). Absent: the view says there is none. */
	audit?: AuditSource | undefined;
	/** Puts text on the terminal's clipboard (`c`: an OSC 52 sequence to the real stdout). Absent: nothing is copied, the link is still shown. */
	clipboard?: ((text: string) => void) | undefined;
};

/**
 * The interactive dashboard: reads the one store, sends commands, never calls a provider. Its
 * keys go through the pure reducer (dashboard-reducer.ts); this wires the reducer's effects to
 * the engine's controller, the status line and Ink.
 */
export function App({store, controller, clock, flashMs = 6000, onQuit, audit, clipboard}: AppProps): React.JSX.Element {
	const {columns, rows} = useTerminalSize();
	const {isRawModeSupported} = useStdin();
	const {glyphs} = useTheme();
	const [state, setState] = useState<DashboardState>(initialState);
	// What the table and the views draw: the guarded set narrowed by the view and the filter.
	const {snapshot, shown} = useShown(useSnapshot(store), audit, state);
	// The state after the last key: keys of one chunk arrive before React re-renders.
	const stateRef = useRef<DashboardState>(initialState);
	const {flash, busy, say, run, quit} = useCommands({controller, clock, flashMs, onQuit});
	// Subscribed before useInput: the raw chunk tells apart what Ink hands over as less (two Escs, `ESC :`).
	const rawInput = useRawInput();

	/**
	 * What keys are judged against now. The clock is read, never subscribed to here (a tick
	 * re-renders only the parts that show time): as of this key, not of the last render.
	 */
	const keyEnv = (): KeyEnv => {
		const now = clock.getSnapshot();
		return {
			snapshot,
			shown,
			now,
			columns,
			rows,
			cascadeTarget: () => controller.cascadeTarget(),
			confirmRefusal: (panel, selected, keys, withdrawn) => (shown ? confirmRefusal({snapshot: shown, now, columns, rows, selected, panel, keys, glyphs}, withdrawn) : undefined),
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

				case 'copy': {
					clipboard?.(effect.text);
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

	// useInput throws where stdin cannot go raw (not a TTY): the dashboard then only draws.
	useInput(handle, {isActive: isRawModeSupported});

	const selected = selectedOf(state, shown);
	const {view, panel, command} = state;
	const cramped = useCramped({shown, columns, rows, view, selected, glyphs, clock, controller});
	const keys = {...keysFor(snapshot, selected), cramped};
	const scopeView = scopeViewOf(snapshot, shown, state);
	const {prompt, bar} = typedLine(state, keys, `${glyphs.up}${glyphs.down}`);
	const standingBy = controller.standingBy ? () => controller.standingBy?.() : undefined;
	return (
		<ClockContext.Provider value={clock}>
			{view && shown && panel?.kind !== 'confirm' && !command
				? <ViewScreen view={view} snapshot={shown} columns={columns} rows={rows} keys={keys} flash={flash} busy={busy} scope={scopeView} />
				: <Dashboard snapshot={shown} columns={columns} rows={rows} selected={selected} panel={panel} flash={flash} busy={busy} keys={keys} scope={scopeView} prompt={prompt} bar={bar} standingBy={standingBy} />}
		</ClockContext.Provider>
	);
}
