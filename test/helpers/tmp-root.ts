import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, afterEach} from 'vitest';

/**
 * Runs before every test file (vitest `setupFiles`): one temporary root per file, made the
 * process's TMPDIR (and tmux's TMUX_TMPDIR), so everything the file makes under the temporary
 * directory -- its own dirs, the config and state dirs of each CLI it spawns (they inherit the
 * environment), the demo state dirs the CLI makes, tmux sockets -- lands inside it; removed, with
 * all it holds, after the file's own afterAll hooks (which stop moto, tmux and CLIs first). The
 * user's cache dir (XDG_CACHE_HOME), where the CLI keeps compiled code, is moved there too.
 */
const outer = os.tmpdir();
const saved = {TMPDIR: process.env['TMPDIR'], TMUX_TMPDIR: process.env['TMUX_TMPDIR'], XDG_CACHE_HOME: process.env['XDG_CACHE_HOME']};
export const tempRoot = fs.mkdtempSync(path.join(outer, 'envwatch-vitest-'));
process.env['TMPDIR'] = tempRoot;
process.env['TMUX_TMPDIR'] = tempRoot;
process.env['XDG_CACHE_HOME'] = path.join(tempRoot, 'cache');

afterAll(() => {
	for (const [key, value] of Object.entries(saved)) {
		if (value === undefined) {
			delete process.env[key];
		} else {
			process.env[key] = value;
		}
	}

	fs.rmSync(tempRoot, {recursive: true, force: true, maxRetries: 3});
});

/** `make(prefix)` gives a new temporary dir, removed after the test that made it. */
export function useTempDirs(): (prefix: string) => string {
	const made: string[] = [];
	afterEach(() => {
		for (const dir of made.splice(0)) {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});
	return prefix => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
		made.push(dir);
		return dir;
	};
}
