/**
 * A problem the user can fix: a bad flag, a bad configuration, missing credentials.
 * The CLI prints the problems (never a stack trace) and exits 2; nothing has been polled or stopped.
 */
export class UsageError extends Error {
	readonly problems: string[];
	/** How many problems there are in all, when `problems` lists only the first of them. */
	readonly total: number;

	constructor(problems: string[] | string, readonly hint?: string, total?: number) {
		const list = Array.isArray(problems) ? problems : [problems];
		super(list.join('\n'));
		this.name = 'UsageError';
		this.problems = list;
		this.total = total ?? list.length;
	}
}

export const exitCodes = {ok: 0, failure: 1, usage: 2, breach: 3} as const;
