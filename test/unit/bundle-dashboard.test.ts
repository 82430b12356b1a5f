import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

// The dashboard is one script whose compiled code is kept between starts (scripts/bundle.mjs, 9):
// its own code with Ink and React, every function the first frame runs stored after that frame.
// It reads the engine and the domain the rest of the CLI loaded: a second copy would be a second
// engine's state. Reads the bundle `npm run build` made.
const bin = fileURLToPath(new URL('../../dist/bin/', import.meta.url));
const files = () => fs.readdirSync(bin).filter(name => name.endsWith('.js'));
const modulesIn = (file: string) => [...fs.readFileSync(path.join(bin, file), 'latin1').matchAll(/^\/\/ ((?:dist|node_modules)\/\S+)$/gm)].map(match => match[1]!);

describe('the dashboard\'s script', () => {
	it('holds the dashboard\'s code with Ink and React, and takes the engine and the domain from the CLI\'s modules', () => {
		const scripts = files().filter(name => /^vendor-[0-9a-f]{12}\.js$/.test(name));
		expect(scripts, 'dist/bin/vendor-HASH.js (run npm run build)').toHaveLength(1);
		const inside = modulesIn(scripts[0]!);
		expect(inside).toEqual(expect.arrayContaining(['dist/ui/run.js', 'dist/ui/App.js', 'node_modules/ink/build/ink.js']));
		expect(inside.filter(name => name.startsWith('dist/') && !name.startsWith('dist/ui/'))).toEqual([]);
		const text = fs.readFileSync(path.join(bin, scripts[0]!), 'latin1');
		expect(text).toContain('require("envwatch:engine")');
		expect(text).toContain('require("envwatch:domain")');
	});

	it('is the only place Ink, React and the dashboard\'s code are', () => {
		const elsewhere = files().filter(name => !name.startsWith('vendor-')).flatMap(name => modulesIn(name).filter(module => /^(?:dist\/ui\/(?:run|App)\.js|node_modules\/(?:ink|react|react-reconciler)\/)/.test(module)).map(module => `${name}: ${module}`));
		expect(elsewhere).toEqual([]);
	});
	it('decodes yoga\'s WebAssembly with Buffer, not atob (5-15 ms of a start, scripts/bundle.mjs 3)', () => {
		const text = fs.readFileSync(path.join(bin, files().find(name => name.startsWith('vendor-'))!), 'latin1');
		expect(text).toContain('Buffer.from(a.slice(37), "base64")');
		expect(text).not.toMatch(/xa\(a\.slice\(37\)\)/);
	});
});
