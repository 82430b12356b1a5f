// Module hooks for ui-launch: records every @aws-sdk module a run resolves, and every loaded file
// that carries bundled AWS SDK code (the bundle's AWS chunk keeps esbuild's `node_modules/@aws-sdk/`
// path comments): there must be none with --demo. Registered with `node --import ./ui-sdk-guard.js`;
// the log file comes from the env.
import fs from 'node:fs';

export async function resolve(specifier, context, next) {
	if (specifier.includes('@aws-sdk/') && process.env.ENVWATCH_SDK_LOG) {
		fs.appendFileSync(process.env.ENVWATCH_SDK_LOG, `${specifier}\n`);
	}

	return next(specifier, context);
}

export async function load(url, context, next) {
	const result = await next(url, context);
	if (process.env.ENVWATCH_SDK_LOG && url.startsWith('file:') && result.source && String(result.source).includes('node_modules/@aws-sdk/')) {
		fs.appendFileSync(process.env.ENVWATCH_SDK_LOG, `${url} (bundled AWS SDK code)\n`);
	}

	return result;
}
