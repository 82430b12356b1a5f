import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {enablePrivateCompileCache} from '../../source/boot/compile-cache.js';
import {useTempDirs} from '../helpers/tmp-root.js';

const temporary = useTempDirs();
const home = () => temporary('envwatch-cache-');

const uid = process.getuid?.();

function run(cacheRoot: string, env: NodeJS.ProcessEnv = {}) {
	const enabled: string[] = [];
	const directory = enablePrivateCompileCache({enable: dir => enabled.push(dir), cacheRoot, env, uid});
	return {directory, enabled};
}

// Node's default place for its compile cache is the shared temp dir: on a jump host another user
// could leave compiled code there for envwatch to run. envwatch uses only a folder of its own.
describe('the compile cache (Node 22.1+)', () => {
	it('is turned on in an owner-only folder of this user\'s cache dir', () => {
		const root = path.join(home(), 'envwatch-nodejs');
		const {directory, enabled} = run(root);
		expect(directory).toBe(path.join(root, 'node-compile-cache'));
		expect(enabled).toEqual([directory]);
		for (const dir of [root, directory!]) {
			expect(fs.statSync(dir).mode & 0o077).toBe(0);
		}
	});

	it('stays off when the folder, or the one above it, is writable by others, or is a link', () => {
		const open = path.join(home(), 'envwatch-nodejs');
		fs.mkdirSync(path.join(open, 'node-compile-cache'), {recursive: true});
		fs.chmodSync(path.join(open, 'node-compile-cache'), 0o777);
		expect(run(open)).toEqual({directory: undefined, enabled: []});

		const parent = path.join(home(), 'envwatch-nodejs');
		fs.mkdirSync(parent);
		fs.chmodSync(parent, 0o777);
		expect(run(parent)).toEqual({directory: undefined, enabled: []});

		const elsewhere = home();
		const linked = path.join(home(), 'envwatch-nodejs');
		fs.mkdirSync(linked, {mode: 0o700});
		fs.symlinkSync(elsewhere, path.join(linked, 'node-compile-cache'));
		expect(run(linked)).toEqual({directory: undefined, enabled: []});
	});

	it('leaves the choice to NODE_COMPILE_CACHE and NODE_DISABLE_COMPILE_CACHE, and does nothing where Node has no cache', () => {
		const root = path.join(home(), 'envwatch-nodejs');
		expect(run(root, {NODE_COMPILE_CACHE: '/somewhere'})).toEqual({directory: undefined, enabled: []});
		expect(run(root, {NODE_DISABLE_COMPILE_CACHE: '1'})).toEqual({directory: undefined, enabled: []});
		expect(enablePrivateCompileCache({enable: undefined, cacheRoot: root, env: {}, uid})).toBeUndefined();
		expect(fs.existsSync(root)).toBe(false);
	});
});
