import {createHash} from 'node:crypto';
import fs from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import {privateDirectory} from './compile-cache.js';
import {v8FlagsSet} from './v8-flags.js';

export type CachedScript = {
	/** What the script put on `module.exports`. */
	exports: unknown;
	/** True when V8 took the stored code (the start skipped compiling the script). */
	fromCache: boolean;
	/**
	 * Stores V8's code for the script as it is now (with every function compiled so far), when no
	 * usable copy was stored: called once the script has done its start-up work. Never throws; a
	 * cache that cannot be written is only a slower next start.
	 */
	save(): void;
};

/**
 * Runs a CommonJS-style script (the bundle's Ink and React, dist/bin/vendor-HASH.js) with V8's code
 * cache kept on disk, which Node's own compile cache does not cover and Node 20 does not have. A
 * start then deserialises the compiled code instead of parsing 0.9 MB of JavaScript again.
 *
 * The cache file is named by the script's file name, which holds a hash of its content, by Node's
 * version and architecture, and by the V8 flags envwatch set (v8-flags.ts); V8 itself rejects data
 * made by another V8 or under other flags, and that data is then replaced. Like the compile cache it lives only in a folder of this user's
 * cache dir that no one else can write (`cacheRoot` undefined, or NODE_DISABLE_COMPILE_CACHE set:
 * no cache).
 */
export function runCachedScript(file: string, options: {cacheRoot: string | undefined; env: NodeJS.ProcessEnv; uid?: number | undefined}): CachedScript {
	const source = fs.readFileSync(file, 'utf8');
	const directory = options.cacheRoot && !options.env['NODE_DISABLE_COMPILE_CACHE']
		? privateDirectory(options.cacheRoot, 'script-cache', options.uid)
		: undefined;
	const node = `-${process.version}-${process.arch}`;
	const flags = v8FlagsSet().length > 0 ? `-${createHash('sha256').update(v8FlagsSet().join(' ')).digest('hex').slice(0, 8)}` : '';
	const base = path.basename(file, '.js');
	const cacheFile = directory && path.join(directory, `${base}${node}${flags}.v8`);
	let cachedData: Buffer | undefined;
	if (cacheFile) {
		try {
			cachedData = fs.readFileSync(cacheFile);
		} catch {
			cachedData = undefined;
		}
	}

	// The wrapper Node gives a CommonJS module, so the script reads the same as one.
	const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {filename: file, ...(cachedData ? {cachedData} : {})});
	const fromCache = cachedData !== undefined && !script.cachedDataRejected;
	const module = {exports: {} as unknown};
	const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: {exports: unknown}, filename: string, dirname: string) => void;
	run(module.exports, createRequire(file), module, file, path.dirname(file));
	let saved = fromCache || !cacheFile;
	return {
		exports: module.exports,
		fromCache,
		save() {
			if (saved || !cacheFile || !directory) {
				return;
			}

			saved = true;
			try {
				const temporary = `${cacheFile}.${process.pid}.tmp`;
				fs.writeFileSync(temporary, script.createCachedData(), {mode: 0o600});
				fs.renameSync(temporary, cacheFile);
				// This Node's data for older builds of the script is of no more use.
				for (const name of fs.readdirSync(directory)) {
					if (!name.startsWith(`${base}-`) && name.includes(node) && name.endsWith('.v8')) {
						fs.rmSync(path.join(directory, name), {force: true});
					}
				}
			} catch {
				// Only a slower next start.
			}
		},
	};
}
