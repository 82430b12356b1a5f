import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {runCachedScript} from '../../source/script-cache.js';
import {setV8Flag} from '../../source/v8-flags.js';
import {useTempDirs} from '../helpers/tmp-root.js';

const temporary = useTempDirs();
const tempDir = () => temporary('envwatch-script-cache-');

const uid = process.getuid?.();
const suffix = `-${process.version}-${process.arch}.v8`;

/**
 * A script the way the bundle writes the dashboard's vendor code: CommonJS, named by a hash. Each
 * call writes it to a folder of its own, as each start of envwatch compiles it anew: V8 would
 * otherwise reuse this test process's compiled copy of a script from the same path.
 */
let copies = 0;
function script(dir: string, name = 'vendor-0123456789ab.js'): string {
	const file = path.join(dir, `copy-${++copies}`, name);
	fs.mkdirSync(path.dirname(file));
	const functions = Array.from({length: 50}, (_, index) => `function f${index}(x) { return x * ${index} + require('node:path').sep.length; }`).join('\n');
	fs.writeFileSync(file, `${functions}\nmodule.exports = {answer: f2(21) - 1, file: __filename, dir: __dirname, exportsIsModule: exports === module.exports};\n`);
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

	it('runs the script from source when the stored data is damaged, and replaces it', () => {
		const dir = tempDir();
		const root = path.join(dir, 'cache');
		runCachedScript(script(dir), {cacheRoot: root, env: {}, uid}).save();
		const cacheFile = path.join(root, 'script-cache', cacheFiles(root)[0]!);
		for (const damage of [Buffer.from('not V8 data'), Buffer.alloc(0), fs.readFileSync(cacheFile).subarray(0, 64)]) {
			fs.writeFileSync(cacheFile, damage);
			const run = runCachedScript(script(dir), {cacheRoot: root, env: {}, uid});
			expect(run.fromCache).toBe(false);
			expect(run.exports).toMatchObject({answer: 42});
			run.save();
			expect(runCachedScript(script(dir), {cacheRoot: root, env: {}, uid}).fromCache).toBe(true);
		}
	});

	it('drops this Node\'s data for an older build of the script when it stores a new one', () => {
		const dir = tempDir();
		const root = path.join(dir, 'cache');
		runCachedScript(script(dir, 'vendor-aaaaaaaaaaaa.js'), {cacheRoot: root, env: {}, uid}).save();
		fs.writeFileSync(path.join(root, 'script-cache', 'vendor-aaaaaaaaaaaa-v99.0.0-x64.v8'), 'another Node\'s');
		runCachedScript(script(dir, 'vendor-bbbbbbbbbbbb.js'), {cacheRoot: root, env: {}, uid}).save();
		expect(cacheFiles(root)).toEqual(['vendor-aaaaaaaaaaaa-v99.0.0-x64.v8', `vendor-bbbbbbbbbbbb${suffix}`]);
	});

	it('keeps no cache where others could write it, nor with NODE_DISABLE_COMPILE_CACHE, and still runs the script', () => {
		const dir = tempDir();
		const open = path.join(dir, 'open');
		fs.mkdirSync(path.join(open, 'script-cache'), {recursive: true});
		fs.chmodSync(path.join(open, 'script-cache'), 0o777);
		const planted = path.join(open, 'script-cache', `vendor-0123456789ab${suffix}`);
		const cache = path.join(dir, 'cache');
		runCachedScript(script(dir), {cacheRoot: cache, env: {}, uid}).save();
		fs.copyFileSync(path.join(cache, 'script-cache', cacheFiles(cache)[0]!), planted);

		const run = runCachedScript(script(dir), {cacheRoot: open, env: {}, uid});
		expect(run.fromCache).toBe(false);
		expect(run.exports).toMatchObject({answer: 42});
		fs.rmSync(planted);
		run.save();
		expect(fs.readdirSync(path.join(open, 'script-cache'))).toEqual([]);

		const disabled = path.join(dir, 'disabled');
		const off = runCachedScript(script(dir), {cacheRoot: disabled, env: {NODE_DISABLE_COMPILE_CACHE: '1'}, uid});
		off.save();
		expect(off.exports).toMatchObject({answer: 42});
		expect(fs.existsSync(disabled)).toBe(false);
	});

	// Last: the flag stays set in this process.
	it('keeps apart the code stored under the V8 flags envwatch sets (AWS mode sets one), which V8 would reject for another', () => {
		const dir = tempDir();
		const root = path.join(dir, 'cache');
		runCachedScript(script(dir), {cacheRoot: root, env: {}, uid}).save();
		setV8Flag('--heap-growing-percent=30');
		const underFlag = runCachedScript(script(dir), {cacheRoot: root, env: {}, uid});
		expect(underFlag.fromCache).toBe(false);
		underFlag.save();
		const [flagged, plain, ...more] = cacheFiles(root);
		expect(more).toEqual([]);
		expect(plain).toBe(`vendor-0123456789ab${suffix}`);
		expect(flagged).toMatch(new RegExp(`^vendor-0123456789ab-${process.version.replaceAll('.', '\\.')}-${process.arch}-[0-9a-f]{8}\\.v8$`));
		expect(runCachedScript(script(dir), {cacheRoot: root, env: {}, uid}).fromCache).toBe(true);
	});
});
