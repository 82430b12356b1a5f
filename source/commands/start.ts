import type {Options} from '../app/args.js';
import {exitCodes, plural} from '../domain/index.js';
import type {CommandIo, CommandSide, Confirm, StartPlan} from './side.js';

/**
 * `start`, wherever the engine runs: every environment is checked before any is started (a start
 * refused for one starts none: exit 2 for the policy, 1 when agents could not be counted), then
 * each is started after a confirmation naming what it adds. The engine checks again on each start.
 */
export async function startEach(names: string[], side: CommandSide, options: Options, io: CommandIo, confirm: Confirm): Promise<number> {
	await side.prepare();
	const plans: Array<StartPlan & {name: string}> = [];
	let refusal: number | undefined;
	for (const name of names) {
		const plan = await side.planStart(name, options.count);
		if ('refused' in plan) {
			io.stderr.write(`envwatch: start ${plural(options.count ?? 1, 'agent')} in ${name} refused: ${plan.refused}\n`);
			// Agents that could not be counted are a failure (exit 1), a start the policy forbids a usage error (2).
			refusal = plan.counted ? exitCodes.usage : refusal ?? exitCodes.failure;
			continue;
		}

		plans.push({name, ...plan});
	}

	if (refusal !== undefined) {
		io.stderr.write(`envwatch: nothing started${plans.length > 0 ? ` (not ${plans.map(plan => plan.name).join(', ')} either)` : ''}\n`);
		return refusal;
	}

	let code: number = exitCodes.ok;
	for (const {name, count, running, cap, type, cost} of plans) {
		const question = `Start ${plural(count, `${type ?? ''} agent`.trim())} in ${name} (${running} running${cap === undefined ? '' : `, at most ${cap}`}), adding ${cost}${side.asOf}?`;
		if (!(await confirm(question, `start: refusing to start ${plural(count, 'agent')} in ${name}`))) {
			io.stdout.write(`Not started: ${name}.\n`);
			continue;
		}

		const result = await side.command({kind: 'start', environment: name, count});
		if (result) {
			io.stdout.write(`${side.dryRun ? '[dry run] ' : ''}${result.summary}\n`);
			if (result.outcome === 'failed' || result.outcome === 'refused') {
				code = result.outcome === 'refused' ? exitCodes.usage : exitCodes.failure;
			}
		}
	}

	return code;
}
