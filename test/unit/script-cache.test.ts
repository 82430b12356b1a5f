import fs from 'node:fs';
import path from 'node:path';
import {cachedDataVersionTag, setFlagsFromString} from 'node:v8';
import {describe, expect, it} from 'vitest';
import {runCachedScript} from '../../source/boot/script-cache.js';
import {useTempDirs} from '../helpers/tmp-root.js';

const temporary = useTempDirs();
const tempDir = () => temporary('envwatch-script-cache-');

const uid = process.getuid?.();
/** The file name's end before any flag is set in this process. */
const suffix = `-${process.version}-${cachedDataVersionTag().toString(16)}.v8`;

/**
 * A script the way the bundle writes the dashboard's vendor code: CommonJS in its wrapper function,
 * ASCII, named by a hash. Each call writes it to a folder of its own, as each start of envwatch
 * compiles it anew: V8 would otherwise reuse this test process's compiled copy of a script from the
 * same path.
 */
let copies = 0;
function script(dir: string, name = 'vendor-0123456789ab.js'): string {
	const file = path.join(dir, `copy-${++copies}`, name);
	fs.mkdirSync(path.dirname(file));
	const functions = Array.from({length: 50}, (_, index) => `function f${index}(x) { return x * ${index} + require('node:path').sep.length; }`).join('\n');
	fs.writeFileSync(file, `(function (exports, require, module, __filename, __dirname) {${functions}\nmodule.exports = {answer: f2(21) - 1, file: __filename, dir: __dirname, exportsIsModule: exports === module.exports};\n})`);
	return file;
}

const cacheFiles = (root: string) => fs.readdirSync(path.join(root, 'script-cache')).sort();

// The dashboard's Ink and React are a script whose compiled code is kept between starts, in an
// owner-only folder: a file another user could write would be code run with the on-call engineer's
// AWS credentials.
describe('runCachedScript', () => {
	it('runs the script as a CommonJS module, stores its compiled code when asked, and uses it next time', () => {
		const dir = tempDir();
		const file = script(dir);
		const root = path.join(dir, 'cache');
		const first = runCachedScript(file, {cacheRoot: root, env: {}, uid});
		expect(first.exports).toEqual({answer: 42, file, dir: path.dirname(file), exportsIsModule: true});
		expect(first.fromCache).toBe(false);
		first.save();
		expect(cacheFiles(root)).toEqual([`vendor-0123456789ab${suffix}`]);
		expect(fs.statSync(path.join(root, 'script-cache', cacheFiles(root)[0]!)).mode & 0o077).toBe(0);

		const again = script(dir);
		const second = runCachedScript(again, {cacheRoot: root, env: {}, uid});
		expect(second.fromCache).toBe(true);
		expect(second.exports).toMatchObject({answer: 42, file: again});
		const stored = fs.readFileSync(path.join(root, 'script-cache', cacheFiles(root)[0]!));
		second.save();
		expect(fs.readFileSync(path.join(root, 'script-cache', cacheFiles(root)[0]!))).toEqual(stored);
	});

	it('runs the script from source when the stored data is damaged anywhere, or was made for other source, and replaces it', () => {
		const dir = tempDir();
		const root = path.join(dir, 'cache');
		runCachedScript(script(dir), {cacheRoot: root, env: {}, uid}).save();
		const cacheFile = path.join(root, 'script-cache', cacheFiles(root)[0]!);
		const good = fs.readFileSync(cacheFile);
		// V8 itself checks only a header: data damaged in its body crashed the process or ran wrong code.
		const body = Buffer.from(good);
		body.fill(0x5A, body.length >> 1, (body.length >> 1) + 64);
		const damages = [Buffer.from('not V8 data'), Buffer.alloc(0), good.subarray(0, 100), body];
		for (const damage of damages) {
			fs.writeFileSync(cacheFile, damage);
			const run = runCachedScript(script(dir), {cacheRoot: root, env: {}, uid});
			expect(run.fromCache).toBe(false);
			expect(run.exports).toMatchObject({answer: 42});
			run.save();
			expect(runCachedScript(script(dir), {cacheRoot: root, env: {}, uid}).fromCache).toBe(true);
		}

		// The same file name and length, other code (V8 would take the old code for it).
		const edited = script(dir);
		fs.writeFileSync(edited, fs.readFileSync(edited, 'utf8').replace('f2(21) - 1', 'f2(21) - 2'));
		const run = runCachedScript(edited, {cacheRoot: root, env: {}, uid});
		expect(run.fromCache).toBe(false);
		expect(run.exports).toMatchObject({answer: 41});
	});

	it('reads no stored file that is a link, another user\'s, or writable by others', () => {
		const dir = tempDir();
		const root = path.join(dir, 'cache');
		runCachedScript(script(dir), {cacheRoot: root, env: {}, uid}).save();
		const cacheFile = path.join(root, 'script-cache', cacheFiles(root)[0]!);
		const elsewhere = path.join(dir, 'elsewhere.v8');
		fs.renameSync(cacheFile, elsewhere);
		fs.symlinkSync(elsewhere, cacheFile);
		expect(runCachedScript(script(dir), {cacheRoot: root, env: {}, uid}).fromCache).toBe(false);

		fs.rmSync(cacheFile);
		fs.copyFileSync(elsewhere, cacheFile);
		fs.chmodSync(cacheFile, 0o666);
		expect(runCachedScript(script(dir), {cacheRoot: root, env: {}, uid}).fromCache).toBe(false);
		fs.chmodSync(cacheFile, 0o600);
		expect(runCachedScript(script(dir), {cacheRoot: root, env: {}, uid: (uid ?? 0) + 1}).fromCache).toBe(false);
		expect(runCachedScript(script(dir), {cacheRoot: root, env: {}, uid}).fromCache).toBe(true);
	});

	it('drops, when it stores new data, data stored over a week ago for another script or Node, and leftovers of a save that died', () => {
		const dir = tempDir();
		const root = path.join(dir, 'cache');
		runCachedScript(script(dir, 'vendor-aaaaaaaaaaaa.js'), {cacheRoot: root, env: {}, uid}).save();
		const folder = path.join(root, 'script-cache');
		const weekAgo = (Date.now() - 8 * 24 * 3_600_000) / 1000;
		for (const [name, old] of [['vendor-aaaaaaaaaaaa-v99.0.0-1.v8', true], ['vendor-cccccccccccc-v99.0.0-1.v8', false], ['dead.tmp', true], ['live.tmp', false]] as const) {
			fs.writeFileSync(path.join(folder, name), 'data');
			if (old) {
				fs.utimesSync(path.join(folder, name), weekAgo, weekAgo);
			}
		}

		fs.utimesSync(path.join(folder, `vendor-aaaaaaaaaaaa${suffix}`), weekAgo, weekAgo);
		runCachedScript(script(dir, 'vendor-bbbbbbbbbbbb.js'), {cacheRoot: root, env: {}, uid}).save();
		expect(cacheFiles(root)).toEqual(['live.tmp', `vendor-bbbbbbbbbbbb${suffix}`, 'vendor-cccccccccccc-v99.0.0-1.v8']);
	});

	it('keeps no cache where others could change it, nor with NODE_DISABLE_COMPILE_CACHE, and still runs the script', () => {
		const dir = tempDir();
		const cache = path.join(dir, 'cache');
		runCachedScript(script(dir), {cacheRoot: cache, env: {}, uid}).save();
		const good = path.join(cache, 'script-cache', cacheFiles(cache)[0]!);

		// The folder writable by others; then a folder above it (without the sticky bit of /tmp).
		const open = path.join(dir, 'open');
		fs.mkdirSync(path.join(open, 'script-cache'), {recursive: true});
		fs.chmodSync(path.join(open, 'script-cache'), 0o777);
		const above = path.join(dir, 'shared');
		fs.mkdirSync(path.join(above, 'home', 'script-cache'), {recursive: true, mode: 0o700});
		fs.chmodSync(above, 0o777);
		for (const root of [open, path.join(above, 'home')]) {
			const planted = path.join(root, 'script-cache', path.basename(good));
			fs.copyFileSync(good, planted);
			fs.chmodSync(planted, 0o600);
			const run = runCachedScript(script(dir), {cacheRoot: root, env: {}, uid});
			expect(run.fromCache, root).toBe(false);
			expect(run.exports).toMatchObject({answer: 42});
			fs.rmSync(planted);
			run.save();
			expect(fs.readdirSync(path.join(root, 'script-cache'))).toEqual([]);
		}

		const disabled = path.join(dir, 'disabled');
		const off = runCachedScript(script(dir), {cacheRoot: disabled, env: {NODE_DISABLE_COMPILE_CACHE: '1'}, uid});
		off.save();
		expect(off.exports).toMatchObject({answer: 42});
		expect(fs.existsSync(disabled)).toBe(false);
	});

	// Last: the flag stays set in this process.
	it('keeps apart the code stored under other V8 flags (AWS mode sets one as it runs), which V8 would reject', () => {
		const dir = tempDir();
		const root = path.join(dir, 'cache');
		runCachedScript(script(dir), {cacheRoot: root, env: {}, uid}).save();
		setFlagsFromString('--heap-growing-percent=30');
		const underFlag = runCachedScript(script(dir), {cacheRoot: root, env: {}, uid});
		expect(underFlag.fromCache).toBe(false);
		underFlag.save();
		expect(cacheFiles(root)).toEqual([`vendor-0123456789ab${suffix}`, `vendor-0123456789ab-${process.version}-${cachedDataVersionTag().toString(16)}.v8`].sort());
		expect(runCachedScript(script(dir), {cacheRoot: root, env: {}, uid}).fromCache).toBe(true);
	});
	it('stores nothing when V8\'s flags changed after the script was loaded: the data would be refused at every next start', () => {
		// The configuration's script loads before AWS mode sets V8's heap flag (scripts/bundle.mjs, 13).
		const dir = tempDir();
		const root = path.join(dir, 'cache');
		const loaded = runCachedScript(script(dir), {cacheRoot: root, env: {}, uid});
		const before = cachedDataVersionTag();
		setFlagsFromString('--heap-growing-percent=29');
		expect(cachedDataVersionTag()).not.toBe(before);
		loaded.save();
		expect(fs.existsSync(path.join(root, 'script-cache')) ? cacheFiles(root).filter(name => name.endsWith('.v8')) : []).toEqual([]);
		setFlagsFromString('--heap-growing-percent=30');
	});

	it('gives the script the modules it is handed for their names, and Node\'s for every other name', () => {
		// The dashboard's script takes the engine and the domain the rest of the CLI loaded (one copy of each).
		const dir = tempDir();
		const file = path.join(dir, 'vendor-0123456789ab.js');
		fs.writeFileSync(file, '(function (exports, require, module) {module.exports = {engine: require(\'envwatch:engine\'), sep: require(\'node:path\').sep};\n})');
		const engine = {name: 'the engine already loaded'};
		const run = runCachedScript(file, {cacheRoot: undefined, env: {}, uid, modules: {'envwatch:engine': engine}});
		expect(run.exports).toEqual({engine, sep: path.sep});
		expect((run.exports as {engine: unknown}).engine).toBe(engine);
	});
});
