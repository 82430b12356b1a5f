import fs from 'node:fs';

/**
 * Something could not be recorded (`what`: the audit log, a state file), or a state file was
 * found damaged and moved aside (`damaged`). The engine reports each one once: a stderr line,
 * and for damaged state an audit entry.
 */
export type RecordNotice = {
	/** One line for stderr (without the `envwatch: ` prefix): what, why, and what happens now. */
	message: string;
	/** A damaged state file (it also gets an audit entry), rather than a failed write. */
	damaged: boolean;
};

/** The notice for the first failure of a streak of failed writes. */
export function writeFailed(what: string, error: unknown): RecordNotice {
	return {message: `cannot write ${what}: ${describeError(error)}; envwatch goes on guarding and reports this until a write succeeds`, damaged: false};
}

/** An error's code (ENOSPC, EACCES, ...) and message, without a stack. */
export function describeError(error: unknown): string {
	if (error instanceof Error) {
		const code = (error as NodeJS.ErrnoException).code;
		const name = error.name && error.name !== 'Error' ? error.name : undefined;
		const prefix = code && !error.message.includes(code) ? `${code}: ` : name && !error.message.includes(name) ? `${name}: ` : '';
		return `${prefix}${error.message}`;
	}

	return String(error);
}

/**
 * Runs `write`, which creates or appends to a file in `dir`. The dir is made only when `write`
 * fails with ENOENT (not made yet, or removed under a running guard), and `write` is run once more:
 * no mkdir on every write.
 */
export function inDirectory<T>(dir: string, write: () => T): T {
	try {
		return write();
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
			throw error;
		}

		fs.mkdirSync(dir, {recursive: true});
		return write();
	}
}

/** An error's message, led by its name when that says more (`ThrottlingException: Rate exceeded`). */
export function messageOf(error: unknown): string {
	if (error instanceof Error) {
		const code = (error as {name?: string}).name;
		return code && code !== 'Error' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
	}

	return String(error);
}
