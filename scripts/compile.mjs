// Compiles source/ to dist/ file by file with esbuild: what `tsc -p tsconfig.build.json` emitted,
// without checking types again. The types are checked by `npm run typecheck` (source and tests in
// one pass); tsconfig.json's isolatedModules and verbatimModuleSyntax are what make a per-file
// compile exact (no const enums, no type-only imports left for a compiler to elide). This took the
// build from about 13 s to under 1 s, and `npm test` runs it beside lint and typecheck
// (scripts/checks.mjs). Run by `npm run build`, before scripts/bundle.mjs.
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const source = path.join(root, 'source');

/** Every .ts and .tsx file under source/ (declaration files excepted). */
function sources(dir) {
	return fs.readdirSync(dir, {withFileTypes: true}).flatMap(entry => {
		const file = path.join(dir, entry.name);
		if (entry.isDirectory()) {
			return sources(file);
		}

		return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [file] : [];
	});
}

const result = await esbuild.build({
	entryPoints: sources(source),
	outdir: path.join(root, 'dist'),
	outbase: source,
	bundle: false,
	format: 'esm',
	platform: 'node',
	target: 'es2022',
	jsx: 'automatic',
	sourcemap: true,
	tsconfig: path.join(root, 'tsconfig.build.json'),
	logLevel: 'warning',
});
if (result.errors.length > 0) {
	process.exit(1);
}
