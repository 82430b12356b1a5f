import type {EnvironmentPolicy, GlobalPolicy} from '../domain/types.js';

/** The effective configuration: shipped defaults < user store < --config file < flags. */
export type Config = {
	envTagKey: string;
	roleTag: {key: string; agent: string; monitor: string};
	regions: string[];
	pollIntervalSeconds: number;
	action: 'stop' | 'terminate';
	warnRatio: number;
	minIncreaseUsdPerHour: number;
	graceSeconds: number;
	/** stopViolations: stop agents the environment's policy does not allow (rogue or over the cap). */
	policy: {stopViolations: boolean};
	costExplorer: {enabled: boolean; refreshMinutes: number};
	environments: Record<string, EnvironmentPolicy>;
	global: GlobalPolicy;
	prices: Record<string, number>;
	/** Breakers reset themselves after this many minutes; null or absent: never (a person resets them). */
	breaker?: {resetAfterMinutes: number | null};
};

/**
 * A tiny declarative schema, so every problem can be reported with its key path, the bad value and
 * what is allowed, all at once. Unknown keys are errors: a typo must not silently disable a guard.
 */
type Spec =
	| {kind: 'number'; min?: number; exclusiveMin?: number; max?: number; integer?: boolean}
	| {kind: 'string'; pattern?: RegExp; patternText?: string}
	| {kind: 'boolean'}
	| {kind: 'enum'; values: readonly string[]}
	| {kind: 'strings'; nonEmpty: boolean; pattern?: RegExp; patternText?: string}
	| {kind: 'object'; fields: Record<string, {spec: Spec; optional?: boolean}>}
	| {kind: 'record'; key: RegExp; keyText: string; value: Spec; nonEmpty?: boolean};

const positive: Spec = {kind: 'number', exclusiveMin: 0};
const nonNegative: Spec = {kind: 'number', min: 0};
const text: Spec = {kind: 'string', pattern: /\S/, patternText: 'a non-empty string'};

const environmentSpec: Spec = {
	kind: 'object',
	fields: {
		priority: {spec: {kind: 'number', min: 1, integer: true}},
		thresholdPct: {spec: positive},
		windowMinutes: {spec: {kind: 'number', min: 1, max: 1440}},
		maxHourlyUsd: {spec: positive},
		agents: {spec: {kind: 'enum', values: ['all', 'limited', 'monitor-only']}},
		maxAgents: {spec: {kind: 'number', min: 0, integer: true}, optional: true},
		onBreach: {spec: {kind: 'enum', values: ['stop', 'alert']}},
		tagValues: {spec: {kind: 'strings', nonEmpty: true, pattern: /\S/, patternText: 'non-empty strings'}},
		launchTemplate: {
			optional: true,
			spec: {
				kind: 'object',
				fields: {
					id: {spec: {kind: 'string', pattern: /^lt-[0-9a-z]+$/, patternText: 'a launch template ID like lt-0abc123'}, optional: true},
					name: {spec: text, optional: true},
					version: {spec: {kind: 'string', pattern: /^(\$Default|\$Latest|\d+)$/, patternText: '"$Default", "$Latest" or a version number'}, optional: true},
					instanceType: {spec: {kind: 'string', pattern: /^[a-z0-9-]+\.[a-z0-9-]+$/, patternText: 'an instance type like t3.large'}, optional: true},
					count: {spec: {kind: 'number', min: 1, integer: true}, optional: true},
					region: {spec: {kind: 'string', pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/, patternText: 'a region name like us-east-1'}, optional: true},
				},
			},
		},
	},
};

export const configSpec: Spec = {
	kind: 'object',
	fields: {
		envTagKey: {spec: text},
		roleTag: {spec: {kind: 'object', fields: {key: {spec: text}, agent: {spec: text}, monitor: {spec: text}}}},
		regions: {spec: {kind: 'strings', nonEmpty: true, pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/, patternText: 'region names like us-east-1'}},
		pollIntervalSeconds: {spec: {kind: 'number', min: 1, max: 86_400}},
		action: {spec: {kind: 'enum', values: ['stop', 'terminate']}},
		warnRatio: {spec: {kind: 'number', exclusiveMin: 0, max: 1}},
		minIncreaseUsdPerHour: {spec: nonNegative},
		graceSeconds: {spec: {kind: 'number', min: 0, max: 600}},
		policy: {spec: {kind: 'object', fields: {stopViolations: {spec: {kind: 'boolean'}}}}},
		costExplorer: {spec: {kind: 'object', fields: {enabled: {spec: {kind: 'boolean'}}, refreshMinutes: {spec: {kind: 'number', min: 1}}}}},
		environments: {spec: {kind: 'record', key: /^[a-z][a-z0-9-]{0,31}$/, keyText: 'lower-case letters, digits and -, starting with a letter', value: environmentSpec, nonEmpty: true}},
		global: {
			spec: {
				kind: 'object',
				fields: {
					thresholdPct: {spec: positive},
					windowMinutes: {spec: {kind: 'number', min: 1, max: 1440}},
					maxHourlyUsd: {spec: positive},
					onBreach: {spec: {kind: 'enum', values: ['emergency-stop', 'alert']}},
				},
			},
		},
		prices: {spec: {kind: 'record', key: /^[a-z0-9-]+\.[a-z0-9-]+$/, keyText: 'instance types like m5.large', value: nonNegative}},
	},
};

export function describeValue(value: unknown): string {
	if (value === undefined) {
		return 'missing';
	}

	const json = JSON.stringify(value);
	return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

function expectation(spec: Spec): string {
	switch (spec.kind) {
		case 'number': {
			const parts = [spec.integer ? 'a whole number' : 'a number'];
			if (spec.exclusiveMin !== undefined) {
				parts.push(`greater than ${spec.exclusiveMin}`);
			}

			if (spec.min !== undefined) {
				parts.push(spec.max === undefined ? `of at least ${spec.min}` : `from ${spec.min}`);
			}

			if (spec.max !== undefined) {
				parts.push(spec.min === undefined ? `of at most ${spec.max}` : `to ${spec.max}`);
			}

			return parts.join(' ');
		}

		case 'string': {
			return spec.patternText ?? 'a string';
		}

		case 'boolean': {
			return 'true or false';
		}

		case 'enum': {
			return `one of ${spec.values.map(v => `"${v}"`).join(', ')}`;
		}

		case 'strings': {
			return `a${spec.nonEmpty ? ' non-empty' : 'n'} list of ${spec.patternText ?? 'strings'}`;
		}

		case 'object': {
			return 'an object';
		}

		case 'record': {
			return `an object keyed by ${spec.keyText}`;
		}
	}
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks `value` against `spec`; pushes one line per problem into `problems`. */
export function check(spec: Spec, value: unknown, path: string, problems: string[]): void {
	const bad = () => problems.push(`${path}: ${describeValue(value)} — expected ${expectation(spec)}`);
	switch (spec.kind) {
		case 'number': {
			if (typeof value !== 'number' || !Number.isFinite(value)
				|| (spec.integer && !Number.isInteger(value))
				|| (spec.min !== undefined && value < spec.min)
				|| (spec.exclusiveMin !== undefined && value <= spec.exclusiveMin)
				|| (spec.max !== undefined && value > spec.max)) {
				bad();
			}

			return;
		}

		case 'string': {
			if (typeof value !== 'string' || (spec.pattern && !spec.pattern.test(value))) {
				bad();
			}

			return;
		}

		case 'boolean': {
			if (typeof value !== 'boolean') {
				bad();
			}

			return;
		}

		case 'enum': {
			if (typeof value !== 'string' || !spec.values.includes(value)) {
				bad();
			}

			return;
		}

		case 'strings': {
			if (!Array.isArray(value) || (spec.nonEmpty && value.length === 0)
				|| value.some(item => typeof item !== 'string' || (spec.pattern && !spec.pattern.test(item)))) {
				bad();
			}

			return;
		}

		case 'object': {
			if (!isPlainObject(value)) {
				bad();
				return;
			}

			for (const [key, field] of Object.entries(spec.fields)) {
				if (value[key] === undefined) {
					if (!field.optional) {
						problems.push(`${path ? `${path}.` : ''}${key}: missing — expected ${expectation(field.spec)}`);
					}

					continue;
				}

				check(field.spec, value[key], path ? `${path}.${key}` : key, problems);
			}

			for (const key of Object.keys(value)) {
				if (!(key in spec.fields)) {
					const known = Object.keys(spec.fields);
					const near = closest(key, known);
					problems.push(`${path ? `${path}.` : ''}${key}: unknown key — ${near ? `did you mean "${near}"? ` : ''}allowed: ${known.join(', ')}`);
				}
			}

			return;
		}

		case 'record': {
			if (!isPlainObject(value)) {
				bad();
				return;
			}

			if (spec.nonEmpty && Object.keys(value).length === 0) {
				problems.push(`${path}: {} — expected at least one entry`);
			}

			for (const [key, item] of Object.entries(value)) {
				if (!spec.key.test(key)) {
					problems.push(`${path}.${key}: bad name — expected ${spec.keyText}`);
					continue;
				}

				check(spec.value, item, `${path}.${key}`, problems);
			}
		}
	}
}

/** The known word nearest to `word` by edit distance, when it is close enough to be a typo. */
export function closest(word: string, known: readonly string[]): string | undefined {
	let best: string | undefined;
	let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
	for (const candidate of known) {
		const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
		if (distance < bestDistance) {
			best = candidate;
			bestDistance = distance;
		}
	}

	return best;
}

function editDistance(a: string, b: string): number {
	let previous = Array.from({length: b.length + 1}, (_, i) => i);
	for (let i = 1; i <= a.length; i++) {
		const current = [i];
		for (let j = 1; j <= b.length; j++) {
			current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
		}

		previous = current;
	}

	return previous[b.length]!;
}

/**
 * Rules that span several keys. They run alongside the per-key checks (every problem in one
 * message), so they only look at the parts that are well-formed.
 */
export function checkRelations(config: Config, problems: string[]): void {
	const owners = new Map<string, string>();
	const priorities = new Map<number, string>();
	const roleTag: unknown = (config as {roleTag?: unknown}).roleTag;
	if (isPlainObject(roleTag) && typeof roleTag['agent'] === 'string' && roleTag['agent'] === roleTag['monitor']) {
		problems.push(`roleTag.monitor: ${JSON.stringify(roleTag['monitor'])} is also the agent value — expected a role value of its own, so monitors are never taken for agents`);
	}

	// A region listed twice would be listed, and its instances counted, twice.
	const regions: unknown = (config as {regions?: unknown}).regions;
	if (Array.isArray(regions)) {
		const seen = new Set<unknown>();
		for (const region of regions) {
			if (seen.has(region)) {
				problems.push(`regions: ${JSON.stringify(region)} is listed twice — expected each region once`);
			}

			seen.add(region);
		}
	}

	const environments: unknown = (config as {environments?: unknown}).environments;
	if (!isPlainObject(environments)) {
		return;
	}

	for (const [name, environment] of Object.entries(environments as Record<string, Partial<EnvironmentPolicy>>)) {
		if (!isPlainObject(environment)) {
			continue;
		}

		const template = environment.launchTemplate;
		if (isPlainObject(template) && (template.id === undefined) === (template.name === undefined)) {
			problems.push(`environments.${name}.launchTemplate: ${JSON.stringify(template)} — expected exactly one of "id" or "name"`);
		}

		if (environment.agents === 'limited' && environment.maxAgents === undefined) {
			problems.push(`environments.${name}.maxAgents: missing — expected a whole number of at least 0 when agents is "limited"`);
		}

		const tagValues = Array.isArray(environment.tagValues) ? environment.tagValues.filter(value => typeof value === 'string') : [];
		for (const value of tagValues) {
			const owner = owners.get(value.toLowerCase());
			if (owner && owner !== name) {
				problems.push(`environments.${name}.tagValues: "${value}" is also a tag value of ${owner} — expected each tag value in one environment only`);
			}

			owners.set(value.toLowerCase(), name);
		}

		if (typeof environment.priority !== 'number') {
			continue;
		}

		const other = priorities.get(environment.priority);
		if (other) {
			problems.push(`environments.${name}.priority: ${environment.priority} is also the priority of ${other} — expected distinct priorities (the cascade stops the lowest first)`);
		}

		priorities.set(environment.priority, name);
	}
}
