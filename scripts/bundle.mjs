// Bundles dist/cli.js (tsc's output) into dist/bin with esbuild: one small ESM entry plus chunks
// loaded on demand (the engine, the dashboard, the AWS SDK clients, prom-client), and the
// dashboard's Ink, React and yoga as a script of their own whose compiled code is kept between
// starts (9), all with React's production build. Run by `npm run build`. The plugins below change
// what goes in, each for a measured cost or an unbounded growth (docs/design.md, "Start-up and
// the bundle"):
import {createHash} from 'node:crypto';
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
// the loader already does where fetch is missing). The loader decodes it with atob, whose first
// call in a process (Node's own JavaScript, loaded and run cold, over 96 KB of text) took 5-15 ms
// of the start; Buffer decodes the same bytes natively in a tenth of a millisecond. If a new
// yoga-layout words this differently, the build fails here rather than quietly getting slower.
const yogaWithoutFetch = patchOnce('yoga-without-fetch', /yoga-layout[\\/]dist[\\/]binaries[\\/]yoga-wasm-base64-esm\.js$/, {
	'w||"function"!=typeof fetch': 'w||ua(H)||"function"!=typeof fetch',
	'var b=xa(a.slice(37)),c=new Uint8Array(b.length);for(a=0;a<b.length;++a)c[a]=b.charCodeAt(a);var d=c': 'var b=Buffer.from(a.slice(37),"base64");var d=new Uint8Array(b.buffer,b.byteOffset,b.length)',
});

// 4. Ink builds each frame in a new Output, whose caches of a line's styled characters and of text
// widths start empty each time: every frame, even one where only the header's age changed,
// tokenised every line's colour codes again (most of the idle dashboard's CPU, and its garbage).
// One set of caches serves every frame instead, started afresh once it holds 1,000 entries (most
// of them lines that are gone), which bounds it to a few MB. The cached character objects are only
// read after they are made. Idle CPU 0.53% -> 0.40% of a core (`node test/bench/ui-tmux.mjs`).
// And each frame still laid a fresh grid of cells for the whole terminal and wrote every row out
// again: its `get()` now builds only the rows whose texts changed since the frame before
// (source/ui/ink-row-cache.ts), the rest are the last frame's strings. Ink's own `get()` is kept as
// `wholeFrame()`, which builds each changed row (in an Output one row high) and any clipped frame.
const inkSharedCaches = patchOnce('ink-shared-output-caches', /ink[\\/]build[\\/]output\.js$/, {
	'caches = new OutputCaches();': 'caches = outputCaches();',
	'export default class Output {': `import {rowCachedFrame} from ${JSON.stringify(`${dist}ui/ink-row-cache.js`)};\nlet sharedCaches;\nfunction outputCaches() {\n\tif (!sharedCaches || sharedCaches.styledChars.size + sharedCaches.widths.size + sharedCaches.blockWidths.size > 1000) {\n\t\tsharedCaches = new OutputCaches();\n\t}\n\n\treturn sharedCaches;\n}\n\nexport default class Output {\n    get() {\n        return rowCachedFrame(this, Output);\n    }\n`,
	'    get() {\n        // Initialize output array': '    wholeFrame() {\n        // Initialize output array',
});

// 5. Ink remembers the measured size of every text it ever laid out, in a Map that only grows: on a
// dashboard whose figures change every poll, all day, that is megabytes a day. It is started
// afresh once it holds 5,000 texts.
const inkBoundedMeasure = patchOnce('ink-bounded-measure-cache', /ink[\\/]build[\\/]measure-text\.js$/, {
	'    cache.set(text, dimensions);': '    if (cache.size >= 5000) {\n        cache.clear();\n    }\n    cache.set(text, dimensions);',
});

// 6. slice-ansi (Ink's clipping of lines) makes an Intl.Segmenter as it loads, which loads ICU's
// break rules: about 5 ms of every start, for a frame whose lines it may never clip. It is made on
// first use instead.
const sliceAnsiLazySegmenter = patchOnce('slice-ansi-lazy-segmenter', /slice-ansi[\\/]tokenize-ansi\.js$/, {
	'const GRAPHEME_SEGMENTER = new Intl.Segmenter(undefined, {granularity: \'grapheme\'});': 'let graphemeSegmenter;\nconst GRAPHEME_SEGMENTER = {segment: text => (graphemeSegmenter ??= new Intl.Segmenter(undefined, {granularity: \'grapheme\'})).segment(text)};',
});

// 7. Ink's colour-code tokenizer (@alcalzone/ansi-tokenize) splits every line into graphemes with an
// Intl.Segmenter made as it loads; the first Segmenter of a process loads ICU's break rules, about
// 7 ms of the start. It asks source/ui/text-width.ts instead, which makes one only for text that
// needs it (most of the dashboard is ASCII, box drawing and colour codes: one grapheme a character).
const tokenizeGraphemes = patchOnce('ansi-tokenize-graphemes', /@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]tokenize\.js$/, {
	'const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });': `import {graphemes} from ${JSON.stringify(textWidth)};`,
	'of segmenter.segment(str))': 'of graphemes(str))',
});

// 8. yoga-layout waits for its WebAssembly with a top-level await, and Ink's reconciler has two (for
// React's devtools, wanted only with DEV=true), which a script (9) cannot hold. yoga's instance
// is set when `yogaReady` resolves instead, before Ink draws anything; devtools are not bundled, so
// DEV=true (Ink's switch for them) does nothing.
const yogaReadyExport = patchOnce('yoga-ready', /yoga-layout[\\/]dist[\\/]src[\\/]index\.js$/, {
	'const Yoga = wrapAssembly(await loadYoga());\nexport default Yoga;': 'let Yoga;\nexport const yogaReady = loadYoga().then(assembly => {\n\tYoga = wrapAssembly(assembly);\n});\nexport {Yoga as default};',
});
const inkWithoutDevtools = patchOnce('ink-without-devtools', /ink[\\/]build[\\/]reconciler\.js$/, {
	'if (isDev()) {\n    try {\n        await import(\'./devtools.js\');': 'if (false) {\n    try {',
	'? await loadPackageJson()': '? {name: undefined, version: undefined}',
});

// 10. The cursor correction in source/ui/ink-fix.ts is made for Ink 6 only, and asks which Ink
// draws. The Ink that draws is the one bundled here: its version is written in, so the CLI reads no
// package.json for it as it starts.
const inkVersionFile = `${dist}ui/ink-version.js`;
const bundledInkVersion = {
	name: 'ink-version',
	setup(build) {
		build.onLoad({filter: /[\\/]ui[\\/]ink-version\.js$/}, args => {
			if (args.path !== inkVersionFile) {
				return undefined;
			}

			const {version} = JSON.parse(fs.readFileSync(fileURLToPath(new URL('../node_modules/ink/package.json', import.meta.url)), 'utf8'));
			if (typeof version !== 'string') {
				throw new Error('node_modules/ink/package.json has no version');
			}

			return {contents: `export function inkVersion() {\n\treturn ${JSON.stringify(version)};\n}\n`, loader: 'js'};
		});
	},
};

// 11. meow (the flags and --help, app/flags.ts) bundles its dependencies in one file, which at load
// ran normalize-package-data (with semver, hosted-git-info and the SPDX licence tables it sorts with
// localeCompare) and @babel/code-frame: 25-30 ms of CPU in every start, and 250 KB to compile, for
// reading and checking a package.json, which envwatch never asks meow to do: app/flags.ts gives it
// `pkg`. So meow's options module gets no package reader (one that says why, if it were ever called),
// and the two are not run at load, which lets esbuild leave all of that code out.
const meowWithoutPackageReader = patchOnce('meow-without-package-reader', /meow[\\/]build[\\/]options\.js$/, {
	'import { a as readPackageUpSync, n as normalizePackageData } from \'./dependencies.js\';': 'const readPackageUpSync = () => {\n\tthrow new Error(\'meow: no package.json reader in this bundle (scripts/bundle.mjs, 11): pass pkg\');\n};\nconst normalizePackageData = readPackageUpSync;',
});
// 12. meow turns every flag's name from camelCase to kebab-case and back (decamelize, camelcase-keys)
// with Unicode-property regexes (`\p{Lu}`, `\p{Alpha}`...), which V8 builds from ICU's tables the
// first time each runs: a few ms of every start, for envwatch's flag names, all ASCII. A name of
// ASCII alone goes through the same code with the same regexes written for ASCII (on ASCII, `\p{Lu}`
// is `A-Z`, `\p{Ll}` `a-z`, `\p{Alpha}` `A-Za-z`, `\p{N}` `0-9`); any other name gets the Unicode
// ones, built on first use (test/unit/bundle-meow-case.test.ts compares both with meow's own).
const asciiOnly = '/^[\\x00-\\x7F]*$/';
const unicodeSet = (upper, lower, alpha, number) => `{UPPERCASE: new RegExp('[${upper}]', 'u'), LOWERCASE: new RegExp('[${lower}]', 'u'), LEADING_CAPITAL: new RegExp('^[${upper}](?![${upper}])', 'u'), ALPHA: new RegExp('[${alpha}]', 'u'), SEPARATORS_AND_IDENTIFIER: new RegExp(SEPARATORS.source + '([${alpha}${number}_]|$)', 'gu'), NUMBERS_AND_IDENTIFIER: new RegExp(String.raw\`\\d+\` + '([${alpha}${number}_]|$)', 'gu')}`;
export const meowDependencyEdits = {
	// 11.
	'var libExports = requireLib$1();': 'var libExports = {codeFrameColumns: (...args) => requireLib$1().codeFrameColumns(...args)};',
	'var normalizeExports = requireNormalize();\nconst normalizePackageData = getDefaultExportFromCjs(normalizeExports);': 'const normalizePackageData = (...args) => getDefaultExportFromCjs(requireNormalize())(...args);',
	// 12. camelcase's regexes, for ASCII or Unicode by the name given.
	'const UPPERCASE = /[\\p{Lu}]/u;\nconst LOWERCASE = /[\\p{Ll}]/u;\nconst LEADING_CAPITAL = /^[\\p{Lu}](?![\\p{Lu}])/u;\nconst SEPARATORS = /[_.\\- ]+/;\nconst IDENTIFIER = /([\\p{Alpha}\\p{N}_]|$)/u;\nconst LEADING_SEPARATORS = new RegExp(\'^\' + SEPARATORS.source);\nconst SEPARATORS_AND_IDENTIFIER = new RegExp(SEPARATORS.source + IDENTIFIER.source, \'gu\');\nconst NUMBERS_AND_IDENTIFIER = new RegExp(String.raw`\\d+` + IDENTIFIER.source, \'gu\');':
		`const SEPARATORS = /[_.\\- ]+/;\nconst LEADING_SEPARATORS = new RegExp('^' + SEPARATORS.source);\nconst asciiCase = ${unicodeSet('A-Z', 'a-z', 'A-Za-z', '0-9')};\nlet unicodeCase;\nlet UPPERCASE, LOWERCASE, LEADING_CAPITAL, ALPHA, SEPARATORS_AND_IDENTIFIER, NUMBERS_AND_IDENTIFIER;\nconst caseFor = input => {\n\t({UPPERCASE, LOWERCASE, LEADING_CAPITAL, ALPHA, SEPARATORS_AND_IDENTIFIER, NUMBERS_AND_IDENTIFIER} = ${asciiOnly}.test(input) ? asciiCase : (unicodeCase ??= ${unicodeSet('\\\\p{Lu}', '\\\\p{Ll}', '\\\\p{Alpha}', '\\\\p{N}')}));\n};`,
	'if (previousWasNumber && /[\\p{Alpha}]/u.test(character)) {': 'if (previousWasNumber && ALPHA.test(character)) {',
	'\tconst leadingPrefix = input.match(/^[_$]*/)[0];': '\tcaseFor(input);\n\tconst leadingPrefix = input.match(/^[_$]*/)[0];',
	// 12. decamelize's, likewise.
	'\tconst decamelized = text.replace(\n\t\t/([\\p{Lowercase_Letter}\\d])(\\p{Uppercase_Letter})/gu,': `\tconst ascii = ${asciiOnly}.test(text + separator);\n\tconst decamelized = text.replace(\n\t\tascii ? /([a-z\\d])([A-Z])/gu : new RegExp('([\\\\p{Lowercase_Letter}\\\\d])(\\\\p{Uppercase_Letter})', 'gu'),`,
	'\t\t\t/(\\p{Uppercase_Letter})(\\p{Uppercase_Letter}\\p{Lowercase_Letter}+)/gu,\n\t\t\treplacement,\n\t\t)\n\t\t.toLowerCase();': '\t\t\tascii ? /([A-Z])([A-Z][a-z]+)/gu : new RegExp(\'(\\\\p{Uppercase_Letter})(\\\\p{Uppercase_Letter}\\\\p{Lowercase_Letter}+)\', \'gu\'),\n\t\t\treplacement,\n\t\t)\n\t\t.toLowerCase();',
};
const meowDependencies = patchOnce('meow-dependencies', /meow[\\/]build[\\/]dependencies\.js$/, meowDependencyEdits);

/** `source` with each key of `edits`, found exactly once, replaced by its value; else an error naming `file` and `name`. */
export function patchText(source, edits, file, name) {
	for (const [find, replace] of Object.entries(edits)) {
		if (source.split(find).length !== 2) {
			throw new Error(`${file}: expected \`${find}\` once; update scripts/bundle.mjs (${name}) for this version`);
		}

		source = source.replace(find, () => replace);
	}

	return source;
}

/**
 * A plugin that changes one dependency's file: each key of `edits`, found exactly once, becomes its
 * value. A version that words it differently fails the build, to be looked at again rather than
 * shipped unchanged and quietly slower.
 */
function patchOnce(name, file, edits) {
	return {
		name,
		setup(build) {
			build.onLoad({filter: file}, args => ({contents: patchText(fs.readFileSync(args.path, 'utf8'), edits, `${args.path}`, name), loader: 'js'}));
		},
	};
}

// 9. The dashboard (source/ui: its own code, with Ink, React and yoga, 1 MB of JavaScript) is a
// script of its own, run by source/boot/script-cache.ts with V8's code cache kept on disk: Node's
// compile cache covers only ES modules (and Node 20 has none), and keeps only what V8 compiles as
// a module loads, so every function the first frame runs was compiled again at every start. The
// script's cache is stored after the first frame, with every function compiled by then. The
// dashboard reads the engine and the domain through their faces, which the rest of the CLI has
// loaded already: the script takes those modules from the ES module side (`envwatch:engine`,
// `envwatch:domain`), so there is one copy of each, never a second engine.
const dashboardFaces = new Map([[`${dist}engine/index.js`, 'envwatch:engine'], [`${dist}domain/index.js`, 'envwatch:domain']]);
const dashboardEntry = `${dist}ui/run.js`;

/**
 * The plugin of a script holding one layer (`layer` under dist): an import of one of `faces` (a
 * face's file -> the module name the CLI registered it under) is taken from the CLI's modules; any
 * other layer's file reached is an error that says `refusal`.
 */
function facesPlugin(name, faces, layer, refusal) {
	return {
		name,
		setup(build) {
			build.onResolve({filter: /^\.\.?\//}, args => {
				const module = faces.get(fileURLToPath(new URL(args.path, `file://${args.resolveDir}/`)));
				return module ? {path: module, external: true} : undefined;
			});
			build.onLoad({filter: /\.js$/}, args => {
				if (args.path.startsWith(dist) && !args.path.startsWith(`${dist}${layer}/`)) {
					throw new Error(`${args.path}: ${refusal}`);
				}

				return undefined;
			});
		},
	};
}

// Only the dashboard's code and what it bundles may be in the script: another layer would be a second copy.
const facesFromModules = facesPlugin('dashboard-faces', dashboardFaces, 'ui', 'the dashboard\'s script reaches it other than through the engine\'s or the domain\'s face (scripts/bundle.mjs, 9)');

async function buildDashboard(common) {
	const result = await esbuild.build({
		...common,
		stdin: {contents: `export {runDashboard} from './run.js';\nexport {afterFirstFrame} from './first-frame.js';\nexport {yogaReady} from 'yoga-layout';\n`, resolveDir: `${dist}ui`, sourcefile: 'dashboard.js'},
		format: 'cjs',
		write: false,
		plugins: [facesFromModules, bundledInkVersion, fastTextWidth, sliceAnsiLazySegmenter, tokenizeGraphemes, yogaWithoutFetch, yogaReadyExport, inkWithoutDevtools, inkSharedCaches, inkBoundedMeasure],
	});
	// Written as the function Node wraps a CommonJS module in, so the loader compiles the file as it
	// is read: no copy of 1 MB of source to concatenate. ASCII only (esbuild escapes the rest), so
	// it is read as latin1, without decoding UTF-8.
	const text = `(function (exports, require, module, __filename, __dirname) {${result.outputFiles[0].text}\n})`;
	if ([...text].some(character => character.charCodeAt(0) > 0x7F)) {
		throw new Error('the dashboard\'s script is not ASCII: source/boot/script-cache.ts reads it as latin1');
	}

	const name = `vendor-${createHash('sha256').update(text).digest('hex').slice(0, 12)}.js`;
	fs.mkdirSync(`${dist}bin`, {recursive: true});
	fs.writeFileSync(`${dist}bin/${name}`, text);
	return name;
}

/**
 * ui/index.ts's `import('./run.js')` loads the dashboard's script instead, handing it the engine's
 * and the domain's faces; Ink and React anywhere else in the CLI would be a second copy: the build fails.
 */
function dashboardPlugin(scriptName) {
	return {
		name: 'dashboard-script',
		setup(build) {
			build.onResolve({filter: /^\.\/run\.js$/}, args => (args.importer === `${dist}ui/index.js` ? {path: 'envwatch-dashboard', namespace: 'dashboard-glue'} : undefined));
			build.onResolve({filter: /^(ink|react|react\/jsx-runtime)$/}, args => {
				throw new Error(`${args.importer} imports ${args.path}: only the dashboard's script (${dashboardEntry}) may (scripts/bundle.mjs, 9)`);
			});
			build.onLoad({filter: /.*/, namespace: 'dashboard-glue'}, () => ({
				contents: [
					'import {fileURLToPath} from \'node:url\';',
					'import envPaths from \'env-paths\';',
					...[...dashboardFaces].map(([file], index) => `import * as face${index} from ${JSON.stringify(file)};`),
					`import {runCachedScript} from ${JSON.stringify(`${dist}boot/script-cache.js`)};`,
					`const modules = {${[...dashboardFaces.values()].map((name, index) => `${JSON.stringify(name)}: face${index}`).join(', ')}};`,
					`const script = runCachedScript(fileURLToPath(new URL(${JSON.stringify(`./${scriptName}`)}, import.meta.url)), {cacheRoot: envPaths('envwatch').cache, env: process.env, uid: process.getuid?.(), modules});`,
					'script.exports.afterFirstFrame(() => {\n\tscript.save();\n\tface0.saveEngineScript?.();\n});',
					'await script.exports.yogaReady;',
					'export const runDashboard = script.exports.runDashboard;',
				].join('\n'),
				loader: 'js',
				resolveDir: `${dist}ui`,
			}));
		},
	};
}

// 13. The configuration (source/config with zod: its schema, loading and checks) is a script with a
// code cache of its own too, as the dashboard is (9): every start loads and checks the config, and
// Node's compile cache kept only the chunk's top level, so the functions that build the schema and
// parse the files were compiled again at every start (Node 20: all of it). The script takes the
// domain's face from the CLI's modules (`envwatch:domain`); every import of config's face in the CLI
// gets the glue below, which runs the script and exports what config's face exports. Its compiled
// code is stored once the first `loadConfig` has run (the schema built, files parsed and checked),
// before AWS mode sets V8's flags, which the stored code must match. The user's store (conf) stays
// a chunk of its own that only `config get|set|unset|edit` load, as before.
const configFace = `${dist}config/index.js`;
const configDomain = new Map([[`${dist}domain/index.js`, 'envwatch:domain']]);

const configFromModules = {
	name: 'config-faces',
	setup(build) {
		build.onResolve({filter: /^\.\.?\//}, args => {
			const file = fileURLToPath(new URL(args.path, `file://${args.resolveDir}/`));
			if (configDomain.has(file)) {
				return {path: configDomain.get(file), external: true};
			}

			return file === `${dist}config/user-store.js` ? {path: 'user-store', namespace: 'config-user-store'} : undefined;
		});
		build.onLoad({filter: /.*/, namespace: 'config-user-store'}, () => ({contents: 'throw new Error(\'the user store is loaded by the glue of scripts/bundle.mjs (13), not the config script\');\n', loader: 'js'}));
		build.onLoad({filter: /\.js$/}, args => {
			if (args.path.startsWith(dist) && !args.path.startsWith(`${dist}config/`)) {
				throw new Error(`${args.path}: the configuration's script reaches it other than through the domain's face (scripts/bundle.mjs, 13)`);
			}

			return undefined;
		});
	},
};

/** The names config's face exports (its tsc output, loaded here), but the store's loader. */
async function configExports() {
	const face = await import(`file://${configFace}`);
	return Object.keys(face).filter(name => name !== 'loadUserStore').sort();
}

/**
 * A layer's code (`dir` under dist: config, engine) as a script whose compiled code is kept between
 * starts (sections 13 and 14): CommonJS in a function, ASCII (script-cache.ts reads it as latin1),
 * named by its hash. Returns the file's name in dist/bin.
 */
async function buildScript(common, {dir, what, contents, plugin}) {
	const result = await esbuild.build({
		...common,
		stdin: {contents, resolveDir: `${dist}${dir}`, sourcefile: `${dir}.js`},
		format: 'cjs',
		write: false,
		define: {...common.define, 'import.meta.url': '__envwatchScriptUrl'},
		plugins: [plugin],
	});
	const text = `(function (exports, require, module, __filename, __dirname) {const __envwatchScriptUrl = require('node:url').pathToFileURL(__filename).href;\n${result.outputFiles[0].text}\n})`;
	if ([...text].some(character => character.charCodeAt(0) > 0x7F)) {
		throw new Error(`the ${what}'s script is not ASCII: source/boot/script-cache.ts reads it as latin1`);
	}

	const name = `${dir}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}.js`;
	fs.writeFileSync(`${dist}bin/${name}`, text);
	return name;
}

async function buildConfigScript(common, names) {
	return buildScript(common, {dir: 'config', what: 'configuration', contents: `export {${names.join(', ')}} from './index.js';\n`, plugin: configFromModules});
}

/** Every import of config's face in the CLI gets the glue that runs the configuration's script. */
function configPlugin(scriptName, names) {
	return {
		name: 'config-script',
		setup(build) {
			build.onResolve({filter: /^(?:\.\.?\/|\/)/}, args => ((args.namespace === 'file' || args.namespace === 'engine-glue') && fileURLToPath(new URL(args.path, `file://${args.resolveDir}/`)) === configFace ? {path: 'envwatch-config', namespace: 'config-glue'} : undefined));
			build.onLoad({filter: /.*/, namespace: 'config-glue'}, () => ({
				contents: [
					'import {fileURLToPath} from \'node:url\';',
					'import envPaths from \'env-paths\';',
					`import * as domain from ${JSON.stringify(`${dist}domain/index.js`)};`,
					`import {runCachedScript} from ${JSON.stringify(`${dist}boot/script-cache.js`)};`,
					`const script = runCachedScript(fileURLToPath(new URL(${JSON.stringify(`./${scriptName}`)}, import.meta.url)), {cacheRoot: envPaths('envwatch').cache, env: process.env, uid: process.getuid?.(), modules: {'envwatch:domain': domain}});`,
					`export const {${names.filter(name => name !== 'loadConfig').join(', ')}} = script.exports;`,
					'/** The first load of a run stores the script\'s compiled code (when none was stored): the schema built, the files parsed and checked. */',
					'export function loadConfig(...args) {',
					'\ttry {',
					'\t\treturn script.exports.loadConfig(...args);',
					'\t} finally {',
					'\t\tscript.save();',
					'\t}',
					'}',
					`export async function loadUserStore() {\n\treturn import(${JSON.stringify(`${dist}config/user-store.js`)});\n}`,
				].join('\n'),
				loader: 'js',
				resolveDir: `${dist}config`,
			}));
		},
	};
}

// 14. The engine (source/engine: opening the session, the polls, the guards, the state dir) is a script
// with a code cache of its own too, as the configuration's is (13): the first poll runs about 30 ms
// of its functions, which the compile cache kept only the top level of, so each start compiled them
// again. It takes the domain's, the configuration's and the providers' faces from the CLI's modules
// (`envwatch:domain`, `envwatch:config`, `envwatch:providers`): one copy of each, and the dashboard's
// script gets this engine through `envwatch:engine` as before. Its compiled code is stored after the
// dashboard's first frame, or as a run that made a Monitor ends (never `--help` or `status`, which run
// none of its functions: stored, that code would be used and kept); in AWS mode V8's flags have changed by then, so nothing is
// stored (script-cache.ts) and the engine runs compiled as before.
const engineFace = `${dist}engine/index.js`;
const engineFaces = new Map([[`${dist}domain/index.js`, 'envwatch:domain'], [configFace, 'envwatch:config'], [`${dist}providers/index.js`, 'envwatch:providers']]);

const engineFromModules = facesPlugin('engine-faces', engineFaces, 'engine', 'the engine\'s script reaches it other than through the domain\'s, the configuration\'s or the providers\' face (scripts/bundle.mjs, 14)');

async function engineExports() {
	return Object.keys(await import(`file://${engineFace}`)).sort();
}

async function buildEngineScript(common) {
	return buildScript(common, {dir: 'engine', what: 'engine', contents: 'export * from \'./index.js\';\n', plugin: engineFromModules});
}

/** Every import of the engine's face in the CLI (and the dashboard's glue) gets the glue that runs the engine's script. */
function enginePlugin(scriptName, names) {
	return {
		name: 'engine-script',
		setup(build) {
			build.onResolve({filter: /^(?:\.\.?\/|\/)/}, args => (args.namespace !== 'engine-glue' && fileURLToPath(new URL(args.path, `file://${args.resolveDir}/`)) === engineFace ? {path: 'envwatch-engine', namespace: 'engine-glue'} : undefined));
			build.onLoad({filter: /.*/, namespace: 'engine-glue'}, () => ({
				contents: [
					'import {fileURLToPath} from \'node:url\';',
					'import envPaths from \'env-paths\';',
					...[...engineFaces].map(([file], index) => `import * as face${index} from ${JSON.stringify(file)};`),
					`import {runCachedScript} from ${JSON.stringify(`${dist}boot/script-cache.js`)};`,
					`const script = runCachedScript(fileURLToPath(new URL(${JSON.stringify(`./${scriptName}`)}, import.meta.url)), {cacheRoot: envPaths('envwatch').cache, env: process.env, uid: process.getuid?.(), modules: {${[...engineFaces.values()].map((name, index) => `${JSON.stringify(name)}: face${index}`).join(', ')}}});`,
					'/** Stores the script\'s compiled code (once; nothing when V8\'s flags changed since it loaded): after the first frame, or as a run that opened a session ends. */',
					'export function saveEngineScript() {',
					'\tscript.save();',
					'}',
					`export const {${names.filter(name => name !== 'Monitor').join(', ')}} = script.exports;`,
					'/** A run that opens a session stores the code as it ends (`--once`): not `--help` or `status`, which run none of the engine\'s functions. */',
					'export class Monitor extends script.exports.Monitor {',
					'\tconstructor(...args) {',
					'\t\tsuper(...args);',
					'\t\tprocess.once(\'exit\', saveEngineScript);',
					'\t}',
					'}',
				].join('\n'),
				loader: 'js',
				resolveDir: `${dist}engine`,
			}));
		},
	};
}

if (import.meta.url === `file://${process.argv[1]}`) {
	fs.rmSync(`${dist}bin`, {recursive: true, force: true});
	const common = {
		bundle: true,
		platform: 'node',
		mainFields: ['module', 'main'],
		define: {'process.env.NODE_ENV': '"production"'},
		logOverride: {'assign-to-define': 'silent'},
		external: ['react-devtools-core'],
		logLevel: 'warning',
	};
	const scriptName = await buildDashboard(common);
	const configNames = await configExports();
	const configScript = await buildConfigScript(common, configNames);
	const engineScript = await buildEngineScript(common);
	const engineNames = await engineExports();
	await esbuild.build({
		...common,
		entryPoints: [`${dist}cli.js`],
		format: 'esm',
		splitting: true,
		outdir: `${dist}bin`,
		// Bundled CommonJS (parts of the AWS SDK) calls require for Node's built-ins.
		banner: {js: 'import {createRequire as __envwatchRequire} from \'node:module\'; const require = __envwatchRequire(import.meta.url);'},
		plugins: [inlineKeys, bundledInkVersion, meowWithoutPackageReader, meowDependencies, enginePlugin(engineScript, engineNames), dashboardPlugin(scriptName), configPlugin(configScript, configNames)],
	});
	// 11. The Lambda function (dist/lambda.js, source/lambda.ts) in dist/lambda/, for the zip of
	// `npm run package:lambda` (scripts/package-lambda.mjs): lambda.js and the chunks it loads, the AWS
	// SDK tree-shaken as the CLI's AWS chunk is (1.). Split, like the CLI: without splitting, esbuild
	// makes every module reached by an `import()` (the providers' lazy SDK) a namespace of all its
	// exports and keeps all of EC2's client (2.3 MB; 1.6 MB in all with splitting). It never loads the
	// dashboard.
	fs.rmSync(`${dist}lambda`, {recursive: true, force: true});
	await esbuild.build({
		...common,
		entryPoints: [`${dist}lambda.js`],
		format: 'esm',
		splitting: true,
		outdir: `${dist}lambda`,
		banner: {js: 'import {createRequire as __envwatchRequire} from \'node:module\'; const require = __envwatchRequire(import.meta.url);'},
		plugins: [inlineKeys],
	});
}
