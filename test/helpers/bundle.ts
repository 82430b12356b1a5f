import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {expect} from 'vitest';
import {cliNode} from './node.js';
import {tempRoot} from './tmp-root.js';

// The bundle `npm run build` made (dist/bin), read by the tests of its code-cached scripts
// (scripts/bundle.mjs: the dashboard's, the configuration's, the engine's).

export const bin = fileURLToPath(new URL('../../dist/bin/', import.meta.url));

export function bundleFiles(): string[] {
	return fs.readdirSync(bin).filter(name => name.endsWith('.js'));
}

/** The modules esbuild put in a file of the bundle (its `// dist/...` and `// node_modules/...` marks). */
export function modulesIn(file: string): string[] {
	return [...fs.readFileSync(path.join(bin, file), 'latin1').matchAll(/^\/\/ ((?:dist|node_modules)\/\S+)$/gm)].map(match => match[1]!);
}

/** The one script of a kind (`config`, `engine`, `vendor`): `KIND-HASH.js`. */
export function scriptOf(kind: string): string {
	const scripts = bundleFiles().filter(name => new RegExp(`^${kind}-[0-9a-f]{12}\\.js$`).test(name));
	expect(scripts, `dist/bin/${kind}-HASH.js (run npm run build)`).toHaveLength(1);
	return scripts[0]!;
}

/**
 * A script's compiled code as the user's cache keeps it: `stored()` lists the cache files of `kind`,
 * `once()` runs `--demo calm --once` against that cache, `help()` runs `--help`.
 */
export function scriptCache(kind: string): {folder: string; stored: () => string[]; once: () => void; help: () => void} {
	const cache = path.join(tempRoot, `${kind}-script-cache`);
	const folder = path.join(cache, 'envwatch-nodejs', 'script-cache');
	const run = (args: string[]) => spawnSync(cliNode, [path.join(bin, 'cli.js'), ...args], {encoding: 'utf8', env: {...process.env, XDG_CACHE_HOME: cache}, timeout: 60_000});
	return {
		folder,
		stored: () => (fs.existsSync(folder) ? fs.readdirSync(folder).filter(name => name.startsWith(`${kind}-`) && name.endsWith('.v8')) : []),
		once() {
			const result = run(['--demo', 'calm', '--once', '--read-only', '--state-dir', path.join(tempRoot, `${kind}-script-state`)]);
			expect(result.stdout).toMatch(/Global: .* OK/);
			expect(result.status).toBe(0);
		},
		help() {
			expect(run(['--help']).status).toBe(0);
		},
	};
}

/** After `once()` stored it: the cache file is owner-only, and the next start takes it (it is not written again). */
export function expectStoredAndTaken(cache: ReturnType<typeof scriptCache>): void {
	expect(cache.stored()).toHaveLength(1);
	const file = path.join(cache.folder, cache.stored()[0]!);
	expect(fs.statSync(file).mode & 0o077).toBe(0);
	fs.utimesSync(file, 0, 0);
	cache.once();
	expect(fs.statSync(file).mtimeMs).toBe(0);
}
