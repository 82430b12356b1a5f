import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline/promises';
import type {Options} from '../app/args.js';
import type {Io} from '../app/io.js';
import {describeValue, loadUserStore, openStore, parseJsonText, readConfigText, type StoreChange, type StoreOptions} from '../config/index.js';
import {exitCodes, UsageError} from '../domain/index.js';

/**
 * `envwatch config get|set|unset|edit`: the user's store, read and changed from the command line.
 * Every change is checked before it is written (source/config/user-store.ts); a refused one is
 * exit 2 with every problem, and the store is left as it was.
 */
export async function runConfigStore(options: Options, io: Io): Promise<number> {
	const store: StoreOptions = {env: io.env, configFile: options.configFile};
	const key = options.configKey ?? '';
	const {getValue, setValue, unsetValue} = await loadUserStore();
	switch (options.command) {
		case 'config-get': {
			const {value} = getValue(key, store);
			if (value === undefined) {
				io.stderr.write(`envwatch: ${key}: not set — no layer sets it (see envwatch config show)\n`);
				return exitCodes.failure;
			}

			io.stdout.write(`${JSON.stringify(value, undefined, 2)}\n`);
			return exitCodes.ok;
		}

		case 'config-set': {
			io.stdout.write(`${describeSet(await setValue(key, options.configValue ?? '', store))}\n`);
			return exitCodes.ok;
		}

		case 'config-unset': {
			io.stdout.write(`${describeUnset(await unsetValue(key, store))}\n`);
			return exitCodes.ok;
		}

		default: {
			return editStore(store, io);
		}
	}
}

const keyOf = (change: StoreChange) => change.path.join('.');
const value = (value: unknown) => (value === undefined ? 'not set' : describeValue(value));

/** What a later layer (--config) does to a key just set or unset: it wins. */
function overridden(change: StoreChange, stored: unknown): string {
	return JSON.stringify(change.after) === JSON.stringify(stored) ? '' : `; envwatch uses ${value(change.after)}: --config sets it, and a later layer wins`;
}

function describeSet(change: StoreChange): string {
	return `${change.changed
		? `${keyOf(change)}: ${value(change.stored)} (was ${value(change.before)}), written to ${change.file}`
		: `${keyOf(change)}: ${value(change.stored)} already in ${change.file}; nothing written`}${overridden(change, change.stored)}`;
}

function describeUnset(change: StoreChange): string {
	return change.changed
		? `${keyOf(change)}: removed from ${change.file}; now ${value(change.after)}${change.after === undefined ? '' : ' (from the layer below)'}`
		: `${keyOf(change)}: not in ${change.file}; nothing to unset (it is ${value(change.after)})`;
}

/**
 * `config edit`: the store (or `{}`) copied to a private temporary file, opened in $VISUAL, else
 * $EDITOR, else vi; what was saved is checked as every run checks it. Valid: written over the
 * store as typed. Invalid: every problem, and on a terminal the choice to edit it again; the store
 * is never left half-written or invalid.
 */
async function editStore(store: StoreOptions, io: Io): Promise<number> {
	const file = openStore(store.env).path;
	const original = fs.existsSync(file) ? readConfigText(file, 'config store') : '{\n}\n';
	const editor = store.env['VISUAL']?.trim() || store.env['EDITOR']?.trim() || 'vi';
	const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-edit-'));
	const draft = path.join(directory, 'config.json');
	fs.writeFileSync(draft, original, {mode: 0o600});
	try {
		for (;;) {
			const code = await runEditor(editor, draft);
			if (code !== 0) {
				io.stderr.write(`envwatch: the editor (${editor}) ${code === undefined ? 'could not be started' : `exited with ${code}`} — nothing was written: ${file} is as it was (set VISUAL or EDITOR to the editor to use)\n`);
				return exitCodes.failure;
			}

			const text = readConfigText(draft, 'the edited store');
			if (text === original) {
				io.stdout.write(`no change: ${file} is as it was\n`);
				return exitCodes.ok;
			}

			try {
				await (await loadUserStore()).replaceStore(parseJsonText(text, file, 'config store (edited)'), text, store);
				io.stdout.write(`${file}: written (checked with every layer)\n`);
				return exitCodes.ok;
			} catch (error) {
				if (!(error instanceof UsageError) || !isTerminal(io)) {
					throw error;
				}

				io.stderr.write(describeProblems(error));
				if (!await editAgain(io)) {
					io.stderr.write(`envwatch: nothing was written: ${file} is as it was\n`);
					return exitCodes.usage;
				}
			}
		}
	} finally {
		fs.rmSync(directory, {recursive: true, force: true});
	}
}

/** The editor on `file`, as git runs it: through the shell, so `EDITOR="code --wait"` works. */
async function runEditor(editor: string, file: string): Promise<number | undefined> {
	// Ctrl-C in the editor reaches this process too: the editor decides, and the draft is removed after.
	const ignore = () => undefined;
	process.on('SIGINT', ignore);
	try {
		return await new Promise(resolve => {
			const child = spawn('/bin/sh', ['-c', `${editor} "$@"`, editor, file], {stdio: 'inherit'});
			child.on('error', () => resolve(undefined));
			child.on('close', code => resolve(code ?? undefined));
		});
	} finally {
		process.off('SIGINT', ignore);
	}
}

const isTerminal = (io: Io) => Boolean(io.stdin.isTTY && io.stdout.isTTY);

async function editAgain(io: Io): Promise<boolean> {
	const prompt = readline.createInterface({input: io.stdin, output: io.stdout});
	const answer = await prompt.question('Edit it again? [Y/n] ');
	prompt.close();
	return !/^n(o)?$/i.test(answer.trim());
}

function describeProblems(error: UsageError): string {
	return `envwatch: ${error.total > 1 ? `${error.total} problems:\n  ` : ''}${error.problems.join('\n  ')}\n`;
}
