import {StringDecoder} from 'node:string_decoder';

// Reading an answer's body for the answers layer (answers.ts): streamed into a lean sink, or whole.

/** A lean reading of an answer: fed its text as it arrives, `end` returns what the caller needs (or throws). */
export type LeanSink = {write(text: string): void; end(): unknown};

/** Characters kept from each end of a streamed answer for the checks and messages. */
const edge = 1024;
/** Bytes still read after a lean sink failed, to check the answer's end (then it is given up). */
const afterFailure = 1024 * 1024;
/** The most a streamed answer may hold: a DescribeInstances page of 1000 instances is a few MB. */
const maxStreamedBytes = 64 * 1024 * 1024;

/**
 * Feeds an answer's body to a lean sink piece by piece. Keeps its byte count and first and last
 * characters (`summary`: the whole text when short) so it can be checked like a buffered answer;
 * after a sink failure the rest is still read (for the count and the end), not decoded.
 */
export async function streamInto(body: unknown, sink: LeanSink): Promise<{bytes: number; summary: string; result?: unknown; failure?: unknown; cut?: boolean}> {
	// Node's StringDecoder, not TextDecoder: the same text (a sequence cut between pieces joined, an
	// invalid one U+FFFD) at a sixth of the CPU; a leading byte order mark is dropped as TextDecoder does.
	const decoder = new StringDecoder('utf8');
	let bytes = 0;
	let chars = 0;
	let head = '';
	let tail = '';
	let failure: unknown;
	let failed = false;
	/** Bytes read when the sink failed. */
	let failedAt = 0;
	const take = (text: string): void => {
		const piece = chars === 0 && text.startsWith('\uFEFF') ? text.slice(1) : text;
		chars += piece.length;
		if (head.length < edge * 2) {
			head += piece.slice(0, edge * 2 - head.length);
		}

		tail = piece.length >= edge ? piece.slice(-edge) : (tail + piece).slice(-edge);
		if (!failed) {
			try {
				sink.write(piece);
			} catch (error) {
				failed = true;
				failure = error;
			}
		}
	};

	for await (const chunk of pieces(body)) {
		bytes += chunk.length;
		const before = failed;
		take(decoder.write(chunk));
		if (!failed && bytes > maxStreamedBytes) {
			failed = true;
			failure = new Error(`over ${maxStreamedBytes / 1024 / 1024} MiB: larger than any page of this call`);
		}

		if (failed && !before) {
			failedAt = bytes;
		} else if (failed && bytes - failedAt > afterFailure) {
			// An answer that goes on long after it failed (one that never ends, say) is not read to its end.
			return {bytes, summary: head.slice(0, edge), failure, cut: true};
		}
	}

	take(decoder.end());
	let result: unknown;
	if (!failed) {
		try {
			result = sink.end();
		} catch (error) {
			failed = true;
			failure = error;
		}
	}

	const summary = chars <= edge * 2 ? head : head.slice(0, edge) + tail;
	return failed ? {bytes, summary, failure} : {bytes, summary, result};
}

async function * pieces(body: unknown): AsyncGenerator<Uint8Array> {
	if (body instanceof Uint8Array) {
		yield body;
	} else if (typeof body === 'string') {
		yield new TextEncoder().encode(body);
	} else if (typeof body === 'object' && body !== null && Symbol.asyncIterator in body) {
		for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
			yield typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
		}
	} else if (body !== undefined && body !== null) {
		throw new TypeError('an answer body of an unknown kind');
	}
}

export async function collect(body: unknown): Promise<Uint8Array> {
	if (body instanceof Uint8Array) {
		return body;
	}

	if (body === undefined || body === null) {
		return new Uint8Array();
	}

	if (typeof body === 'string') {
		return new TextEncoder().encode(body);
	}

	if (typeof body === 'object' && Symbol.asyncIterator in body) {
		const chunks: Uint8Array[] = [];
		for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
			chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
		}

		const whole = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
		let offset = 0;
		for (const chunk of chunks) {
			whole.set(chunk, offset);
			offset += chunk.length;
		}

		return whole;
	}

	throw new TypeError('an answer body of an unknown kind');
}
