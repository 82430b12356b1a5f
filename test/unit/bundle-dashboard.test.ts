import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {bin, bundleFiles, modulesIn, scriptOf} from '../helpers/bundle.js';

// The dashboard is one script whose compiled code is kept between starts (scripts/bundle.mjs, 9):
// its own code with Ink and React, every function the first frame runs stored after that frame.
// It reads the engine and the domain the rest of the CLI loaded: a second copy would be a second
// engine's state. Reads the bundle `npm run build` made.

describe('the dashboard\'s script', () => {
	it('holds the dashboard\'s code with Ink and React, and takes the engine and the domain from the CLI\'s modules', () => {
		const script = scriptOf('vendor');
		const inside = modulesIn(script);
		expect(inside).toEqual(expect.arrayContaining(['dist/ui/run.js', 'dist/ui/App.js', 'node_modules/ink/build/ink.js']));
		expect(inside.filter(name => name.startsWith('dist/') && !name.startsWith('dist/ui/'))).toEqual([]);
		const text = fs.readFileSync(path.join(bin, script), 'latin1');
		expect(text).toContain('require("envwatch:engine")');
		expect(text).toContain('require("envwatch:domain")');
	});

	it('is the only place Ink, React and the dashboard\'s code are', () => {
		const elsewhere = bundleFiles().filter(name => !name.startsWith('vendor-')).flatMap(name => modulesIn(name).filter(module => /^(?:dist\/ui\/(?:run|App)\.js|node_modules\/(?:ink|react|react-reconciler)\/)/.test(module)).map(module => `${name}: ${module}`));
		expect(elsewhere).toEqual([]);
	});
	it('decodes yoga\'s WebAssembly with Buffer, not atob (5-15 ms of a start, scripts/bundle.mjs 3)', () => {
		const text = fs.readFileSync(path.join(bin, bundleFiles().find(name => name.startsWith('vendor-'))!), 'latin1');
		expect(text).toContain('Buffer.from(a.slice(37), "base64")');
		expect(text).not.toMatch(/xa\(a\.slice\(37\)\)/);
	});
});
