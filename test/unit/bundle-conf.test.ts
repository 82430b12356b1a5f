import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

// conf (and ajv, which it imports) is for `config set|unset|edit` only: a start must never load it.
// The entry and the dispatcher's chunk follow only static imports, so the packages bundled into
// what they reach are what every run pays for. Reads the bundle `npm run build` made.
const bin = fileURLToPath(new URL('../../dist/bin/', import.meta.url));

function chunk(prefix: string): string {
	const name = fs.readdirSync(bin).find(file => file === `${prefix}.js` || (file.startsWith(`${prefix}-`) && file.endsWith('.js')));
	expect(name, `dist/bin/${prefix}*.js (run npm run build)`).toBeDefined();
	return name!;
}

/** The chunks `entry` reaches: by static imports only, or by import() too. */
function reached(entry: string, lazy: boolean): Set<string> {
	const seen = new Set<string>();
	const imports = /(?:^|\n)\s*(?:import|export)\b[^;()]*?["']\.\/([^"']+)["']/g;
	const pattern = lazy ? new RegExp(`${imports.source}|\\bimport\\(["']\\./([^"']+)["']\\)`, 'g') : imports;
	const visit = (file: string) => {
		// A chunk is a file of dist/bin; the AWS SDK's code also holds strings that look like imports.
		if (!seen.has(file) && fs.existsSync(path.join(bin, file))) {
			seen.add(file);
			for (const [, next, dynamic] of fs.readFileSync(path.join(bin, file), 'utf8').matchAll(pattern)) {
				visit((next ?? dynamic)!);
			}
		}
	};

	visit(entry);
	return seen;
}

function packagesIn(files: Iterable<string>): Set<string> {
	const packages = new Set<string>();
	for (const file of files) {
		for (const [, name] of fs.readFileSync(path.join(bin, file), 'utf8').matchAll(/\/\/ \S*?node_modules\/((?:@[^/\s]+\/)?[^/\s]+)\//g)) {
			packages.add(name!);
		}
	}

	return packages;
}

describe('conf is loaded only by the store\'s commands', () => {
	it('no start loads conf or ajv: they are bundled behind an import() of the dispatcher', () => {
		const eager = packagesIn([...reached(chunk('cli'), false), ...reached(chunk('main'), false)]);
		expect([...eager].filter(name => ['conf', 'ajv', 'ajv-formats', 'atomically', 'dot-prop'].includes(name))).toEqual([]);
		expect(packagesIn(reached(chunk('main'), true))).toContain('conf');
	});
});
