import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {bin, bundleFiles, expectStoredAndTaken, modulesIn, scriptCache, scriptOf} from '../helpers/bundle.js';

// The configuration (its code and zod) is a script whose compiled code is kept between starts
// (scripts/bundle.mjs, 13), as the dashboard's is: it takes the domain the CLI loaded, and every
// import of config's face runs it. Reads the bundle `npm run build` made.
describe('the configuration\'s script', () => {
	it('holds config\'s code with zod, takes the domain from the CLI\'s modules, and no start loads a second copy', () => {
		const script = scriptOf('config');
		const inside = modulesIn(script);
		expect(inside).toEqual(expect.arrayContaining(['dist/config/load.js', 'dist/config/schema.js', 'node_modules/zod/v4/mini/schemas.js']));
		expect(inside.filter(name => name.startsWith('dist/') && !name.startsWith('dist/config/'))).toEqual([]);
		expect(fs.readFileSync(path.join(bin, script), 'latin1')).toContain('require("envwatch:domain")');
		// Only the user store's chunk (conf, for `config get|set|unset|edit`) has config's code besides.
		const elsewhere = bundleFiles().filter(name => !name.startsWith('config-') && !name.startsWith('user-store-')).flatMap(name => modulesIn(name).filter(module => /^(?:dist\/config\/|node_modules\/zod\/)/.test(module)).map(module => `${name}: ${module}`));
		expect(elsewhere).toEqual([]);
	});

	it('stores its compiled code in the user\'s owner-only cache dir once a run has loaded the config, and starts from it next time', () => {
		const cache = scriptCache('config');
		cache.once();
		expectStoredAndTaken(cache);
	});
});
