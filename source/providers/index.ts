import type {Options} from '../args.js';
import type {Config} from '../config/schema.js';
import {UsageError} from '../errors.js';
import {SimAccount} from './sim/account.js';
import type {Provider} from './types.js';

/** The simulated account for --demo; the AWS account otherwise (loaded lazily, never in demo). */
export async function createProvider(options: Options, config: Config): Promise<Provider> {
	if (options.demo) {
		// ENVWATCH_DEMO_SPEED runs the scenario's clock faster (tests: a spike in 2 s instead of 20 s).
		const speed = Number(process.env['ENVWATCH_DEMO_SPEED'] ?? 1) || 1;
		const start = Date.now();
		const sim = new SimAccount({
			scenario: options.demo,
			now: () => start + (Date.now() - start) * speed,
			envTagKey: config.envTagKey,
			roleTag: config.roleTag,
			tagValueOf: name => config.environments[name]?.tagValues[0] ?? name,
			prices: config.prices,
		});
		return {source: `SIMULATED (${options.demo})`, fleet: sim, billing: sim};
	}

	// AWS: the AWS provider (issue 4) plugs in here.
	throw new UsageError('the AWS provider is not supported yet — run with --demo [scenario] for the built-in simulated account');
}
