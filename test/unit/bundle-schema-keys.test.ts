import fs from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {inlineSchemaKeys} from '../../scripts/bundle.mjs';

// The bundle writes the SDK schema files' computed keys as the string literals they are, so esbuild
// can drop the shapes envwatch never sends or reads. The rewrite must give the very same objects.
describe('inlineSchemaKeys (the bundle\'s rewrite of AWS SDK schema files)', () => {
	test('a key that is a string constant declared once becomes that literal; anything else is left alone', () => {
		const text = [
			'const _xN = "xmlName";',
			'const _re = "reassigned";',
			'const _tpl = `template`;',
			'export var A$ = [3, n0, _xN, 0, [_xN], [[0, { [_xN]: `a`, [_re]: 1, [_tpl]: 2, [_unknown]: 3, [other]: 4 }]]];',
			'_re = "changed";',
		].join('\n');
		const result = inlineSchemaKeys(text);
		expect(result).toContain('{ "xmlName": `a`, [_re]: 1, [_tpl]: 2, [_unknown]: 3, [other]: 4 }');
		// Values elsewhere are not touched: only keys.
		expect(result).toContain('[3, n0, _xN, 0, [_xN],');
		// The objects are the same (the key of no known constant dropped: it would not evaluate here).
		const evaluate = (source: string) => new Function('n0', 'other', `${source.replaceAll('export var', 'var').replace('_re = "changed";', '')}; return A$;`)('ns', 'o') as unknown;
		expect(evaluate(result.replace('[_unknown]: 3, ', ''))).toEqual(evaluate(text.replace('[_unknown]: 3, ', '')));
	});

	test('on the installed EC2 client\'s schemas, only computed keys change, each to its constant\'s value', () => {
		const require = createRequire(import.meta.url);
		const root = path.dirname(require.resolve('@aws-sdk/client-ec2/package.json'));
		const text = fs.readFileSync(path.join(root, 'dist-es/schemas/schemas_0.js'), 'utf8');
		const result = inlineSchemaKeys(text);
		const constants = new Map([...text.matchAll(/^const (_\w+) = ("[^"\\\n]*");$/gm)].map(match => [match[1]!, match[2]!]));
		const before = text.split('\n');
		const after = result.split('\n');
		expect(after).toHaveLength(before.length);
		let changed = 0;
		for (const [index, line] of before.entries()) {
			if (line !== after[index]) {
				changed++;
				expect(after[index]).toBe(line.replace(/\[(_\w+)\]:/g, (_whole, name: string) => `${constants.get(name)!}:`));
			}
		}

		// Thousands of keys written as literals: without them the bundle keeps every shape.
		expect(changed).toBeGreaterThan(1000);
		expect(result).not.toMatch(/\[_\w+\]:/);
	});
});
