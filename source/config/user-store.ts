import path from 'node:path';
import {UsageError} from '../domain/index.js';
import {redactNotify} from './notify.js';
import {parseValue, resolveKey, valueAt, withValue, withoutValue} from './keys.js';
import {mergeLayer, readLayers, validateLayers, type ConfigLayer} from './load.js';
import {closest} from './closest.js';

/**
 * The user's writable store (`envwatch config get|set|unset|edit`): the `store` layer of the
 * configuration, the same file every run reads (`$ENVWATCH_CONFIG_DIR/config.json`, else the
 * platform's config dir). A change is checked as a run would check it, every layer and the merged
 * result, before anything is written, and is written through conf, atomically (a temporary file
 * renamed over it, through a symlink to where it points) and readable by the user only: the store
 * may hold a webhook's secret. conf, and the JSON schema validator it loads, are imported only here,
 * when a store command runs: never on a run's start.
 */

type Json = Record<string, unknown>;

export type StoreOptions = {env: NodeJS.ProcessEnv; configFile?: string | undefined};

export type StoreChange = {
	/** The key as resolved (`prices.m5.large` is `['prices', 'm5.large']`). */
	path: string[];
	/** The store's file. */
	file: string;
	/** The effective value before and after (every layer); undefined: none. */
	before: unknown;
	after: unknown;
	/** The value the store holds now; undefined: none. */
	stored: unknown;
	/** False when the store already held it (set) or did not hold it (unset): nothing was written. */
	changed: boolean;
};

function resolved(key: string): string[] {
	const result = resolveKey(key);
	if (!result.ok) {
		throw new UsageError(result.problem);
	}

	return result.path;
}

/** The layers a run with these options reads, with the store's own. */
function layersOf(options: StoreOptions): {layers: ConfigLayer[]; store: ConfigLayer} {
	const {layers} = readLayers({env: options.env, ...(options.configFile ? {configFile: options.configFile} : {})});
	return {layers, store: layers.find(layer => layer.label === 'store')!};
}

const merged = (layers: readonly ConfigLayer[]) => layers.reduce<Json>((below, layer) => mergeLayer(below, layer.values), Object.create(null) as Json);

/** What may be printed of a value at `path`: notification targets without their secrets. */
export function shown(path: readonly string[], value: unknown): unknown {
	return path[0] === 'notify' ? redactNotify(value) : value;
}

/** `config get KEY`: the value envwatch uses (every layer, checked as a run checks them). */
export function getValue(key: string, options: StoreOptions): {path: string[]; value: unknown; from: string | undefined} {
	const path = resolved(key);
	const {layers} = layersOf(options);
	validateLayers(layers);
	const from = layers.findLast(layer => valueAt(layer.values, path) !== undefined);
	return {path, value: shown(path, valueAt(merged(layers), path)), from: from?.label};
}

/** `config set KEY VALUE`: the value (JSON where it parses) into the store, if the result is valid. */
export async function setValue(key: string, text: string, options: StoreOptions): Promise<StoreChange> {
	const path = resolved(key);
	const value = parseValue(text);
	const {layers, store} = layersOf(options);
	const next = withValue(store.values, path, value);
	const changed = valueAt(store.values, path) === undefined || JSON.stringify(valueAt(store.values, path)) !== JSON.stringify(value);
	return change(path, layers, store, next, changed, () => refusal(path, text, value, layers, store));
}

/**
 * `config unset KEY`: the key out of the store, so the layer below applies again. A key the schema
 * does not know may be unset where the store holds it: that is how a typo is taken out.
 */
export async function unsetValue(key: string, options: StoreOptions): Promise<StoreChange> {
	const {layers, store} = layersOf(options);
	const result = resolveKey(key);
	const raw = key.split('.');
	if (!result.ok && valueAt(store.values, raw) === undefined) {
		throw new UsageError(result.problem);
	}

	const path = result.ok ? result.path : raw;
	const changed = valueAt(store.values, path) !== undefined;
	return change(path, layers, store, withoutValue(store.values, path), changed, () => ({problems: [], hints: []}));
}

/** `config edit`: the edited store, checked; written (its text as typed) only if valid. */
export async function replaceStore(values: Json, text: string, options: StoreOptions): Promise<{file: string}> {
	const {layers, store} = layersOf(options);
	check(layers, store, values, () => ({problems: [], hints: []}));
	await writeStore(store.path!, values, text);
	return {file: store.path!};
}

async function change(path: string[], layers: ConfigLayer[], store: ConfigLayer, next: Json, changed: boolean, explain: Explain): Promise<StoreChange> {
	const before = valueAt(merged(layers), path);
	const after = check(layers, store, next, explain);
	if (changed) {
		await writeStore(store.path!, next);
	}

	return {path, file: store.path!, before: shown(path, before), after: shown(path, valueAt(after, path)), stored: shown(path, valueAt(next, path)), changed};
}

/** More to say when a change is refused: problems only the key shows, and hints. */
type Explain = () => {problems: string[]; hints: string[]};

/** The layers with the store's values replaced by `next`, checked; the merged values. Nothing is written on a problem. */
function check(layers: ConfigLayer[], store: ConfigLayer, next: Json, explain: Explain): Json {
	const replaced = layers.map(layer => (layer === store ? {...layer, values: next} : layer));
	try {
		validateLayers(replaced);
	} catch (error) {
		if (error instanceof UsageError) {
			const {problems, hints} = explain();
			throw new UsageError([...error.problems, ...problems], [...hints, `nothing was written: ${store.path} is as it was`].join('; '), error.total + problems.length);
		}

		throw error;
	}

	return merged(replaced);
}

/**
 * Why a set may have been refused beyond the schema's words: a word read as JSON where the text
 * would have done (`envTagKey 7`), a new environment named like a configured one (`environments.dve`).
 */
function refusal(path: readonly string[], text: string, value: unknown, layers: ConfigLayer[], store: ConfigLayer): ReturnType<Explain> {
	const problems: string[] = [];
	const hints: string[] = [];
	if (typeof value !== 'string') {
		try {
			validateLayers(layers.map(layer => (layer === store ? {...layer, values: withValue(store.values, path, text)} : layer)));
			hints.push(`${text} was read as JSON (${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}); for the text, quote it: '"${text}"'`);
		} catch {
			// The text would not do either: the schema's words say what would.
		}
	}

	const environments = merged(layers)['environments'];
	const name = path[1];
	if (path[0] === 'environments' && name !== undefined && typeof environments === 'object' && environments !== null && !Object.hasOwn(environments, name)) {
		const near = closest(name, Object.keys(environments));
		problems.push(`environments.${name}: not a configured environment${near ? ` — did you mean environments.${near}?` : ''} (a new environment is set whole, as a JSON object)`);
	}

	return {problems, hints};
}

/**
 * Writes the store through conf. `text`, when given, is written as it is (an edit keeps the user's
 * layout); otherwise the values as JSON, two spaces, as the shipped defaults are.
 */
async function writeStore(file: string, values: Json, text?: string): Promise<void> {
	const {default: Conf} = await import('conf');
	const conf = new Conf<Json>({
		cwd: path.dirname(file),
		configName: path.basename(file, '.json'),
		// Keys are paths resolved here (instance types hold dots): conf sets the whole object.
		accessPropertiesByDotNotation: false,
		// A malformed store is refused before this (with its line and column), never emptied.
		clearInvalidConfig: false,
		configFileMode: 0o600,
		serialize: value => (value === values && text !== undefined ? text : `${JSON.stringify(value, undefined, 2)}\n`),
	});
	conf.store = values;
}
