// Bundles dist/cli.js (tsc's output) into dist/bin with esbuild: the same options the package.json
// script passed on esbuild's command line, plus one plugin the command line cannot take.
//
// The plugin: the AWS SDK's schema files (dist-es/schemas/schemas_0.js of each client) describe
// every shape of the API, about 1 MB for EC2, of which envwatch's eight EC2 calls need a small part.
// esbuild cannot drop the unused shapes because they are written with computed keys,
// `{ [_xN]: "..." }`, where `_xN` is a string constant of the same file, and a computed key might
// run code as far as esbuild knows. The plugin writes those keys as the string literals they are
// (`{ "xmlName": "..." }`, the same object), so tree shaking keeps only the shapes reachable from the
// commands envwatch imports. That cut the AWS chunk from 1.2 MB to 0.3 MB, and with it the memory and
// time of loading it (`--once` in AWS mode peaked at 105 MB, 79 MB after).
import fs from 'node:fs';
import * as esbuild from 'esbuild';

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

if (import.meta.url === `file://${process.argv[1]}`) {
	fs.rmSync('dist/bin', {recursive: true, force: true});
	await esbuild.build({
		entryPoints: ['dist/cli.js'],
		bundle: true,
		platform: 'node',
		format: 'esm',
		splitting: true,
		outdir: 'dist/bin',
		mainFields: ['module', 'main'],
		define: {'process.env.NODE_ENV': '"production"'},
		logOverride: {'assign-to-define': 'silent'},
		external: ['react-devtools-core'],
		logLevel: 'warning',
		banner: {js: 'import {createRequire as __envwatchRequire} from \'node:module\'; const require = __envwatchRequire(import.meta.url);'},
		plugins: [inlineKeys],
	});
}
