import {createHash, randomUUID} from 'node:crypto';
import fs from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {cachedDataVersionTag} from 'node:v8';
import vm from 'node:vm';
import {privateDirectory} from './compile-cache.js';

export type CachedScript = {
	/** What the script put on `module.exports`. */
	exports: unknown;
	/** True when V8 took the stored code (the start skipped compiling the script). */
	fromCache: boolean;
	/**
	 * Stores V8's code for the script as it is now (with every function compiled so far), when no
	 * usable copy was stored and V8's flags are still those the script was loaded under: called
	 * once the script has done its start-up work. Never throws; a cache that cannot be written is
	 * only a slower next start.
	 */
	save(): void;
};

/** What a cache file starts with: this tag, the SHA-256 of the script's source, then of the data. */
const magic = Buffer.from('envwatch script cache 1\n');
const header = magic.length + 64;
/** Files this old that no start has written are dropped when a new one is stored. */
const unusedMs = 7 * 24 * 3_600_000;

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();

/**
 * Runs a CommonJS script written as its wrapper function, `(function (exports, require, module,
 * __filename, __dirname) {...})`, in ASCII (the bundle's Ink and React, dist/bin/vendor-HASH.js),
 * with V8's code cache kept on disk, which Node's own compile cache does not cover and Node 20 does
 * not have. A start then deserialises the compiled code instead of parsing 0.9 MB of JavaScript.
 *
 * V8 checks only that stored data was made by the same V8 under the same flags for a source of the
 * same length, and runs damaged data as it is (it crashed the process in a test). So the file
 * holds the SHA-256 of the source it was made for and of the data, both checked before V8 sees
 * it (about 1 ms); it is named by the script and by V8's tag for its version, flags and CPU
 * (`cachedDataVersionTag`, which also follows flags set at run time, as AWS mode does). Data that
 * fails a check is not used, and is replaced. Like Node's compile cache it is kept only in a
 * folder of this user's cache dir that no one else can change (compile-cache.ts), and a file is
 * read only if it is a regular file, not a link, of this user's, that no one else can write.
 * `cacheRoot` undefined or NODE_DISABLE_COMPILE_CACHE set: no cache.
 */
export function runCachedScript(file: string, options: {
	cacheRoot: string | undefined;
	env: NodeJS.ProcessEnv;
	uid?: number | undefined;
	/** What the script's `require(name)` gets for these names (modules already loaded), before Node's. */
	modules?: Readonly<Record<string, unknown>>;
}): CachedScript {
	const bytes = fs.readFileSync(file);
	const directory = options.cacheRoot && !options.env['NODE_DISABLE_COMPILE_CACHE']
		? privateDirectory(options.cacheRoot, 'script-cache', options.uid)
		: undefined;
	const tag = cachedDataVersionTag();
	const cacheFile = directory && path.join(directory, `${path.basename(file, '.js')}-${process.version}-${tag.toString(16)}.v8`);
	const sourceHash = cacheFile ? sha256(bytes) : undefined;
	const cachedData = cacheFile && sourceHash ? readCache(cacheFile, sourceHash, options.uid) : undefined;

	// The file is the function Node wraps a CommonJS module in, in ASCII (scripts/bundle.mjs): it is
	// compiled as read, without a copy of its 0.8 MB.
	const script = new vm.Script(bytes.toString('latin1'), {filename: file, ...(cachedData ? {cachedData} : {})});
	const fromCache = cachedData !== undefined && !script.cachedDataRejected;
	const module = {exports: {} as unknown};
	const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: {exports: unknown}, filename: string, dirname: string) => void;
	run(module.exports, scriptRequire(file, options.modules ?? {}), module, file, path.dirname(file));
	let saved = fromCache;
	return {
		exports: module.exports,
		fromCache,
		save() {
			if (saved || !cacheFile || !directory || !sourceHash) {
				return;
			}

			saved = true;
			// V8's flags changed since the script was loaded (AWS mode sets one): the data would carry
			// the new flags, which V8 refuses at every next start, loaded under the old ones; stored,
			// it would be written again at each start and never used.
			if (cachedDataVersionTag() !== tag) {
				return;
			}

			writeCache(directory, cacheFile, sourceHash, script.createCachedData());
		},
	};
}

/** Node's `require` for `file`, where a name of `modules` is that module. */
function scriptRequire(file: string, modules: Readonly<Record<string, unknown>>): NodeJS.Require {
	const nodeRequire = createRequire(file);
	const require = (name: string): unknown => (Object.hasOwn(modules, name) ? modules[name] : nodeRequire(name));
	return Object.assign(require, nodeRequire);
}

/** The stored data for the source of `sourceHash`, if the file passes every check; else undefined. */
function readCache(cacheFile: string, sourceHash: Buffer, uid: number | undefined): Buffer | undefined {
	let descriptor: number | undefined;
	try {
		descriptor = fs.openSync(cacheFile, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
		const stat = fs.fstatSync(descriptor);
		if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
			return undefined;
		}

		const stored = fs.readFileSync(descriptor);
		const data = stored.subarray(header);
		const intact = stored.length > header
			&& stored.subarray(0, magic.length).equals(magic)
			&& stored.subarray(magic.length, magic.length + 32).equals(sourceHash)
			&& stored.subarray(magic.length + 32, header).equals(sha256(data));
		return intact ? data : undefined;
	} catch {
		// Missing (the first start), a link, unreadable: compiled from source.
		return undefined;
	} finally {
		if (descriptor !== undefined) {
			fs.closeSync(descriptor);
		}
	}
}

function writeCache(directory: string, cacheFile: string, sourceHash: Buffer, data: Buffer): void {
	const temporary = path.join(directory, `${randomUUID()}.tmp`);
	try {
		fs.writeFileSync(temporary, Buffer.concat([magic, sourceHash, sha256(data), data]), {mode: 0o600, flag: 'wx'});
		fs.renameSync(temporary, cacheFile);
	} catch {
		// A full disk or a removed folder: only a slower next start.
		tidy(() => fs.rmSync(temporary, {force: true}));
		return;
	}

	// Data stored over a week ago for another script or V8 (an older envwatch, another Node) and the
	// leftovers of a save that died are dropped; an install still in use stores its data again.
	tidy(() => {
		const now = Date.now();
		for (const name of fs.readdirSync(directory)) {
			const other = path.join(directory, name);
			if (other !== cacheFile && (name.endsWith('.v8') || name.endsWith('.tmp')) && now - fs.lstatSync(other).mtimeMs > (name.endsWith('.tmp') ? 3_600_000 : unusedMs)) {
				fs.rmSync(other, {force: true});
			}
		}
	});
}

/** Removing what is of no more use; nothing depends on it. */
function tidy(remove: () => void): void {
	try {
		remove();
	} catch {
		// Left for the next save.
	}
}
