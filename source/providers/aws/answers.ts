/**
 * The answers layer: every answer envwatch reads from AWS passes through here.
 *
 * - **Well-formed.** A proxy, a captive portal or a broken endpoint can answer `200` with an HTML
 *   page or an empty body, and the SDK's parsers read either as an empty result ("no instances",
 *   "$0"). A middleware in the deserialize step buffers the raw body of each answer, checks it
 *   (status, content type, root element, complete), and hands the same bytes on to the SDK's parser;
 *   whatever fails is a `MalformedAnswerError` naming what came back and what was expected.
 * - **Pages.** Every paginated call goes through `paginate` (or `firstPage` for a one-page probe):
 *   it caps the pages, refuses a page token seen before, and stops at the caller's time budget. No
 *   other code names a page token (test/unit/aws-answers-layer.test.ts enforces it).
 * - **Repeats.** `Unique` notices an item (an instance, a volume) listed twice by one answer.
 * - **Plausible.** A value that cannot be true (a price above what EC2 charges, a volume past EBS's
 *   limits, a date in the future) is an `ImplausibleAnswerError`: never believed, never cached.
 *   The bounds themselves are the domain's (source/domain/pricing.ts); the checks of each call's
 *   parsed output sit next to the code that reads it and throw these errors.
 */

import {collect, streamInto, type LeanSink} from './answer-body.js';

export type {LeanSink} from './answer-body.js';

/** What an answer was expected to be: an EC2/STS query-protocol XML document or a JSON object (Cost Explorer). */
export type AnswerFormat = 'xml' | 'json';

/** An answer that is not the API's: the call's result is unknown, never empty. */
export class MalformedAnswerError extends Error {
	override readonly name: string = 'MalformedAnswer';
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

/**
 * An answer of the right shape whose values cannot be true (a spot price above its on-demand price,
 * a volume of 10^15 GiB, a price dated 2099): rejected like a malformed one, and said as such.
 */
export class ImplausibleAnswerError extends MalformedAnswerError {
	override readonly name = 'ImplausibleAnswer';
}

/**
 * A paginated call that did not end within its cap of pages: an answer that never ends, or one
 * larger than envwatch believes. `requests` is how many pages were asked for (Cost Explorer's are
 * paid for).
 */
export class PageCapError extends MalformedAnswerError {
	override readonly name = 'PageCap';
}

/** A call (its pages, with the SDK's retries) that did not finish within its time budget. */
export class BudgetError extends Error {
	override readonly name = 'TimeBudget';

	constructor(readonly region: string, readonly detail: string) {
		super(`${detail} (region ${region})`);
	}
}

/**
 * A time budget: what a listing (every page of every region) may take. Each page's request is
 * given its `signal`, so a page held past the budget is abandoned, not waited for.
 */
export class Budget {
	readonly deadline: number;
	private readonly controller = new AbortController();
	private readonly timer: NodeJS.Timeout;

	/** @param what Names it in errors: `the listing's time budget of 120 s`. */
	constructor(readonly ms: number, readonly what = `the time budget of ${Math.round(ms / 100) / 10} s`) {
		this.deadline = Date.now() + ms;
		this.timer = setTimeout(() => {
			this.controller.abort();
		}, ms);
		// Never what keeps the process alive.
		this.timer.unref();
	}

	get signal(): AbortSignal {
		return this.controller.signal;
	}

	get expired(): boolean {
		return this.controller.signal.aborted || Date.now() >= this.deadline;
	}

	/** Ends the budget's timer (the call finished). */
	done(): void {
		clearTimeout(this.timer);
	}
}

/** The token names AWS's paginated calls use: EC2, the Price List (NextToken) and Cost Explorer (NextPageToken). */
export type TokenName = 'NextToken' | 'NextPageToken';

export type PageSpec<Output> = {
	/** The call's name for messages: `DescribeInstances`. */
	call: string;
	region: string;
	/** How the call names its token, in the request and in the answer. @default 'NextToken' */
	token?: TokenName;
	/** At most this many pages; an answer still carrying a token after them is a PageCapError. */
	maxPages: number;
	/** What the cap is called where a person can change it (`costExplorer.maxPagesPerQuery`), for the message. */
	capName?: string;
	/** Says why a capped call is not shown (`billed cost is not shown rather than part of it`). */
	capConsequence?: string;
	/** The call's time budget (shared by the calls of one listing). */
	budget?: Budget;
	/**
	 * Sends one page's request: `paging` carries the token (spread it into the command's input) and
	 * `abortSignal` the budget's signal (pass it to `client.send`).
	 */
	send(paging: Partial<Record<TokenName, string>>, options: {abortSignal?: AbortSignal}): Promise<Output>;
};

/** One page: the SDK's output and its number (1 for the first). */
export type Page<Output> = {output: Output; page: number};

/**
 * The pages of one paginated call, read as they come (`for await`), one at a time: only the current
 * page is in memory. It ends when an answer carries no token; it throws (a MalformedAnswerError the
 * caller's region errs with) when a token is not a string, when a token comes back that an earlier
 * page carried (an answer that repeats itself), when `maxPages` pages still did not end it, and a
 * BudgetError when the budget runs out first. `requests` counts the HTTP attempts made so far, the
 * SDK's retries and a failed attempt included (Cost Explorer charges by the request).
 */
export class Pages<Output extends object> implements AsyncIterable<Page<Output>> {
	requests = 0;
	private used = false;

	constructor(private readonly spec: PageSpec<Output>) {}

	async * [Symbol.asyncIterator](): AsyncIterator<Page<Output>> {
		if (this.used) {
			throw new Error(`the pages of ${this.spec.call} are read once`);
		}

		this.used = true;
		const {call, region, budget, maxPages} = this.spec;
		const name = this.spec.token ?? 'NextToken';
		const seen = new Map<string, number>();
		let token: string | undefined;
		for (let page = 1; ; page++) {
			if (budget?.expired) {
				throw new BudgetError(region, `${call} did not finish within ${budget.what}${page > 1 ? ` (after ${page - 1} page${page === 2 ? '' : 's'})` : ''}`);
			}

			let output: Output;
			try {
				output = await this.spec.send(token === undefined ? {} : {[name]: token}, budget ? {abortSignal: budget.signal} : {});
				this.requests += attemptsOf(output);
			} catch (error) {
				this.requests += attemptsOf(error);
				if (budget?.expired) {
					throw new BudgetError(region, `${call} did not finish within ${budget.what} (page ${page} was still under way)`);
				}

				throw error;
			}

			const next = tokenOf(output, name);
			if (next !== undefined && typeof next !== 'string') {
				throw new MalformedAnswerError(region, `${call} page ${page} has a ${name} that is not a string: expected the next page's token or none`);
			}

			const last = next === undefined || next === '';
			if (!last) {
				// Checked before the page is read: a page of an answer that repeats or never ends is not believed either.
				const first = seen.get(next);
				if (first !== undefined) {
					throw new MalformedAnswerError(region, `${call} page ${page} carries the page token of page ${first} again: an answer that repeats itself, not believed`);
				}

				if (page >= maxPages) {
					throw new PageCapError(region, `${call} still had more pages after ${maxPages}${this.spec.capName ? ` (${this.spec.capName})` : ' (envwatch\'s cap)'}: ${this.spec.capConsequence ?? 'an answer that never ends, not believed'}`);
				}

				seen.set(next, page);
			}

			yield {output, page};
			if (last) {
				return;
			}

			token = next;
		}
	}
}

/**
 * The one paginator: every paginated AWS call envwatch makes goes through it (a test forbids page
 * tokens anywhere else). Read its pages with `for await (const {output, page} of paginate(...))`.
 * Example: `paginate({call: 'DescribeVolumes', region, maxPages: 100, send: (paging, options) =>
 * client.send(new DescribeVolumesCommand({...input, ...paging}), options)})`.
 */
export function paginate<Output extends object>(spec: PageSpec<Output>): Pages<Output> {
	return new Pages(spec);
}

/**
 * One page of a paginated call, when a probe needs no more (doctor: "does this call answer?"):
 * the rest is never asked for, and nothing is concluded from its absence.
 */
export async function firstPage<Output>(send: (options: {abortSignal?: AbortSignal}) => Promise<Output>): Promise<Output> {
	return send({});
}

/** The token an answer carries: the lean decoder's when it read the answer, else the SDK's field. */
function tokenOf(output: object, name: TokenName): unknown {
	const lean = leanResultOf(output);
	if (typeof lean === 'object' && lean !== null && 'nextToken' in lean) {
		return (lean as {nextToken?: unknown}).nextToken;
	}

	return (output as Record<string, unknown>)[name];
}

function attemptsOf(value: unknown): number {
	const attempts = (value as {$metadata?: {attempts?: number}} | undefined)?.$metadata?.attempts;
	return typeof attempts === 'number' && attempts > 0 ? attempts : 1;
}

/**
 * Items of one answer that must each come once (instances of a listing, volumes of a part): the
 * second time one is listed, the answer repeats itself and is not believed.
 */
export class Unique {
	private readonly pages = new Map<string, number>();

	constructor(private readonly call: string, private readonly region: string) {}

	add(id: string, page: number): void {
		const first = this.pages.get(id);
		if (first !== undefined) {
			throw new MalformedAnswerError(this.region, `${this.call} page ${page} lists ${id.slice(0, 40)} again (first on page ${first}): an answer that repeats itself, not believed`);
		}

		this.pages.set(id, page);
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
 * empty answer of the action); the lean result is read back with `leanResultOf(output)`. `start` is
 * given when AWS says it answered (its `Date` header, epoch ms), when it says.
 */
export type LeanDecoders = Readonly<Record<string, {start: (answeredAt: number | undefined) => LeanSink; empty: string}>>;

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
			const date = Date.parse(header(response.headers, 'date') ?? '');
			const read = await streamInto(response.body, decoder.start(Number.isFinite(date) ? date : undefined));
			// The same checks as a buffered answer's: they need only its first and last characters (an
			// answer given up after its failure has no end to check).
			const problem = read.cut ? undefined : checkText(action, format, status, contentType, read.summary, read.bytes);
			if (problem) {
				throw new MalformedAnswerError(region, problem, status);
			}

			if (read.failure !== undefined) {
				const detail = read.failure instanceof Error ? read.failure.message : String(read.failure);
				throw new MalformedAnswerError(region, `${action} answered HTTP ${status}, ${read.bytes} bytes${read.cut ? ' before envwatch stopped reading' : ''}, that is not a readable answer (${detail}): expected an XML <${action}Response> document, well-formed`, status);
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
	const got = () => `HTTP ${status}${contentType ? ` ${contentType}` : ' (no content type)'}, ${byteLength} bytes${text ? `, starting "${snippet(text)}"` : ''}`;
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
function snippet(text: string): string {
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
