import readline from 'node:readline/promises';
import type {Options} from '../app/args.js';
import type {Io} from '../app/io.js';
import {UsageError} from '../domain/index.js';
import type {Prompts} from './side.js';

/** Questions on the terminal before an action: a typed answer (`ask`), or yes/no (`confirm`). */
export function terminalPrompts(io: Io, options: Options): Prompts {
	return {confirm: async (question, refusal) => confirm(io, options, question, refusal), ask: async question => ask(io, options, question)};
}

/** Asks for a typed answer on the terminal (the caller checked there is one). */
async function ask(io: Io, options: Options, question: string): Promise<string> {
	const prompt = readline.createInterface({input: io.stdin, output: io.stdout});
	const answer = await prompt.question(`${options.dryRun ? '[dry run] ' : ''}${question} `);
	prompt.close();
	return answer.trim();
}

/** Asks on the terminal; without one, refuses (exit 2) unless --yes was given. */
async function confirm(io: Io, options: Options, question: string, refusal: string): Promise<boolean> {
	if (options.yes) {
		return true;
	}

	if (!io.stdin.isTTY || !io.stdout.isTTY) {
		throw new UsageError(`${refusal} without confirmation — no terminal to ask; pass --yes to confirm`);
	}

	const prompt = readline.createInterface({input: io.stdin, output: io.stdout});
	const answer = await prompt.question(`${options.dryRun ? '[dry run] ' : ''}${question} [y/N] `);
	prompt.close();
	return /^y(es)?$/i.test(answer.trim());
}
