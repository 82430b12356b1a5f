import fs from 'node:fs';
import {fallbackPrices} from '../../source/domain/price-table.js';
import os from 'node:os';
import path from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {deepMerge, defaultConfigPath, loadConfig, maxDepth, readJsonFile, validateConfig} from '../../source/config/load.js';
import {configJsonSchema} from '../../source/config/schema.js';
import {UsageError} from '../../source/domain/errors.js';

/** Every test gets its own config dir (the store) and never sees the user's real one. */
let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-config-'));
	fs.mkdirSync(path.join(dir, 'store'));
	env = {ENVWATCH_CONFIG_DIR: path.join(dir, 'store')};
});
afterEach(() => {
	fs.rmSync(dir, {recursive: true, force: true});
});

const storeFile = () => path.join(dir, 'store', 'config.json');
function write(file: string, value: unknown): string {
	fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
	return file;
}

/** The UsageError a load throws (fails the test when it does not throw one). */
function usageError(load: () => unknown): UsageError {
	try {
		load();
	} catch (error) {
		expect(error).toBeInstanceOf(UsageError);
		return error as UsageError;
	}

	throw new Error('expected a UsageError');
}

const defaults = () => JSON.parse(fs.readFileSync(defaultConfigPath, 'utf8')) as Record<string, unknown>;

describe('the shipped defaults', () => {
	it('carry the seed table and validate', () => {
		const {config} = loadConfig({env});
		expect(config.environments['dev']).toMatchObject({priority: 1, thresholdPct: 2, windowMinutes: 30, maxHourlyUsd: 5, agents: 'all', onBreach: 'stop', tagValues: ['dev', 'development']});
		expect(config.environments['staging']).toMatchObject({priority: 2, thresholdPct: 1.5, windowMinutes: 45, maxHourlyUsd: 10, agents: 'limited', maxAgents: 2, onBreach: 'stop'});
		expect(config.environments['production']).toMatchObject({priority: 3, thresholdPct: 0.5, windowMinutes: 60, maxHourlyUsd: 50, agents: 'monitor-only', onBreach: 'alert'});
		expect(config.global).toEqual({thresholdPct: 1, windowMinutes: 60, maxHourlyUsd: 100, onBreach: 'emergency-stop'});
		expect(config).toMatchObject({envTagKey: 'Environment', pollIntervalSeconds: 15, action: 'stop', warnRatio: 0.75, minIncreaseUsdPerHour: 0});
		// The shipped table is the fallback behind the Price List, not an override: `prices` starts empty.
		expect({...config.prices}).toEqual({});
		expect(fallbackPrices).toMatchObject({'t3.micro': 0.0104, 't3.medium': 0.0416, 't3.large': 0.0832, 'm5.large': 0.096, 'm5.xlarge': 0.192, 'c5.xlarge': 0.17, 'g4dn.xlarge': 0.526, 'p3.2xlarge': 3.06});
	});

	it('take prices per region or for every region, and name a price in the wrong place', () => {
		const team = write(path.join(dir, 'prices.json'), {prices: {'m5.large': 0.1, 'eu-west-1': {'m5.large': 0.107, 'constructor.x': 1}}});
		const {config} = loadConfig({env, configFile: team});
		expect(config.prices['m5.large']).toBe(0.1);
		expect({...config.prices['eu-west-1'] as object}).toEqual({'m5.large': 0.107, 'constructor.x': 1});
		expect(Object.getPrototypeOf(config.prices['eu-west-1'])).toBeNull();

		const bad = write(path.join(dir, 'bad-prices.json'), {prices: {'m5.large': {'c5.large': 1}, 'us-east-2': 3, 'eu-west-1': {'m5.large': -1}}});
		const error = usageError(() => loadConfig({env, configFile: bad}));
		expect(bare(error.problems)).toEqual(expect.arrayContaining([
			'prices.m5.large: {"c5.large":1} — expected a number of at least 0 ($/h in every region); per-region prices go under the region, as prices.eu-west-1.m5.large',
			'prices.us-east-2: 3 — expected an object of prices keyed by instance types like m5.large (us-east-2 is a region)',
			'prices.eu-west-1.m5.large: -1 — expected a number of at least 0',
		]));
	});
});

describe('precedence: defaults < store < --config file < flags', () => {
	it('each layer overrides the one below, key by key', () => {
		write(storeFile(), {pollIntervalSeconds: 30, warnRatio: 0.5, environments: {dev: {thresholdPct: 3}}});
		const team = write(path.join(dir, 'team.json'), {pollIntervalSeconds: 20, environments: {staging: {thresholdPct: 1}}});
		const {config, layers, storePath} = loadConfig({env, configFile: team, flags: {pollIntervalSeconds: 5}});
		expect(config.pollIntervalSeconds).toBe(5);
		expect(config.warnRatio).toBe(0.5); // from the store, nothing above it
		expect(config.environments['dev']!.thresholdPct).toBe(3); // store
		expect(config.environments['dev']!.windowMinutes).toBe(30); // defaults, beside the store's override
		expect(config.environments['staging']!.thresholdPct).toBe(1); // --config
		expect(storePath).toBe(storeFile());
		expect(layers.map(layer => layer.label)).toEqual(['defaults', 'store', '--config', 'flags']);

		expect(loadConfig({env, configFile: team}).config.pollIntervalSeconds).toBe(20);
		expect(loadConfig({env}).config.pollIntervalSeconds).toBe(30);
		expect(loadConfig({env: {ENVWATCH_CONFIG_DIR: path.join(dir, 'empty')}}).config.pollIntervalSeconds).toBe(15);
	});

	it('deepMerge merges objects and replaces lists and values', () => {
		expect(deepMerge({a: {b: 1, c: [1, 2]}, d: 1}, {a: {c: [3]}, d: {e: 1}})).toEqual({a: {b: 1, c: [3]}, d: {e: 1}});
	});

	it('an environment added by the team file must be complete, and is then monitored', () => {
		const team = write(path.join(dir, 'team.json'), {environments: {qa: {priority: 4, thresholdPct: 3, windowMinutes: 30, maxHourlyUsd: 5, agents: 'all', onBreach: 'stop', tagValues: ['qa']}}});
		expect(Object.keys(loadConfig({env, configFile: team}).config.environments)).toEqual(['dev', 'staging', 'production', 'qa']);
		write(team, {environments: {qa: {priority: 4}}});
		const error = usageError(() => loadConfig({env, configFile: team}));
		expect(error.problems).toContain('environments.qa.thresholdPct: missing — expected a number greater than 0');
		expect(error.problems).toContain('environments.qa.agents: missing — expected one of "all", "limited", "monitor-only"');
	});
});

describe('validation: every problem at once, each with its key path, bad value and what is allowed', () => {
	it('lists all the bad values in one UsageError', () => {
		const team = write(path.join(dir, 'team.json'), {
			pollIntervalSeconds: 0,
			action: 'delete',
			warnRatio: 1.5,
			regions: ['mars-1', 'us-east-1'],
			environments: {dev: {thresholdPct: -1, windowMinutes: 0, agents: 'some', onBreach: 'kill', priority: 1.5, tagValues: []}},
			global: {maxHourlyUsd: 'lots'},
			prices: {'m5.large': -0.1, bogus: 1},
		});
		const error = usageError(() => loadConfig({env, configFile: team}));
		// Each problem names the file it is in.
		expect(error.problems.every(problem => problem.endsWith(` (in --config ${team})`))).toBe(true);
		expect(bare(error.problems)).toEqual(expect.arrayContaining([
			'pollIntervalSeconds: 0 — expected a number from 1 to 86400',
			'action: "delete" — expected one of "stop", "terminate"',
			'warnRatio: 1.5 — expected a number greater than 0 of at most 1',
			'regions: ["mars-1","us-east-1"] — expected a non-empty list of region names like us-east-1',
			'environments.dev.thresholdPct: -1 — expected a number greater than 0',
			'environments.dev.windowMinutes: 0 — expected a number from 1 to 1440',
			'environments.dev.agents: "some" — expected one of "all", "limited", "monitor-only"',
			'environments.dev.onBreach: "kill" — expected one of "stop", "alert"',
			'environments.dev.priority: 1.5 — expected a whole number of at least 1',
			'environments.dev.tagValues: [] — expected a non-empty list of non-empty strings',
			'global.maxHourlyUsd: "lots" — expected a number greater than 0',
			'prices.m5.large: -0.1 — expected a number of at least 0',
			'prices.bogus: bad name — expected instance types like m5.large or regions like eu-west-1',
		]));
		expect(error.problems).toHaveLength(13);
		expect(error.message.split('\n')).toEqual(error.problems);
		// Which files the configuration came from, so the user knows where to look.
		expect(error.hint).toContain(team);
	});

	it('an unknown key is an error with a did-you-mean, at any depth', () => {
		write(storeFile(), {pollIntervalSecond: 5, environments: {dev: {tresholdPct: 5}}, global: {maxHourlyUSD: 3}, colour: 'red'});
		const error = usageError(() => loadConfig({env}));
		expect(error.problems).toEqual(expect.arrayContaining([
			expect.stringMatching(/^pollIntervalSecond: unknown key — did you mean "pollIntervalSeconds"\? allowed: .*pollIntervalSeconds/),
			expect.stringMatching(/^environments\.dev\.tresholdPct: unknown key — did you mean "thresholdPct"\?/),
			expect.stringMatching(/^global\.maxHourlyUSD: unknown key — did you mean "maxHourlyUsd"\?/),
			expect.stringMatching(/^colour: unknown key — allowed: envTagKey, /),
		]));
		expect(error.problems.find(problem => problem.startsWith('colour'))).not.toMatch(/did you mean/);
	});

	it('limited without maxAgents', () => {
		const team = write(path.join(dir, 'team.json'), {environments: {dev: {agents: 'limited'}}});
		expect(usageError(() => loadConfig({env, configFile: team})).problems).toEqual([
			'environments.dev.maxAgents: missing — expected a whole number of at least 0 when agents is "limited"',
		]);
	});

	it('duplicate tag values (any case) and duplicate priorities', () => {
		const team = write(path.join(dir, 'team.json'), {environments: {staging: {priority: 1, tagValues: ['staging', 'DEV']}}});
		expect(usageError(() => loadConfig({env, configFile: team})).problems).toEqual([
			'environments.staging.tagValues: "DEV" is also a tag value of dev — expected each tag value in one environment only',
			'environments.staging.priority: 1 is also the priority of dev — expected distinct priorities (the cascade stops the lowest first)',
		]);
	});

	it('the agent and monitor role values must differ (else monitors would be stopped as agents)', () => {
		const team = write(path.join(dir, 'team.json'), {roleTag: {key: 'Role', agent: 'worker', monitor: 'worker'}});
		expect(usageError(() => loadConfig({env, configFile: team})).problems).toEqual([
			'roleTag.monitor: "worker" is also the agent value — expected a role value of its own, so monitors are never taken for agents',
		]);
	});

	it('a region listed twice (its instances would be counted twice)', () => {
		const team = write(path.join(dir, 'team.json'), {regions: ['us-east-1', 'eu-west-1', 'us-east-1']});
		expect(usageError(() => loadConfig({env, configFile: team})).problems).toEqual([
			'regions: "us-east-1" is listed twice — expected each region once',
		]);
	});

	it('rules across keys are reported together with the other problems', () => {
		const team = write(path.join(dir, 'team.json'), {pollIntervalSeconds: -5, environments: {dev: {agents: 'limited'}, staging: {priority: 1}}});
		const problems = bare(usageError(() => loadConfig({env, configFile: team})).problems);
		expect(problems).toEqual(expect.arrayContaining([
			'pollIntervalSeconds: -5 — expected a number from 1 to 86400',
			expect.stringMatching(/^environments\.dev\.maxAgents: missing/),
			expect.stringMatching(/^environments\.staging\.priority: 1 is also the priority of dev/),
		]));
	});

	it('an unknown notification event is named with every valid one, `pause` among them; `pause` itself is valid', () => {
		const notify = (events: string[]) => ({...defaults(), notify: [{type: 'webhook', url: 'http://127.0.0.1:9/hook', events}]});
		expect(usageError(() => validateConfig(notify(['stop', 'pasue']))).problems).toEqual(['notify.0.events: ["stop","pasue"] — expected one of "breach", "stop", "cascade", "emergency", "violation", "respawn", "stale", "recover", "start", "undo", "reset", "pause", "unwatched", "down"']);
		const [target] = validateConfig(notify(['pause'])).notify ?? [];
		expect(target && 'events' in target ? target.events : undefined).toEqual(['pause']);
	});

	it('regions: "all" watches every region enabled for the account (filled in when the provider starts); another word is named with what is allowed', () => {
		const all = validateConfig({...defaults(), regions: 'all'});
		expect(all).toMatchObject({regions: [], allRegions: true});
		expect(validateConfig(defaults())).not.toHaveProperty('allRegions');
		expect(usageError(() => validateConfig({...defaults(), regions: 'everywhere'})).problems).toEqual(['regions: "everywhere" — expected a non-empty list of region names like us-east-1, or "all" (every region enabled for the account)']);
	});

	it('validateConfig accepts the defaults and rejects a non-object', () => {
		expect(validateConfig(defaults()).pollIntervalSeconds).toBe(15);
		expect(usageError(() => validateConfig({...defaults(), environments: []})).problems).toEqual(['environments: [] — expected an object keyed by lower-case letters, digits and -, starting with a letter']);
		expect(usageError(() => validateConfig({...defaults(), environments: {}})).problems).toEqual(['environments: {} — expected at least one entry']);
	});
});

describe('unreadable and malformed files name the file and the line', () => {
	it.each([
		['a trailing comma', '{\n  "pollIntervalSeconds": 5,\n}\n', 3],
		['a missing comma', '{\n  "pollIntervalSeconds": 5\n  "warnRatio": 0.5\n}\n', 3],
		['an unexpected token', '{\n  "pollIntervalSeconds": 5,\n  "warnRatio": }\n', 3],
		['a bare word', '{\n  "pollIntervalSeconds": 5,\n\n  "action": stop\n}\n', 4],
		['a cut-off file', '{\n  "pollIntervalSeconds": 5,\n  "environments": {\n  ', 4], // the end of the file
	])('the store with %s', (_what, text, line) => {
		write(storeFile(), text);
		const error = usageError(() => loadConfig({env}));
		expect(error.message).toMatch(new RegExp(`^config store ${escape(storeFile())}:${line}:\\d+: malformed JSON`));
	});

	it('an unexpected token is pointed at exactly (Node 20 names no position for it)', () => {
		write(storeFile(), '{\n  "pollIntervalSeconds": 5,\n  "warnRatio": }\n');
		expect(usageError(() => loadConfig({env})).message).toBe(`config store ${storeFile()}:3:16: malformed JSON (Unexpected token '}') — expected a JSON object`);
	});

	it('a malformed --config file', () => {
		const team = write(path.join(dir, 'team.json'), '{"environments": {"dev": {"thresholdPct": 2,}}}');
		expect(usageError(() => loadConfig({env, configFile: team})).message).toMatch(new RegExp(`^--config file ${escape(team)}:1:\\d+: malformed JSON .* — expected a JSON object`));
	});

	it('a missing --config file, and a file that is not an object', () => {
		const missing = path.join(dir, 'nope.json');
		expect(usageError(() => loadConfig({env, configFile: missing})).message).toBe(`--config file ${missing}: cannot read it (ENOENT) — expected a readable JSON file`);
		const list = write(path.join(dir, 'list.json'), '[1, 2]');
		expect(usageError(() => readJsonFile(list, '--config file')).message).toBe(`--config file ${list}: a list — expected a JSON object`);
	});

	it('a malformed store is not rewritten', () => {
		const text = '{\n  "pollIntervalSeconds": 5,\n}\n';
		write(storeFile(), text);
		usageError(() => loadConfig({env}));
		expect(fs.readFileSync(storeFile(), 'utf8')).toBe(text);
	});
});

describe('the published JSON schema', () => {
	it('config/envwatch.schema.json is what the zod schema generates (run `npm run schema` after changing it)', () => {
		const committed = fs.readFileSync(path.join(path.dirname(defaultConfigPath), 'envwatch.schema.json'), 'utf8');
		expect(committed).toBe(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
	});

	it('a file may name its schema with "$schema"; the effective configuration does not carry it', () => {
		expect(defaults()['$schema']).toBe('./envwatch.schema.json');
		const team = write(path.join(dir, 'team.json'), {$schema: './node_modules/envwatch/config/envwatch.schema.json', pollIntervalSeconds: 20});
		const {config} = loadConfig({env, configFile: team});
		expect(config.pollIntervalSeconds).toBe(20);
		expect(config).not.toHaveProperty('$schema');
		write(team, {$schema: 5});
		expect(bare(usageError(() => loadConfig({env, configFile: team})).problems)).toEqual(['$schema: 5 — expected a string (the JSON schema of this file)']);
	});
});

describe('breaker.resetAfterMinutes', () => {
	it('is null (never) by default, a positive number of minutes otherwise', () => {
		expect(loadConfig({env}).config.breaker).toEqual({resetAfterMinutes: null});
		write(storeFile(), {breaker: {resetAfterMinutes: 30}});
		expect(loadConfig({env}).config.breaker.resetAfterMinutes).toBe(30);
		for (const bad of [0, -5, '30', true]) {
			write(storeFile(), {breaker: {resetAfterMinutes: bad}});
			expect(bare(usageError(() => loadConfig({env})).problems)).toEqual([`breaker.resetAfterMinutes: ${JSON.stringify(bad)} — expected a number of minutes greater than 0, or null (never)`]);
		}

		write(storeFile(), {breaker: {resetAfterMinute: 30}});
		expect(usageError(() => loadConfig({env})).problems[0]).toMatch(/^breaker\.resetAfterMinute: unknown key — did you mean "resetAfterMinutes"\?/);
	});
});

const qa = {priority: 4, thresholdPct: 3, windowMinutes: 30, maxHourlyUsd: 5, agents: 'all', onBreach: 'stop', tagValues: ['qa']};

describe('environment names', () => {
	it('"global" is reserved (it is the total\'s row)', () => {
		const team = write(path.join(dir, 'team.json'), {environments: {global: qa}});
		expect(bare(usageError(() => loadConfig({env, configFile: team})).problems)).toEqual([
			'environments.global: reserved name — "global" is the total\'s row; expected another environment name',
		]);
	});

	it('a name that is an Object.prototype member ("constructor", "toString") is an environment like any other', () => {
		const team = write(path.join(dir, 'team.json'), {environments: {constructor: qa, tostring: {...qa, priority: 5, tagValues: ['ts']}}});
		const {config} = loadConfig({env, configFile: team});
		expect(Object.keys(config.environments)).toEqual(['dev', 'staging', 'production', 'constructor', 'tostring']);
		expect(config.environments['constructor']).toMatchObject({priority: 4, tagValues: ['qa']});
		expect(Object.getPrototypeOf(config.environments)).toBeNull();
		expect(Object.getPrototypeOf(config.prices)).toBeNull();
		// An unconfigured name finds nothing, not Object.prototype's members.
		expect(config.environments['hasOwnProperty']).toBeUndefined();
		expect(config.prices['constructor']).toBeUndefined();
	});

	it('a "__proto__" key is an error wherever it is, and pollutes nothing', () => {
		write(storeFile(), '{"__proto__": {"pollIntervalSeconds": 1}, "environments": {"__proto__": {"priority": 9}}, "prices": {"__proto__": 1}}');
		const problems = bare(usageError(() => loadConfig({env})).problems);
		expect(problems).toEqual([
			'__proto__: not allowed as a key — expected a configuration key',
			'environments.__proto__: not allowed as a key — expected a configuration key',
			'prices.__proto__: not allowed as a key — expected a configuration key',
		]);
		expect(({} as Record<string, unknown>)['pollIntervalSeconds']).toBeUndefined();
		expect(({} as Record<string, unknown>)['priority']).toBeUndefined();
	});

	it('deepMerge takes "__proto__" and "constructor" as plain keys', () => {
		const merged = deepMerge({constructor: {a: 1}}, JSON.parse('{"__proto__": {"b": 2}, "constructor": {"c": 3}}') as Record<string, unknown>);
		expect(Object.keys(merged)).toEqual(['constructor', '__proto__']);
		expect(merged['constructor']).toEqual({a: 1, c: 3});
		expect((merged as {b?: unknown}).b).toBeUndefined();
	});
});

describe('bounds', () => {
	const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

	it('a config nested 20,000 levels deep is refused at its path, without overflowing the stack', () => {
		write(storeFile(), `{"environments": {"dev": {"launchTemplate": ${deep(20_000)}}}}`);
		const error = usageError(() => loadConfig({env}));
		const at = ['environments', 'dev', 'launchTemplate', ...Array.from({length: maxDepth - 3}, () => 'a')].join('.');
		expect(bare(error.problems)).toEqual([`${at}: nested deeper than ${maxDepth} levels — expected a configuration value (at most ${maxDepth} levels of objects and lists)`]);
		expect(error.problems[0]).toContain(`(in store ${storeFile()})`);
		// Nested lists too, in the --config file and in validateConfig.
		const team = write(path.join(dir, 'team.json'), `{"regions": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`);
		expect(usageError(() => loadConfig({env: {ENVWATCH_CONFIG_DIR: path.join(dir, 'empty')}, configFile: team})).problems[0]).toMatch(/^regions(\.0)+: nested deeper than/);
		expect(usageError(() => validateConfig(JSON.parse(deep(20_000)) as Record<string, unknown>)).problems[0]).toMatch(/^a(\.a)+: nested deeper than/);
	});

	it('a malformed file nested 20,000 levels deep is reported with its line, without overflowing the stack', () => {
		write(storeFile(), `{"x": ${deep(20_000).slice(0, -1)}`);
		expect(usageError(() => loadConfig({env})).message).toMatch(new RegExp(`^config store ${escape(storeFile())}:1:\\d+: malformed JSON`));
	});

	it('300,000 bad keys: the first 20 problems and how many more', () => {
		// (A file holding them is over the 1 MiB a configuration file may be: the value is checked as such.)
		const keys = Object.fromEntries(Array.from({length: 300_000}, (_, index) => [`bad${index}`, index]));
		const error = usageError(() => validateConfig(Object.assign(Object.create(null) as Record<string, unknown>, keys, defaults())));
		expect(error.problems).toHaveLength(21);
		expect(error.problems[0]).toMatch(/^bad0: unknown key — allowed: envTagKey, /);
		expect(error.problems[19]).toMatch(/^bad19: unknown key/);
		expect(error.problems[20]).toBe('... and 299980 more');
		expect(error.total).toBe(300_000);
	});
});

describe('every layer is checked on its own', () => {
	it('a bad value in a file is an error even where a later layer overrides it', () => {
		write(storeFile(), {pollIntervalSeconds: '15'});
		const team = write(path.join(dir, 'team.json'), {pollIntervalSeconds: 20, regions: ['mars-1']});
		const error = usageError(() => loadConfig({env, configFile: team, flags: {pollIntervalSeconds: 5, regions: ['us-east-1']}}));
		expect(error.problems).toEqual([
			`pollIntervalSeconds: "15" — expected a number from 1 to 86400 (in store ${storeFile()})`,
			`regions: ["mars-1"] — expected a non-empty list of region names like us-east-1 (in --config ${team})`,
		]);
	});

	it('a value missing from every layer is reported once, for the effective configuration', () => {
		const team = write(path.join(dir, 'team.json'), {environments: {qa: {priority: 4, agents: 'sometimes'}}});
		const problems = usageError(() => loadConfig({env, configFile: team})).problems;
		expect(problems.filter(problem => problem.startsWith('environments.qa.agents'))).toEqual([`environments.qa.agents: "sometimes" — expected one of "all", "limited", "monitor-only" (in --config ${team})`]);
		expect(problems).toContain('environments.qa.thresholdPct: missing — expected a number greater than 0');
	});
});

/** Problems without the "(in FILE)" naming the layer they were found in. */
function bare(problems: string[]): string[] {
	return problems.map(problem => problem.replace(/ \((in|from) [^)]*\)$/, ''));
}

function escape(text: string): string {
	return text.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('files that are not what a configuration is', () => {
	it('a file over 1 MiB is refused by its size before it is read', () => {
		const big = path.join(dir, 'big.json');
		fs.writeFileSync(big, '{}');
		fs.truncateSync(big, 3 * 1024 * 1024);
		expect(usageError(() => loadConfig({env, configFile: big})).message).toBe(`--config file ${big}: 3.0 MiB — expected a JSON file of at most 1 MiB`);
	});

	it('a directory or a device is refused as not a regular file', () => {
		expect(usageError(() => loadConfig({env, configFile: dir})).message).toBe(`--config file ${dir}: a directory, not a regular file — expected a JSON file`);
		expect(usageError(() => loadConfig({env, configFile: '/dev/null'})).message).toBe('--config file /dev/null: a character device, not a regular file — expected a JSON file');
	});

	it('a key given twice in one object is named with its line, not silently the last one', () => {
		const team = write(path.join(dir, 'team.json'), '{\n  "environments": {\n    "dev": {"thresholdPct": 2, "windowMinutes": 30, "thresholdPct": 20}\n  },\n  "pollIntervalSeconds": 5\n}\n');
		expect(usageError(() => loadConfig({env, configFile: team})).message).toBe(`--config file ${team}:3:53: environments.dev.thresholdPct: given twice in the same object (JSON keeps only the last) — expected each key once`);
		write(storeFile(), '{"notify": [{"type": "slack", "url": "https://hooks.example.com/a", "url": "https://hooks.example.com/b"}]}');
		expect(usageError(() => loadConfig({env})).message).toBe(`config store ${storeFile()}:1:69: notify.0.url: given twice in the same object (JSON keeps only the last) — expected each key once`);
		// The same key in different objects is no duplicate.
		write(storeFile(), {});
		const fine = write(path.join(dir, 'fine.json'), {environments: {dev: {thresholdPct: 2}, staging: {thresholdPct: 2}}});
		expect(loadConfig({env, configFile: fine}).config.environments['staging']!.thresholdPct).toBe(2);
	});
});

describe('agents layered over the defaults', () => {
	it('`agents: "all"` over staging\'s `limited` (maxAgents 2) means all: the cap below it is not kept, unless the same layer sets one', () => {
		const all = write(path.join(dir, 'all.json'), {environments: {staging: {agents: 'all'}}});
		const staging = loadConfig({env, configFile: all}).config.environments['staging']!;
		expect([staging.agents, staging.maxAgents]).toEqual(['all', undefined]);
		const capped = write(path.join(dir, 'capped.json'), {environments: {staging: {agents: 'all', maxAgents: 8}}});
		expect(loadConfig({env, configFile: capped}).config.environments['staging']).toMatchObject({agents: 'all', maxAgents: 8});
		// A layer that keeps `limited` (or sets another value only) keeps the cap below it.
		const threshold = write(path.join(dir, 'threshold.json'), {environments: {staging: {agents: 'limited', thresholdPct: 3}}});
		expect(loadConfig({env, configFile: threshold}).config.environments['staging']).toMatchObject({agents: 'limited', maxAgents: 2});
		// A cap set in the store and `all` set by the team file: the team file's word wins.
		write(storeFile(), {environments: {dev: {agents: 'limited', maxAgents: 3}}});
		const team = write(path.join(dir, 'team.json'), {environments: {dev: {agents: 'all'}}});
		const dev = loadConfig({env, configFile: team}).config.environments['dev']!;
		expect([dev.agents, dev.maxAgents]).toEqual(['all', undefined]);
	});
});
