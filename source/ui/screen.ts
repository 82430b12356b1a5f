/**
 * The alternate screen, as k9s, htop and less use it: the dashboard draws on a screen of its own,
 * and the shell's screen, with what was on it, comes back when it ends, with no frame left in the
 * scrollback. Ink 6 has no option for it (it draws inline, and on exit leaves its last frame where
 * it was), so the sequences are written here, around Ink's render and unmount.
 *
 * Whatever ends the dashboard gives the terminal back: `leave()` is called once Ink has unmounted
 * (q, a signal, a crash while drawing), and a process `exit` listener calls it for any other way
 * out (a `process.exit` elsewhere, an uncaught exception). Leaving shows the cursor and turns raw
 * mode off as well, whether or not Ink got to it.
 *
 * What is written to stderr while the dashboard owns the screen (an uncaught exception's report,
 * a warning) would vanish with the alternate screen: it is written as usual, and kept, and written
 * again once the shell's screen is back, so it ends up where the person can read it.
 */

/** DEC private mode 1049: save the cursor, switch to the alternate screen, clear it. Then home. */
export const enterAlternateScreen = '\u001B[?1049h\u001B[H';
/** Back to the normal screen, cursor restored to where it was, then shown. */
export const leaveAlternateScreen = '\u001B[?1049l\u001B[?25h';

/** What is kept of stderr for the shell's screen, at most (the newest is kept). */
const keptBytes = 64 * 1024;

type Out = Pick<NodeJS.WriteStream, 'write'> & {isTTY?: boolean};
type In = {isTTY?: boolean; isRaw?: boolean; setRawMode?(mode: boolean): unknown};

export type Screen = {
	/** Gives the terminal back (normal screen, cursor shown, raw mode off) and writes what stderr said meanwhile. Idempotent. */
	leave(): void;
};

export type ScreenOptions = {
	stdout: Out;
	stdin: In;
	stderr?: Out | undefined;
	/** Where the `exit` safety net is registered. @default process */
	events?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
};

/** Enters the alternate screen on `stdout` (a terminal only) until `leave()`. */
export function takeScreen({stdout, stdin, stderr, events = process}: ScreenOptions): Screen {
	if (!stdout.isTTY) {
		return {leave() {}};
	}

	const kept: string[] = [];
	let keptLength = 0;
	const write = stderr?.write;
	const ownWrite = stderr !== undefined && Object.hasOwn(stderr, 'write');
	if (stderr && write && stderr.isTTY) {
		stderr.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
			const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : '';
			kept.push(text);
			keptLength += text.length;
			while (keptLength > keptBytes && kept.length > 1) {
				keptLength -= kept.shift()!.length;
			}

			return (write as (...args: unknown[]) => boolean).call(stderr, chunk, ...rest);
		} as Out['write'];
	}

	let left = false;
	const leave = () => {
		if (left) {
			return;
		}

		left = true;
		events.off('exit', leave);
		if (stderr && write) {
			if (ownWrite) {
				stderr.write = write;
			} else {
				delete (stderr as Partial<Out>).write;
			}
		}

		// Each step on its own: a terminal that is gone (EIO) must not keep the others from running.
		attempt(() => stdout.write(leaveAlternateScreen));
		attempt(() => {
			if (stdin.isTTY && stdin.isRaw) {
				stdin.setRawMode?.(false);
			}
		});
		if (stderr && kept.length > 0) {
			attempt(() => stderr.write(kept.join('')));
		}
	};

	events.on('exit', leave);
	stdout.write(enterAlternateScreen);
	return {leave};
}

function attempt(step: () => unknown): void {
	try {
		step();
	} catch {
		// The terminal went away: nothing more can be shown on it.
	}
}
