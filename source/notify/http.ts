// How a notification goes out over HTTP: one request, redirects not followed, the answer read up to a
// bound; a failure is a DeliveryError saying whether trying again can help, told in one masked line.
import {scrub} from './targets.js';

/**
 * A delivery that failed: `retry` false when trying again cannot help (a 4xx answer, a redirect).
 * `answer`: what the receiver answered, as it came; it may quote the request's URL (a secret), so it
 * is masked whole before it is cut to a few words for the outcome (see `safeError`).
 */
export class DeliveryError extends Error {
	constructor(message: string, readonly retry: boolean, readonly answer?: string) {
		super(message);
		this.name = 'DeliveryError';
	}
}

/** What of a receiver's answer is read at most: a body is only ever quoted in a few words. */
const answerBytes = 64 * 1024;

/** A few words of a receiver's answer, on one line: enough to recognise it. */
function clip(text: string): string {
	const line = text.replaceAll(/\s+/g, ' ').trim();
	return line.length > 80 ? `${line.slice(0, 77)}...` : line || 'empty';
}

/**
 * An attempt's failure in one line, every secret masked, and masked before anything is cut: an
 * answer that echoes the request's URL would otherwise leave most of a token where the cut falls.
 * The answer is masked whole (as far as it was read), then its first words are quoted.
 */
export function safeError(error: unknown, secrets: readonly string[]): string {
	if (error instanceof DeliveryError) {
		const message = scrub(error.message, secrets);
		// Only the first 4,000 characters are masked and quoted from: a piece of a secret where they
		// end is masked as a piece.
		return error.answer === undefined ? message : `${message} (${clip(scrub(error.answer.slice(0, 4000), secrets))})`;
	}

	if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
		return 'no answer in time (timed out)';
	}

	const cause = (error as {cause?: {code?: unknown; message?: unknown}} | undefined)?.cause;
	if (cause && typeof cause.code === 'string') {
		return scrub(`${cause.code}${typeof cause.message === 'string' ? `: ${cause.message}` : ''}`, secrets).split('\n')[0]!;
	}

	return scrub(error instanceof Error ? error.message : String(error), secrets).split('\n')[0]!;
}

/** The first `limit` bytes of an answer's body as text (a receiver may answer without end). */
async function readAnswer(response: Response, limit = answerBytes): Promise<string> {
	if (!response.body) {
		return '';
	}

	const reader = response.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	try {
		while (size < limit) {
			const {done, value} = await reader.read();
			if (done) {
				break;
			}

			chunks.push(value);
			size += value.byteLength;
		}
	} finally {
		if (size >= limit) {
			await reader.cancel().catch(() => undefined);
		}
	}

	return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/**
 * Sends one request to a target's URL, redirects not followed: a redirect is the receiver's
 * answer, reported with where it points (its host only: the rest may carry the secret path) and
 * not retried, since asking again gets the same answer. A 2xx answer resolves; 408, 429 and 5xx
 * throw retryable; every other answer throws final.
 */
export async function request(url: string, init: {method: 'GET' | 'POST'; body?: string; headers: Record<string, string>}, signal: AbortSignal): Promise<{status: number; text: string}> {
	const response = await fetch(url, {method: init.method, ...(init.body === undefined ? {} : {body: init.body}), headers: {'user-agent': 'envwatch', ...init.headers}, signal, redirect: 'manual'});
	if (response.status >= 300 && response.status < 400) {
		await response.body?.cancel().catch(() => undefined);
		throw new DeliveryError(`HTTP ${response.status}: ${redirectTarget(response.headers.get('location'), url)}, not followed (a notification goes only to the configured URL) — check the URL`, false);
	}

	const text = await readAnswer(response);
	if (response.status >= 200 && response.status < 300) {
		return {status: response.status, text};
	}

	throw new DeliveryError(`HTTP ${response.status}`, response.status === 429 || response.status >= 500 || response.status === 408, text);
}

/** Where a redirect points, by host only. */
function redirectTarget(location: string | null, from: string): string {
	if (!location) {
		return 'a redirect without a Location';
	}

	try {
		return `a redirect to ${new URL(location, from).host}`;
	} catch {
		return 'a redirect to an invalid Location';
	}
}

/** POSTs JSON (see `request`). */
export async function post(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<{status: number; text: string}> {
	return request(url, {method: 'POST', body, headers: {'content-type': 'application/json', ...headers}}, signal);
}
