import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

/**
 * The installed package's root (where package.json and config/ live), found by walking up from
 * this module: the same from source/ (tests), dist/ (tsc output) and the bundled dist/bin/.
 */
export const packageRoot: string = (() => {
	let directory = path.dirname(fileURLToPath(import.meta.url));
	for (;;) {
		if (fs.existsSync(path.join(directory, 'package.json')) && fs.existsSync(path.join(directory, 'config', 'default.json'))) {
			return directory;
		}

		const parent = path.dirname(directory);
		if (parent === directory) {
			throw new Error(`envwatch: cannot find its package root (package.json and config/default.json) above ${fileURLToPath(import.meta.url)}`);
		}

		directory = parent;
	}
})();
