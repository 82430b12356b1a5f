import os from 'node:os';

/**
 * How a process running the engine hears that it should end (or that it should not): SIGINT and
 * SIGTERM end it, SIGHUP ends it only where a terminal went away, and a crash (an exception nothing
 * caught) ends it too, recorded rather than a bare stack trace. Every end of an engine is one
 * `down` line in the audit log (source/serve/session.ts writes it) and a notification.
 */
export type ProcessEvents = Pick<NodeJS.EventEmitter, 'on' | 'off'>;

export const endSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** 128 + the signal's number: the exit code of a process ended by it (SIGHUP 129, SIGINT 130, SIGTERM 143). */
export function signalExitCode(signal: NodeJS.Signals): number {
	return 128 + (os.constants.signals[signal] ?? 0);
}

/** Why an engine ended on `signal`, as its `down` line says. */
export function signalReason(signal: NodeJS.Signals): string {
	return signal === 'SIGHUP' ? 'SIGHUP: the terminal is gone' : signal;
}

/** Whether the run has a terminal: stdin, stdout or stderr is one (under nohup, systemd or cron none is). */
export function hasTerminal(io: {stdin: {isTTY?: boolean}; stdout: {isTTY?: boolean}; stderr: {isTTY?: boolean}}): boolean {
	return Boolean(io.stdin.isTTY || io.stdout.isTTY || io.stderr.isTTY);
}

/**
 * Whether SIGHUP is ignored: by a server, and by a headless run without a terminal. `nohup` sets
 * SIGHUP to be ignored, but a Node process that listens for it (as envwatch must, to end cleanly
 * elsewhere) undoes that: `nohup envwatch serve &` used to end with the SSH session, exit 129.
 */
export function ignoresHangup(mode: 'serve' | 'headless' | 'dashboard', terminal: boolean): boolean {
	return mode === 'serve' || (mode === 'headless' && !terminal);
}

export type SignalHandlers = {
	/** SIGHUP does not end this process: each one goes to `onHangup` instead (`count`: how many so far). */
	ignoreHangup: boolean;
	onHangup(count: number): void;
	/** A signal that ends the process: `count` counts them (a second one abandons what the first waits for). */
	onSignal(signal: NodeJS.Signals, count: number): void;
};

/** Listens for SIGINT, SIGTERM and SIGHUP until the returned function is called. */
export function watchSignals(handlers: SignalHandlers, events: ProcessEvents = process): () => void {
	let ending = 0;
	let hangups = 0;
	const listener = (signal: NodeJS.Signals) => {
		if (signal === 'SIGHUP' && handlers.ignoreHangup) {
			handlers.onHangup(++hangups);
			return;
		}

		handlers.onSignal(signal, ++ending);
	};

	for (const name of endSignals) {
		events.on(name, listener);
	}

	return () => {
		for (const name of endSignals) {
			events.off(name, listener);
		}
	};
}

/**
 * Listens for exceptions and rejections nothing caught (which would end the process with a stack
 * trace and nothing recorded) until the returned function is called; `onCrash` gets each one.
 */
export function watchCrashes(onCrash: (error: unknown) => void, events: ProcessEvents = process): () => void {
	const listener = (error: unknown) => onCrash(error);
	events.on('uncaughtException', listener);
	events.on('unhandledRejection', listener);
	return () => {
		events.off('uncaughtException', listener);
		events.off('unhandledRejection', listener);
	};
}

/** Why an engine ended on a crash, as its `down` line says. */
export function crashReason(error: unknown): string {
	return `crash: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500);
}
