/**
 * A problem the user can fix: a bad flag, a bad configuration, missing credentials.
 * The CLI prints the problems (never a stack trace) and exits 2; nothing has been polled or stopped.
 * Every problem and the hint are made printable (`printable`): they quote what the user typed.
 */
export class UsageError extends Error {
	readonly problems: string[];
	/** How many problems there are in all, when `problems` lists only the first of them. */
	readonly total: number;
	readonly hint: string | undefined;

	constructor(problems: string[] | string, hint?: string, total?: number) {
		const list = (Array.isArray(problems) ? problems : [problems]).map(problem => printable(problem));
		super(list.join('\n'));
		this.name = 'UsageError';
		this.problems = list;
		this.hint = hint === undefined ? undefined : printable(hint);
		this.total = total ?? list.length;
	}
}

export const exitCodes = {ok: 0, failure: 1, usage: 2, breach: 3} as const;

/**
 * Control characters (C0, DEL, C1), line and paragraph separators and the bidirectional overrides
 * that reorder what a terminal shows: never written raw where user input is echoed.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const unprintable = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g;

/**
 * `text` with every control character written as an escape (`\x1b`, `\u202e`): a flag value, a
 * file name or a configuration key quoted in a message must not reach the terminal as a command
 * (an ESC sequence can clear the screen, retitle the window or hide what follows it).
 */
export function printable(text: string): string {
	return text.replaceAll(unprintable, char => {
		const code = char.codePointAt(0)!;
		return code <= 0xFF ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
	});
}

/** An error's own message, or the thrown value as text (no code or name added: see describeError for that). */
export function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
