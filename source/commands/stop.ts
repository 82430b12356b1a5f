import type {Options} from '../app/args.js';
import {exitCodes, money, plural, UsageError} from '../domain/index.js';
import {isTerminal, type CommandIo, type CommandSide, type Prompts} from './side.js';

/**
 * `stop` / `--stop-env`, wherever the engine runs: a monitor-only environment is stopped only when
 * the person names it (typed, or --confirm; --yes is not enough), each environment after a
 * confirmation naming what it stops and saves; exit 1 when a stop failed or its agents could not
 * be listed.
 */
export async function stopEach(names: string[], side: CommandSide, options: Options, io: CommandIo, prompts: Prompts): Promise<number> {
	const flag = options.environmentsFlag;
	const unnamed = names.filter(name => side.monitorOnly(name) && !(options.confirm ?? []).includes(name));
	if (unnamed.length > 0 && (options.yes || !isTerminal(io))) {
		throw new UsageError(unnamed.map(name => `${flag} ${name}: ${name} is monitor only (onBreach: alert) — name it to stop it: --confirm ${name}${options.yes ? ' (--yes alone is not enough)' : ''}; nothing was stopped`));
	}

	await side.prepare();
	let failed = false;
	for (const name of names) {
		const targets = await side.stopTargets(name);
		if ('error' in targets) {
			io.stderr.write(`envwatch: stop ${name} not done: cannot list its agents (${targets.error})\n`);
			failed = true;
			continue;
		}

		const {ids, savesUsd, totalUsd, stale} = targets;
		// Stale figures are shown as unknown, never as $0; so is what unpriced agents cost.
		const of = totalUsd === null ? `of an unknown total (${stale ?? 'no figures yet'})` : `of ${money(totalUsd)}/h`;
		const blast = `${plural(ids.length, 'agent')} in ${name}${ids.length > 0 ? ` (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', ...' : ''})` : ''}, saving ${savesUsd === null ? (stale ? 'an unknown amount' : 'an unpriced amount') : `${money(savesUsd)}/h`} ${of}${side.asOf}`;
		let typed = (options.confirm ?? []).includes(name) ? name : undefined;
		if (side.monitorOnly(name) && typed === undefined) {
			typed = await prompts.ask(`${name} is monitor only. Stop ${blast}? Type ${name} to confirm:`);
			if (typed !== name) {
				io.stdout.write(`Not stopped: ${name} (the name was not typed).\n`);
				continue;
			}
		} else if (!(await prompts.confirm(`Stop ${blast}?`, `${flag === '--stop-env' ? '--stop-env' : 'stop'} ${name}: refusing to stop ${blast}`))) {
			io.stdout.write(`Not stopped: ${name}.\n`);
			continue;
		}

		const result = await side.command({kind: 'stop', environment: name, ...(typed === undefined ? {} : {confirm: typed})});
		if (result) {
			io.stdout.write(`${side.dryRun ? '[dry run] ' : ''}${result.summary}\n`);
			failed ||= result.outcome === 'failed';
		}
	}

	return failed ? exitCodes.failure : exitCodes.ok;
}
