// First, before React loads (this file has no JSX, so nothing is imported ahead of it).
import {restoreForceColour} from './production-env.js';
import os from 'node:os';
import React from 'react';
import {render} from 'ink';
import type {AuditSource, Command} from '../engine/index.js';
import {App, type Controller} from './App.js';
import {firstFrameShown} from './first-frame.js';
import {inkStdout} from './ink-fix.js';
import {osc52} from './instance-actions.js';
import type {SnapshotSource} from './hooks/use-snapshot.js';
import {takeScreen} from './screen.js';
import {asciiReason, colourLevel} from './terminal-caps.js';
import {colourWanted, makeTheme, ThemeContext} from './theme.js';
import {createTicker, type Ticker} from './ticker.js';


// Ink (and chalk in it) has loaded and read the colour depth: the variable is the person's again.
restoreForceColour();

export type DashboardOptions = {
	/** The engine's `SnapshotStore`. */
	store: SnapshotSource;
	/**
	 * The engine's `Monitor` (started by the caller, or by `runDashboard` when `start` is set);
	 * `stop` is told why the dashboard ended (`quit`, `SIGTERM`, `SIGHUP: the terminal is gone`...).
	 */
	monitor: Controller & {start?(): void; stop(reason?: string): Promise<void>};
	/** Closed last, after the monitor stopped and any action in flight finished. */
	audit?: {close(): void};
	/** The audit log for the log view, read only when that view opens (main passes the log's path). */
	auditSource?: AuditSource;
	/** `--no-color`; NO_COLOR in `env` (and a terminal without colour: TERM=dumb) also turn colour off. @default false */
	noColor?: boolean;
	/** `--ascii`: no box drawing, no block glyphs; so is a locale that is not UTF-8 or a plain TERM (vt100, linux, dumb). @default false */
	ascii?: boolean;
	/** @default process.env */
	env?: NodeJS.ProcessEnv;
	/** @default process.stdout */
	stdout?: NodeJS.WriteStream;
	/** @default process.stdin */
	stdin?: NodeJS.ReadStream;
	/** @default process.stderr */
	stderr?: NodeJS.WriteStream;
	/** Frame-rate cap: plenty for a dashboard that changes once a second. @default 10 */
	maxFps?: number;
	/** Call `monitor.start()` after the first frame is mounted. @default true */
	start?: boolean;
	/** Signals that end the dashboard cleanly. @default ['SIGHUP', 'SIGTERM', 'SIGINT'] */
	signals?: NodeJS.Signals[];
	/** Route console output around the frame (Ink's patchConsole). @default true */
	patchConsole?: boolean;
	/** Test seam: the clock. @default a 1-second ticker */
	ticker?: Ticker;
	/** Ends the dashboard (exit 1) with this reason when it resolves: its engine stopped by itself, or the process crashed. */
	end?: Promise<string>;
};


/**
 * Renders the dashboard until the user quits or a signal arrives; resolves with the exit code
 * (0 on quit, 128 + signal number on a signal). On the way out it always restores the terminal,
 * waits for an action in flight to be recorded, stops the monitor and closes the audit log: a
 * dropped SSH session (SIGHUP) never leaves a half-done action unrecorded.
 */
export async function runDashboard(options: DashboardOptions): Promise<number> {
	const env = options.env ?? process.env;
	const stdout = options.stdout ?? process.stdout;
	const stdin = options.stdin ?? process.stdin;
	const stderr = options.stderr ?? process.stderr;
	// What the terminal can draw (terminal-caps.ts): ASCII without a UTF-8 locale or on a plain
	// terminal, no colour where it shows none, whatever the flags left on.
	const theme = makeTheme({colour: colourWanted(env, options.noColor ?? false) && colourLevel(env) > 0, ascii: asciiReason(env, options.ascii ?? false) !== undefined});
	const ticker = options.ticker ?? createTicker();

	// Every command goes through here, so shutdown can wait for the one in flight.
	const inFlight = new Set<Promise<unknown>>();
	const controller: Controller = {
		command(command: Command) {
			const promise = options.monitor.command(command);
			inFlight.add(promise);
			void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
			return promise;
		},
		cascadeTarget: () => options.monitor.cascadeTarget(),
		standingBy: () => options.monitor.standingBy?.(),
	};

	let code = 0;
	// Why it ended, for the engine's `down` line.
	let reason = 'quit';
	let ending = false;
	// Set once Ink renders (a write error is emitted later, never during render itself).
	let unmount = () => undefined as void;
	const endWith = (exitCode: number, why: string) => {
		if (!ending) {
			ending = true;
			code = exitCode;
			reason = why;
		}

		unmount();
	};

	// A hung-up terminal makes writes fail (EIO, EPIPE): that must not crash the shutdown; it ends the dashboard.
	const ignoreWriteError = (error: NodeJS.ErrnoException) => endWith(129, `the terminal is gone (${error.code ?? error.message})`);
	stdout.on('error', ignoreWriteError);

	// The dashboard's own screen, given back on every way out (screen.ts).
	const screen = takeScreen({stdout, stdin, stderr});
	const inkOut = inkStdout(stdout);
	// `c` copies with OSC 52 straight to the terminal, around Ink's writes: it draws nothing and moves no cursor.
	let instance: ReturnType<typeof render>;
	try {
		instance = render(
			React.createElement(ThemeContext.Provider, {value: theme}, React.createElement(App, {store: options.store, controller, clock: ticker, audit: options.auditSource, clipboard: (text: string) => stdout.write(osc52(text))})),
			{
				stdout: inkOut,
				stdin,
				stderr,
				// Quit is ours (q, Ctrl-C): it runs the same clean shutdown as a signal.
				exitOnCtrlC: false,
				patchConsole: options.patchConsole ?? true,
				incrementalRendering: true,
				maxFps: options.maxFps ?? 10,
			},
		);
	} catch (error) {
		inkOut.dispose();
		screen.leave();
		throw error;
	}

	unmount = () => instance.unmount();
	// Ink drew the first frame as it mounted; what waited for it runs once that is written.
	const afterFrame = setImmediate(firstFrameShown);
	const signals = options.signals ?? ['SIGHUP', 'SIGTERM', 'SIGINT'];
	const onSignal = (signal: NodeJS.Signals) => endWith(128 + (os.constants.signals[signal] ?? 0), signal === 'SIGHUP' ? 'SIGHUP: the terminal is gone' : signal);
	void options.end?.then(why => endWith(1, why));

	for (const signal of signals) {
		process.on(signal, onSignal);
	}

	if (options.start ?? true) {
		options.monitor.start?.();
	}

	// A crash while drawing: Ink showed it on the dashboard's screen, which is going away.
	let crash: string | undefined;
	try {
		await instance.waitUntilExit();
	} catch (error) {
		code ||= 1;
		crash = ending ? undefined : error instanceof Error ? error.stack ?? error.message : String(error);
		reason = ending ? reason : `crash: ${error instanceof Error ? error.message : String(error)}`;
	} finally {
		for (const signal of signals) {
			process.off(signal, onSignal);
		}

		clearImmediate(afterFrame);
		ticker.stop();
		inkOut.dispose();
		// Ink has unmounted: the shell's screen is back (cursor shown, raw mode off) before an action
		// in flight is waited for, and a crash is said there, where it stays in sight.
		screen.leave();
		if (crash !== undefined) {
			stderr.write(`envwatch: the dashboard crashed: ${crash}\n`);
		}

		// Now let a stop in flight finish and be logged.
		await Promise.allSettled([...inFlight]);
		await options.monitor.stop(reason).catch(() => undefined);
		options.audit?.close();
		stdout.off('error', ignoreWriteError);
	}

	return code;
}
