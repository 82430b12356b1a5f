import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {parseValue, resolveKey, valueAt, withValue, withoutValue} from '../../source/config/keys.js';
import {getValue, setValue, unsetValue} from '../../source/config/user-store.js';
import {UsageError} from '../../source/domain/index.js';

describe('a value typed on the command line', () => {
	it.each([
		['7', 7],
		['0.25', 0.25],
		['-1', -1],
		['true', true],
		['false', false],
		['null', null],
		['["us-east-1", "eu-west-1"]', ['us-east-1', 'eu-west-1']],
		['{"id": "lt-0abc"}', {id: 'lt-0abc'}],
		['"7"', '7'],
		['Environment', 'Environment'],
		['dev,development', 'dev,development'],
		['', ''],
		['[unclosed', '[unclosed'],
	])('%j is %j', (text, value) => {
		expect(parseValue(text)).toEqual(value);
	});
});

describe('a key against the schema', () => {
	it.each([
		['environments.dev.maxHourlyUsd', ['environments', 'dev', 'maxHourlyUsd']],
		['environments.qa', ['environments', 'qa']],
		['environments.dev.launchTemplate.id', ['environments', 'dev', 'launchTemplate', 'id']],
		['pollIntervalSeconds', ['pollIntervalSeconds']],
		['breaker.resetAfterMinutes', ['breaker', 'resetAfterMinutes']],
		['regions', ['regions']],
		// Instance types hold a dot: the shortest run of words the record takes is its key.
		['prices.m5.large', ['prices', 'm5.large']],
		['prices.eu-west-1', ['prices', 'eu-west-1']],
		['prices.eu-west-1.m5.large', ['prices', 'eu-west-1', 'm5.large']],
	])('%s resolves to %j', (key, path) => {
		expect(resolveKey(key)).toEqual({ok: true, path});
	});

	it.each([
		['environments.dev.maxHourly', 'environments.dev.maxHourly: unknown key — did you mean environments.dev.maxHourlyUsd? environments.dev has: priority, thresholdPct, windowMinutes, maxHourlyUsd, agents, maxAgents, onBreach, tagValues, splitBy, launchTemplate'],
		['enviroments.dev.maxHourlyUsd', 'enviroments: unknown key — did you mean environments.dev.maxHourlyUsd? the keys are:'],
		['pollInterval', 'pollInterval: unknown key — did you mean pollIntervalSeconds?'],
		['costExplorer.maxUsdPerDy', 'costExplorer.maxUsdPerDy: unknown key — did you mean costExplorer.maxUsdPerDay?'],
		['environments.Dev.maxHourlyUsd', 'environments.Dev: not a key of environments — expected lower-case letters, digits and -, starting with a letter (not "global")'],
		['environments.global.priority', 'environments.global: not a key of environments'],
		['prices.m5', 'prices.m5: not a key of prices — expected instance types like m5.large'],
		['regions.0', 'regions.0: regions has no keys (a list is set whole, as JSON) — expected regions itself'],
		['pollIntervalSeconds.x', 'pollIntervalSeconds.x: pollIntervalSeconds has no keys — expected pollIntervalSeconds itself'],
		['', '(empty): not a key — expected dotted names, like environments.dev.maxHourlyUsd'],
		['environments..dev', 'environments..dev: not a key'],
		['$schema', '$schema: unknown key'],
	])('%j is refused: %s', (key, problem) => {
		const result = resolveKey(key);
		expect(result.ok).toBe(false);
		expect(result.ok ? '' : result.problem).toContain(problem);
	});
});

describe('values in and out of an object', () => {
	it('withValue makes the objects on the way and leaves the original alone', () => {
		const store = {environments: {dev: {priority: 1}}};
		expect(withValue(store, ['environments', 'dev', 'maxHourlyUsd'], 7)).toEqual({environments: {dev: {priority: 1, maxHourlyUsd: 7}}});
		expect(withValue(store, ['prices', 'm5.large'], 0.1)).toEqual({environments: {dev: {priority: 1}}, prices: {'m5.large': 0.1}});
		expect(store).toEqual({environments: {dev: {priority: 1}}});
	});

	it('withValue takes __proto__ as a key, never as the prototype', () => {
		const result = withValue({}, ['environments', '__proto__'], {priority: 1});
		expect(Object.getPrototypeOf(result['environments'])).toBe(Object.prototype);
		expect(Object.hasOwn(result['environments'] as object, '__proto__')).toBe(true);
	});

	it('withoutValue removes the key and the objects it leaves empty', () => {
		const store = {environments: {dev: {maxHourlyUsd: 7}, staging: {priority: 2}}, pollIntervalSeconds: 5};
		expect(withoutValue(store, ['environments', 'dev', 'maxHourlyUsd'])).toEqual({environments: {staging: {priority: 2}}, pollIntervalSeconds: 5});
		expect(withoutValue(store, ['pollIntervalSeconds'])).toEqual({environments: {dev: {maxHourlyUsd: 7}, staging: {priority: 2}}});
		expect(withoutValue(store, ['environments', 'qa', 'priority'])).toEqual(store);
		expect(withoutValue(store, ['pollIntervalSeconds', 'x'])).toEqual(store);
		expect(valueAt(store, ['environments', 'staging', 'priority'])).toBe(2);
		expect(valueAt(store, ['environments', 'qa'])).toBeUndefined();
	});
});

describe('the store changed through conf, checked first', () => {
	let dir: string;
	let env: NodeJS.ProcessEnv;
	const file = () => path.join(dir, 'config.json');
	const stored = () => JSON.parse(fs.readFileSync(file(), 'utf8')) as Record<string, unknown>;
	beforeEach(() => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-store-'));
		env = {ENVWATCH_CONFIG_DIR: dir};
	});
	afterEach(() => {
		fs.rmSync(dir, {recursive: true, force: true});
	});

	async function refused(change: () => Promise<unknown>): Promise<UsageError> {
		const error = await change().then(() => undefined, (error: unknown) => error);
		expect(error).toBeInstanceOf(UsageError);
		return error as UsageError;
	}

	it('set writes the value as JSON, readable by the user only, and get reads it back', async () => {
		const change = await setValue('environments.dev.maxHourlyUsd', '7', {env});
		expect(change).toMatchObject({path: ['environments', 'dev', 'maxHourlyUsd'], file: file(), before: 5, after: 7, stored: 7, changed: true});
		expect(stored()).toEqual({environments: {dev: {maxHourlyUsd: 7}}});
		expect(fs.statSync(file()).mode & 0o777).toBe(0o600);
		expect(getValue('environments.dev.maxHourlyUsd', {env})).toEqual({path: ['environments', 'dev', 'maxHourlyUsd'], value: 7, from: 'store'});
		expect(getValue('environments.dev.windowMinutes', {env})).toMatchObject({value: 30, from: 'defaults'});
	});

	it('a set that makes the configuration invalid is refused, naming the key and what is expected, and nothing is written', async () => {
		await setValue('pollIntervalSeconds', '20', {env});
		const before = fs.readFileSync(file(), 'utf8');
		for (const [key, value, problem] of [
			['environments.dev.maxHourlyUsd', '-1', 'environments.dev.maxHourlyUsd: -1 — expected a number greater than 0'],
			['environments.dev.agents', 'some', 'environments.dev.agents: "some" — expected one of "all", "limited", "monitor-only"'],
			['environments.dev.agents', 'limited', 'environments.dev.maxAgents: missing — expected a whole number of at least 0 when agents is "limited"'],
			['environments.staging.priority', '1', 'environments.staging.priority: 1 is also the priority of dev'],
			['regions', 'us-east-1', 'regions: "us-east-1" — expected a non-empty list of region names like us-east-1, or "all"'],
			['environments.qa.maxHourlyUsd', '3', 'environments.qa.priority: missing'],
		] as const) {
			const error = await refused(async () => setValue(key, value, {env}));
			expect(error.problems.join('\n'), `${key} ${value}`).toContain(problem);
			expect(error.hint).toContain(`nothing was written: ${file()} is as it was`);
			expect(fs.readFileSync(file(), 'utf8')).toBe(before);
		}
	});

	it('a refused set says when the word would have done as text, and names a configured environment near a new name', async () => {
		const number = await refused(async () => setValue('envTagKey', '7', {env}));
		expect(number.problems).toEqual([`envTagKey: 7 — expected a non-empty string (in store ${file()})`]);
		expect(number.hint).toBe(`7 was read as JSON (number); for the text, quote it: '"7"'; nothing was written: ${file()} is as it was`);
		// -1 is refused as a number, and the text "-1" would be refused too: no such hint.
		expect((await refused(async () => setValue('graceSeconds', '-1', {env}))).hint).not.toContain('quote it');
		const typo = await refused(async () => setValue('environments.dve.maxHourlyUsd', '3', {env}));
		expect(typo.problems).toContain('environments.dve: not a configured environment — did you mean environments.dev? (a new environment is set whole, as a JSON object)');
		expect(fs.existsSync(file())).toBe(false);
	});

	it('an unknown key is refused with the nearest known one, before the store is read', async () => {
		fs.writeFileSync(file(), '{"pollIntervalSeconds": 20}');
		const error = await refused(async () => setValue('pollIntervalSecond', '30', {env}));
		expect(error.problems[0]).toContain('pollIntervalSecond: unknown key — did you mean pollIntervalSeconds?');
		expect(fs.readFileSync(file(), 'utf8')).toBe('{"pollIntervalSeconds": 20}');
	});

	it('unset takes the key out, so the layer below applies; an unknown key the store holds can be taken out', async () => {
		fs.writeFileSync(file(), JSON.stringify({environments: {dev: {maxHourlyUsd: 7, windowMinuts: 20}}}));
		// The typo makes the store invalid: every run refuses it, and the key is the way out.
		await refused(async () => setValue('pollIntervalSeconds', '30', {env}));
		const typo = await unsetValue('environments.dev.windowMinuts', {env});
		expect(typo.changed).toBe(true);
		expect(stored()).toEqual({environments: {dev: {maxHourlyUsd: 7}}});
		const cap = await unsetValue('environments.dev.maxHourlyUsd', {env});
		expect(cap).toMatchObject({before: 7, after: 5, stored: undefined, changed: true});
		expect(stored()).toEqual({});
		expect(await unsetValue('environments.dev.maxHourlyUsd', {env})).toMatchObject({changed: false, after: 5});
		await expect(unsetValue('environments.dev.nothing', {env})).rejects.toThrow('environments.dev.nothing: unknown key');
	});

	it('get of notification targets never shows a secret written into the store', async () => {
		await setValue('notify', JSON.stringify([{type: 'slack', url: 'https://hooks.slack.com/services/T000/B000/SECRETSECRET'}]), {env});
		const {value} = getValue('notify', {env});
		expect(JSON.stringify(value)).not.toContain('SECRETSECRET');
	});
});
