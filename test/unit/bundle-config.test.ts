import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {cliNode} from '../helpers/node.js';
import {tempRoot} from '../helpers/tmp-root.js';

// The configuration (its code and zod) is a script whose compiled code is kept between starts
// (scripts/bundle.mjs, 13), as the dashboard's is: it takes the domain the CLI loaded, and every
// import of config's face runs it. Reads the bundle `npm run build` made.
const bin = fileURLToPath(new URL('../../dist/bin/', import.meta.url));
const files = () => fs.readdirSync(bin).filter(name => name.endsWith('.js'));
const modulesIn = (file: string) => [...fs.readFileSync(path.join(bin, file), 'latin1').matchAll(/^\/\/ ((?:dist|node_modules)\/\S+)$/gm)].map(match => match[1]!);

describe('the configuration\'s script', () => {
	it('holds config\'s code with zod, takes the domain from the CLI\'s modules, and no start loads a second copy', () => {
		const scripts = files().filter(name => /^config-[0-9a-f]{12}\.js$/.test(name));
		expect(scripts, 'dist/bin/config-HASH.js (run npm run build)').toHaveLength(1);
		const inside = modulesIn(scripts[0]!);
		expect(inside).toEqual(expect.arrayContaining(['dist/config/load.js', 'dist/config/schema.js', 'node_modules/zod/v4/mini/schemas.js']));
		expect(inside.filter(name => name.startsWith('dist/') && !name.startsWith('dist/config/'))).toEqual([]);
		expect(fs.readFileSync(path.join(bin, scripts[0]!), 'latin1')).toContain('require("envwatch:domain")');
		// Only the user store's chunk (conf, for `config get|set|unset|edit`) has config's code besides.
		const elsewhere = files().filter(name => !name.startsWith('config-') && !name.startsWith('user-store-')).flatMap(name => modulesIn(name).filter(module => /^(?:dist\/config\/|node_modules\/zod\/)/.test(module)).map(module => `${name}: ${module}`));
		expect(elsewhere).toEqual([]);
	});

	it('stores its compiled code in the user\'s owner-only cache dir once a run has loaded the config, and starts from it next time', () => {
		const cache = path.join(tempRoot, 'config-script-cache');
		const folder = path.join(cache, 'envwatch-nodejs', 'script-cache');
		const stored = () => (fs.existsSync(folder) ? fs.readdirSync(folder).filter(name => name.startsWith('config-') && name.endsWith('.v8')) : []);
		const once = () => {
			const run = spawnSync(cliNode, [path.join(bin, 'cli.js'), '--demo', 'calm', '--once', '--read-only', '--state-dir', path.join(tempRoot, 'config-script-state')], {encoding: 'utf8', env: {...process.env, XDG_CACHE_HOME: cache}, timeout: 60_000});
			expect(run.stdout).toMatch(/Global: .* OK/);
			expect(run.status).toBe(0);
		};

		once();
		expect(stored()).toHaveLength(1);
		const file = path.join(folder, stored()[0]!);
		expect(fs.statSync(file).mode & 0o077).toBe(0);
		// V8 took the stored code: it is not written again.
		fs.utimesSync(file, 0, 0);
		once();
		expect(fs.statSync(file).mtimeMs).toBe(0);
	});
});
