import * as z from 'zod';
import {closest} from './closest.js';
import {layerSchema} from './schema.js';

/**
 * Keys of the configuration as a person types them (`envwatch config get|set|unset KEY`): dotted
 * paths, read against the schema, so a typo is refused with the nearest real key rather than
 * written where nothing reads it.
 */

export type ResolvedKey = {ok: true; path: string[]} | {ok: false; problem: string};

const example = 'environments.dev.maxHourlyUsd';

function unwrap(schema: z.ZodType): z.ZodType {
	let inner = schema;
	while (inner instanceof z.ZodOptional || inner instanceof z.ZodNullable) {
		inner = inner.unwrap() as z.ZodType;
	}

	return inner;
}

/** What a record's keys are, from its description (`an object keyed by X` -> `X`). */
function keysText(record: z.ZodRecord): string {
	return (record.description ?? 'a key of this object').replace(/^an object keyed by /, '');
}

/**
 * `environments.dev.maxHourlyUsd` -> `['environments', 'dev', 'maxHourlyUsd']`, checked against the
 * schema of a layer: every object key must be one the schema knows (else the problem names the
 * nearest, the whole key spelled out), and a record's key must be one it takes. A record key may
 * itself hold dots (instance types: `prices.m5.large`, `prices.eu-west-1.m5.large`): the shortest
 * run of words the record takes is its key. Lists (`regions`, `tagValues`, `notify`) are set whole.
 */
export function resolveKey(key: string, schema: z.ZodType = layerSchema()): ResolvedKey {
	const words = key.split('.');
	if (key.trim() === '' || words.some(word => word === '')) {
		return {ok: false, problem: `${key || '(empty)'}: not a key — expected dotted names, like ${example}`};
	}

	const path: string[] = [];
	let at: z.ZodType = schema;
	let index = 0;
	while (index < words.length) {
		at = unwrap(at);
		const word = words[index]!;
		const here = [...path, word].join('.');
		if (at instanceof z.ZodObject) {
			const known = Object.keys(at.shape).filter(name => name !== '$schema');
			if (!known.includes(word)) {
				// The nearest by spelling, else the one key it begins (`pollInterval`: pollIntervalSeconds).
				const starting = known.filter(name => name.toLowerCase().startsWith(word.toLowerCase()));
				const near = closest(word, known) ?? (starting.length === 1 ? starting[0] : undefined);
				const spelled = near ? [...path, near, ...words.slice(index + 1)].join('.') : undefined;
				return {ok: false, problem: `${here}: unknown key — ${spelled ? `did you mean ${spelled}? ` : ''}${path.length > 0 ? `${path.join('.')} has` : 'the keys are'}: ${known.join(', ')}`};
			}

			path.push(word);
			at = at.shape[word] as z.ZodType;
			index++;
			continue;
		}

		if (at instanceof z.ZodRecord) {
			const record = at;
			let end = index + 1;
			while (end <= words.length && !(record.keyType as unknown as z.ZodType).safeParse(words.slice(index, end).join('.')).success) {
				end++;
			}

			if (end > words.length) {
				return {ok: false, problem: `${here}: not a key of ${path.join('.')} — expected ${keysText(record)}`};
			}

			path.push(words.slice(index, end).join('.'));
			at = record.valueType as z.ZodType;
			index = end;
			continue;
		}

		// A value that is a number or an object (a region's prices): the object's keys go on.
		const branch = at instanceof z.ZodUnion ? (at.options as z.ZodType[]).map(option => unwrap(option)).find(option => option instanceof z.ZodObject || option instanceof z.ZodRecord) : undefined;
		if (branch) {
			at = branch;
			continue;
		}

		const whole = path.join('.');
		const list = at instanceof z.ZodArray || (at instanceof z.ZodUnion && (at.options as z.ZodType[]).some(option => unwrap(option) instanceof z.ZodArray));
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
