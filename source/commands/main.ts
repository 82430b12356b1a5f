import {parseArgs} from '../app/args.js';
import {openStore} from '../config/index.js';
import {UsageError, exitCodes, printable} from '../domain/index.js';
import {doctor} from './doctor.js';
import {EngineBusy} from '../serve/index.js';
import {printStatus} from './status.js';
import {actorName, version, type Io} from '../app/io.js';
import {resolveStateDir} from '../app/state-dir.js';
import {runMonitor} from '../app/run.js';
import {openCoordination} from '../app/coordination.js';
import {runCommand} from './act.js';
import {notifyTest} from './notify-test.js';
import {describeLayers} from './config.js';

/** Runs envwatch; resolves to the exit code. Never throws for a usage problem. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
	try {
		const options = parseArgs(argv);
		if (options.help) {
			io.stdout.write(`${options.helpText.trim()}\n`);
			return exitCodes.ok;
		}

		if (options.version) {
			io.stdout.write(`${version}\n`);
			return exitCodes.ok;
		}

		switch (options.command) {
			case 'config-path': {
				// Not checked: a store that does not load is exactly when a person needs its path.
				io.stdout.write(`${openStore(io.env).path}\n`);
				return exitCodes.ok;
			}

			case 'config-get':
			case 'config-set':
			case 'config-unset':
			case 'config-edit': {
				// Loaded only for these commands, with conf behind it.
				return await (await import('./config-store.js')).runConfigStore(options, io);
			}

			case 'config-show': {
				io.stdout.write(`${describeLayers(options, io)}\n`);
				return exitCodes.ok;
			}

			case 'doctor': {
				return await doctor(options, io);
			}

			case 'notify-test': {
				return await notifyTest(options, io);
			}

			default: {
				break;
			}
		}

		if (options.command === 'status' && options.demo && !options.stateDir) {
			throw new UsageError('status --demo: each demo has its own state dir — expected --state-dir DIR (serve --demo prints it)');
		}

		const stateDir = resolveStateDir(options, io);
		switch (options.command) {
			case 'status': {
				return await printStatus(stateDir, actorName(), io, async () => (await openCoordination(options, io.env)).coordination);
			}

			case 'once':
			case 'stop':
			case 'start':
			case 'reset':
			case 'undo': {
				return await runCommand(options, io, stateDir);
			}

			default: {
				return await runMonitor(options, io, stateDir);
			}
		}
	} catch (error) {
		if (error instanceof EngineBusy) {
			io.stderr.write(`envwatch: ${shown(error.message)}\n`);
			return exitCodes.failure;
		}

		if (error instanceof UsageError) {
			io.stderr.write(`envwatch: ${error.total > 1 ? `${error.total} problems:\n  ` : ''}${error.problems.join('\n  ')}\n${error.hint ? `(${error.hint})\n` : ''}`);
			return exitCodes.usage;
		}

		io.stderr.write(`envwatch: ${shown(error instanceof Error ? error.message : String(error))}\n`);
		return exitCodes.failure;
	}
}

/**
 * A message for the terminal: it may quote what a user typed, a file or a socket peer said, so every
 * control character is escaped (`\x1b`), as in a usage error; only its own line breaks are kept.
 */
function shown(message: string): string {
	return message.split('\n').map(line => printable(line)).join('\n');
}
