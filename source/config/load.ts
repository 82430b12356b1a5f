import fs from 'node:fs';
import path from 'node:path';
import envPaths from 'env-paths';
import {isPlainObject, UsageError} from '../domain/index.js';
import {packageRoot} from './package-root.js';
import {duplicateKey, jsonErrorOffset} from './json-position.js';
import {checkRelations, checkSchema, configSchema, layerSchema, Problems, reportIssues, type Config} from './schema.js';

export const defaultConfigPath = path.join(packageRoot, 'config', 'default.json');

type Json = Record<string, unknown>;

/** The directory of the user's own store: the platform's config dir, or $ENVWATCH_CONFIG_DIR. */
export function storeDirectory(env: NodeJS.ProcessEnv = process.env): string {
	return env['ENVWATCH_CONFIG_DIR'] || envPaths('envwatch', {suffix: ''}).config;
}

/**
 * The user's store: the layer `envwatch config set|unset|edit` writes through conf
 * (config/user-store.ts). A run reads and checks the file here, so a malformed store is reported
 * with its line, and conf is not loaded as envwatch starts: it would only parse the file again,
 * and its import (with its schema validator) cost 190-250 ms of every start.
 */
export function openStore(env: NodeJS.ProcessEnv = process.env): {path: string; read(): Json} {
	const cwd = storeDirectory(env);
	const storePath = path.join(cwd, 'config.json');
	return {
		path: storePath,
		read() {
			if (!fs.existsSync(storePath)) {
				return {};
			}

			return readJsonFile(storePath, 'config store');
		},
	};
}

/** The most a configuration file may hold: far more than any real one, far less than /dev/zero. */
export const maxConfigBytes = 1024 * 1024;

/**
 * Parses a JSON object file; a failure names the file and the line and column. A key given twice
 * in one object is a problem too (JSON.parse would keep the last without a word).
 */
export function readJsonFile(file: string, label: string): Json {
	return parseJsonText(readConfigText(file, label), file, label);
}

/** `text` as a JSON object, named as `file` in problems (readJsonFile; `config edit` checks an edit with it). */
export function parseJsonText(text: string, file: string, label: string): Json {
	return parseJsonObject(text, `${label} ${file}`);
}

/**
 * Parses JSON text that should be one object (`name` says where it came from in every problem:
 * a file, an environment variable, an SSM parameter), with line and column on malformed JSON and
 * a key given twice as a problem.
 */
export function parseJsonObject(text: string, name: string): Json {
	if (Buffer.byteLength(text) > maxConfigBytes) {
		throw new UsageError(`${name}: more than 1 MiB — expected a JSON object of at most 1 MiB`);
	}

	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		const message = (error as Error).message;
		const offset = jsonErrorOffset(text);
		const where = offset >= 0 ? lineAndColumn(text, offset) : undefined;
		const reason = message.replace(/, (\.\.\.)?".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
		throw new UsageError(`${name}${where ? `:${where}` : ''}: malformed JSON (${reason}) — expected a JSON object`);
	}

	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw new UsageError(`${name}: ${Array.isArray(value) ? 'a list' : JSON.stringify(value)} — expected a JSON object`);
	}

	const duplicate = duplicateKey(text);
	if (duplicate) {
		throw new UsageError(`${name}:${lineAndColumn(text, duplicate.offset)}: ${duplicate.path}: given twice in the same object (JSON keeps only the last) — expected each key once`);
	}

	return value as Json;
}

/**
 * A configuration file's text: a regular file of at most `maxConfigBytes`, checked on the open file
 * before anything is read. A FIFO used to hang the start (reading waits for a writer), and
 * /dev/zero to be read to 2 GB; both are refused, naming what they are.
 */
export function readConfigText(file: string, label: string): string {
	const cannot = (error: unknown) => new UsageError(`${label} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}) — expected a readable JSON file`);
	let fd: number;
	try {
		// Non-blocking: opening a FIFO for reading would wait for a writer before the check below.
		fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
	} catch (error) {
		throw cannot(error);
	}

	try {
		const stat = fs.fstatSync(fd);
		if (!stat.isFile()) {
			throw new UsageError(`${label} ${file}: ${fileKind(stat)}, not a regular file — expected a JSON file`);
		}

		if (stat.size > maxConfigBytes) {
			throw new UsageError(`${label} ${file}: ${(stat.size / 1024 / 1024).toFixed(1)} MiB — expected a JSON file of at most 1 MiB`);
		}

		// One byte more than it said, to notice a file that grew meanwhile.
		const buffer = Buffer.allocUnsafe(Math.min(stat.size, maxConfigBytes) + 1);
		let length = 0;
		for (let read = -1; read !== 0 && length < buffer.length;) {
			read = fs.readSync(fd, buffer, length, buffer.length - length, null);
			length += read;
		}

		if (length > maxConfigBytes) {
			throw new UsageError(`${label} ${file}: more than 1 MiB — expected a JSON file of at most 1 MiB`);
		}

		return buffer.toString('utf8', 0, length);
	} catch (error) {
		throw error instanceof UsageError ? error : cannot(error);
	} finally {
		fs.closeSync(fd);
	}
}

function fileKind(stat: fs.Stats): string {
	return stat.isDirectory() ? 'a directory' : stat.isFIFO() ? 'a FIFO' : stat.isCharacterDevice() ? 'a character device' : stat.isBlockDevice() ? 'a block device' : stat.isSocket() ? 'a socket' : 'a special file';
}

function lineAndColumn(text: string, offset: number): string {
	const before = text.slice(0, offset).split('\n');
	return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

/** Deeper than this, a configuration value is refused before anything recurses into it. */
export const maxDepth = 32;

/**
 * Objects merge key by key (so an environment can override one threshold); arrays and values
 * replace. The result has no prototype, so a key such as `__proto__` or `constructor` is only a key.
 * Layers are checked for depth first (checkDepth), so the recursion is shallow.
 */
export function deepMerge(base: Json, override: Json): Json {
	const result: Json = Object.assign(Object.create(null) as Json, base);
	for (const [key, value] of Object.entries(override)) {
		const current = Object.hasOwn(result, key) ? result[key] : undefined;
		result[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
	}

	return result;
}

/**
 * One layer over those below it (deepMerge), where a layer that changes an environment's `agents`
 * owns its cap: `"agents": "all"` over a lower layer's `"limited"` with `maxAgents` means all, not
 * all up to the cap below (which used to stay, unseen). The cap below is dropped unless the same
 * layer sets `maxAgents`; a layer that sets `limited`, or leaves `agents` as it was, keeps it.
 */
export function mergeLayer(below: Json, layer: Json): Json {
	const merged = deepMerge(below, layer);
	const mine = layer['environments'];
	const before = below['environments'];
	const after = merged['environments'];
	if (!isPlainObject(mine) || !isPlainObject(before) || !isPlainObject(after)) {
		return merged;
	}

	for (const [name, environment] of Object.entries(mine)) {
		const was = Object.hasOwn(before, name) ? before[name] : undefined;
		const now = Object.hasOwn(after, name) ? after[name] : undefined;
		if (isPlainObject(environment) && isPlainObject(was) && isPlainObject(now) && Object.hasOwn(environment, 'agents') && !Object.hasOwn(environment, 'maxAgents')
			&& environment['agents'] !== 'limited' && environment['agents'] !== was['agents']) {
			delete now['maxAgents'];
		}
	}

	return merged;
}

/**
 * Walks a parsed value without recursion: objects and lists nested deeper than maxDepth, and
 * `__proto__` keys (which JavaScript objects would take for their prototype), are problems.
 */
export function checkDepth(value: unknown, problems: Problems, suffix = ''): void {
	const stack: Array<[unknown, string, number]> = [[value, '', 0]];
	const join = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));
	while (stack.length > 0) {
		const [item, path, depth] = stack.pop()!;
		if (typeof item !== 'object' || item === null) {
			continue;
		}

		if (depth >= maxDepth) {
			problems.push(`${path}: nested deeper than ${maxDepth} levels — expected a configuration value (at most ${maxDepth} levels of objects and lists)${suffix}`);
			continue;
		}

		if (Array.isArray(item)) {
			for (let index = item.length - 1; index >= 0; index--) {
				stack.push([item[index], join(path, index), depth + 1]);
			}

			continue;
		}

		const keys = Object.keys(item);
		for (let index = keys.length - 1; index >= 0; index--) {
			const key = keys[index]!;
			if (key === '__proto__') {
				problems.push(`${join(path, key)}: not allowed as a key — expected a configuration key${suffix}`);
				continue;
			}

			stack.push([(item as Json)[key], join(path, key), depth + 1]);
		}
	}
}

export type ConfigLayer = {label: string; path?: string; values: Json};

export type LoadOptions = {
	configFile?: string;
	/** Values from flags, already in config shape (e.g. {pollIntervalSeconds: 5}). */
	flags?: Json;
	env?: NodeJS.ProcessEnv;
	/** Skip the user's store (used by tests that pin the defaults). */
	noStore?: boolean;
};

export type LoadedConfig = {config: Config; layers: ConfigLayer[]; storePath: string | undefined};

/** At most this many problems are printed, then how many more there are. */
export const problemLimit = 20;

/** Builds the effective configuration; every problem in one UsageError (exit 2). */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
	const {layers, storePath} = readLayers(options);
	return {config: validateLayers(layers), layers, storePath};
}

/** The layers, read (a malformed file is a UsageError) but not checked: loadConfig checks them. */
export function readLayers(options: LoadOptions = {}): {layers: ConfigLayer[]; storePath: string | undefined} {
	const layers: ConfigLayer[] = [{label: 'defaults', path: defaultConfigPath, values: readJsonFile(defaultConfigPath, 'shipped defaults')}];
	let storePath: string | undefined;
	if (!options.noStore) {
		const store = openStore(options.env);
		storePath = store.path;
		layers.push({label: 'store', path: store.path, values: store.read()});
	}

	if (options.configFile) {
		const file = path.resolve(options.configFile);
		layers.push({label: '--config', path: file, values: readJsonFile(file, '--config file')});
	}

	if (options.flags && Object.keys(options.flags).length > 0) {
		layers.push({label: 'flags', values: options.flags});
	}

	return {layers, storePath};
}

/**
 * The configuration from JSON text that is no file (the Lambda's ENVWATCH_CONFIG_JSON, or the SSM
 * parameter it names), over the shipped defaults; `label` names it in every problem.
 */
export function loadConfigText(text: string, label: string): LoadedConfig {
	const layers: ConfigLayer[] = [
		{label: 'defaults', path: defaultConfigPath, values: readJsonFile(defaultConfigPath, 'shipped defaults')},
		{label, values: parseJsonObject(text, label)},
	];
	return {config: validateLayers(layers), layers, storePath: undefined};
}

function where(layer: ConfigLayer): string {
	return layer.path ? `(in ${layer.label === 'defaults' ? 'shipped defaults' : layer.label} ${layer.path})` : `(from ${layer.label})`;
}

function fail(problems: Problems, layers: ConfigLayer[]): never {
	const files = layers.filter(layer => layer.label !== 'defaults' && layer.path).map(layer => `${layer.label} ${layer.path}`);
	throw new UsageError(problems.list(), files.length > 0 ? `configuration read from: ${files.join(', ')}` : undefined, problems.total);
}

/**
 * Every layer is checked on its own (a bad value in a file is an error even where a later layer
 * overrides it, so every mode reports the same), then the merged result for what only it can show:
 * missing keys and rules across keys.
 */
export function validateLayers(layers: ConfigLayer[]): Config {
	const problems = new Problems(problemLimit);
	for (const layer of layers) {
		checkDepth(layer.values, problems, ` ${where(layer)}`);
	}

	if (problems.total > 0) {
		fail(problems, layers);
	}

	const layerPaths = new Set<string>();
	for (const layer of layers) {
		for (const reported of checkSchema(layerSchema(), layer.values, problems, {suffix: where(layer)})) {
			layerPaths.add(reported);
		}
	}

	const merged = layers.reduce<Json>((accumulated, layer) => mergeLayer(accumulated, layer.values), Object.create(null) as Json);
	return finish(merged, problems, layerPaths, () => fail(problems, layers));
}

/** Checks one complete configuration value (no layers). */
export function validateConfig(value: Json): Config {
	const problems = new Problems(problemLimit);
	checkDepth(value, problems);
	if (problems.total > 0) {
		throw new UsageError(problems.list(), undefined, problems.total);
	}

	return finish(value, problems, new Set(), () => {
		throw new UsageError(problems.list(), undefined, problems.total);
	});
}

function finish(value: Json, problems: Problems, skip: ReadonlySet<string>, onProblems: () => never): Config {
	// Parsed once: what it reports, and the configuration when it reports nothing.
	const result = configSchema().safeParse(value);
	reportIssues(result, value, problems, {skip});
	checkRelations(value, problems);
	if (problems.total > 0) {
		onProblems();
	}

	const parsed = result.success ? result.data : configSchema().parse(value);
	delete parsed.$schema;
	// `regions: "all"`: the provider fills in every region enabled for the account when it starts.
	const {regions, ...rest} = parsed;
	const config: Config = regions === 'all' ? {...rest, regions: [], allRegions: true} : {...rest, regions};
	// Environment and instance-type names are data: `constructor` is a name like any other.
	config.environments = Object.assign(Object.create(null) as Config['environments'], config.environments);
	config.prices = Object.assign(Object.create(null) as Config['prices'], config.prices);
	for (const [key, value] of Object.entries(config.prices)) {
		if (typeof value === 'object') {
			config.prices[key] = Object.assign(Object.create(null) as Record<string, number>, value);
		}
	}
	return config;
}
