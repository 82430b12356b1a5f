import React, {useCallback, useEffect, useRef, useState} from 'react';
import {useApp, useInput, useStdin, type Key} from 'ink';
import type {Command} from '../engine/monitor.js';
import type {AuditSource} from '../engine/audit-reader.js';
import {confirmRefusal, Dashboard, type Panel} from './components/Dashboard.js';
import {ViewScreen} from './components/ViewScreen.js';
import type {Flash} from './components/StatusLine.js';
import {buildConfirmation, reduceConfirm} from './confirm.js';
import {ClockContext} from './hooks/use-now.js';
import {useSnapshot, type SnapshotSource} from './hooks/use-snapshot.js';
import {useTerminalSize} from './hooks/use-terminal-size.js';
import {matchKey, readOnlyRefusal, splitKeys, type KeyContext, type KeyState} from './keymap.js';
import {useTheme} from './theme.js';
import type {Clock} from './ticker.js';
import {detailView, reduceView, type View} from './view-keys.js';
import {shownColumns, viewRows} from './view-lines.js';

/** What the dashboard needs of the engine's `Monitor`: tests pass a fake. */
export type Controller = {
	/** The result's one-line summary is flashed; its outcome picks the colour. */
	command(command: Command): Promise<{summary: string; outcome: string} | undefined>;
	cascadeTarget(): string | undefined;
};

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

const flashTone = (result: {outcome: string}): Flash['tone'] => result.outcome === 'failed' ? 'error' : result.outcome === 'executed' ? 'ok' : 'warn';

function busyText(command: Command, cascadeTarget: string | undefined): string {
	switch (command.kind) {
		case 'stop': {
			return `stopping ${command.environment}`;
		}

		case 'cascade': {
			return `cascade: stopping ${cascadeTarget ?? 'the next environment'}`;
		}

		case 'emergency': {
			return 'EMERGENCY: stopping every agent';
		}

		case 'undo': {
			return 'undo: starting the stopped agents';
		}

		case 'start': {
			return `starting ${command.count} agent${command.count === 1 ? '' : 's'} in ${command.environment}`;
		}

		case 'reset': {
			return `resetting ${command.environment}'s breaker`;
		}

		case 'pause-env': {
			return `pausing ${command.environment}`;
		}

		default: {
			return command.kind;
		}
	}
}

/** The interactive dashboard: reads the one store, sends commands, never calls a provider. */
export function App({store, controller, clock, flashMs = 6000, onQuit, audit}: AppProps): React.JSX.Element {
	const snapshot = useSnapshot(store);
	// Never subscribed here: a tick re-renders only the parts that show time (the header's age).
	const {columns, rows} = useTerminalSize();
	const {exit} = useApp();
	const {isRawModeSupported, internal_eventEmitter: inputEvents} = useStdin();
	const {glyphs} = useTheme();
	const [selectedName, setSelectedName] = useState<string | undefined>(undefined);
	const [panel, setPanel] = useState<Panel | undefined>(undefined);
	const [flash, setFlash] = useState<Flash | undefined>(undefined);
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const busyRef = useRef(false);
	// The latest panel and selection, for keys handled before React re-renders.
	const panelRef = useRef<Panel | undefined>(undefined);
	const selectedRef = useRef<string | undefined>(undefined);
	// The open drill-down view (detail, log, spend, region); undefined: the table.
	const [view, setView] = useState<View | undefined>(undefined);
	const viewRef = useRef<View | undefined>(undefined);
	const quitting = useRef(false);

	const names = snapshot?.environments.map(view => view.name) ?? [];
	const selected = selectedName !== undefined && names.includes(selectedName) ? selectedName : names[0];
	// What this render shows selected; the key handler moves it on between renders.
	selectedRef.current = selected;
	const keysFor = (name: string | undefined): KeyContext => ({
		readOnly: snapshot?.mode.readOnly ?? true,
		pending: Boolean(snapshot?.pending),
		paused: snapshot?.mode.paused ?? false,
		breaker: Boolean(snapshot?.environments.find(view => view.name === name)?.breaker),
		envPaused: Boolean(snapshot?.environments.find(view => view.name === name)?.paused),
	});
	const keys = keysFor(selected);

	const say = useCallback((text: string, tone: Flash['tone']) => {
		setFlash({text, tone, until: clock.getSnapshot() + flashMs});
	}, [clock, flashMs]);

	const run = useCallback((command: Command, label: string) => {
		if (busyRef.current) {
			say('busy: wait for the current action to finish', 'warn');
			return;
		}

		busyRef.current = true;
		setBusy(label);
		controller.command(command).then(result => {
			if (result) {
				say(result.summary, flashTone(result));
			} else if (command.kind === 'refresh') {
				say('refreshed', 'ok');
			} else if (command.kind === 'reset') {
				say(`${command.environment}'s breaker reset: agents may run there again`, 'ok');
			} else if (command.kind === 'pause-env') {
				say(`automatic actions PAUSED for ${command.environment}: its breaches are shown and alerted on, nothing there is stopped automatically`, 'warn');
			} else if (command.kind === 'resume-env') {
				say(`automatic actions resumed for ${command.environment}`, 'ok');
			} else if (command.kind === 'pause') {
				say('automatic actions PAUSED: breaches are shown and logged, nothing is stopped automatically', 'warn');
			} else if (command.kind === 'resume') {
				say('automatic actions resumed', 'ok');
			} else if (command.kind === 'cancel-pending') {
				say('automatic action cancelled; automatic actions paused (p resumes)', 'warn');
			}
		}, (error: unknown) => {
			say(`${command.kind} failed: ${error instanceof Error ? error.message : String(error)}`, 'error');
		}).finally(() => {
			busyRef.current = false;
			setBusy(undefined);
		});
	}, [controller, say]);

	const quit = useCallback(() => {
		if (!quitting.current) {
			quitting.current = true;
			onQuit?.();
			exit();
		}
	}, [exit, onQuit]);

	/** One key against the current panel; returns the panel after it (side effects run at once). */
	const step = (input: string, key: KeyState, current: Panel | undefined): Panel | undefined => {
		if (current?.kind === 'confirm') {
			const next = reduceConfirm(current.request, input, key);
			switch (next.kind) {
				case 'confirm': {
					run(current.request.command, busyText(current.request.command, controller.cascadeTarget()));
					return undefined;
				}

				case 'cancel': {
					say('cancelled: nothing done', 'warn');
					return undefined;
				}

				case 'edit': {
					return {kind: 'confirm', request: next.request};
				}

				default: {
					return current;
				}
			}
		}

		if (current?.kind === 'help' && (key.escape || input === '?')) {
			return undefined;
		}

		if (viewRef.current && !current) {
			return viewStep(viewRef.current, input, key);
		}

		// The context of the row selected now: an earlier key of this chunk may have moved it.
		const context = keysFor(selectedRef.current);
		const command = matchKey(input, key, context);
		switch (command) {
			case undefined: {
				const refused = readOnlyRefusal(input, key, context);
				if (refused) {
					say(refused === 'start' ? 'read-only: starting is off' : refused === 'reset' ? 'read-only: resetting a breaker is off' : 'read-only: stopping is off', 'warn');
				}

				return current;
			}

			case 'quit': {
				quit();
				return current;
			}

			case 'help': {
				return {kind: 'help'};
			}

			case 'up':
			case 'down': {
				if (names.length > 0) {
					const index = Math.max(0, names.indexOf(selectedRef.current ?? ''));
					const next = command === 'up' ? Math.max(0, index - 1) : Math.min(names.length - 1, index + 1);
					selectedRef.current = names[next];
					setSelectedName(names[next]);
				}

				return current;
			}

			case 'refresh': {
				run({kind: 'refresh'}, 'refreshing');
				return current;
			}

			case 'pause': {
				const paused = snapshot?.mode.paused ?? false;
				// Said once it is done: a busy engine refuses it, and that is what is said then.
				run({kind: paused ? 'resume' : 'pause'}, paused ? 'resuming' : 'pausing');
				return current;
			}

			case 'pause-env': {
				const name = selectedRef.current;
				if (name !== undefined && context.envPaused) {
					// Resuming gives protection back: no confirmation.
					run({kind: 'resume-env', environment: name}, `resuming ${name}`);
					return current;
				}

				return ask('pause-env', context) ?? current;
			}

			case 'cancel-pending': {
				run({kind: 'cancel-pending'}, 'cancelling');
				return current;
			}

			case 'stop':
			case 'cascade':
			case 'emergency':
			case 'undo':
			case 'start':
			case 'reset': {
				return ask(command, context) ?? current;
			}

			case 'open-detail':
			case 'open-log':
			case 'open-spend':
			case 'open-region': {
				const opened = openView(command);
				if (opened) {
					viewRef.current = opened;
					setView(opened);
					return undefined;
				}

				return current;
			}
		}
	};

	/** A confirmation for an action on the selected environment, or undefined (refused, and said why). */
	const ask = (command: Parameters<typeof buildConfirmation>[0], context: KeyContext): Panel | undefined => {
		if (!snapshot) {
			return undefined;
		}

		const request = buildConfirmation(command, {snapshot, selected: selectedRef.current, cascadeTarget: command === 'cascade' ? controller.cascadeTarget() : undefined, now: clock.getSnapshot()});
		if ('refused' in request) {
			say(request.refused, 'warn');
			return undefined;
		}

		// Never asked without its blast radius: refused when the terminal cannot show it all.
		const panel: Panel = {kind: 'confirm', request};
		const tooSmall = confirmRefusal({snapshot, now: clock.getSnapshot(), columns, rows, selected: selectedRef.current, panel, keys: context, glyphs});
		if (tooSmall) {
			say(tooSmall, 'warn');
			return undefined;
		}

		return panel;
	};

	const readAudit = () => audit?.read() ?? {entries: [], skipped: 0, truncated: false, error: 'no audit log is kept in this run'};

	const openView = (command: 'open-detail' | 'open-log' | 'open-spend' | 'open-region'): View | undefined => {
		const name = selectedRef.current;
		switch (command) {
			case 'open-detail': {
				return name === undefined ? undefined : detailView(name);
			}

			case 'open-log': {
				// Read now, when the view opens: the dashboard never reads the file otherwise.
				return {kind: 'log', tail: readAudit(), filter: '', editing: false, cursor: 0};
			}

			case 'open-spend': {
				return {kind: 'spend', target: name ?? 'global'};
			}

			case 'open-region': {
				return name === undefined ? undefined : {kind: 'region', environment: name};
			}
		}
	};

	/** One key in an open view (no panel open over it). */
	const viewStep = (open: View, input: string, key: KeyState): Panel | undefined => {
		const shown = snapshot ? viewRows(open, snapshot) : {};
		const count = shown.instances?.length ?? shown.entries?.length ?? 0;
		// A page: about the rows the list has (the log's list takes half the body).
		const page = Math.max(1, open.kind === 'log' ? Math.floor((rows - 6) / 2) : rows - 7);
		const result = reduceView(open, input, key, {count, environments: names, shown: shownColumns(columns), page});
		let next = result.view;
		let panel: Panel | undefined;
		switch (result.effect?.kind) {
			case 'quit': {
				quit();
				break;
			}

			case 'reload': {
				if (next?.kind === 'log') {
					next = {...next, tail: readAudit(), cursor: 0};
				}

				break;
			}

			case 'stop': {
				const environment = result.effect.environment;
				// The same confirmation as the table's `s`, for the environment this view shows.
				selectedRef.current = environment;
				setSelectedName(environment);
				const context = keysFor(environment);
				if (context.readOnly) {
					say('read-only: stopping is off', 'warn');
				} else {
					panel = ask('stop', context);
				}

				break;
			}

			default: {
				break;
			}
		}

		viewRef.current = next;
		setView(next);
		return panel;
	};

	const handle = (input: string, key: Key) => {
		// Over a slow link several keys can arrive in one chunk ("y" and Enter as "y\r", "jj"): take
		// them one at a time, so a fast typist gets exactly what they typed. Ink already cuts escape
		// sequences apart; the splitter does so too, for any chunk that still holds several.
		const presses: Array<[string, KeyState]> = input.length > 1 && !key.ctrl && !key.meta ? splitKeys(input) : [[input, key]];
		// Ink reads an Esc glued to the next key (`ESC y`, `ESC ESC [B`) as Alt+key. The dashboard
		// binds no Alt keys: it is an Esc, then the key. Never a y that confirms what Esc cancelled.
		if (key.meta && !key.escape && !key.ctrl && (input !== '' || key.upArrow || key.downArrow)) {
			presses.splice(0, presses.length, ['', {escape: true, meta: true}], ...(input === '' ? [['', {upArrow: key.upArrow, downArrow: key.downArrow}] as [string, KeyState]] : splitKeys(input)));
		}
		// Keys of one chunk arrive before React re-renders: the refs carry the selection and the
		// panel from one to the next (resetting them from this render's values lost the second Down).
		if (key.escape && rawInput.current === '\u001B\u001B') {
			presses.splice(0, presses.length, ['', {escape: true, meta: true}], ['', {escape: true, meta: true}]);
		}

		// Used once: a later event never reads this one's raw text.
		rawInput.current = '';

		let current = panelRef.current;
		for (const [char, state] of presses) {
			current = step(char, state, current);
		}

		panelRef.current = current;
		setPanel(current);
	};

	// A terminal shrunk under an open confirmation: it cannot be shown whole, so it is withdrawn.
	const shown = panelRef.current;
	const withdrawn = shown?.kind === 'confirm' && snapshot ? confirmRefusal({snapshot, now: clock.getSnapshot(), columns, rows, selected, panel: shown, keys, glyphs}) : undefined;
	useEffect(() => {
		if (withdrawn && panelRef.current?.kind === 'confirm') {
			panelRef.current = undefined;
			setPanel(undefined);
			say(`${withdrawn}: cancelled, nothing done`, 'warn');
		}
	}, [withdrawn, say]);

	// Ink hands two Escs that arrive in one packet (`Esc Esc` typed fast over SSH) to useInput as one
	// Esc: the raw event, seen first by this listener (subscribed before useInput's), tells them apart.
	const rawInput = useRef('');
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

	return (
		<ClockContext.Provider value={clock}>
			{view && snapshot && panel?.kind !== 'confirm'
				? <ViewScreen view={view} snapshot={snapshot} columns={columns} rows={rows} keys={keys} flash={flash} busy={busy} />
				: <Dashboard snapshot={snapshot} columns={columns} rows={rows} selected={selected} panel={panel} flash={flash} busy={busy} keys={keys} />}
		</ClockContext.Provider>
	);
}
