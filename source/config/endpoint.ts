/**
 * The one check of an AWS endpoint, wherever it comes from: `--endpoint-url`, or the SDK's own
 * `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` variables. The SDK would take `ftp://x` from
 * the environment and fail later, as a STALE poll; a bad endpoint is a usage error (exit 2).
 */

/** The SDK's endpoint variables for the services envwatch calls. */
export const endpointVariables = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_EC2', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_COST_EXPLORER', 'AWS_ENDPOINT_URL_PRICING', 'AWS_ENDPOINT_URL_SNS'] as const;

/** Why `text` (given as `label`) is not a usable endpoint, or undefined; never echoes a password in it. */
export function endpointProblem(label: string, text: string): string | undefined {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		return `${label} ${text.replace(/\/\/[^/@]*@/, '//***@')}: not a URL — expected an http(s) URL with a host, e.g. http://127.0.0.1:5000`;
	}

	if (url.username || url.password) {
		return `${label}: has a user name or password in it — expected an endpoint URL without credentials (use --profile or the AWS_* variables)`;
	}

	if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
		return `${label} ${text}: expected an http(s) URL with a host, e.g. http://127.0.0.1:5000`;
	}

	return undefined;
}

/** The problems of the endpoint variables set in `env` (an empty one is unset, as the SDK takes it). */
export function endpointEnvProblems(env: NodeJS.ProcessEnv): string[] {
	return endpointVariables.flatMap(name => {
		const value = Object.hasOwn(env, name) ? env[name] : undefined;
		const problem = value ? endpointProblem(name, value) : undefined;
		return problem ? [problem] : [];
	});
}
