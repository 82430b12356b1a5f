/**
 * A lean decoder for DescribeInstances answers. The SDK decodes every field of every instance (over
 * a hundred objects each) although envwatch reads eight: at 10,000 instances that was most of a
 * poll's CPU and memory. This reads one page's XML in a single pass, keeps only the fields envwatch
 * uses and drops everything else as it goes. It is strict where it matters: the document must be
 * well-formed (every element closed by its own name, one root, nothing after it), entities must be
 * known ones; otherwise the page is malformed and its region errs, as with the SDK's parser.
 *
 * The per-instance checks (ID, type, state) stay in fleet.ts, shared with the SDK-decoded path.
 */

/** The fields of one instance as they were written in the answer: nothing checked yet. */
export type LeanInstance = {
	id?: string;
	type?: string;
	state?: string;
	lifecycle?: string;
	platformDetails?: string;
	availabilityZone?: string;
	tenancy?: string;
	launchTime?: string;
	/** Key and value of each tag, in order (a tag without a key is left out, as by the SDK path). */
	tags: Array<[string, string | undefined]>;
};

export type LeanPage = {instances: LeanInstance[]; nextToken?: string};

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
	'placement/availabilityZone': 'availabilityZone',
	'placement/tenancy': 'tenancy',
	launchTime: 'launchTime',
};
/** The parents of those fields, to know when text is worth keeping. */
const parents = new Set(['instanceState', 'placement']);

/**
 * Decodes one DescribeInstances page (the text of a 2xx answer, already checked to be a complete
 * <DescribeInstancesResponse> by answers.ts). Throws XmlError when the XML is not well-formed.
 */
export function decodeDescribeInstances(text: string): LeanPage {
	const instances: LeanInstance[] = [];
	let nextToken: string | undefined;
	const stack: string[] = [];
	let rootSeen = false;
	// Depths: 1 the response, 2 reservationSet, 3 item, 4 instancesSet, 5 item (an instance),
	// 6 its fields (7 inside instanceState, placement and tagSet's items, 8 a tag's key and value).
	let instance: LeanInstance | undefined;
	let inTags = false;
	let tagKey: string | undefined;
	let tagValue: string | undefined;
	// The text of the element being read, when it is one envwatch keeps (undefined otherwise).
	let kept: string | undefined;

	/** An element ends (`value`: its text when kept); `stack` holds its ancestors. */
	const finish = (name: string, depth: number, value: string | undefined): void => {
		if (value !== undefined) {
			if (depth === 2) {
				nextToken = value;
			} else if (inTags && depth === 8) {
				if (name === 'key') {
					tagKey = value;
				} else {
					tagValue = value;
				}
			} else if (instance) {
				const field = fieldPaths[depth === 6 ? name : `${stack[5]}/${name}`];
				if (field) {
					instance[field] = value;
				}
			}
		}

		if (depth === 5 && instance) {
			instances.push(instance);
			instance = undefined;
		} else if (depth === 7 && inTags) {
			if (tagKey !== undefined) {
				instance!.tags.push([tagKey, tagValue]);
			}

			tagKey = undefined;
			tagValue = undefined;
		} else if (depth === 6 && name === 'tagSet') {
			inTags = false;
		}
	};

	let position = 0;
	while (position < text.length) {
		const open = text.indexOf('<', position);
		const chunk = open === -1 ? text.slice(position) : text.slice(position, open);
		if (chunk.length > 0) {
			if (stack.length === 0 && chunk.trim() !== '') {
				throw new XmlError(`text outside the root element near character ${position}`);
			}

			if (kept !== undefined) {
				if (chunk.includes('\u0000')) {
					throw new XmlError(`a NUL character near character ${position}: not XML`);
				}

				kept += chunk;
			}
		}

		if (open === -1) {
			break;
		}

		const next = text.charCodeAt(open + 1);
		if (next === 0x21 /* ! */) {
			if (text.startsWith('<!--', open)) {
				const end = text.indexOf('-->', open + 4);
				if (end === -1) {
					throw new XmlError(`an unclosed comment near character ${open}`);
				}

				position = end + 3;
				continue;
			}

			if (text.startsWith('<![CDATA[', open)) {
				const end = text.indexOf(']]>', open + 9);
				if (end === -1 || stack.length === 0) {
					throw new XmlError(`an unclosed or misplaced CDATA section near character ${open}`);
				}

				if (kept !== undefined) {
					// Marked by NULs (which XML text cannot hold) so entities in it are not decoded.
					kept += `\u0000${text.slice(open + 9, end).replaceAll('\u0000', '')}\u0000`;
				}

				position = end + 3;
				continue;
			}

			throw new XmlError(`a declaration inside the document near character ${open}: not an EC2 answer`);
		}

		if (next === 0x3F /* ? */) {
			const end = text.indexOf('?>', open + 2);
			if (end === -1) {
				throw new XmlError(`an unclosed processing instruction near character ${open}`);
			}

			position = end + 2;
			continue;
		}

		const close = tagEnd(text, open);
		position = close + 1;
		if (next === 0x2F /* / */) {
			const name = localName(text.slice(open + 2, close).trim());
			const expected = stack.pop();
			if (expected !== name) {
				throw new XmlError(expected === undefined ? `a closing </${name.slice(0, 40)}> with nothing open near character ${open}` : `<${expected.slice(0, 40)}> closed by </${name.slice(0, 40)}> near character ${open}: not well-formed XML`);
			}

			const value = kept === undefined ? undefined : withoutCdataMarks(kept, open);
			kept = undefined;
			finish(name, stack.length + 1, value);
			continue;
		}

		const selfClosing = text.charCodeAt(close - 1) === 0x2F;
		const raw = text.slice(open + 1, selfClosing ? close - 1 : close);
		const space = raw.search(/\s/);
		const name = localName(space === -1 ? raw : raw.slice(0, space));
		if (name === '' || /[&"'=]/.test(name)) {
			throw new XmlError(`a malformed tag near character ${open}`);
		}

		if (stack.length === 0) {
			if (rootSeen) {
				throw new XmlError(`a second root element <${name.slice(0, 40)}> near character ${open}`);
			}

			rootSeen = true;
		}

		const depth = stack.length + 1;
		kept = undefined;
		if (depth === 5 && stack[3] === 'instancesSet' && stack[1] === 'reservationSet') {
			instance = {tags: []};
		} else if (instance && depth === 6 && name === 'tagSet') {
			inTags = true;
		} else if (instance && ((depth === 6 && name in fieldPaths) || (depth === 7 && parents.has(stack[5]!) && `${stack[5]}/${name}` in fieldPaths) || (inTags && depth === 8 && (name === 'key' || name === 'value')))) {
			kept = '';
		} else if (depth === 2 && name === 'nextToken') {
			kept = '';
		}

		if (selfClosing) {
			// An empty element: an empty value, as the SDK reads <value/>.
			const value = kept;
			kept = undefined;
			finish(name, depth, value);
		} else {
			stack.push(name);
		}
	}

	if (!rootSeen || stack.length > 0) {
		throw new XmlError(stack.length > 0 ? `<${stack.at(-1)!.slice(0, 40)}> never closed: cut off?` : 'no root element');
	}

	return {instances, ...(nextToken ? {nextToken} : {})};
}

/** The index of the `>` that ends the tag opened at `open`, quotes in attribute values respected. */
function tagEnd(text: string, open: number): number {
	const end = text.indexOf('>', open + 1);
	if (end === -1) {
		throw new XmlError(`an unclosed tag near character ${open}: cut off?`);
	}

	const inside = text.slice(open + 1, end);
	if (inside.includes('<')) {
		throw new XmlError(`a malformed tag near character ${open}`);
	}

	if (!inside.includes('"') && !inside.includes('\'')) {
		return end;
	}

	let quote = 0;
	for (let index = open + 1; index < text.length; index++) {
		const code = text.charCodeAt(index);
		if (quote !== 0) {
			if (code === quote) {
				quote = 0;
			}
		} else if (code === 0x22 || code === 0x27) {
			quote = code;
		} else if (code === 0x3E) {
			return index;
		} else if (code === 0x3C) {
			break;
		}
	}

	throw new XmlError(`a malformed tag near character ${open}`);
}

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
