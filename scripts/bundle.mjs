// Bundles dist/cli.js (tsc's output) into dist/bin: one ESM entry plus chunks loaded on demand (the
// dashboard's Ink and React, the AWS SDK), React's production build, nothing from the network.
// Run by `npm run build`.
import fs from 'node:fs';
import {fileURLToPath} from 'node:url';
import * as esbuild from 'esbuild';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
// Ink and its helpers measure text with `string-width`; they get envwatch's fast path instead,
// which hands anything it does not know to the real one (see source/ui/text-width.ts).
const textWidth = `${dist}ui/text-width.js`;
const fastTextWidth = {
	name: 'text-width',
	setup(build) {
		build.onResolve({filter: /^string-width$/}, args => args.importer === textWidth ? undefined : {path: textWidth});
	},
};

// yoga-layout (Ink's layout engine) inlines its WebAssembly as a base64 data: URL, and its
// Emscripten loader fetch()es that URL whenever fetch exists, which on Node loads undici, Node's
// HTTP client: about 25 ms of every dashboard start. A data: URL is decoded directly instead (what
// the loader already does where fetch is missing). If a new yoga-layout words this differently, the
// build fails here rather than quietly getting slower.
const yogaLoader = /yoga-layout[\\/]dist[\\/]binaries[\\/]yoga-wasm-base64-esm\.js$/;
const fetchCheck = 'w||"function"!=typeof fetch';
const yogaWithoutFetch = {
	name: 'yoga-without-fetch',
	setup(build) {
		build.onLoad({filter: yogaLoader}, args => {
			const source = fs.readFileSync(args.path, 'utf8');
			if (source.split(fetchCheck).length !== 2) {
				throw new Error(`${args.path}: expected its wasm loader to test \`${fetchCheck}\` once; update scripts/bundle.mjs for this yoga-layout`);
			}

			return {contents: source.replace(fetchCheck, `w||ua(H)||"function"!=typeof fetch`), loader: 'js'};
		});
	},
};

fs.rmSync(`${dist}bin`, {recursive: true, force: true});
await esbuild.build({
	entryPoints: [`${dist}cli.js`],
	bundle: true,
	platform: 'node',
	format: 'esm',
	splitting: true,
	outdir: `${dist}bin`,
	mainFields: ['module', 'main'],
	define: {'process.env.NODE_ENV': '"production"'},
	logOverride: {'assign-to-define': 'silent'},
	external: ['react-devtools-core'],
	logLevel: 'warning',
	// Bundled CommonJS (parts of the AWS SDK) calls require for Node's built-ins.
	banner: {js: 'import {createRequire as __envwatchRequire} from \'node:module\'; const require = __envwatchRequire(import.meta.url);'},
	plugins: [fastTextWidth, yogaWithoutFetch],
});
