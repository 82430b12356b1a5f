/**
 * Every answer envwatch reads must be a well-formed AWS answer. A proxy, a captive portal or a
 * broken endpoint can answer `200` with an HTML page or an empty body, and the SDK's parsers read
 * either as an empty result ("no instances", "$0"). A middleware in the deserialize step buffers
 * the raw body of each answer, checks it (status, content type, root element, complete), and hands
 * the same bytes on to the SDK's parser; whatever fails is a `MalformedAnswerError` naming what came
 * back and what was expected. Shape checks of the parsed output live next to the code that reads it.
 */

/** What an answer was expected to be: an EC2/STS query-protocol XML document or a JSON object (Cost Explorer). */
export type AnswerFormat = 'xml' | 'json';

/** An answer that is not the API's: the call's result is unknown, never empty. */
export class MalformedAnswerError extends Error {
	override readonly name = 'MalformedAnswer';
	/** Read and written by the SDK's retry strategy (a 5xx page is retried like any 5xx). */
	$metadata: {httpStatusCode?: number; attempts?: number; totalRetryDelay?: number};

	/**
	 * @param detail What came back and what was expected, without the region (a listing's
	 * RegionError already carries it).
	 */
	constructor(readonly region: string, readonly detail: string, status?: number) {
		super(`${detail} (region ${region})`);
		this.$metadata = status === undefined ? {} : {httpStatusCode: status};
	}
}

type HttpResponse = {statusCode?: number; headers?: Record<string, string | undefined>; body?: unknown};
type Handler = (args: unknown) => Promise<{response: unknown; output?: unknown}>;
type Stack = {add(middleware: (next: Handler, context: {commandName?: string}) => Handler, options: {step: 'deserialize' | 'initialize'; priority: 'low' | 'high'; name: string}): void};

/**
 * A lean reading of an action's 2xx XML answers in place of the SDK's full one (by action name,
 * e.g. `DescribeInstances`): `start` gives a sink that is fed the answer's text as it arrives and
 * whose `end` returns what the caller needs, or throws when the answer is not what it should be (a
 * MalformedAnswerError follows). The whole answer is never held. The SDK then parses `empty` (an
 * empty answer of the action); the lean result is read back with `leanResultOf(output)`.
 */
export type LeanSink = {write(text: string): void; end(): unknown};
export type LeanDecoders = Readonly<Record<string, {start: () => LeanSink; empty: string}>>;

const leanResults = new WeakMap<object, unknown>();
const leanSlot = 'envwatchLeanResult';

/** What the lean decoder made of the answer whose SDK output this is, if one ran. */
export function leanResultOf(output: object): unknown {
	return leanResults.get(output);
}

/**
 * Adds the check to a client: runs inside the SDK's deserializer (priority low in the deserialize
 * step), so it sees the raw HTTP answer of every attempt before it is parsed.
 */
export function checkAnswers(client: {middlewareStack: unknown}, region: string, format: AnswerFormat, lean: LeanDecoders = {}): void {
	const stack = client.middlewareStack as Stack;
	stack.add((next, context) => async args => {
		const slots = context as Record<string, unknown>;
		delete slots[leanSlot];
		const result = await next(args);
		const response = result.response as HttpResponse;
		const action = (context.commandName ?? 'the call').replace(/Command$/, '');
		const status = response.statusCode ?? 0;
		const contentType = header(response.headers, 'content-type');
		const decoder = Object.hasOwn(lean, action) ? lean[action] : undefined;
		if (decoder && format === 'xml' && status >= 200 && status < 300 && (contentType === undefined || /xml/i.test(contentType))) {
			const read = await streamInto(response.body, decoder.start());
			// The same checks as a buffered answer's: they need only its first and last characters.
			const problem = checkText(action, format, status, contentType, read.summary, read.bytes);
			if (problem) {
				throw new MalformedAnswerError(region, problem, status);
			}

			if (read.failure !== undefined) {
				const detail = read.failure instanceof Error ? read.failure.message : String(read.failure);
				throw new MalformedAnswerError(region, `${action} answered HTTP ${status}, ${read.bytes} bytes, that is not a readable answer (${detail}): expected an XML <${action}Response> document, well-formed`, status);
			}

			slots[leanSlot] = read.result;
			// The SDK reads an empty answer of the same action: its own decoding costs nothing.
			response.body = new TextEncoder().encode(decoder.empty);
			return result;
		}

		const bytes = await collect(response.body);
		response.body = bytes;
		const problem = checkAnswer(action, format, status, contentType, bytes);
		if (problem) {
			throw new MalformedAnswerError(region, problem, response.statusCode);
		}

		return result;
	}, {step: 'deserialize', priority: 'low', name: 'envwatchCheckAnswers'});
	if (Object.keys(lean).length > 0) {
		// Outermost: hands the lean result (left on this call's context) to the caller with the output.
		stack.add((next, context) => async args => {
			const result = await next(args);
			const slots = context as Record<string, unknown>;
			if (leanSlot in slots && typeof result.output === 'object' && result.output !== null) {
				leanResults.set(result.output, slots[leanSlot]);
			}

			return result;
		}, {step: 'initialize', priority: 'high', name: 'envwatchLeanResult'});
	}
}

/**
 * Undefined when the answer may be handed to the SDK's parser; otherwise what is wrong. Error
 * answers (4xx/5xx) pass when they look like AWS errors (the SDK turns them into its errors); a
 * 2xx must be the complete answer to this action.
 */
export function checkAnswer(action: string, format: AnswerFormat, status: number, contentType: string | undefined, bytes: Uint8Array): string | undefined {
	return checkText(action, format, status, contentType, new TextDecoder().decode(bytes), bytes.length);
}

function checkText(action: string, format: AnswerFormat, status: number, contentType: string | undefined, decoded: string, byteLength: number): string | undefined {
	const text = decoded.replace(/^\uFEFF/, '').trim();
	const expected = format === 'xml' ? `an XML <${action}Response> document, complete` : 'a JSON object';
	const got = () => `HTTP ${status}${contentType ? ` ${contentType}` : ' (no content type)'}, ${byteLength} bytes${text ? `, starting "${printable(text)}"` : ''}`;
	// For JSON the body decides: moto (the test double) labels Cost Explorer's JSON text/html, and
	// an HTML page or an empty body fails the JSON check anyway.
	const wrongType = format === 'xml' && contentType !== undefined && !/xml/i.test(contentType);
	if (status < 200 || status >= 300) {
		// The SDK reads the error; only answers that cannot be an AWS error are named here.
		const looksLikeError = format === 'xml' ? /^(<\?xml[^>]*\?>\s*)?<(Error)?Response[\s>]/.test(text) : text.startsWith('{');
		return looksLikeError && !wrongType ? undefined : `${action} answered ${got()}: not an AWS error answer`;
	}

	if (wrongType || text === '') {
		return `${action} answered ${got()}: expected ${expected}`;
	}

	if (format === 'json') {
		let parsed: unknown;
		try {
			parsed = JSON.parse(text);
		} catch {
			return /^[[{]/.test(text) ? `${action} answered ${got()}, not valid JSON (cut off?): expected ${expected}` : `${action} answered ${got()}: expected ${expected}`;
		}

		return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? undefined : `${action} answered ${got()}: expected ${expected}`;
	}

	const body = text.replace(/^<\?xml[^>]*\?>\s*/, '');
	const root = `${action}Response`;
	if (!new RegExp(`^<${root}[\\s>]`).test(body)) {
		return `${action} answered ${got()}: expected ${expected}`;
	}

	if (!body.endsWith(`</${root}>`)) {
		return `${action} answered ${got()}, cut off before </${root}>: expected ${expected}`;
	}

	return undefined;
}

/** The first ~40 printable characters, for a message: control characters and quotes dropped. */
function printable(text: string): string {
	// eslint-disable-next-line no-control-regex
	const clean = text.replace(/[\u0000-\u001F\u007F-\u009F"]+/g, ' ').replace(/\s+/g, ' ').trim();
	return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean;
}

function header(headers: HttpResponse['headers'], name: string): string | undefined {
	for (const [key, value] of Object.entries(headers ?? {})) {
		if (key.toLowerCase() === name && value !== undefined) {
			return value;
		}
	}

	return undefined;
}

/** Characters kept from each end of a streamed answer for the checks and messages. */
const edge = 1024;

/**
 * Feeds an answer's body to a lean sink piece by piece. Keeps its byte count and first and last
 * characters (`summary`: the whole text when short) so it can be checked like a buffered answer;
 * after a sink failure the rest is still read (for the count and the end), not decoded.
 */
async function streamInto(body: unknown, sink: LeanSink): Promise<{bytes: number; summary: string; result?: unknown; failure?: unknown}> {
	const decoder = new TextDecoder();
	let bytes = 0;
	let chars = 0;
	let head = '';
	let tail = '';
	let failure: unknown;
	let failed = false;
	const take = (piece: string): void => {
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
		take(decoder.decode(chunk, {stream: true}));
	}

	take(decoder.decode());
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

async function collect(body: unknown): Promise<Uint8Array> {
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
