// Bundles dist/cli.js (tsc's output) into dist/bin with esbuild: one small ESM entry plus chunks
// loaded on demand (the engine, the dashboard's Ink and React, the AWS SDK clients, prom-client),
// React's production build. Run by `npm run build`. Five plugins change what goes in, each for a
// measured cost or an unbounded growth (docs/design.md, "Start-up and the bundle"):
import fs from 'node:fs';
import {fileURLToPath} from 'node:url';
import * as esbuild from 'esbuild';

// 1. The AWS SDK's schema files (dist-es/schemas/schemas_0.js of each client) describe every shape
// of the API, about 1 MB for EC2, of which envwatch's eight EC2 calls need a small part. esbuild
// cannot drop the unused shapes because they are written with computed keys, `{ [_xN]: "..." }`,
// where `_xN` is a string constant of the same file, and a computed key might run code as far as
// esbuild knows. The plugin writes those keys as the string literals they are (`{ "xmlName": "..." }`,
// the same object), so tree shaking keeps only the shapes reachable from the commands envwatch
// imports. That cut the AWS chunk from 1.2 MB to 0.3 MB, and with it the memory and time of loading
// it (`--once` in AWS mode peaked at 105 MB, 79 MB after).
const schemaFile = /[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/** `[_name]:` keys whose `_name` is a string constant declared once in the file, as literals. */
export function inlineSchemaKeys(text) {
	const assigned = new Map();
	for (const match of text.matchAll(/(?<![\w$.])(_[\w$]+)\s*=(?![=>])/g)) {
		assigned.set(match[1], (assigned.get(match[1]) ?? 0) + 1);
	}

	const constants = new Map();
	for (const match of text.matchAll(/^const (_\w+) = ("[^"\\\n]*");$/gm)) {
		// Declared or assigned anywhere else too: left to esbuild as it is.
		if (assigned.get(match[1]) === 1) {
			constants.set(match[1], match[2]);
		}
	}

	return text.replace(/\[(_\w+)\]:/g, (whole, name) => (constants.has(name) ? `${constants.get(name)}:` : whole));
}

const inlineKeys = {
	name: 'aws-sdk-schema-keys',
	setup(build) {
		build.onLoad({filter: schemaFile}, async args => ({contents: inlineSchemaKeys(await fs.promises.readFile(args.path, 'utf8')), loader: 'js'}));
	},
};

// 2. Ink and its helpers measure text with `string-width`; they get envwatch's fast path instead,
// which hands anything it does not know to the real one (source/ui/text-width.ts). The real one is
// loaded on its first call rather than at start: its module builds Unicode-property regexes and an
// Intl.Segmenter as it loads (about 8 ms), and the dashboard's own text never needs it.
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const textWidth = `${dist}ui/text-width.js`;
const fastTextWidth = {
	name: 'text-width',
	setup(build) {
		build.onResolve({filter: /^string-width$/}, args => {
			if (args.pluginData === 'real') {
				return undefined;
			}

			return args.importer === textWidth ? {path: 'string-width', namespace: 'lazy-string-width'} : {path: textWidth};
		});
		build.onLoad({filter: /.*/, namespace: 'lazy-string-width'}, async () => {
			const real = await build.resolve('string-width', {kind: 'import-statement', resolveDir: `${dist}ui`, pluginData: 'real'});
			if (real.errors.length > 0) {
				throw new Error(`string-width: ${real.errors[0].text}`);
			}

			// esbuild bundles a require() of an ES module as one that runs when first required.
			return {contents: `let real;\nexport default function stringWidth(text, options) {\n\treal ??= require(${JSON.stringify(real.path)}).default;\n\treturn real(text, options);\n}\n`, loader: 'js', resolveDir: `${dist}ui`};
		});
	},
};

// 3. yoga-layout (Ink's layout engine) inlines its WebAssembly as a base64 data: URL, and its
// Emscripten loader fetch()es that URL whenever fetch exists, which on Node loads undici, Node's
// HTTP client: about 25 ms of every dashboard start. A data: URL is decoded directly instead (what
// the loader already does where fetch is missing). If a new yoga-layout words this differently, the
// build fails here rather than quietly getting slower.
const yogaWithoutFetch = patchOnce('yoga-without-fetch', /yoga-layout[\\/]dist[\\/]binaries[\\/]yoga-wasm-base64-esm\.js$/, {
	'w||"function"!=typeof fetch': 'w||ua(H)||"function"!=typeof fetch',
});

// 4. Ink builds each frame in a new Output, whose caches of a line's styled characters and of text
// widths start empty each time: every frame, even one where only the header's age changed,
// tokenised every line's colour codes again (most of the idle dashboard's CPU, and its garbage).
// One set of caches serves every frame instead, started afresh once it holds 1,000 entries (most
// of them lines that are gone), which bounds it to a few MB. The cached character objects are only
// read after they are made. Idle CPU 0.53% -> 0.40% of a core (`node test/bench/ui-tmux.mjs`).
const inkSharedCaches = patchOnce('ink-shared-output-caches', /ink[\\/]build[\\/]output\.js$/, {
	'caches = new OutputCaches();': 'caches = outputCaches();',
	'export default class Output {': 'let sharedCaches;\nfunction outputCaches() {\n\tif (!sharedCaches || sharedCaches.styledChars.size + sharedCaches.widths.size + sharedCaches.blockWidths.size > 1000) {\n\t\tsharedCaches = new OutputCaches();\n\t}\n\n\treturn sharedCaches;\n}\n\nexport default class Output {',
});

// 5. Ink remembers the measured size of every text it ever laid out, in a Map that only grows: on a
// dashboard whose figures change every poll, all day, that is megabytes a day. It is started
// afresh once it holds 5,000 texts.
const inkBoundedMeasure = patchOnce('ink-bounded-measure-cache', /ink[\\/]build[\\/]measure-text\.js$/, {
	'    cache.set(text, dimensions);': '    if (cache.size >= 5000) {\n        cache.clear();\n    }\n    cache.set(text, dimensions);',
});

/**
 * A plugin that changes one dependency's file: each key of `edits`, found exactly once, becomes its
 * value. A version that words it differently fails the build, to be looked at again rather than
 * shipped unchanged and quietly slower.
 */
function patchOnce(name, file, edits) {
	return {
		name,
		setup(build) {
			build.onLoad({filter: file}, args => {
				let source = fs.readFileSync(args.path, 'utf8');
				for (const [find, replace] of Object.entries(edits)) {
					if (source.split(find).length !== 2) {
						throw new Error(`${args.path}: expected \`${find}\` once; update scripts/bundle.mjs (${name}) for this version`);
					}

					source = source.replace(find, () => replace);
				}

				return {contents: source, loader: 'js'};
			});
		},
	};
}

if (import.meta.url === `file://${process.argv[1]}`) {
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
		plugins: [inlineKeys, fastTextWidth, yogaWithoutFetch, inkSharedCaches, inkBoundedMeasure],
	});
}
