import * as z from 'zod/mini';
import {closest} from './closest.js';
import {layerSchema} from './schema.js';

/**
 * Keys of the configuration as a person types them (`envwatch config get|set|unset KEY`): dotted
 * paths, read against the schema, so a typo is refused with the nearest real key rather than
 * written where nothing reads it.
 */

export type ResolvedKey = {ok: true; path: string[]} | {ok: false; problem: string};

const example = 'environments.dev.maxHourlyUsd';

// Read through each schema's definition (`_zod.def`), not zod's classes: a reference to zod's core
// namespace at run time would bring the whole of it into the bundle.
type Schema = z.core.$ZodType;
type Def<K extends string> = Extract<z.core.$ZodTypes, {_zod: {def: {type: K}}}>;

function is<K extends 'optional' | 'nullable' | 'object' | 'record' | 'union' | 'array'>(schema: Schema, type: K): schema is Def<K> {
	return schema._zod.def.type === type;
}

/** The schema under optional and nullable. */
function unwrap(schema: Schema): Schema {
	let inner = schema;
	while (is(inner, 'optional') || is(inner, 'nullable')) {
		inner = inner._zod.def.innerType;
	}

	return inner;
}

/** What a record's keys are, from its description (`an object keyed by X` -> `X`). */
function keysText(record: Schema): string {
	return (z.globalRegistry.get(record)?.description ?? 'a key of this object').replace(/^an object keyed by /, '');
}

/**
 * `environments.dev.maxHourlyUsd` -> `['environments', 'dev', 'maxHourlyUsd']`, checked against the
 * schema of a layer: every object key must be one the schema knows (else the problem names the
 * nearest, the whole key spelled out), and a record's key must be one it takes. A record key may
 * itself hold dots (instance types: `prices.m5.large`, `prices.eu-west-1.m5.large`): the shortest
 * run of words the record takes is its key. Lists (`regions`, `tagValues`, `notify`) are set whole.
 */
export function resolveKey(key: string, schema: Schema = layerSchema()): ResolvedKey {
	const words = key.split('.');
	if (key.trim() === '' || words.some(word => word === '')) {
		return {ok: false, problem: `${key || '(empty)'}: not a key — expected dotted names, like ${example}`};
	}

	const path: string[] = [];
	let at: Schema = schema;
	let index = 0;
	while (index < words.length) {
		at = unwrap(at);
		const word = words[index]!;
		const here = [...path, word].join('.');
		if (is(at, 'object')) {
			const {shape} = at._zod.def;
			const known = Object.keys(shape).filter(name => name !== '$schema');
			if (!known.includes(word)) {
				// The nearest by spelling, else the one key it begins (`pollInterval`: pollIntervalSeconds).
				const starting = known.filter(name => name.toLowerCase().startsWith(word.toLowerCase()));
				const near = closest(word, known) ?? (starting.length === 1 ? starting[0] : undefined);
				const spelled = near ? [...path, near, ...words.slice(index + 1)].join('.') : undefined;
				return {ok: false, problem: `${here}: unknown key — ${spelled ? `did you mean ${spelled}? ` : ''}${path.length > 0 ? `${path.join('.')} has` : 'the keys are'}: ${known.join(', ')}`};
			}

			path.push(word);
			at = shape[word]!;
			index++;
			continue;
		}

		if (is(at, 'record')) {
			const record = at;
			let end = index + 1;
			while (end <= words.length && !z.safeParse(record._zod.def.keyType, words.slice(index, end).join('.')).success) {
				end++;
			}

			if (end > words.length) {
				return {ok: false, problem: `${here}: not a key of ${path.join('.')} — expected ${keysText(record)}`};
			}

			path.push(words.slice(index, end).join('.'));
			at = record._zod.def.valueType;
			index = end;
			continue;
		}

		// A value that is a number or an object (a region's prices): the object's keys go on.
		const branch = is(at, 'union') ? at._zod.def.options.map(option => unwrap(option)).find(option => is(option, 'object') || is(option, 'record')) : undefined;
		if (branch) {
			at = branch;
			continue;
		}

		const whole = path.join('.');
		const list = is(at, 'array') || (is(at, 'union') && at._zod.def.options.some(option => is(unwrap(option), 'array')));
		return {ok: false, problem: `${here}: ${whole} has no keys${list ? ' (a list is set whole, as JSON)' : ''} — expected ${whole} itself`};
	}

	return {ok: true, path};
}

/**
 * A value typed on the command line: JSON where it parses (`7` a number, `true` a boolean,
 * `null`, `'["a"]'` a list, `'"7"'` the text 7), otherwise the text as it is (`Environment`).
 */
export function parseValue(text: string): unknown {
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return text;
	}
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value at `path` in `root`; undefined where any part of it is missing. */
export function valueAt(root: unknown, path: readonly string[]): unknown {
	let value = root;
	for (const key of path) {
		if (!isObject(value) || !Object.hasOwn(value, key)) {
			return undefined;
		}

		value = value[key];
	}

	return value;
}

/** A copy of `root` with `value` at `path`, making the objects on the way (a value that is not one is replaced). */
export function withValue(root: Json, path: readonly string[], value: unknown): Json {
	const [key, ...rest] = path;
	if (key === undefined) {
		return root;
	}

	const copy: Json = {...root};
	const child = Object.hasOwn(root, key) ? root[key] : undefined;
	setOwn(copy, key, rest.length === 0 ? value : withValue(isObject(child) ? child : {}, rest, value));
	return copy;
}

/** A copy of `root` without `path`; objects left empty by it go too. */
export function withoutValue(root: Json, path: readonly string[]): Json {
	const [key, ...rest] = path;
	if (key === undefined || !Object.hasOwn(root, key)) {
		return root;
	}

	const child = root[key];
	if (rest.length > 0 && !isObject(child)) {
		return root;
	}

	const copy: Json = {...root};
	const inner = rest.length > 0 && isObject(child) ? withoutValue(child, rest) : undefined;
	if (inner === undefined || Object.keys(inner).length === 0) {
		delete copy[key];
	} else {
		setOwn(copy, key, inner);
	}

	return copy;
}

/** `object[key] = value`, where the key is data: `__proto__` too (the checks refuse it by name). */
function setOwn(object: Json, key: string, value: unknown): void {
	Object.defineProperty(object, key, {value, enumerable: true, writable: true, configurable: true});
}
