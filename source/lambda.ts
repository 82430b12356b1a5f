import {invocationError, invoke, type InvocationResult, type LambdaContext} from './commands/lambda.js';

/**
 * The AWS Lambda entry (`Handler: lambda.handler`; built into the zip by `npm run package:lambda`).
 * One invocation is one poll with `--once` semantics, a backstop to `envwatch serve`: see
 * docs/design.md, "The Lambda, per invocation", and deploy/envwatch.yaml. It fails (the function's
 * errors alarm) on a bad configuration, a poll that could not look, or what could not be recorded.
 */
export async function handler(_event: unknown, context: LambdaContext): Promise<InvocationResult> {
	let result: InvocationResult;
	try {
		result = await invoke(process.env, context, {write: line => process.stdout.write(`${line}\n`)});
	} catch (error) {
		throw invocationError(error);
	}

	if (result.error) {
		throw new Error(`envwatch: ${result.error}`);
	}

	return result;
}
