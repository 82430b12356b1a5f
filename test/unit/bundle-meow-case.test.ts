import fs from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {afterEach, describe, expect, it} from 'vitest';
// @ts-expect-error: the build script is plain JavaScript, without types.
import {meowDependencyEdits, patchText} from '../../scripts/bundle.mjs';
import {flagSpec} from '../../source/app/flags.js';
import {tempRoot} from '../helpers/tmp-root.js';

// scripts/bundle.mjs (12): meow's name conversions (decamelize, camelcase-keys) get regexes written
// for ASCII when a name is ASCII, instead of Unicode-property ones that V8 builds from ICU's tables
// on first use (a few ms of every start). The patched module must give exactly what meow's own gives,
// for every flag envwatch has and for names that are not ASCII.
type Dependencies = {
	c: (input: Record<string, unknown>, options: unknown) => Record<string, unknown>;
	d: (input: Record<string, unknown>, options: unknown) => Record<string, unknown>;
	e: (text: string, options?: unknown) => string;
};

const original = path.resolve('node_modules/meow/build/dependencies.js');
const realRegExp = globalThis.RegExp;
let made: string[] = [];

/** Records the pattern of every RegExp the module makes with `new RegExp` (a literal is not seen). */
function watchRegExps(): void {
	made = [];
	globalThis.RegExp = new Proxy(realRegExp, {
		construct(target, args: [string | RegExp, string?]) {
			made.push(String(args[0] instanceof realRegExp ? args[0].source : args[0]));
			return Reflect.construct(target, args) as RegExp;
		},
	});
}

afterEach(() => {
	globalThis.RegExp = realRegExp;
});

let copies = 0;
async function load(patched: boolean): Promise<Dependencies> {
	const source = fs.readFileSync(original, 'utf8');
	const file = path.join(tempRoot, `meow-dependencies-${copies++}.js`);
	fs.writeFileSync(file, patched ? patchText(source, meowDependencyEdits, original, 'test') as string : source);
	return (await import(pathToFileURL(file).href)) as Dependencies;
}

const kebab = (name: string) => name.replaceAll(/[A-Z]/g, letter => `-${letter.toLowerCase()}`);
const names = Object.keys(flagSpec);
// What meow hands camelcase-keys: yargs-parser's result, each flag under its kebab and camel name.
const argv = Object.fromEntries([...names.flatMap(name => [[name, 'x'], [kebab(name), 'x']]), ['e', ['dev']], ['y', true], ['--', []]]);
const odd = ['fooBar', 'FOOBar', 'foo2bar', 'foo-2-bar', 'foo_bar.baz qux', '__foo', '$x', 'x', 'X', '-', 'a1B2c3', 'URLValue', 'stateDIR', 'Äpfel-birnen', 'straßeNeu', 'grüne-Ämter', 'ÉCOLEÉté', 'naïve-2ñ', 'tëst_ÖL'];

describe('meow in the bundle converts flag names without Unicode-property regexes', () => {
	it('every flag envwatch has, and the names meow sees for them, come out as meow\'s own make them', async () => {
		const own = await load(false);
		watchRegExps();
		const patched = await load(true);
		const flags = Object.fromEntries(names.map(name => [name, {type: 'string'}]));
		expect(patched.d(flags, {separator: '-', exclude: ['stopEarly', '--']})).toEqual(own.d(flags, {separator: '-', exclude: ['stopEarly', '--']}));
		for (const name of names) {
			expect(patched.e(name, {separator: '-'})).toBe(own.e(name, {separator: '-'}));
		}

		expect(patched.c(argv, {exclude: ['--', /^\w$/]})).toEqual(own.c(argv, {exclude: ['--', /^\w$/]}));
		// None of that built a Unicode-property regex (meow's own makes one as it loads).
		expect(made.filter(pattern => pattern.includes('\\p{'))).toEqual([]);
	});

	it('names that are not ASCII, or are unusual, still get the Unicode rules', async () => {
		const own = await load(false);
		const patched = await load(true);
		for (const name of odd) {
			expect(patched.e(name, {separator: '-'}), name).toBe(own.e(name, {separator: '-'}));
			expect(patched.e(name, {separator: '·'}), name).toBe(own.e(name, {separator: '·'}));
			expect(patched.c({[name]: 1}, {}), name).toEqual(own.c({[name]: 1}, {}));
			expect(patched.c({[name]: 1}, {pascalCase: true}), name).toEqual(own.c({[name]: 1}, {pascalCase: true}));
			expect(patched.c({[name]: 1}, {preserveConsecutiveUppercase: true}), name).toEqual(own.c({[name]: 1}, {preserveConsecutiveUppercase: true}));
		}
	});
});
