/**
 * Works around a cursor bug in Ink 6.8.0's incremental renderer (`incrementalRendering: true`).
 *
 * An inline (not full-screen) frame ends with a newline, so after writing it the cursor sits on
 * the line below the frame. The next incremental frame starts with `cursorUp(previousLines - 1)`,
 * which assumes the cursor is *on* the last line: one line short, so every changed line lands one
 * row too low and the top line is duplicated on each tick (reproduced in tmux with a three-line
 * counter). Ink's other paths are consistent with that assumption: after a terminal shrink it
 * clears the screen and writes the frame without its trailing newline, leaving the cursor on the
 * last line.
 *
 * So this stdout wrapper watches where Ink left the cursor: when the last frame write ended
 * below the frame (a newline, or `CSI E` moving past an unchanged last line), a write that
 * *starts* with `CSI n A` (an incremental frame's opening move; Ink writes its synchronized-update
 * markers and cursor hide/show separately) goes up `n + 1` lines. Everything else passes through.
 *
 * Ink 7 fixed this upstream, and there the correction would overshoot by a line: it is applied
 * only to the Ink major version it was written for (`needsCursorFix`). Remove it with the move
 * to Ink 7 (which needs Node 22).
 */
import {frameCompactor, frameStart, modeOnly} from './frame-compactor.js';
import {inkVersion} from './ink-version.js';

/** The Ink major version whose incremental renderer leaves the cursor a line low. */
export const cursorFixInkMajor = 6;

/** Whether Ink at `version` needs the cursor correction: only its major 6; unknown: no. */
export function needsCursorFix(version: string | undefined): boolean {
	const major = /^(\d+)\.\d+\.\d+/.exec(version ?? '')?.[1];
	return major !== undefined && Number(major) === cursorFixInkMajor;
}

export type CursorTracker = {
	/** The chunk to write instead. */
	correct(chunk: string): string;
	/** The screen was cleared and the cursor sent home: it is not below a frame. */
	reset(): void;
};

export function cursorTracker(): CursorTracker {
	let belowFrame = false;
	return {
		correct(chunk) {
			if (chunk === '' || modeOnly.test(chunk)) {
				return chunk;
			}

			const fixed = belowFrame ? chunk.replace(frameStart, (_match, count: string) => `\u001B[${Number(count) + 1}A`) : chunk;
			belowFrame = chunk.endsWith('\n') || chunk.endsWith('\u001B[E');
			return fixed;
		},
		reset() {
			belowFrame = false;
		},
	};
}

/**
 * A view of `stdout` for Ink: the same stream (size, events, TTY), with the corrected writes.
 *
 * Resizes get a clean slate too. A terminal reflows long lines when it narrows and scrolls when
 * it gets shorter, so the old frame is no longer where Ink thinks it is, and Ink only redraws
 * from scratch when the width decreased (and then erases by its own line count, leaving the
 * reflowed rows behind). So on every resize, before Ink's handler runs, the visible screen is
 * cleared with the cursor home, and `columns` reads until Ink's next write are made to look like
 * a decrease, which sends Ink down its redraw-everything path; its later reads are real.
 */
export function inkStdout(stdout: NodeJS.WriteStream, options: {
	/** The Ink version drawing: the cursor correction is made for Ink 6 only. @default the installed Ink's */
	inkVersion?: string | undefined;
} = {}): NodeJS.WriteStream & {dispose(): void} {
	const tracker = needsCursorFix('inkVersion' in options ? options.inkVersion : inkVersion()) ? cursorTracker() : undefined;
	// Then fewer bytes for the same frame: only the cells that changed (see frame-compactor.ts).
	const compactor = frameCompactor();
	const write = (chunk: unknown, ...rest: unknown[]): boolean => {
		// Ink's first write after a resize is the erase of its redraw-everything path: from here on
		// it must see the real width (it lays out with it).
		resized = false;
		if (typeof chunk !== 'string') {
			// Not Ink's frame text: whatever it draws, the compactor no longer knows the lines.
			compactor.reset();
		}

		const fixed = typeof chunk === 'string' ? compactor.compact(tracker ? tracker.correct(chunk) : chunk) : chunk;
		return (stdout.write as (...args: unknown[]) => boolean)(fixed, ...rest);
	};

	let resized = false;
	// Ink remembers the width it read last; a fresh, ever smaller (negative) one is always "less".
	let fakeWidth = 0;
	const onResize = () => {
		resized = true;
		fakeWidth--;
		stdout.write('\u001B[2J\u001B[H');
		tracker?.reset();
		compactor.reset();
	};

	stdout.prependListener('resize', onResize);
	const dispose = () => {
		stdout.off('resize', onResize);
	};

	return new Proxy(stdout, {
		get(target, property) {
			if (property === 'write') {
				return write;
			}

			if (property === 'dispose') {
				return dispose;
			}

			if (property === 'columns' && resized) {
				return fakeWidth;
			}

			const value: unknown = Reflect.get(target, property, target);
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		},
	}) as NodeJS.WriteStream & {dispose(): void};
}
