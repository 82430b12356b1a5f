import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {bin, bundleFiles, expectStoredAndTaken, modulesIn, scriptCache, scriptOf} from '../helpers/bundle.js';

// The engine (its code: the session, the polls, the state dir) is a script whose compiled code is
// kept between starts (scripts/bundle.mjs, 14), as the configuration's is: it takes the domain, the
// configuration and the providers the CLI loaded, and every import of the engine's face (the
// dashboard's `envwatch:engine` too) runs it. Reads the bundle `npm run build` made.
describe('the engine\'s script', () => {
	it('holds the engine\'s code alone, takes the other layers from the CLI\'s modules, and no chunk has a second copy', () => {
		const script = scriptOf('engine');
		const inside = modulesIn(script);
		expect(inside).toEqual(expect.arrayContaining(['dist/engine/wiring.js', 'dist/engine/monitor.js', 'dist/engine/state/audit.js']));
		expect(inside.filter(name => !name.startsWith('dist/engine/'))).toEqual([]);
		const text = fs.readFileSync(path.join(bin, script), 'latin1');
		expect(text).toContain('require("envwatch:domain")');
		expect(text).toContain('require("envwatch:config")');
		const elsewhere = bundleFiles().filter(name => !name.startsWith('engine-')).flatMap(name => modulesIn(name).filter(module => module.startsWith('dist/engine/')).map(module => `${name}: ${module}`));
		expect(elsewhere).toEqual([]);
	});

	it('stores its compiled code in the user\'s owner-only cache dir once a run has polled (not on --help), and starts from it next time', () => {
		const cache = scriptCache('engine');
		// --help runs none of the engine's functions: code stored then would be used, and kept, by every start.
		cache.help();
		expect(cache.stored()).toEqual([]);
		cache.once();
		expectStoredAndTaken(cache);
	});
});
