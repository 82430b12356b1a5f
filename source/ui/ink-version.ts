import fs from 'node:fs';
import {createRequire} from 'node:module';
import {pathToFileURL} from 'node:url';

/**
 * The version of the Ink that draws the dashboard, read from its package.json; undefined when it
 * cannot be read. The bundle (scripts/bundle.mjs) replaces this module with the version it
 * bundled, so the built CLI reads no file for it.
 */
export function inkVersion(): string | undefined {
	try {
		// Ink's package exports only its entry (`build/index.js`); its package.json is one folder up.
		const entry = createRequire(import.meta.url).resolve('ink');
		const manifest = JSON.parse(fs.readFileSync(new URL('../package.json', pathToFileURL(entry)), 'utf8')) as {name?: unknown; version?: unknown};
		return manifest.name === 'ink' && typeof manifest.version === 'string' ? manifest.version : undefined;
	} catch {
		return undefined;
	}
}
