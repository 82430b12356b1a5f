import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import {isPlainObject, type EnvironmentPolicy, type GlobalPolicy, type PolicyConfig} from '../domain/index.js';
import {checkNotifyNames, heartbeatDefaultMinutes, notifyEvents, targetTypes, type NotifyTargetConfig} from './notify.js';
import {accountsSchema, checkAccounts} from './accounts.js';
import {closest} from './closest.js';
import {boolean, choice, nonNegative, number, positive, string, strings, text} from './schema-parts.js';

// The configuration is parsed once or twice a run: zod's compiled fast path (a new Function per
// object shape) costs more to build than it saves, about 4 ms of every start. zod/mini sets no
// locale of its own; the English one is zod's classic default, so a message zod writes (where a
// schema gives none) reads as it always did.
z.config({jitless: true, ...en()});

/**
 * The configuration schema (zod), the single source of the `Config` type and of the published
 * config/envwatch.schema.json. Every schema carries the text of what it expects, so each problem
 * reads `key.path: <bad value> — expected <what>`, and all of them are reported at once. Unknown
 * keys are errors: a typo must not silently disable a guard.
 */

export const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d+$/;
export const instanceTypePattern = /^[a-z0-9-]+\.[a-z0-9-]+$/;
export const environmentNamePattern = /^(?!global$)[a-z][a-z0-9-]{0,31}$/;
export const environmentNameText = 'lower-case letters, digits and -, starting with a letter';
/** The total's row in every view: an environment may not take its name. */
export const reservedEnvironmentName = 'global';

/** Marks an unknown-keys message, followed by the allowed keys (comma-separated). */
const unknownKeyMarker = '\u0000unknown-keys:';
/** Marks the message of a secret's check: the value is never quoted in the problem. */
const secretMarker = '\u0000secret:';

/** The poll interval's one rule, for `pollIntervalSeconds` in a file and `--interval` on the command line. */
export const pollInterval = {min: 1, max: 86_400} as const;

let accounts: ReturnType<typeof accountsSchema> | undefined;
let notify: ReturnType<typeof notifySchema> | undefined;

/**
 * The whole schema. `layer` builds the schema of one layer (a file or the flags): every key is
 * optional there, since a layer is merged over the ones below it; the effective configuration is
 * checked with every required key present.
 */
function build(layer: boolean) {
	/** Required in the effective configuration, optional in a layer. */
	const required = <T extends z.ZodMiniType>(schema: T): T => (layer ? z.optional(schema) as unknown as T : schema);
	const object = <T extends z.core.$ZodLooseShape>(shape: T) => z.strictObject(shape, {
		error: issue => issue.code === 'unrecognized_keys' ? `${unknownKeyMarker}${Object.keys(shape).join(',')}` : 'an object',
	});

	const environment = object({
		priority: required(number({min: 1, integer: true})),
		thresholdPct: required(positive()),
		windowMinutes: required(number({min: 1, max: 1440})),
		maxHourlyUsd: required(positive()),
		agents: required(choice(['all', 'limited', 'monitor-only'])),
		maxAgents: z.optional(number({min: 0, integer: true})),
		onBreach: required(choice(['stop', 'alert'])),
		tagValues: required(strings(/\S/, 'non-empty strings')),
		/** With `accounts`: one row per account (`dev@sandbox-a`), each with its own window, cap and stop. */
		splitBy: z.optional(choice(['account'])),
		launchTemplate: z.optional(object({
			id: z.optional(string(/^lt-[0-9a-z]+$/, 'a launch template ID like lt-0abc123')),
			name: z.optional(text()),
			version: z.optional(string(/^(\$Default|\$Latest|\d+)$/, '"$Default", "$Latest" or a version number')),
			instanceType: z.optional(string(/^[a-z0-9-]+\.[a-z0-9-]+$/, 'an instance type like t3.large')),
			count: z.optional(number({min: 1, integer: true})),
			region: z.optional(string(regionPattern, 'a region name like us-east-1')),
		})),
	});

	const environmentsText = `an object keyed by ${environmentNameText}`;
	let environments = z.record(
		z.string().check(z.regex(environmentNamePattern, {error: environmentsText})),
		environment,
		{error: environmentsText},
	).check(z.describe(`${environmentsText} (not "${reservedEnvironmentName}")`));
	if (!layer) {
		// A layer may leave the environments as they are; the effective configuration needs one.
		environments = environments.check(z.refine(value => Object.keys(value).length > 0, {error: 'at least one entry'}));
	}

	const resetText = 'a number of minutes greater than 0, or null (never)';
	const regionsText = 'a non-empty list of region names like us-east-1, or "all" (every region enabled for the account)';
	const pricesText = 'an object keyed by instance types like m5.large (every region) or regions like eu-west-1 (an object of prices by instance type)';
	const priceText = 'a number of at least 0 ($/h) for an instance type, or for a region an object of such prices keyed by instance types like m5.large';
	const typeKeyText = 'instance types like m5.large';
	return object({
		$schema: z.optional(z.string({error: 'a string (the JSON schema of this file)'})),
		envTagKey: required(text()),
		roleTag: required(object({key: required(text()), agent: required(text()), monitor: required(text())})),
		regions: required(z.union([z.literal('all'), strings(regionPattern, 'region names like us-east-1')], {error: regionsText}).check(z.describe(regionsText))),
		pollIntervalSeconds: required(number(pollInterval)),
		action: required(choice(['stop', 'terminate'])),
		warnRatio: required(number({exclusiveMin: 0, max: 1})),
		minIncreaseUsdPerHour: required(nonNegative()),
		graceSeconds: required(number({min: 0, max: 600})),
		/** stopViolations: stop agents the environment's policy does not allow (rogue or over the cap). */
		policy: required(object({stopViolations: required(boolean())})),
		/**
		 * Billed-cost reconciliation. Every Cost Explorer page is a paid request ($0.01): a query that
		 * needs more than `maxPagesPerQuery` pages, or a day's requests past `maxUsdPerDay`, fails (billing
		 * shown as failed, never part of a bill).
		 */
		costExplorer: required(object({
			enabled: required(boolean()),
			refreshMinutes: required(number({min: 1})),
			maxPagesPerQuery: required(number({min: 1, max: 1000, integer: true})),
			maxUsdPerDay: required(number({min: 0.01, max: 1000})),
		})),
		/** After how many minutes a tripped breaker resets by itself; null: never (only `envwatch reset`). */
		breaker: required(object({
			resetAfterMinutes: required(z.union([number({exclusiveMin: 0}, resetText), z.null({error: resetText})], {error: resetText}).check(z.describe(resetText))),
		})),
		environments: required(environments),
		// The same in both schemas (nothing in them is required only in the effective one): built once.
		accounts: z.optional(accounts ??= accountsSchema({object, string, strings, regionPattern, regionsText: 'the top-level regions'})),
		notify: z.optional(notify ??= notifySchema(object)),
		// Beyond one host: the lease and the engine's state in one DynamoDB table (docs/design.md).
		coordination: z.optional(object({
			dynamodb: required(object({
				table: required(string(/^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name (3 to 255 letters, digits, _ . -)')),
				region: z.optional(string(regionPattern, 'a region name like us-east-1 (default: the SDK\'s region, else the first of regions)')),
				leaseSeconds: z.optional(number({min: 2, max: 30}, 'a number of seconds from 2 to 30 (default 20): how long the lease lasts without a heartbeat')),
			})),
		})),
		global: required(object({
			thresholdPct: required(positive()),
			windowMinutes: required(number({min: 1, max: 1440})),
			maxHourlyUsd: required(positive()),
			onBreach: required(choice(['emergency-stop', 'alert'])),
		})),
		prices: required(z.record(
			z.string().check(z.regex(new RegExp(`${instanceTypePattern.source}|${regionPattern.source}`), {error: 'instance types like m5.large or regions like eu-west-1'})),
			z.union([
				nonNegative(),
				z.record(z.string().check(z.regex(instanceTypePattern, {error: typeKeyText})), nonNegative(), {error: priceText}).check(z.describe(`$/h in this region, keyed by ${typeKeyText}`)),
			], {error: priceText}),
			{error: pricesText},
		).check(z.describe(pricesText))),
	});
}

/**
 * `notify`: notification targets, each with a `type` and the events it wants. A secret (a webhook
 * URL, a routing key, a signing secret) is the value or `{"env": "NAME"}`, and a problem with one
 * never quotes it.
 */
function notifySchema(object: <T extends z.core.$ZodLooseShape>(shape: T) => z.ZodMiniObject<T, z.core.$strict>) {
	const secret = (what: string, pattern: RegExp) => {
		const text = `${what} or {"env": "NAME"} (an environment variable that holds it)`;
		const error = {error: `${secretMarker}${text}`};
		return z.union([
			z.string(error).check(z.regex(pattern, error)),
			z.strictObject({env: z.string(error).check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, error))}, error),
		], error).check(z.describe(text));
	};

	const url = () => secret('an http(s) URL', /^https?:\/\/[^\s/]+/);
	const eventsText = `a non-empty list of: ${notifyEvents.join(', ')}`;
	const common = {
		name: z.optional(string(/^[\w.-]{1,64}$/, '1 to 64 letters, digits, _, . or -')),
		events: z.optional(z.array(choice(notifyEvents), {error: eventsText}).check(z.minLength(1, {error: eventsText}), z.describe(`${eventsText} (default: all but start)`))),
	};
	const typesText = `a target with "type" one of ${targetTypes.map(type => `"${type}"`).join(', ')}`;
	return z.array(z.discriminatedUnion('type', [
		object({type: z.literal('slack'), url: url(), ...common}),
		object({type: z.literal('pagerduty'), routingKey: secret('an Events API v2 routing key', /\S/), url: z.optional(string(/^https?:\/\/\S+$/, 'the Events API v2 URL')), ...common}),
		object({type: z.literal('sns'), topicArn: string(/^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:[\w-]{1,256}$/, 'an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:envwatch'), region: z.optional(string(regionPattern, 'a region name like us-east-1 (default: the topic ARN\'s)')), ...common}),
		object({type: z.literal('webhook'), url: url(), secret: z.optional(secret('a signing secret', /\S/)), ...common}),
		// A dead man's switch: pinged while polls succeed, so it takes no events.
		object({type: z.literal('heartbeat'), url: url(), everyMinutes: z.optional(number({min: 1, max: 1440, integer: true}, `a whole number of minutes between pings, from 1 to 1440 (default ${heartbeatDefaultMinutes})`)), name: common.name}),
	], {error: typesText}), {error: 'a list of notification targets'}).check(z.describe('notification targets (slack, pagerduty, sns, webhook, heartbeat)'));
}

type ConfigSchema = ReturnType<typeof build>;
let effective: ConfigSchema | undefined;
let layered: ConfigSchema | undefined;

/** The effective configuration's schema, built on first use (not as the module loads: `--help` needs none). */
export function configSchema(): ConfigSchema {
	return (effective ??= build(false));
}

/** One layer (a file or the flags): the same checks with every key optional. */
export function layerSchema(): ConfigSchema {
	return (layered ??= build(true));
}

/**
 * The effective configuration: shipped defaults < user store < --config file < flags. `regions:
 * "all"` is `allRegions: true` here, and `regions` the regions enabled for the account, filled in
 * when the provider starts (empty until then).
 */
export type Config = Omit<z.output<ConfigSchema>, '$schema' | 'regions' | 'environments'> & {
	regions: string[];
	environments: Record<string, EnvironmentConfig>;
	/** `regions: "all"` (or `--region all`): every region enabled for the account is watched. */
	allRegions?: true;
};

/**
 * An environment as configured, or one row of an environment split by account (`splitBy`), made
 * once the accounts are known: `dev@sandbox-a` has dev's policy, `account: "sandbox-a"` (only that
 * account's instances are its) and `splitOf: "dev"`.
 */
export type EnvironmentConfig = z.output<ConfigSchema>['environments'][string] & {account?: string; splitOf?: string};

/** Compile-time: the configuration is what the domain computes over. */
type Assignable<T extends U, U> = T;
export type _ConfigChecks = [
	Assignable<Config['environments'][string], EnvironmentPolicy>,
	Assignable<Config['global'], GlobalPolicy>,
	Assignable<Config, PolicyConfig>,
	Assignable<NonNullable<Config['notify']>[number], NotifyTargetConfig>,
];

/** The JSON schema of a configuration file (a layer), as published in config/envwatch.schema.json. */
export function configJsonSchema(): Record<string, unknown> {
	return {
		...z.toJSONSchema(layerSchema(), {io: 'input'}),
		title: 'envwatch configuration file',
		description: 'A layer of envwatch configuration: every key is optional, since a file is merged over the shipped defaults (and the store); unknown keys are errors.',
	};
}

export function describeValue(value: unknown): string {
	if (value === undefined) {
		return 'missing';
	}

	let json: string;
	try {
		json = JSON.stringify(value) ?? String(value);
	} catch {
		json = Array.isArray(value) ? '[...]' : typeof value === 'object' ? '{...}' : String(value);
	}

	return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/**
 * Collects problems: counts every one, keeps the text of the first `limit` (a file with 300,000
 * bad keys must not take long to report), and knows the key paths already reported.
 */
export class Problems {
	readonly shown: string[] = [];
	total = 0;

	constructor(readonly limit = 20) {}

	push(problem: string | (() => string)): void {
		this.total++;
		if (this.shown.length < this.limit) {
			this.shown.push(typeof problem === 'string' ? problem : problem());
		}
	}

	/** The problems to print: the first `limit`, then how many more. */
	list(): string[] {
		return this.total > this.shown.length ? [...this.shown, `... and ${this.total - this.shown.length} more`] : [...this.shown];
	}
}

const joinPath = (path: readonly PropertyKey[]) => path.map(String).join('.');

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
	let value = root;
	for (const key of path) {
		if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) {
			return undefined;
		}

		value = (value as Record<PropertyKey, unknown>)[key];
	}

	return value;
}

/** True when `path` or one of its parents is in `paths`. */
function reportedAt(paths: ReadonlySet<string>, path: string): boolean {
	for (let at = path; ; at = at.slice(0, at.lastIndexOf('.'))) {
		if (paths.has(at)) {
			return true;
		}

		if (!at.includes('.')) {
			return false;
		}
	}
}

/**
 * Checks `value` against `schema`; adds one line per problem (`suffix` after each, e.g. the file it
 * is in), skipping key paths in `skip` (already reported for a layer). Returns the key paths reported.
 */
export function checkSchema(schema: z.core.$ZodType, value: unknown, problems: Problems, options: {suffix?: string; skip?: ReadonlySet<string>} = {}): Set<string> {
	return reportIssues(z.safeParse(schema, value), value, problems, options);
}

/** checkSchema for a result already parsed: one line per problem of `result`, the parse of `value`. */
export function reportIssues(result: z.core.util.SafeParseResult<unknown>, value: unknown, problems: Problems, options: {suffix?: string; skip?: ReadonlySet<string>} = {}): Set<string> {
	const reported = new Set<string>();
	if (result.success) {
		return reported;
	}

	const suffix = options.suffix ? ` ${options.suffix}` : '';
	const add = (path: string, line: () => string) => {
		if (reported.has(path) || (options.skip && reportedAt(options.skip, path))) {
			return;
		}

		reported.add(path);
		problems.push(() => `${line()}${suffix}`);
	};

	for (const issue of branchIssues(result.error.issues, value)) {
		if (issue.code === 'unrecognized_keys') {
			const known = issue.message.startsWith(unknownKeyMarker) ? issue.message.slice(unknownKeyMarker.length).split(',') : [];
			const allowed = known.filter(key => key !== '$schema');
			const parent = joinPath(issue.path);
			for (const key of issue.keys) {
				add(parent ? `${parent}.${key}` : key, () => {
					const near = closest(key, allowed);
					return `${parent ? `${parent}.` : ''}${key}: unknown key — ${near ? `did you mean "${near}"? ` : ''}allowed: ${allowed.join(', ')}`;
				});
			}

			continue;
		}

		if (issue.code === 'invalid_key') {
			const path = joinPath(issue.path);
			const name = String(issue.path.at(-1));
			add(path, () => name === reservedEnvironmentName && issue.path.length === 2 && issue.path[0] === 'environments'
				? `${path}: reserved name — "${reservedEnvironmentName}" is the total's row; expected another environment name`
				: `${path}: bad name — expected ${issue.issues[0]?.message ?? issue.message}`.replace('expected an object keyed by ', 'expected '));
			continue;
		}

		// A bad item of a list is reported as the whole list.
		const at = typeof issue.path.at(-1) === 'number' ? issue.path.slice(0, -1) : issue.path;
		const path = joinPath(at);
		add(path, () => issue.message.startsWith(secretMarker)
			? `${path}: not valid (value not shown: it is a secret) — expected ${issue.message.slice(secretMarker.length)}`
			: `${path}: ${describeValue(valueAt(value, at))} — expected ${issue.message}`);
	}

	return reported;
}

/**
 * A union's problem is the problems of the one branch the value is of the kind of (a list where one
 * branch is a list), with their full paths: `accounts.0.roleArn: ... — expected an IAM role ARN`,
 * not "expected a list or an object". Other issues are as they are.
 */
function branchIssues(issues: readonly z.core.$ZodIssue[], root: unknown): z.core.$ZodIssue[] {
	return issues.flatMap(issue => {
		if (issue.code !== 'invalid_union' || issue.errors.length === 0) {
			return [issue];
		}

		const value = valueAt(root, issue.path);
		// The branch the value got into: its problems lie within it (or are keys it does not know).
		const ofKind = issue.errors.filter(branch => branch.every(inner => inner.path.length > 0 || inner.code === 'unrecognized_keys'));
		if (ofKind.length !== 1 || value === undefined) {
			return [issue];
		}

		return branchIssues(ofKind[0]!.map(inner => ({...inner, path: [...issue.path, ...inner.path]}) as z.core.$ZodIssue), root);
	});
}

const own = (value: Record<string, unknown>, key: string): unknown => (Object.hasOwn(value, key) ? value[key] : undefined);

/**
 * Rules that span several keys. They run alongside the per-key checks (every problem in one
 * message), so they only look at the parts that are well-formed.
 */
export function checkRelations(config: unknown, problems: {push(problem: string): void}): void {
	if (!isPlainObject(config)) {
		return;
	}

	const owners = new Map<string, string>();
	const priorities = new Map<number, string>();
	const roleTag = own(config, 'roleTag');
	if (isPlainObject(roleTag) && typeof own(roleTag, 'agent') === 'string' && own(roleTag, 'agent') === own(roleTag, 'monitor')) {
		problems.push(`roleTag.monitor: ${JSON.stringify(roleTag['monitor'])} is also the agent value — expected a role value of its own, so monitors are never taken for agents`);
	}

	// A region listed twice would be listed, and its instances counted, twice.
	const regions = own(config, 'regions');
	if (Array.isArray(regions)) {
		const seen = new Set<unknown>();
		for (const region of regions) {
			if (seen.has(region)) {
				problems.push(`regions: ${JSON.stringify(region)} is listed twice — expected each region once`);
			}

			seen.add(region);
		}
	}

	// A price keyed by an instance type applies in every region; one keyed by a region is a table.
	const prices = own(config, 'prices');
	if (isPlainObject(prices)) {
		for (const [key, value] of Object.entries(prices)) {
			if (instanceTypePattern.test(key) && isPlainObject(value)) {
				problems.push(`prices.${key}: ${describeValue(value)} — expected a number of at least 0 ($/h in every region); per-region prices go under the region, as prices.eu-west-1.${key}`);
			} else if (regionPattern.test(key) && !instanceTypePattern.test(key) && typeof value === 'number') {
				problems.push(`prices.${key}: ${value} — expected an object of prices keyed by instance types like m5.large (${key} is a region)`);
			}
		}
	}

	checkNotifyNames(own(config, 'notify'), problems);
	checkAccounts(config, problems);
	const environments = own(config, 'environments');
	if (!isPlainObject(environments)) {
		return;
	}

	for (const [name, environment] of Object.entries(environments) as Array<[string, Partial<EnvironmentPolicy>]>) {
		if (!isPlainObject(environment)) {
			continue;
		}

		const template = environment.launchTemplate;
		if (isPlainObject(template) && (template.id === undefined) === (template.name === undefined)) {
			problems.push(`environments.${name}.launchTemplate: ${describeValue(template)} — expected exactly one of "id" or "name"`);
		}

		if (environment.agents === 'limited' && environment.maxAgents === undefined) {
			problems.push(`environments.${name}.maxAgents: missing — expected a whole number of at least 0 when agents is "limited"`);
		}

		const tagValues = Array.isArray(environment.tagValues) ? environment.tagValues.filter(value => typeof value === 'string') : [];
		for (const value of tagValues) {
			const owner = owners.get(value.toLowerCase());
			if (owner !== undefined && owner !== name) {
				problems.push(`environments.${name}.tagValues: "${value}" is also a tag value of ${owner} — expected each tag value in one environment only`);
			}

			owners.set(value.toLowerCase(), name);
		}

		if (typeof environment.priority !== 'number') {
			continue;
		}

		const other = priorities.get(environment.priority);
		if (other !== undefined) {
			problems.push(`environments.${name}.priority: ${environment.priority} is also the priority of ${other} — expected distinct priorities (the cascade stops the lowest first)`);
		}

		priorities.set(environment.priority, name);
	}
}
