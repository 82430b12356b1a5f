/** Thrown inside jsonErrorOffset with the offset where the text goes wrong. */
class At {
	constructor(readonly offset: number) {}
}

/**
 * Where a JSON text first goes wrong, as an offset (-1: nowhere). Node 20's JSON.parse messages
 * do not say, and a person fixing a config file wants the line. No recursion: a file nested
 * thousands of levels deep must not overflow the stack.
 */
export function jsonErrorOffset(text: string): number {
	let index = 0;
	const fail = (): never => {
		throw new At(index);
	};

	const space = () => {
		while (index < text.length && ' \t\n\r'.includes(text[index]!)) {
			index++;
		}
	};

	const string = () => {
		index++;
		while (index < text.length && text[index] !== '"') {
			if (text[index] === '\\') {
				index++;
			} else if (text.charCodeAt(index) < 0x20) {
				fail();
			}

			index++;
		}

		if (index >= text.length) {
			fail();
		}

		index++;
	};

	/** A member's key and its colon; the value follows. */
	const key = () => {
		space();
		if (text[index] !== '"') {
			fail();
		}

		string();
		space();
		if (text[index] !== ':') {
			fail();
		}

		index++;
	};

	const scalar = () => {
		if (text[index] === '"') {
			string();
			return;
		}

		const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(index, index + 64));
		if (number) {
			index += number[0].length;
			return;
		}

		for (const word of ['true', 'false', 'null']) {
			if (text.startsWith(word, index)) {
				index += word.length;
				return;
			}
		}

		fail();
	};

	/** The open objects and lists around the current position. */
	const open: Array<'{' | '['> = [];
	try {
		for (;;) {
			// A value is expected here.
			space();
			const char = text[index];
			let opened = false;
			if (char === '{' || char === '[') {
				index++;
				space();
				if (text[index] === (char === '{' ? '}' : ']')) {
					index++;
				} else {
					open.push(char);
					if (char === '{') {
						key();
					}

					opened = true;
				}
			} else {
				scalar();
			}

			if (opened) {
				continue;
			}

			// After a value: close what ends here, until a comma asks for the next value.
			let next = false;
			while (open.length > 0 && !next) {
				space();
				const container = open.at(-1)!;
				if (text[index] === ',') {
					index++;
					if (container === '{') {
						key();
					}

					next = true;
				} else if (text[index] === (container === '{' ? '}' : ']')) {
					index++;
					open.pop();
				} else {
					fail();
				}
			}

			if (!next) {
				space();
				return index < text.length ? index : -1;
			}
		}
	} catch (error) {
		if (error instanceof At) {
			return error.offset;
		}

		throw error;
	}
}

/**
 * The first key given twice in one object of a JSON text (JSON.parse keeps the last, silently):
 * where its second copy starts, and its path (`environments.dev.thresholdPct`, list items by
 * index). The text is valid JSON (it parsed); keys are compared as JSON.parse reads them, escapes
 * decoded. No recursion, as above.
 */
export function duplicateKey(text: string): {offset: number; path: string} | undefined {
	type Open = {object: boolean; path: string; keys: Set<string>; key: string; index: number; expectKey: boolean};
	const open: Open[] = [];
	const join = (path: string, part: string | number) => (path ? `${path}.${part}` : String(part));
	for (let index = 0; index < text.length; index++) {
		const char = text[index];
		const top = open.at(-1);
		if (char === '"') {
			const start = index;
			for (index++; text[index] !== '"'; index++) {
				if (text[index] === '\\') {
					index++;
				}
			}

			if (top?.object && top.expectKey) {
				const key = JSON.parse(text.slice(start, index + 1)) as string;
				if (top.keys.has(key)) {
					return {offset: start, path: join(top.path, key)};
				}

				top.keys.add(key);
				top.key = key;
				top.expectKey = false;
			}
		} else if (char === '{' || char === '[') {
			open.push({object: char === '{', path: top ? join(top.path, top.object ? top.key : top.index) : '', keys: new Set(), key: '', index: 0, expectKey: char === '{'});
		} else if (char === '}' || char === ']') {
			open.pop();
		} else if (char === ',' && top) {
			if (top.object) {
				top.expectKey = true;
			} else {
				top.index++;
			}
		}
	}

	return undefined;
}
