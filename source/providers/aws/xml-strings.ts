// The strings an EC2 answer's reader (lean-xml.ts) keeps: element names found again in place, values
// kept once, each a copy that holds none of the answer's text, and an element's text as its value.

/**
 * Element names seen so far, found again in place: a page has over a hundred elements an instance
 * but only a few dozen names, so a name is cut out of the text once, not for every element.
 */
export class Names {
	private readonly byShape = new Map<number, string[]>();
	private count = 0;

	at(text: string, start: number, end: number): string {
		const length = end - start;
		if (length === 0) {
			return '';
		}

		const shape = (length * 0x1_00_00) + (text.charCodeAt(start) * 0x1_00) + (text.charCodeAt(end - 1) & 0xFF);
		const known = this.byShape.get(shape);
		if (known) {
			for (const name of known) {
				if (text.startsWith(name, start)) {
					return name;
				}
			}
		}

		const name = own(text.slice(start, end));
		// Bounded: a hostile answer with endless distinct names only stops being cached.
		if (this.count < 500) {
			this.count++;
			if (known) {
				known.push(name);
			} else {
				this.byShape.set(shape, [name]);
			}
		}

		return name;
	}
}

/**
 * Names seen as a whole opening tag `<name>` whose every character is a plain one (letters, digits,
 * `_`, `-`, `.`: no prefix, nothing to decode), found again by length, first and last character
 * and a comparison in place: the text between `<` and the next `>` is such a name exactly when it
 * is one of these, so no character of it needs looking at again.
 */
export class PlainNames {
	private readonly byShape = new Map<number, string[]>();
	private count = 0;

	find(text: string, start: number, end: number): string | undefined {
		const length = end - start;
		if (length === 0 || length > 64) {
			return undefined;
		}

		const known = this.byShape.get(shapeOf(text, start, end));
		if (known !== undefined) {
			for (const name of known) {
				if (text.startsWith(name, start)) {
					return name;
				}
			}
		}

		return undefined;
	}

	learn(text: string, start: number, end: number): void {
		const length = end - start;
		if (length === 0 || length > 64 || this.count >= 500) {
			return;
		}

		for (let index = start; index < end; index++) {
			const code = text.charCodeAt(index);
			const plain = (code >= 0x61 && code <= 0x7A) || (code >= 0x41 && code <= 0x5A) || (code >= 0x30 && code <= 0x39) || code === 0x5F || code === 0x2D || code === 0x2E;
			if (!plain) {
				return;
			}
		}

		const name = own(text.slice(start, end));
		const shape = shapeOf(text, start, end);
		const known = this.byShape.get(shape);
		if (known?.includes(name)) {
			return;
		}

		this.count++;
		if (known) {
			known.push(name);
		} else {
			this.byShape.set(shape, [name]);
		}
	}
}

function shapeOf(text: string, start: number, end: number): number {
	return ((end - start) * 0x1_00_00) + (text.charCodeAt(start) * 0x1_00) + (text.charCodeAt(end - 1) & 0xFF);
}

/**
 * Values seen so far, each kept once: a page's thousand instances share a few types, zones and tag
 * keys, and one string for each instead of a copy per instance is most of an instance's memory.
 * Bounded, in two generations of 1024: when the newer is full it becomes the older and a value
 * found in the older moves back, so a page of distinct values (names) passes through without
 * pushing out the ones that repeat.
 */
export class Interned {
	private newer = new Map<string, string>();
	private older = new Map<string, string>();

	of(text: string): string {
		const known = this.newer.get(text);
		if (known !== undefined) {
			return known;
		}

		const kept = this.older.get(text) ?? own(text);
		if (kept.length <= 256) {
			if (this.newer.size >= 1024) {
				this.older = this.newer;
				this.newer = new Map();
			}

			this.newer.set(kept, kept);
		}

		return kept;
	}
}

/**
 * A copy of a string that holds none of the text it was cut from: V8 keeps a cut of 13 characters
 * or more as a view of its parent, so one instance ID would keep its whole piece of the answer
 * alive (and with it, through a poll, most of the answer's text).
 */
export function own(text: string): string {
	return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}

export class XmlError extends Error {
	override readonly name = 'XmlError';
}

/**
 * The text with its entities (`&amp;`, `&#x41;`) as the characters they stand for. A bare `&` (no
 * `;` before the next `&`) or an entity XML does not define is not well-formed: XmlError.
 */
function decodeEntities(text: string, at: number): string {
	let amp = text.indexOf('&');
	if (amp === -1) {
		return text;
	}

	let decoded = '';
	let from = 0;
	while (amp !== -1) {
		const semi = text.indexOf(';', amp + 1);
		const next = text.indexOf('&', amp + 1);
		if (semi === -1 || (next !== -1 && next < semi)) {
			throw new XmlError(`a bare & near character ${at}: not well-formed XML`);
		}

		decoded += text.slice(from, amp) + entity(text.slice(amp + 1, semi), at);
		from = semi + 1;
		amp = next;
	}

	return decoded + text.slice(from);
}

function entity(name: string, at: number): string {
	switch (name) {
		case 'amp': {
			return '&';
		}

		case 'lt': {
			return '<';
		}

		case 'gt': {
			return '>';
		}

		case 'quot': {
			return '"';
		}

		case 'apos': {
			return '\'';
		}

		default: {
			const code = /^#x[0-9a-fA-F]+$/.test(name) ? Number.parseInt(name.slice(2), 16) : /^#[0-9]+$/.test(name) ? Number.parseInt(name.slice(1), 10) : Number.NaN;
			if (Number.isNaN(code)) {
				throw new XmlError(`an unknown entity &${name.slice(0, 20)}; near character ${at}`);
			}

			// XML's characters: no NUL or other control character, no lone surrogate, nothing past U+10FFFF.
			const allowed = code === 0x9 || code === 0xA || code === 0xD || (code >= 0x20 && code <= 0xD7_FF) || (code >= 0xE0_00 && code <= 0xFF_FD) || (code >= 0x1_00_00 && code <= 0x10_FF_FF);
			if (!allowed) {
				throw new XmlError(`a character reference &${name.slice(0, 20)}; to a character XML does not allow near character ${at}`);
			}

			return String.fromCodePoint(code);
		}
	}
}

/** Entities decoded outside CDATA sections (marked by NULs, which XML text cannot contain). */
export function withoutCdataMarks(raw: string, at: number): string {
	if (!raw.includes('\u0000')) {
		return decodeEntities(raw, at);
	}

	return raw.split('\u0000').map((part, index) => (index % 2 === 1 ? part : decodeEntities(part, at))).join('');
}

/**
 * Where the next `<` followed by `mark` (`!` or `?`) is in `text` at or after `from`, else its
 * length. The mark is looked for, not the `<`: a page has a `<` every few characters and these marks
 * almost never, so the search runs at the speed of a byte scan rather than stopping at every tag.
 */
export function markupAt(text: string, mark: number, from: number): number {
	const character = String.fromCharCode(mark);
	for (let at = text.indexOf(character, from + 1); at !== -1; at = text.indexOf(character, at + 1)) {
		if (text.charCodeAt(at - 1) === 0x3C /* < */) {
			return at - 1;
		}
	}

	return text.length;
}

/**
 * The index of the `>` that ends the tag opened at `open` (quotes in attribute values respected),
 * or -1 when the text ends first.
 */
export function tagEnd(text: string, open: number, at: number): number {
	let quote = 0;
	for (let index = open + 1; index < text.length; index++) {
		const code = text.charCodeAt(index);
		if (quote !== 0) {
			if (code === quote) {
				quote = 0;
			} else if (code === 0x3C) {
				// XML forbids `<` in an attribute value.
				throw new XmlError(`a < inside an attribute value near character ${at}: not well-formed XML`);
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

/** A character that may continue an element's name (`</nameX` is another element's end). */
export function isNameCharacter(code: number): boolean {
	return (code >= 0x61 && code <= 0x7A) || (code >= 0x41 && code <= 0x5A) || (code >= 0x30 && code <= 0x39) || code === 0x5F || code === 0x2D || code === 0x2E || code === 0x3A || code > 0x7F;
}

export function localName(name: string): string {
	const colon = name.indexOf(':');
	return colon === -1 ? name : name.slice(colon + 1);
}
