import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll} from 'vitest';

/**
 * Runs before every test file (vitest `setupFiles`): one temporary root per file, made the
 * process's TMPDIR (and tmux's TMUX_TMPDIR), so everything the file makes under the temporary
 * directory -- its own dirs, the config and state dirs of each CLI it spawns (they inherit the
 * environment), the demo state dirs the CLI makes, tmux sockets -- lands inside it; removed, with
 * all it holds, after the file's own afterAll hooks (which stop moto, tmux and CLIs first).
 */
const outer = os.tmpdir();
const saved = {TMPDIR: process.env['TMPDIR'], TMUX_TMPDIR: process.env['TMUX_TMPDIR']};
export const tempRoot = fs.mkdtempSync(path.join(outer, 'envwatch-vitest-'));
process.env['TMPDIR'] = tempRoot;
process.env['TMUX_TMPDIR'] = tempRoot;

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
