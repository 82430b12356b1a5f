/**
 * A lean decoder for DescribeInstances answers. The SDK decodes every field of every instance (over
 * a hundred objects each) although envwatch reads eight: at 10,000 instances that was most of a
 * poll's CPU and memory. This reads one page's XML in a single pass, keeps only the fields envwatch
 * uses and drops everything else as it goes. It is strict where it matters: the document must be
 * well-formed (every element closed by its own name, one root, nothing after it), entities must be
 * known ones; otherwise the page is malformed and its region errs, as with the SDK's parser.
 *
 * The per-instance checks (ID, type, state, and the launch time with `launchTimeProblem` below)
 * run in fleet.ts, shared with the SDK-decoded path.
 */

import {Interned, Names, own, PlainNames} from './xml-strings.js';

/** EC2 began in August 2006: an instance launched before cannot be. */
export const ec2Began = Date.UTC(2006, 7, 1);
/**
 * How far past "now" a launch time may be and still be believed: clocks drift, and AWS's front end
 * and the instance's host are not one clock. Beyond it, a launch time is in the future.
 */
export const launchSkewMs = 15 * 60_000;

/**
 * What cannot be true of a launch time as answered, or undefined when it can be (or there is none):
 * not a date, before EC2 existed, or later than `notAfter` (the latest of this host's clock and the
 * answer's own) plus `launchSkewMs`. Such an instance would be taken for the newest (or oldest) of
 * its environment, so its answer is malformed: its region errs (STALE), as for any impossible value.
 */
export function launchTimeProblem(launchTime: string | undefined, notAfter: number): string | undefined {
	if (launchTime === undefined) {
		return undefined;
	}

	const at = Date.parse(launchTime);
	if (!Number.isFinite(at)) {
		return `a launch time ${JSON.stringify(launchTime.slice(0, 40))} that is not a date`;
	}

	if (at > notAfter + launchSkewMs) {
		return `launch time ${launchTime.slice(0, 40)}, in the future (AWS's clock and this host's say ${new Date(notAfter).toISOString()})`;
	}

	return at < ec2Began ? `launch time ${launchTime.slice(0, 40)}, before EC2 existed (August 2006)` : undefined;
}

/** The fields of one instance as they were written in the answer (copies): nothing checked yet. */
export type LeanInstance = {
	id?: string;
	type?: string;
	state?: string;
	lifecycle?: string;
	platformDetails?: string;
	/** `windows` on Windows instances (older answers carry only this). */
	platform?: string;
	availabilityZone?: string;
	tenancy?: string;
	launchTime?: string;
	imageId?: string;
	/** Key and value of each tag, in order (a tag without a key is left out, as by the SDK path). */
	tags: Array<[string, string | undefined]>;
};

/** A page's instances (as read, or as `accept` made them) and the token of the next page. */
export type LeanPage<T = LeanInstance> = {instances: T[]; nextToken?: string};

export {own} from './xml-strings.js';

export class XmlError extends Error {
	override readonly name = 'XmlError';
}

const named = new Map<string, string>([['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', '\'']]);

function decodeEntities(text: string, at: number): string {
	if (!text.includes('&')) {
		return text;
	}

	return text.replace(/&([^;&<]*);?/g, (whole, name: string) => {
		if (!whole.endsWith(';')) {
			throw new XmlError(`a bare & near character ${at}: not well-formed XML`);
		}

		const known = named.get(name);
		if (known !== undefined) {
			return known;
		}

		const code = /^#x[0-9a-fA-F]{1,6}$/.test(name) ? Number.parseInt(name.slice(2), 16) : /^#[0-9]{1,7}$/.test(name) ? Number.parseInt(name.slice(1), 10) : Number.NaN;
		if (!Number.isFinite(code) || code > 0x10_FF_FF) {
			throw new XmlError(`an unknown entity &${name.slice(0, 20)}; near character ${at}`);
		}

		return String.fromCodePoint(code);
	});
}

/** Where a field of an instance sits, by element names below the instance's <item>. */
const fieldPaths: Record<string, keyof Omit<LeanInstance, 'tags'>> = {
	instanceId: 'id',
	instanceType: 'type',
	'instanceState/name': 'state',
	instanceLifecycle: 'lifecycle',
	platformDetails: 'platformDetails',
	platform: 'platform',
	'placement/availabilityZone': 'availabilityZone',
	'placement/tenancy': 'tenancy',
	launchTime: 'launchTime',
	imageId: 'imageId',
};
/** The parents of those fields, to know when text is worth keeping. */
const parents = new Set(['instanceState', 'placement']);

/**
 * Decodes one DescribeInstances page (the text of a 2xx answer) in one go. Throws XmlError when the
 * XML is not well-formed or ends early.
 */
export function decodeDescribeInstances(text: string): LeanPage {
	const decoder = new DescribeInstancesDecoder();
	decoder.write(text);
	return decoder.end();
}

/**
 * The same, fed the answer's text as it arrives (`write` each piece, then `end`): only the current
 * piece and what envwatch keeps are in memory, never the whole page. Each instance is handed to
 * `accept` as soon as its element closes and only what that returns is kept, so the fields as read
 * live for one instance, not for a page (with the values kept once below, a poll of 10,000 instances
 * left about half as much in V8's old space).
 */
export class DescribeInstancesDecoder<T = LeanInstance> {
	private readonly instances: T[] = [];
	private nextToken: string | undefined;
	private readonly stack: string[] = [];
	private rootSeen = false;
	// Depths: 1 the response, 2 reservationSet, 3 item, 4 instancesSet, 5 item (an instance),
	// 6 its fields (7 inside instanceState, placement and tagSet's items, 8 a tag's key and value).
	private instance: LeanInstance | undefined;
	private inTags = false;
	private tagKey: string | undefined;
	private tagValue: string | undefined;
	/** The text of the element being read, when it is one envwatch keeps (undefined otherwise). */
	private kept: string | undefined;
	/** Text received but not read yet: an unfinished tag, comment or CDATA section. */
	private rest = '';
	/** Characters read before `rest`, for messages. */
	private offset = 0;
	private readonly names = sharedNames;
	/** Plain element names (letters, digits, `_`, `-`, `.`) seen as `<name>`: the fast way in `read`. */
	private readonly plain = new PlainNames();
	/** Values that repeat from instance to instance (types, states, zones, tags), kept once. */
	private readonly values = sharedValues;

	constructor(private readonly accept: (instance: LeanInstance) => T = instance => instance as T) {}

	write(piece: string): void {
		const text = this.rest === '' ? piece : this.rest + piece;
		const stop = this.read(text);
		this.offset += stop;
		this.rest = text.slice(stop);
	}

	end(): LeanPage<T> {
		if (this.rest.trim() !== '') {
			throw new XmlError(this.rootSeen ? `the answer ends inside a tag near character ${this.offset}: cut off?` : 'no root element');
		}

		if (!this.rootSeen || this.stack.length > 0) {
			throw new XmlError(this.stack.length > 0 ? `<${this.stack.at(-1)!.slice(0, 40)}> never closed: cut off?` : 'no root element');
		}

		return {instances: this.instances, ...(this.nextToken ? {nextToken: this.nextToken} : {})};
	}

	/** Reads what is complete in `text`; returns where the unfinished rest starts. */
	private read(text: string): number {
		let position = 0;
		while (position < text.length) {
			const open = text.indexOf('<', position);
			this.readText(text, position, open);
			if (open === -1) {
				return text.length;
			}

			const at = this.offset + open;
			if (open + 1 >= text.length) {
				return open;
			}

			const next = text.charCodeAt(open + 1);
			if (next === 0x21 /* ! */ || next === 0x3F /* ? */) {
				const end = this.readMarkup(text, open, next, at);
				if (end === -1) {
					return open;
				}

				position = end;
				continue;
			}

			// The usual tags first, compared in place: `</name>` of the element open, `<name>` of a plain
			// name seen before (a page's thousand instances use a few dozen names). Anything else takes
			// the general way below, which would accept exactly these the same.
			const known = this.knownTag(text, open, next);
			if (known !== -1) {
				position = known;
				continue;
			}

			const close = tagEnd(text, open, at);
			if (close === -1) {
				return open;
			}

			position = close + 1;
			if (next === 0x2F /* / */) {
				this.closeTag(text, open, close, at);
			} else {
				this.openTag(text, open, close, at);
			}
		}

		return position;
	}

	/**
	 * The text from `position` to the next tag (at `open`; -1: none). It is cut out only where it is
	 * kept or must be checked (outside the root): the rest of a page's text is never copied.
	 */
	private readText(text: string, position: number, open: number): void {
		const {stack} = this;
		if ((this.kept !== undefined || stack.length === 0) && open !== position) {
			const chunk = open === -1 ? text.slice(position) : text.slice(position, open);
			if (stack.length === 0 && chunk.trim() !== '') {
				throw new XmlError(`text outside the root element near character ${this.offset + position}`);
			}

			if (this.kept !== undefined) {
				if (chunk.includes('\u0000')) {
					throw new XmlError(`a NUL character near character ${this.offset + position}: not XML`);
				}

				this.kept += chunk;
			}
		}
	}

	/** A comment, CDATA section or processing instruction at `open`: where it ends, or -1 when it is not complete yet. */
	private readMarkup(text: string, open: number, next: number, at: number): number {
		if (next === 0x3F /* ? */) {
			const end = text.indexOf('?>', open + 2);
			return end === -1 ? -1 : end + 2;
		}

		if ((text.length - open < 4 && '<!--'.startsWith(text.slice(open))) || (text.length - open < 9 && '<![CDATA['.startsWith(text.slice(open)))) {
			return -1;
		}

		if (text.startsWith('<!--', open)) {
			const end = text.indexOf('-->', open + 4);
			return end === -1 ? -1 : end + 3;
		}

		if (text.startsWith('<![CDATA[', open)) {
			const end = text.indexOf(']]>', open + 9);
			if (end === -1) {
				return -1;
			}

			if (this.stack.length === 0) {
				throw new XmlError(`a CDATA section outside the root element near character ${at}`);
			}

			if (this.kept !== undefined) {
				// Marked by NULs (which XML text cannot hold) so entities in it are not decoded.
				this.kept += `\u0000${text.slice(open + 9, end).replaceAll('\u0000', '')}\u0000`;
			}

			return end + 3;
		}

		throw new XmlError(`a declaration inside the document near character ${at}: not an EC2 answer`);
	}

	/**
	 * A usual tag at `open` read in place: `</name>` closing the element open, or `<name>` of a plain
	 * name seen before. Returns where the text after it starts, or -1 (then the general way reads it).
	 */
	private knownTag(text: string, open: number, next: number): number {
		const {stack} = this;
		if (next === 0x2F /* / */) {
			const expected = stack.at(-1);
			const end = expected === undefined ? -1 : open + 2 + expected.length;
			if (expected === undefined || text.charCodeAt(end) !== 0x3E /* > */ || !text.startsWith(expected, open + 2)) {
				return -1;
			}

			stack.pop();
			const value = this.kept === undefined ? undefined : withoutCdataMarks(this.kept, this.offset + open);
			this.kept = undefined;
			this.finish(expected, stack.length + 1, value);
			return end + 1;
		}

		if (stack.length === 0) {
			return -1;
		}

		const end = text.indexOf('>', open + 1);
		const name = end === -1 ? undefined : this.plain.find(text, open + 1, end);
		if (name === undefined) {
			return -1;
		}

		this.start(name, stack.length + 1);
		stack.push(name);
		return end + 1;
	}

	/** `</name>` (from `open` to `close`, its `>`): it must close the element open last. */
	private closeTag(text: string, open: number, close: number, at: number): void {
		const {stack} = this;
		const expected = stack.pop();
		// The usual case compared in place: </name> right after the name.
		if (expected === undefined || !(close === open + 2 + expected.length && text.startsWith(expected, open + 2))) {
			const name = localName(text.slice(open + 2, close).trim());
			if (expected !== name) {
				throw new XmlError(expected === undefined ? `a closing </${name.slice(0, 40)}> with nothing open near character ${at}` : `<${expected.slice(0, 40)}> closed by </${name.slice(0, 40)}> near character ${at}: not well-formed XML`);
			}
		}

		const name = expected;

		const value = this.kept === undefined ? undefined : withoutCdataMarks(this.kept, at);
		this.kept = undefined;
		this.finish(name, stack.length + 1, value);
	}

	/** `<name ...>` or `<name/>` (from `open` to `close`, its `>`). */
	private openTag(text: string, open: number, close: number, at: number): void {
		const {stack} = this;
		const selfClosing = text.charCodeAt(close - 1) === 0x2F;
		let nameEnd = open + 1;
		for (const end = selfClosing ? close - 1 : close; nameEnd < end; nameEnd++) {
			const code = text.charCodeAt(nameEnd);
			if (code <= 0x20 || code === 0x22 || code === 0x26 || code === 0x27 || code === 0x3D) {
				break;
			}
		}

		const name = localName(this.names.at(text, open + 1, nameEnd));
		const after = text.charCodeAt(nameEnd);
		if (name === '' || (nameEnd < close && after > 0x20 && after !== 0x2F)) {
			throw new XmlError(`a malformed tag near character ${at}`);
		}

		if (nameEnd === close && !selfClosing) {
			// `<name>`: next time, a plain name is found in place.
			this.plain.learn(text, open + 1, nameEnd);
		}

		if (stack.length === 0) {
			if (this.rootSeen) {
				throw new XmlError(`a second root element <${name.slice(0, 40)}> near character ${at}`);
			}

			this.rootSeen = true;
		}

		this.start(name, stack.length + 1);
		if (selfClosing) {
			// An empty element: an empty value, as the SDK reads <value/>.
			const value = this.kept;
			this.kept = undefined;
			this.finish(name, stack.length + 1, value);
		} else {
			stack.push(name);
		}
	}

	/** An element starts; `stack` holds its ancestors. */
	private start(name: string, depth: number): void {
		const {stack} = this;
		this.kept = undefined;
		if (depth === 5 && stack[3] === 'instancesSet' && stack[1] === 'reservationSet') {
			this.instance = {tags: []};
		} else if (this.instance && depth === 6 && name === 'tagSet') {
			this.inTags = true;
		} else if (this.instance && ((depth === 6 && name in fieldPaths) || (depth === 7 && parents.has(stack[5]!) && `${stack[5]}/${name}` in fieldPaths) || (this.inTags && depth === 8 && (name === 'key' || name === 'value')))) {
			this.kept = '';
		} else if (depth === 2 && name === 'nextToken') {
			this.kept = '';
		}
	}

	/** An element ends (`value`: its text when kept); `stack` holds its ancestors. */
	private finish(name: string, depth: number, value: string | undefined): void {
		if (value !== undefined) {
			const text = value.trim() === '' && value.includes('\n') ? '' : value;
			if (depth === 2) {
				this.nextToken = own(text);
			} else if (this.inTags && depth === 8) {
				if (name === 'key') {
					this.tagKey = this.values.of(text);
				} else {
					this.tagValue = this.values.of(text);
				}
			} else if (this.instance) {
				const field = fieldPaths[depth === 6 ? name : `${this.stack[5]}/${name}`];
				if (field) {
					// An ID and a launch time are each instance's own; the rest repeats.
					this.instance[field] = field === 'id' || field === 'launchTime' ? own(text) : this.values.of(text);
				}
			}
		}

		if (depth === 5 && this.instance) {
			this.instances.push(this.accept(this.instance));
			this.instance = undefined;
		} else if (depth === 7 && this.inTags) {
			if (this.tagKey !== undefined) {
				this.instance!.tags.push([this.tagKey, this.tagValue]);
			}

			this.tagKey = undefined;
			this.tagValue = undefined;
		} else if (depth === 6 && name === 'tagSet') {
			this.inTags = false;
		}
	}
}

/**
 * The index of the `>` that ends the tag opened at `open` (quotes in attribute values respected),
 * or -1 when the text ends first.
 */
function tagEnd(text: string, open: number, at: number): number {
	let quote = 0;
	for (let index = open + 1; index < text.length; index++) {
		const code = text.charCodeAt(index);
		if (quote !== 0) {
			if (code === quote) {
				quote = 0;
			}
		} else if (code === 0x3E) {
			return index;
		} else if (code === 0x22 || code === 0x27) {
			quote = code;
		} else if (code === 0x3C) {
			throw new XmlError(`a malformed tag near character ${at}`);
		}
	}

	return -1;
}

/**
 * Shared by every answer's decoder (both bounded): element names and the values that repeat are
 * the same from page to page and from account to account, so a fleet of many accounts (many small
 * pages) does not copy them afresh for each page.
 */
const sharedNames = new Names();
const sharedValues = new Interned();

function localName(name: string): string {
	const colon = name.indexOf(':');
	return colon === -1 ? name : name.slice(colon + 1);
}

/** Entities decoded outside CDATA sections (marked by NULs, which XML text cannot contain). */
function withoutCdataMarks(raw: string, at: number): string {
	if (!raw.includes('\u0000')) {
		return decodeEntities(raw, at);
	}

	return raw.split('\u0000').map((part, index) => (index % 2 === 1 ? part : decodeEntities(part, at))).join('');
}
