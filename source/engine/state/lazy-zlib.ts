import {createRequire} from 'node:module';
import type * as Zlib from 'node:zlib';

let zlib: typeof Zlib | undefined;

/**
 * node:zlib, loaded on first use: only the coordination table's documents and the snapshot mirror
 * (a shared state table) gzip, and a static import loaded it at every start of the dashboard
 * (docs/design.md, "Start-up and the bundle").
 */
export function lazyZlib(): typeof Zlib {
	zlib ??= createRequire(import.meta.url)('node:zlib') as typeof Zlib;
	return zlib;
}
