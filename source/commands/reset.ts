import {exitCodes} from '../domain/index.js';
import type {CommandIo, CommandSide, Confirm} from './side.js';

/**
 * `reset` for each named environment, whether the engine runs here or behind the socket: each
 * tripped breaker after a confirmation naming who tripped it and when; one not tripped is said so.
 */
export async function resetEach(names: string[], side: CommandSide, io: CommandIo, confirm: Confirm): Promise<number> {
	const snapshot = await side.prepare();
	let code: number = exitCodes.ok;
	for (const name of names) {
		const breaker = snapshot.environments.find(view => view.name === name)?.breaker;
		if (!breaker) {
			io.stdout.write(`${name}: not held (its breaker is not tripped); nothing to reset.\n`);
			continue;
		}

		const held = `${name} is held stopped since ${new Date(breaker.trippedAt).toISOString()} (${breaker.actor}: ${breaker.reason})`;
		if (!(await confirm(`${held}. Reset its breaker, so agents may run in ${name} again (no longer stopped as re-spawns; its limits still apply)?`, `reset ${name}: refusing to reset the breaker`))) {
			io.stdout.write(`Not reset: ${name}.\n`);
			continue;
		}

		const result = await side.command({kind: 'reset', environment: name});
		if (result?.outcome === 'refused') {
			io.stderr.write(`envwatch: ${result.summary}\n`);
			code = exitCodes.failure;
		} else if (result?.outcome === 'skipped') {
			io.stdout.write(`${result.summary}\n`);
		} else {
			io.stdout.write(`${name}: breaker reset; agents may run there again.\n`);
		}
	}

	return code;
}
