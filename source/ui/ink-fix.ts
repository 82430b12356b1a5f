/**
 * Works around a cursor bug in Ink 6.8.0's incremental renderer (`incrementalRendering: true`).
 *
 * An inline (not full-screen) frame ends with a newline, so after writing it the cursor sits on
 * the line below the frame. The next incremental frame starts with `cursorUp(previousLines - 1)`,
 * one line short: every changed line lands one row too low and the top line is duplicated on
 * each tick (reproduced in tmux with a three-line counter). The erase-and-rewrite paths are right.
 *
 * The fix is a stdout wrapper that corrects exactly that escape: a write that *starts* with
 * `CSI n A` is an incremental frame's opening move (Ink writes its synchronized-update markers
 * and the cursor hide/show as separate writes), and it must go up `n + 1` lines. Everything else
 * passes through unchanged. Remove this when moving to an Ink release with the fix (Ink 7 and 8
 * need Node 22).
 */
// eslint-disable-next-line no-control-regex -- matching an escape sequence is the point
const frameStart = /^\u001B\[(\d+)A/;

export function correctIncrementalCursor(chunk: string): string {
	return chunk.replace(frameStart, (_match, count: string) => `\u001B[${Number(count) + 1}A`);
}

/** A view of `stdout` for Ink: the same stream (size, events, TTY), with the corrected writes. */
export function inkStdout(stdout: NodeJS.WriteStream): NodeJS.WriteStream {
	const write = (chunk: unknown, ...rest: unknown[]): boolean => {
		const fixed = typeof chunk === 'string' ? correctIncrementalCursor(chunk) : chunk;
		return (stdout.write as (...args: unknown[]) => boolean)(fixed, ...rest);
	};

	return new Proxy(stdout, {
		get(target, property) {
			if (property === 'write') {
				return write;
			}

			const value: unknown = Reflect.get(target, property, target);
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		},
	});
}
