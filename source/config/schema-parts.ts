import * as z from 'zod/mini';

// The leaves of the configuration schema (config/schema.ts): numbers, strings, lists of strings,
// choices, each carrying the text of what it expects. Built with zod/mini (the same checks and
// messages as zod's classic API, which made several objects per schema, each with its methods:
// building the schema was the largest part of loading the configuration), and each leaf is built
// once, shared by both schemas (the effective configuration's and a layer's, which differ only in
// what is optional) and by every key that takes the same thing. A zod schema is never changed once
// built: sharing one is safe.

export type NumberSpec = {min?: number; exclusiveMin?: number; max?: number; integer?: boolean};

const leaves = new Map<string, z.ZodMiniType>();

function shared<T extends z.ZodMiniType>(key: string, make: () => T): T {
	let leaf = leaves.get(key);
	if (!leaf) {
		leaf = make();
		leaves.set(key, leaf);
	}

	return leaf as T;
}

function numberText(spec: NumberSpec): string {
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

export function number(spec: NumberSpec, text = numberText(spec)) {
	return shared(`number ${JSON.stringify([spec.integer, spec.exclusiveMin, spec.min, spec.max])} ${text}`, () => {
		const error = {error: text};
		const checks: Array<z.core.$ZodCheck<number>> = [];
		if (spec.integer) {
			checks.push(z.int(error));
		}

		if (spec.exclusiveMin !== undefined) {
			checks.push(z.gt(spec.exclusiveMin, error));
		}

		if (spec.min !== undefined) {
			checks.push(z.gte(spec.min, error));
		}

		if (spec.max !== undefined) {
			checks.push(z.lte(spec.max, error));
		}

		return z.number(error).check(...checks, z.describe(text));
	});
}

export function string(pattern: RegExp, text: string) {
	return shared(`string ${String(pattern)} ${text}`, () => z.string({error: text}).check(z.regex(pattern, {error: text}), z.describe(text)));
}

/** A list of strings; a bad item is reported as the whole list. */
export function strings(pattern: RegExp, itemsText: string) {
	const text = `a non-empty list of ${itemsText}`;
	return shared(`strings ${String(pattern)} ${text}`, () => z.array(string(pattern, text), {error: text}).check(z.minLength(1, {error: text}), z.describe(text)));
}

export function choice<const T extends readonly [string, ...string[]]>(values: T) {
	const text = `one of ${values.map(value => `"${value}"`).join(', ')}`;
	return shared(`choice ${text}`, () => z.enum(values, {error: text}).check(z.describe(text)));
}

export const positive = () => number({exclusiveMin: 0});
export const nonNegative = () => number({min: 0});
export const text = () => string(/\S/, 'a non-empty string');
export const boolean = () => shared('boolean', () => z.boolean({error: 'true or false'}).check(z.describe('true or false')));
