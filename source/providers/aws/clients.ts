import {endpointEnvProblems} from '../../config/index.js';
import {UsageError} from '../../domain/index.js';
import {MalformedAnswerError} from './answers.js';

export type Credentials = {accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date};

/** How envwatch reaches AWS: the SDK's default chain, optionally narrowed by flags. */
export type AwsConnection = {
	/** A named profile (`--profile`); the SDK's default chain otherwise (AWS_PROFILE included). */
	profile?: string;
	/** One endpoint for every service (`--endpoint-url`), e.g. moto or LocalStack. The SDK's own `AWS_ENDPOINT_URL*` variables work without it. */
	endpointUrl?: string;
	/**
	 * Fixed credentials (tests), or a provider of them (a role assumed for one of several accounts,
	 * refreshed before it expires: credentials.ts); the default chain when undefined.
	 */
	credentials?: Credentials | (() => Promise<Credentials>);
	/** Attempts per API call, including the SDK's standard retries. @default 3 */
	maxAttempts?: number;
	/** Per-request timeout, so one unreachable region cannot hold up a poll. @default 15000 */
	requestTimeoutMs?: number;
};

/** The shared part of every SDK client's configuration. */
export function clientConfig(connection: AwsConnection, region: string) {
	// The SDK's AWS_ENDPOINT_URL* variables get the check --endpoint-url gets: a bad one is exit 2
	// at the first client (STS, before anything is polled), not a STALE poll later.
	const endpointProblems = endpointEnvProblems(process.env);
	if (endpointProblems.length > 0) {
		throw new UsageError(endpointProblems);
	}

	// The SDK warns on stderr that its 2027 releases will need Node 22; inside a TUI that line
	// would tear the screen, and the pinned SDK works on Node 20.
	process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
	return {
		region,
		maxAttempts: connection.maxAttempts ?? 3,
		// throwOnRequestTimeout: without it the SDK only prints a warning (tearing the TUI) and waits on.
		requestHandler: {requestTimeout: connection.requestTimeoutMs ?? 15_000, connectionTimeout: 5000, throwOnRequestTimeout: true},
		...(connection.profile ? {profile: connection.profile} : {}),
		...(connection.endpointUrl ? {endpoint: connection.endpointUrl} : {}),
		...(connection.credentials ? {credentials: connection.credentials} : {}),
	};
}

/** The error code of an SDK error (`RequestLimitExceeded`, `UnauthorizedOperation`, ...). */
export function errorCode(error: unknown): string | undefined {
	if (typeof error !== 'object' || error === null) {
		return undefined;
	}

	const record = error as {Code?: unknown; code?: unknown; name?: unknown};
	for (const value of [record.Code, record.code, record.name]) {
		if (typeof value === 'string' && value !== 'Error') {
			return value;
		}
	}

	return undefined;
}

/** How many HTTP attempts an SDK call or error took (the SDK's own retries included). */
export function attemptsOf(value: unknown): number {
	const attempts = (value as {$metadata?: {attempts?: number}} | undefined)?.$metadata?.attempts;
	return typeof attempts === 'number' && attempts > 0 ? attempts : 1;
}

const missingCodes = new Set(['CredentialsProviderError', 'TokenProviderError']);
const rejectedCodes = new Set([
	'ExpiredToken', 'ExpiredTokenException', 'InvalidClientTokenId', 'UnrecognizedClientException', 'AuthFailure',
	'SignatureDoesNotMatch', 'InvalidAccessKeyId', 'InvalidToken', 'RequestExpired', 'TokenRefreshRequired', 'UnauthorizedException',
]);

/** Did AWS reject the credentials a call was signed with (expired, revoked, not known)? By the error's code. */
export function isRejectedCode(code: string | undefined): boolean {
	return code !== undefined && rejectedCodes.has(code);
}

/** Is this error about the credentials themselves (missing, expired, rejected)? */
export function isCredentialError(error: unknown): boolean {
	const code = errorCode(error);
	if (code && (missingCodes.has(code) || rejectedCodes.has(code))) {
		return true;
	}

	const message = error instanceof Error ? error.message : '';
	return /could not load credentials|sso session .*expired|token is expired|unable to load sso token/i.test(message);
}

/**
 * One paragraph, exit 2: what was tried and what to do. Only the error code is quoted from the
 * SDK, never its message, so no key, token or file content can reach the terminal or a log.
 */
export function credentialsUsageError(error: unknown, connection: AwsConnection): UsageError {
	const code = errorCode(error) ?? 'unknown error';
	const missing = missingCodes.has(code) || /could not load credentials/i.test(error instanceof Error ? error.message : '');
	const profile = connection.profile ?? process.env['AWS_PROFILE'];
	const what = missing ? `no AWS credentials could be found (${code})` : `AWS rejected the credentials (${code}: expired or invalid)`;
	const tried = connection.credentials
		? 'the credentials given to envwatch'
		: `the SDK's default chain${profile ? ` for profile "${profile}"` : ''}: environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), `
			+ 'the shared config and credentials files (~/.aws/config, ~/.aws/credentials: SSO, assume-role, process and web-identity profiles), '
			+ 'and the container or instance role';
	return new UsageError(
		`${what}. envwatch tried ${tried}. Run \`aws sso login${profile ? ` --profile ${profile}` : ''}\` to refresh an SSO session, `
		+ 'pass `--profile NAME` to use another configured profile, or run `envwatch --demo` to try the simulated account.',
	);
}

/** An error as one short line for a STALE reason or an outcome, without the SDK's long tails. */
export function describeError(error: unknown): string {
	const code = errorCode(error);
	if (isCredentialError(error)) {
		return `credentials ${code === 'CredentialsProviderError' ? 'missing' : 'expired or rejected'} (${code ?? 'unknown'}): run \`aws sso login\` or check --profile`;
	}

	if (error instanceof MalformedAnswerError) {
		// Already names the call, region, what came back and what was expected.
		return `${error.message}${attemptsOf(error) > 1 ? ` (after ${attemptsOf(error)} attempts)` : ''}`;
	}

	let message = error instanceof Error ? error.message : String(error);
	const status = (error as {$metadata?: {httpStatusCode?: number}} | undefined)?.$metadata?.httpStatusCode;
	if (/Deserialization error|is not valid JSON|Unexpected token/i.test(message)) {
		// Something answered that is not the AWS API (a proxy's page, an emulator without this call).
		return `HTTP ${status ?? '?'} with an answer that is not an AWS API response${attemptsOf(error) > 1 ? ` (after ${attemptsOf(error)} attempts)` : ''}`;
	}

	// UnauthorizedOperation carries a long encoded blob: keep the words, drop the blob.
	message = message.replace(/\s*Encoded authorization failure message:.*$/is, '').split('\n')[0]!.trim();
	if (message.length > 200) {
		message = `${message.slice(0, 197)}...`;
	}

	const attempts = attemptsOf(error);
	const tail = attempts > 1 ? ` (after ${attempts} attempts)` : '';
	if (!code || message.includes(code)) {
		return `${message}${tail}`;
	}

	return `${code}: ${message}${tail}`;
}
