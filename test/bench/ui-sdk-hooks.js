// Module hooks for ui-launch: records every @aws-sdk module a run resolves (there must be none
// with --demo). Registered with `node --import ./ui-sdk-guard.js`; the file comes from the env.
import fs from 'node:fs';

export async function resolve(specifier, context, next) {
	if (specifier.includes('@aws-sdk/') && process.env.ENVWATCH_SDK_LOG) {
		fs.appendFileSync(process.env.ENVWATCH_SDK_LOG, `${specifier}\n`);
	}

	return next(specifier, context);
}
