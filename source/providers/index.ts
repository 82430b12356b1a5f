import type {Config} from '../config/index.js';
import {fallbackPrices, UsageError} from '../domain/index.js';
import type {AwsConnection} from './aws/clients.js';
// Types only (erased): the AWS SDK loads when a loader below is called, never at start.
import type {formatDoctor, runDoctor} from './aws/index.js';
import type {allRegions} from './aws/sweep.js';
import {SimAccount} from './sim/account.js';
import type {ScenarioName} from './sim/scenarios.js';
import type {CoordinationTable, Provider, TopicPublisher} from './types.js';

// The providers' face: the small types the engine works through (Fleet, BillingSource, PriceSource,
// TopicPublisher, ...), the simulated account's scenarios, and loaders for the AWS provider, which
// load the AWS SDK on their call (a face never re-exports a value of ./aws/: that would load it at start).
export type * from './types.js';
export type {AwsConnection} from './aws/clients.js';
export {simRegions} from './sim/account.js';
export {isScenario, scenarioNames, scenarios, type ScenarioName} from './sim/scenarios.js';

/**
 * What a provider is made from: the simulated scenario (--demo), else the AWS connection (--profile,
 * --endpoint-url); `env` holds the tuning variables (ENVWATCH_DEMO_SPEED, ENVWATCH_PAGE_SIZE, ...).
 */
export type ProviderOptions = {
	demo?: ScenarioName | undefined;
	connection: AwsConnection;
	env: NodeJS.ProcessEnv;
	/** What one listing of every region may take, when the run bounds it (the Lambda's time left); else ENVWATCH_LIST_BUDGET_SECONDS. */
	listBudgetMs?: number;
};

/** The simulated account for --demo; the AWS account otherwise (loaded lazily, never in demo). */
export async function createProvider(options: ProviderOptions, config: Config): Promise<Provider> {
	const {env} = options;
	if (options.demo) {
		// ENVWATCH_DEMO_SPEED runs the scenario's clock faster (tests: a spike in 2 s instead of 20 s).
		const speed = Number(env['ENVWATCH_DEMO_SPEED'] ?? 1) || 1;
		const start = Date.now();
		const sim = new SimAccount({
			scenario: options.demo,
			now: () => start + (Date.now() - start) * speed,
			envTagKey: config.envTagKey,
			roleTag: config.roleTag,
			tagValueOf: name => config.environments[name]?.tagValues[0] ?? name,
			prices: {...fallbackPrices, ...Object.fromEntries(Object.entries(config.prices).filter((entry): entry is [string, number] => typeof entry[1] === 'number'))},
		});
		if (config.allRegions) {
			config.regions = sim.enabledRegions();
		}

		// The pricing scenario shows live prices (a simulated Price List and spot market); the others price from the shipped table.
		return {source: `SIMULATED (${options.demo})`, fleet: sim, billing: sim, enabledRegions: async () => sim.enabledRegions(), ...(options.demo === 'pricing' ? {prices: sim} : {})};
	}

	const pageSize = integerFromEnv(env, 'ENVWATCH_PAGE_SIZE', 5, 1000);
	const maxBatch = integerFromEnv(env, 'ENVWATCH_MAX_BATCH', 1, 1000);
	const listBudget = integerFromEnv(env, 'ENVWATCH_LIST_BUDGET_SECONDS', 1, 3600, 120);
	// The AWS SDK loads only here, so --demo starts without it.
	const [{createAwsProvider}, {allRegions, enabledRegions}] = await Promise.all([import('./aws/index.js'), import('./aws/sweep.js')]);
	const {connection} = options;
	if (config.allRegions) {
		// `regions: "all"`: every region enabled for the account, asked once as envwatch starts.
		config.regions = await allRegions(connection);
	}

	const provider = await createAwsProvider(config, {
		...connection,
		...(pageSize === undefined ? {} : {pageSize}),
		...(maxBatch === undefined ? {} : {maxBatch}),
		...(options.listBudgetMs === undefined ? listBudget === undefined ? {} : {listBudgetMs: listBudget * 1000} : {listBudgetMs: options.listBudgetMs}),
	});
	// The sweep for agents in regions not watched asks DescribeRegions where envwatch already looks.
	return {...provider, enabledRegions: async () => enabledRegions(connection, config.regions[0])};
}

/**
 * ENVWATCH_PAGE_SIZE (DescribeInstances MaxResults, 5 to 1000, default 1000) and ENVWATCH_MAX_BATCH
 * (instance IDs per Stop/Start call, 1 to 1000, default 1000), ENVWATCH_LIST_BUDGET_SECONDS (what
 * one listing of every region may take, 1 to 3600, default 120): tuning and test knobs, not
 * configuration (the defaults are EC2's limits). A bad value is a usage error, never ignored.
 */
export function integerFromEnv(env: NodeJS.ProcessEnv, name: string, min: number, max: number, fallback = max): number | undefined {
	const raw = env[name];
	if (raw === undefined || raw === '') {
		return undefined;
	}

	const value = Number(raw);
	if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
		throw new UsageError(`${name}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max} (unset for ${fallback})`);
	}

	return value;
}

/** SNS publishing with the AWS provider's credentials and endpoint; the SDK is loaded on first use. */
export function snsPublisher(connection: AwsConnection): TopicPublisher {
	let publish: TopicPublisher | undefined;
	return async (topic, subject, message, signal) => {
		publish ??= (await import('./aws/sns.js')).snsPublisher(connection);
		return publish(topic, subject, message, signal);
	};
}

/** `envwatch doctor`'s checks of an AWS account, loaded on demand (never for --demo). */
export async function loadAwsDoctor(): Promise<{runDoctor: typeof runDoctor; formatDoctor: typeof formatDoctor; allRegions: typeof allRegions}> {
	const [{runDoctor, formatDoctor}, {allRegions}] = await Promise.all([import('./aws/index.js'), import('./aws/sweep.js')]);
	return {runDoctor, formatDoctor, allRegions};
}

/**
 * The coordination table (`coordination.dynamodb`: the lease, the engine's state and the audit
 * entries in DynamoDB); the SDK is loaded only here.
 */
export async function openCoordinationTable(connection: AwsConnection, table: string, region: string): Promise<CoordinationTable> {
	const {DynamoTable} = await import('./aws/table.js');
	return new DynamoTable(table, region, connection);
}

/** The text of an SSM parameter (the Lambda's configuration); a missing one is a UsageError naming `variable` and the parameter. */
export async function readConfigParameter(connection: AwsConnection, name: string, region: string, variable?: string): Promise<string> {
	const {readParameter} = await import('./aws/parameter.js');
	return readParameter(connection, name, region, variable);
}
