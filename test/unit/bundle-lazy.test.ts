import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

// What each start loads before any import(): the entry and the dispatcher's chunk follow only static
// imports, so the packages bundled into them are what every run pays for. Ink and React (the
// dashboard), prom-client (--metrics-listen) and the AWS SDK (not --demo) must stay behind an
// import() (docs/design.md, "Start-up and the bundle"). Reads the bundle `npm run build` made.
const bin = fileURLToPath(new URL('../../dist/bin/', import.meta.url));

/** The files of dist/bin that `prefix`'s chunk loads by static imports, itself included. */
function filesLoadedBy(prefix: string): Set<string> {
	const entry = fs.readdirSync(bin).find(name => name === `${prefix}.js` || (name.startsWith(`${prefix}-`) && name.endsWith('.js')));
	expect(entry, `dist/bin/${prefix}*.js (run npm run build)`).toBeDefined();
	const seen = new Set<string>();
	const visit = (file: string) => {
		if (!seen.has(file)) {
			seen.add(file);
			for (const [, next] of fs.readFileSync(path.join(bin, file), 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\b[^;()]*?["']\.\/([^"']+)["']/g)) {
				visit(next!);
			}
		}
	};

	visit(entry!);
	return seen;
}

function packagesLoadedBy(prefix: string): string[] {
	const packages = new Set<string>();
	for (const file of filesLoadedBy(prefix)) {
		for (const [, name] of fs.readFileSync(path.join(bin, file), 'utf8').matchAll(/\/\/ \S*?node_modules\/((?:@[^/\s]+\/)?[^/\s]+)\//g)) {
			packages.add(name!);
		}
	}

	return [...packages].sort();
}

describe('the bundle keeps what is loaded on demand lazy', () => {
	it('the entry loads only env-paths before main', () => {
		expect(packagesLoadedBy('cli')).toEqual(['env-paths']);
	});

	it('the dispatcher loads only env-paths and meow before an import(): no Ink, React, prom-client or AWS SDK (zod is in the configuration\'s script)', () => {
		expect(packagesLoadedBy('main')).toEqual(['env-paths', 'meow']);
	});

	it('no start loads node:zlib: only a shared state table\'s documents and snapshots are gzipped, loaded when used', () => {
		const eager = [...filesLoadedBy('cli'), ...filesLoadedBy('main')];
		const importers = eager.filter(file => /\bfrom\s*["'](?:node:)?zlib["']|\bimport\s*["'](?:node:)?zlib["']/.test(fs.readFileSync(path.join(bin, file), 'utf8')));
		expect(importers).toEqual([]);
	});

	it('meow comes without its package.json reader: no normalize-package-data, SPDX tables or code frames run at start', () => {
		// scripts/bundle.mjs, 11: they cost 25-30 ms of CPU in every start, for a package.json envwatch never has meow read.
		const main = fs.readdirSync(bin).find(name => name.startsWith('main-') && name.endsWith('.js'));
		expect(fs.readFileSync(path.join(bin, main!), 'utf8')).not.toMatch(/spdx|hostedGitInfo|codeFrameColumns|requireNormalize/i);
	});
});
