/**
 * A lean, streaming reader of EC2's XML answers. The SDK decodes every field of every item (over a
 * hundred objects an instance) although envwatch reads a handful: at 10,000 instances that was most
 * of a poll's CPU and memory. This reads a page's XML in one pass, fed as it arrives, and keeps only
 * the fields a shape (`XmlNode`, a tree of element names) names, handing each record (an instance,
 * a volume) over as soon as it closes.
 *
 * Strict where it matters: the elements on the way to what it keeps must be well-formed (every one
 * closed by its own name, one root, nothing after it), their text's entities known ones, a field
 * given once per record and holding text only; otherwise the page is malformed (XmlError) and its
 * region errs, as with the SDK's parser. An element the shape does not name is passed over whole:
 * its end `</name>` is looked for, and only when that is in the text at hand, with no element of
 * the same name and no comment, CDATA section or processing instruction before it (then it is read
 * tag by tag, for its end). What lies inside such an element is not checked further: it is never
 * read either.
 */

import {Interned, isNameCharacter, localName, markupAt, Names, own, PlainNames, tagEnd, withoutCdataMarks, XmlError} from './xml-strings.js';

export {XmlError} from './xml-strings.js';

/** The fields of one record or entry as read: each the text of its element (a copy), nothing checked yet. */
export type Fields = Record<string, unknown>;

/** What an element is to the reader, found by its name under its parent's node. */
export type XmlSpec = {
	/** The elements read below it, by name; any other is passed over whole. */
	children?: Record<string, XmlNode>;
	/** Its text is kept as this field of the innermost open entry, else record, else the page. */
	field?: string;
	/** Kept as its own copy (an ID, a token: each one's own) rather than once for all who share it. */
	own?: boolean;
	/** A record begins here (`record` gives its fields), handed to the reader's `accept` when it closes. */
	record?: () => Fields;
	/** An entry of the open record begins here (a tag, an attachment): given to `add` when it closes. */
	entry?: {make: () => Fields; add: (record: Fields, entry: Fields) => void};
};

/** A node of a shape: every node has every property, so the reader's code sees one kind of object. */
export class XmlNode {
	readonly children: ReadonlyMap<string, XmlNode> | undefined;
	readonly field: string | undefined;
	readonly own: boolean;
	readonly record: (() => Fields) | undefined;
	readonly entry: XmlSpec['entry'];

	constructor(spec: XmlSpec) {
		this.children = spec.children ? new Map(Object.entries(spec.children)) : undefined;
		this.field = spec.field;
		this.own = spec.own ?? false;
		this.record = spec.record;
		this.entry = spec.entry;
	}
}

/** A shape's node from a plain description: `children` by element name. */
export function xmlNode(spec: XmlSpec): XmlNode {
	return new XmlNode(spec);
}

/** A page's records (as `accept` made them) and the token of the next page. */
export type LeanPage<T> = {items: T[]; nextToken?: string};

/** The longest value, or unfinished tag, comment or CDATA section, an EC2 answer has (a tag value is at most 256 characters). */
const maxTextLength = 65_536;
/** How deep elements nest in an EC2 answer at most (about a dozen levels; far more is not one). */
const maxDepth = 64;

/** An element passed over tag by tag (its end was not at hand), and everything below it. */
const passed = new XmlNode({});

/**
 * Reads one page of an answer whose root's children are `root`'s (any root name: the answers
 * layer checks that it is the action's). Feed it the text as it arrives (`write` each piece, then
 * `end`): only the current piece and what is kept are in memory, never the whole page.
 */
export class LeanXmlReader<T> {
	private readonly items: T[] = [];
	private readonly page: Fields = {};
	private record: Fields | undefined;
	private entry: Fields | undefined;
	/** The open elements' names, and their nodes (`passed` for those read only for their end). */
	private readonly stack: string[] = [];
	private readonly nodes: XmlNode[] = [];
	private rootSeen = false;
	/** The text of the field being read (undefined when the element open is not a field). */
	private kept: string | undefined;
	/** Text received but not read yet: an unfinished tag, comment or CDATA section. */
	private rest = '';
	/** Characters read before `rest`, for messages. */
	private offset = 0;
	/** Where the next `<!` and `<?` are in the text being read (looked for once, then reused while ahead; its length: none). */
	private nextBang = -1;
	private nextQuestion = -1;
	private nextQuote = -1;
	private nextApostrophe = -1;
	/** Characters searched for ends of elements passed over, in the text being read. */
	private searched = 0;

	/** `maxItems`: a page holding more records is not an answer envwatch believes; reading stops there. */
	constructor(private readonly root: XmlNode, private readonly accept: (record: Fields) => T, private readonly maxItems = Number.POSITIVE_INFINITY) {}

	write(piece: string): void {
		const text = this.rest === '' ? piece : this.rest + piece;
		this.nextBang = -1;
		this.nextQuestion = -1;
		this.nextQuote = -1;
		this.nextApostrophe = -1;
		this.searched = 0;
		const stop = this.read(text);
		this.offset += stop;
		this.rest = text.slice(stop);
		if (this.rest.length > maxTextLength) {
			throw new XmlError(`a tag, comment or CDATA section of over ${maxTextLength / 1024} KiB near character ${this.offset}: not an EC2 answer`);
		}
	}

	end(): LeanPage<T> {
		if (this.rest.trim() !== '') {
			throw new XmlError(this.rootSeen ? `the answer ends inside a tag near character ${this.offset}: cut off?` : 'no root element');
		}

		if (!this.rootSeen || this.stack.length > 0) {
			throw new XmlError(this.stack.length > 0 ? `<${this.stack.at(-1)!.slice(0, 40)}> never closed: cut off?` : 'no root element');
		}

		const token = this.page['nextToken'];
		return {items: this.items, ...(typeof token === 'string' && token !== '' ? {nextToken: token} : {})};
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
			// name seen before (a page's thousand records use a few dozen names). Anything else takes
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

			position = next === 0x2F /* / */ ? this.closeTag(text, open, close, at) : this.openTag(text, open, close, at);
		}

		return position;
	}

	/**
	 * The text from `position` to the next tag (at `open`; -1: none). It is cut out only where it is
	 * kept or must be checked (outside the root): the rest of a page's text is never copied.
	 */
	private readText(text: string, position: number, open: number): void {
		if ((this.kept !== undefined || this.stack.length === 0) && open !== position) {
			const chunk = open === -1 ? text.slice(position) : text.slice(position, open);
			if (this.stack.length === 0 && chunk.trim() !== '') {
				throw new XmlError(`text outside the root element near character ${this.offset + position}`);
			}

			if (this.kept !== undefined) {
				if (chunk.includes('\u0000')) {
					throw new XmlError(`a NUL character near character ${this.offset + position}: not XML`);
				}

				this.kept += chunk;
				if (this.kept.length > maxTextLength) {
					throw new XmlError(`a value of over ${maxTextLength / 1024} KiB near character ${this.offset + position}: not an EC2 answer`);
				}
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
			const expected = stack.length === 0 ? undefined : stack[stack.length - 1];
			const end = expected === undefined ? -1 : open + 2 + expected.length;
			if (expected === undefined || text.charCodeAt(end) !== 0x3E /* > */ || !text.startsWith(expected, open + 2)) {
				return -1;
			}

			this.closeOpen(open);
			return end + 1;
		}

		if (stack.length === 0) {
			return -1;
		}

		const end = text.indexOf('>', open + 1);
		const name = end === -1 ? undefined : plainNames.find(text, open + 1, end);
		return name === undefined ? -1 : this.enter(text, name, end + 1, false, this.offset + open, true);
	}

	/** `</name>` (from `open` to `close`, its `>`): it must close the element open last. */
	private closeTag(text: string, open: number, close: number, at: number): number {
		const expected = this.stack.length === 0 ? undefined : this.stack[this.stack.length - 1];
		// The usual case compared in place: </name> right after the name.
		if (expected === undefined || !(close === open + 2 + expected.length && text.startsWith(expected, open + 2))) {
			const name = localName(text.slice(open + 2, close).trim());
			if (expected !== name) {
				throw new XmlError(expected === undefined ? `a closing </${name.slice(0, 40)}> with nothing open near character ${at}` : `<${expected.slice(0, 40)}> closed by </${name.slice(0, 40)}> near character ${at}: not well-formed XML`);
			}
		}

		this.closeOpen(at);
		return close + 1;
	}

	/** The element open last closes (at `at`, for messages). */
	private closeOpen(at: number): void {
		const name = this.stack.pop()!;
		const node = this.nodes.pop()!;
		const value = this.kept === undefined ? undefined : withoutCdataMarks(this.kept, at);
		this.kept = undefined;
		this.finish(name, node, value);
	}

	/** `<name ...>` or `<name/>` (from `open` to `close`, its `>`): where the text after it (or after the element, passed over) starts. */
	private openTag(text: string, open: number, close: number, at: number): number {
		const selfClosing = text.charCodeAt(close - 1) === 0x2F;
		let nameEnd = open + 1;
		for (const end = selfClosing ? close - 1 : close; nameEnd < end; nameEnd++) {
			const code = text.charCodeAt(nameEnd);
			if (code <= 0x20 || code === 0x22 || code === 0x26 || code === 0x27 || code === 0x3D) {
				break;
			}
		}

		const written = elementNames.at(text, open + 1, nameEnd);
		const name = localName(written);
		const after = text.charCodeAt(nameEnd);
		if (name === '' || (nameEnd < close && after > 0x20 && after !== 0x2F)) {
			throw new XmlError(`a malformed tag near character ${at}`);
		}

		if (nameEnd === close && !selfClosing) {
			// `<name>`: next time, a plain name is found in place.
			plainNames.learn(text, open + 1, nameEnd);
		}

		if (this.stack.length === 0) {
			if (this.rootSeen) {
				throw new XmlError(`a second root element <${name.slice(0, 40)}> near character ${at}`);
			}

			this.rootSeen = true;
		}

		// A prefixed name (`<ns:name>`) is read tag by tag: its end is not `</name>`.
		return this.enter(text, name, close + 1, selfClosing, at, written === name);
	}

	/**
	 * An element `name` opens (its tag ends before `after`): where reading goes on. One the shape
	 * does not name is passed over whole when its end is at hand (`unprefixed`: its end is `</name>`).
	 */
	private enter(text: string, name: string, after: number, selfClosing: boolean, at: number, unprefixed: boolean): number {
		const parent = this.nodes.length === 0 ? undefined : this.nodes[this.nodes.length - 1];
		if (parent?.field !== undefined) {
			throw new XmlError(`<${this.stack[this.stack.length - 1]!.slice(0, 40)}> holds an element <${name.slice(0, 40)}> near character ${at}: expected text`);
		}

		const node = parent === undefined ? this.root : parent === passed ? passed : parent.children?.get(name) ?? passed;
		if (node === passed && parent !== passed && !selfClosing && unprefixed) {
			const end = this.endOf(text, name, after);
			if (end !== -1) {
				return end;
			}
		}

		this.start(node);
		if (selfClosing) {
			// An empty element: an empty value, as the SDK reads <value/>.
			const value = this.kept;
			this.kept = undefined;
			this.finish(name, node, value);
		} else {
			if (this.stack.length >= maxDepth) {
				throw new XmlError(`elements nested over ${maxDepth} deep near character ${at}: not an EC2 answer`);
			}

			this.stack.push(name);
			this.nodes.push(node);
		}

		return after;
	}

	/**
	 * Where the text after element `name` (opened before `from`) starts, when its end `</name>` is in
	 * `text` with no `<name`, comment, CDATA section, processing instruction or attribute value (a
	 * quote) before it; else -1. An end written `</name >` is read tag by tag. Each piece of text
	 * may be searched this way about twice over; past that it is read tag by tag, so no answer makes
	 * the search quadratic.
	 */
	private endOf(text: string, name: string, from: number): number {
		// Text alone (the usual case): its end is the next tag.
		const next = text.indexOf('<', from);
		if (next !== -1 && text.charCodeAt(next + 1) === 0x2F /* / */ && text.startsWith(name, next + 2) && text.charCodeAt(next + 2 + name.length) === 0x3E /* > */) {
			return next + 3 + name.length;
		}

		if (next === -1 || this.searched > (text.length * 2) + 65_536) {
			return -1;
		}

		let tags = tagsOf.get(name);
		if (tags === undefined) {
			tags = {close: `</${name}`, open: `<${name}`};
			if (tagsOf.size < 500) {
				tagsOf.set(name, tags);
			}
		}

		// The first `</name` followed by `>` (`</nameX` is another element's; `</name ` is read tag by tag).
		let close = text.indexOf(tags.close, next);
		while (close !== -1 && text.charCodeAt(close + tags.close.length) !== 0x3E /* > */) {
			close = isNameCharacter(text.charCodeAt(close + tags.close.length)) ? text.indexOf(tags.close, close + 1) : -1;
		}

		this.searched += 2 * ((close === -1 ? text.length : close) - from);
		// `<name` looked for backwards from the end: the search stops at the element's own start.
		if (close === -1 || this.markupBefore(text, from, close) || text.lastIndexOf(tags.open, close - 1) >= from) {
			return -1;
		}

		return close + tags.close.length + 1;
	}

	/**
	 * Whether a comment, CDATA section, processing instruction or attribute value (a quote) starts in
	 * `text` between `from` and `close`: an element holding one is read tag by tag.
	 */
	private markupBefore(text: string, from: number, close: number): boolean {
		if (this.nextBang < from) {
			this.nextBang = markupAt(text, 0x21 /* ! */, from);
		}

		if (this.nextQuestion < from) {
			this.nextQuestion = markupAt(text, 0x3F /* ? */, from);
		}

		if (this.nextQuote < from) {
			const found = text.indexOf('"', from);
			this.nextQuote = found === -1 ? text.length : found;
		}

		if (this.nextApostrophe < from) {
			const found = text.indexOf('\'', from);
			this.nextApostrophe = found === -1 ? text.length : found;
		}

		return this.nextBang < close || this.nextQuestion < close || this.nextQuote < close || this.nextApostrophe < close;
	}

	/** An element of `node` starts. */
	private start(node: XmlNode): void {
		this.kept = node.field === undefined ? undefined : '';
		if (node.record) {
			this.record = node.record();
		} else if (node.entry && this.record) {
			this.entry = node.entry.make();
		}
	}

	/** An element of `node` ends (`value`: its text when it is a field). */
	private finish(name: string, node: XmlNode, value: string | undefined): void {
		if (node.field !== undefined && value !== undefined) {
			const target = this.entry ?? this.record ?? this.page;
			if (target[node.field] !== undefined) {
				throw new XmlError(`<${name.slice(0, 40)}> given twice in one ${this.record ? 'item' : 'answer'}: an answer that repeats itself`);
			}

			// Pretty-printed empty elements hold a line break and indentation: empty, as the SDK reads them.
			const text = value.trim() === '' && value.includes('\n') ? '' : value;
			target[node.field] = node.own ? own(text) : sharedValues.of(text);
		} else if (node.record && this.record) {
			if (this.items.length >= this.maxItems) {
				throw new XmlError(`more than ${this.maxItems} items in one page: not an answer to the request`);
			}

			this.items.push(this.accept(this.record));
			this.record = undefined;
		} else if (node.entry && this.entry) {
			node.entry.add(this.record!, this.entry);
			this.entry = undefined;
		}
	}
}

/**
 * Shared by every answer's reader (all bounded): element names and the values that repeat are the
 * same from page to page and from account to account, so a fleet of many accounts (many small
 * pages) does not copy them afresh for each page.
 */
const elementNames = new Names();
/** Plain element names (letters, digits, `_`, `-`, `.`) seen as `<name>`: the fast way in `knownTag`. */
const plainNames = new PlainNames();
/** Values that repeat from record to record (types, states, zones, tags), kept once. */
const sharedValues = new Interned();
/** `</name>` and `<name` of each name passed over. */
const tagsOf = new Map<string, {close: string; open: string}>();
