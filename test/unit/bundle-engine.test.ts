import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {cliNode} from '../helpers/node.js';
import {tempRoot} from '../helpers/tmp-root.js';

// The engine (its code: the session, the polls, the state dir) is a script whose compiled code is
// kept between starts (scripts/bundle.mjs, 14), as the configuration's is: it takes the domain, the
// configuration and the providers the CLI loaded, and every import of the engine's face (the
// dashboard's `envwatch:engine` too) runs it. Reads the bundle `npm run build` made.
const bin = fileURLToPath(new URL('../../dist/bin/', import.meta.url));
const files = () => fs.readdirSync(bin).filter(name => name.endsWith('.js'));
const modulesIn = (file: string) => [...fs.readFileSync(path.join(bin, file), 'latin1').matchAll(/^\/\/ ((?:dist|node_modules)\/\S+)$/gm)].map(match => match[1]!);

describe('the engine\'s script', () => {
	it('holds the engine\'s code alone, takes the other layers from the CLI\'s modules, and no chunk has a second copy', () => {
		const scripts = files().filter(name => /^engine-[0-9a-f]{12}\.js$/.test(name));
		expect(scripts, 'dist/bin/engine-HASH.js (run npm run build)').toHaveLength(1);
		const inside = modulesIn(scripts[0]!);
		expect(inside).toEqual(expect.arrayContaining(['dist/engine/wiring.js', 'dist/engine/monitor.js', 'dist/engine/state/audit.js']));
		expect(inside.filter(name => !name.startsWith('dist/engine/'))).toEqual([]);
		const text = fs.readFileSync(path.join(bin, scripts[0]!), 'latin1');
		expect(text).toContain('require("envwatch:domain")');
		expect(text).toContain('require("envwatch:config")');
		const elsewhere = files().filter(name => !name.startsWith('engine-')).flatMap(name => modulesIn(name).filter(module => module.startsWith('dist/engine/')).map(module => `${name}: ${module}`));
		expect(elsewhere).toEqual([]);
	});

	it('stores its compiled code in the user\'s owner-only cache dir once a run has polled (not on --help), and starts from it next time', () => {
		const cache = path.join(tempRoot, 'engine-script-cache');
		const folder = path.join(cache, 'envwatch-nodejs', 'script-cache');
		const stored = () => (fs.existsSync(folder) ? fs.readdirSync(folder).filter(name => name.startsWith('engine-') && name.endsWith('.v8')) : []);
		const once = () => {
			const run = spawnSync(cliNode, [path.join(bin, 'cli.js'), '--demo', 'calm', '--once', '--read-only', '--state-dir', path.join(tempRoot, 'engine-script-state')], {encoding: 'utf8', env: {...process.env, XDG_CACHE_HOME: cache}, timeout: 60_000});
			expect(run.stdout).toMatch(/Global: .* OK/);
			expect(run.status).toBe(0);
		};

		// --help runs none of the engine's functions: code stored then would be used, and kept, by every start.
		const help = spawnSync(cliNode, [path.join(bin, 'cli.js'), '--help'], {encoding: 'utf8', env: {...process.env, XDG_CACHE_HOME: cache}, timeout: 60_000});
		expect(help.status).toBe(0);
		expect(stored()).toEqual([]);
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
