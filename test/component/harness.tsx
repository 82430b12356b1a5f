import {EventEmitter} from 'node:events';
import React from 'react';
import {render} from 'ink';
import {afterEach} from 'vitest';
import type {AuditSource} from '../../source/engine/state/audit-reader.js';
import {App, type Controller} from '../../source/ui/App.js';
import type {SnapshotSource} from '../../source/ui/hooks/use-snapshot.js';
import {makeTheme, ThemeContext, type ThemeOptions} from '../../source/ui/theme.js';
import {manualClock} from '../../source/ui/ticker.js';
import {t0} from './fixtures.js';

/**
 * ink-testing-library's stdout is 100 columns with no rows; layouts need a terminal size, so this
 * harness renders with a stdout of the given size (resizable) and Ink's debug mode (every write
 * is a whole frame).
 */
class SizedStdout extends EventEmitter {
	frames: string[] = [];
	isTTY = true;
	constructor(public columns: number, public rows: number) {
		super();
	}

	write = (frame: string) => {
		this.frames.push(frame);
		return true;
	};

	lastFrame = () => this.frames.at(-1) ?? '';
	resize(columns: number, rows: number): void {
		this.columns = columns;
		this.rows = rows;
		this.emit('resize');
	}
}

class FakeStdin extends EventEmitter {
	isTTY = true;
	private data: string | null = null;
	write = (data: string) => {
		this.data = data;
		this.emit('readable');
		this.emit('data', data);
	};

	read = () => {
		const {data} = this;
		this.data = null;
		return data;
	};

	setEncoding() {}
	setRawMode() {}
	resume() {}
	pause() {}
	ref() {}
	unref() {}
}

export type Harness = {
	lastFrame(): string;
	/** Writes keys after giving Ink a tick to subscribe; Esc needs `setImmediate` to be seen alone. */
	press(keys: string): Promise<void>;
	waitFor(text: string | RegExp): Promise<string>;
	resize(columns: number, rows: number): Promise<void>;
	clock: ReturnType<typeof manualClock>;
	stdout: SizedStdout;
	unmount(): void;
};

const tick = () => new Promise(resolve => setImmediate(resolve));

/**
 * `renderApp` for a test file: every app it renders is unmounted after its test (registers the
 * afterEach). `defaults` are merged under each call's options.
 */
export function useApps(defaults: () => Partial<Parameters<typeof renderApp>[0]> = () => ({})): (options?: Partial<Parameters<typeof renderApp>[0]>) => Promise<Harness> {
	const open: Harness[] = [];
	afterEach(() => {
		for (const harness of open.splice(0)) {
			harness.unmount();
		}
	});
	return async options => {
		const harness = await renderApp({...defaults(), ...options} as Parameters<typeof renderApp>[0]);
		open.push(harness);
		return harness;
	};
}

export async function renderApp(options: {store: SnapshotSource; controller: Controller; columns?: number; rows?: number; theme?: ThemeOptions; stdinTty?: boolean; audit?: AuditSource; clipboard?: (text: string) => void}): Promise<Harness> {
	const stdout = new SizedStdout(options.columns ?? 80, options.rows ?? 24);
	const stdin = new FakeStdin();
	stdin.isTTY = options.stdinTty ?? true;
	const clock = manualClock(t0 + 1000);
	const instance = render(
		<ThemeContext.Provider value={makeTheme({colour: false, ...options.theme})}>
			<App store={options.store} controller={options.controller} clock={clock} audit={options.audit} clipboard={options.clipboard} />
		</ThemeContext.Provider>,
		{stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, debug: true, exitOnCtrlC: false, patchConsole: false},
	);
	await tick();
	const harness: Harness = {
		lastFrame: stdout.lastFrame,
		async press(keys) {
			await tick();
			stdin.write(keys);
			await tick();
			await tick();
		},
		async waitFor(text) {
			// A generous deadline for slow machines; this is not a timing assertion.
			const deadline = Date.now() + 5000;
			for (;;) {
				const frame = stdout.lastFrame();
				if (typeof text === 'string' ? frame.includes(text) : text.test(frame)) {
					return frame;
				}

				if (Date.now() > deadline) {
					throw new Error(`timed out waiting for ${String(text)}; last frame:\n${frame}`);
				}

				await new Promise(resolve => setTimeout(resolve, 10));
			}
		},
		async resize(columns, rows) {
			stdout.resize(columns, rows);
			await tick();
		},
		clock,
		stdout,
		unmount: () => instance.unmount(),
	};
	return harness;
}

/** The frame's lines, without trailing blanks. */
export function linesOf(frame: string): string[] {
	const lines = frame.split('\n');
	while (lines.length > 0 && lines.at(-1) === '') {
		lines.pop();
	}

	return lines;
}

/** Display width of a line (every glyph here is one column wide). */
export function widthOf(line: string): number {
	// eslint-disable-next-line no-control-regex -- strip colour codes
	return [...line.replace(/\u001B\[[0-9;]*m/g, '')].length;
}
