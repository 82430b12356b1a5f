import fs from 'node:fs';
import path from 'node:path';
import Conf from 'conf';
import envPaths from 'env-paths';
import {UsageError} from '../errors.js';
import {packageRoot} from '../paths.js';
import {jsonErrorOffset} from './json-position.js';
import {checkNotify} from '../notify/config.js';
import {check, checkRelations, configSpec, type Config} from './schema.js';

export const defaultConfigPath = path.join(packageRoot, 'config', 'default.json');

type Json = Record<string, unknown>;

/** The directory of the user's own store: conf's platform config dir, or $ENVWATCH_CONFIG_DIR. */
export function storeDirectory(env: NodeJS.ProcessEnv = process.env): string {
	return env['ENVWATCH_CONFIG_DIR'] || envPaths('envwatch', {suffix: ''}).config;
}

/**
 * The user's store (conf). The file is read and checked by us first, so a malformed store is
 * reported with its line and conf never gets the chance to rewrite a file the user is editing.
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

			readJsonFile(storePath, 'config store');
			return new Conf<Json>({projectName: 'envwatch', cwd, configName: 'config', clearInvalidConfig: false, accessPropertiesByDotNotation: false}).store;
		},
	};
}

/** Parses a JSON object file; a failure names the file and the line and column. */
export function readJsonFile(file: string, label: string): Json {
	let text: string;
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
		throw new UsageError(`${label} ${file}: cannot read it (${code}) — expected a readable JSON file`);
	}

	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		const message = (error as Error).message;
		const offset = jsonErrorOffset(text);
		const where = offset >= 0 ? lineAndColumn(text, offset) : undefined;
		const reason = message.replace(/, (\.\.\.)?".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
		throw new UsageError(`${label} ${file}${where ? `:${where}` : ''}: malformed JSON (${reason}) — expected a JSON object`);
	}

	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw new UsageError(`${label} ${file}: ${Array.isArray(value) ? 'a list' : JSON.stringify(value)} — expected a JSON object`);
	}

	return value as Json;
}

function lineAndColumn(text: string, offset: number): string {
	const before = text.slice(0, offset).split('\n');
	return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

/** Objects merge key by key (so an environment can override one threshold); arrays and values replace. */
export function deepMerge(base: Json, override: Json): Json {
	const result: Json = {...base};
	for (const [key, value] of Object.entries(override)) {
		const current = result[key];
		result[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
	}

	return result;
}

function isObject(value: unknown): value is Json {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
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

/** Builds the effective configuration; every problem in one UsageError (exit 2). */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
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

	const merged = layers.reduce<Json>((accumulated, layer) => deepMerge(accumulated, layer.values), {});
	return {config: validateConfig(merged, layers), layers, storePath};
}

export function validateConfig(value: Json, layers: ConfigLayer[] = []): Config {
	const problems: string[] = [];
	// `notify` has its own module and validation (source/notify/config.ts).
	const {notify, ...rest} = value;
	check(configSpec, rest, '', problems);
	checkRelations(rest as Config, problems);
	checkNotify(notify, problems);

	if (problems.length > 0) {
		const files = layers.filter(layer => layer.label !== 'defaults' && layer.path).map(layer => `${layer.label} ${layer.path}`);
		throw new UsageError(problems, files.length > 0 ? `configuration read from: ${files.join(', ')}` : undefined);
	}

	return (notify === undefined ? rest : {...rest, notify}) as Config;
}
