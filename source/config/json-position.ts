/**
 * Where a JSON text first goes wrong, as an offset. Node 20's JSON.parse messages do not say, and
 * a person fixing a config file wants the line.
 */
export function jsonErrorOffset(text: string): number {
	let index = 0;
	const fail = (): never => {
		throw index;
	};

	const space = () => {
		while (index < text.length && ' \t\n\r'.includes(text[index]!)) {
			index++;
		}
	};

	const literal = (word: string) => {
		if (text.startsWith(word, index)) {
			index += word.length;
		} else {
			fail();
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

	const value = (): void => {
		space();
		const char = text[index];
		if (char === '{') {
			index++;
			space();
			if (text[index] === '}') {
				index++;
				return;
			}

			for (;;) {
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
				value();
				space();
				if (text[index] === ',') {
					index++;
					continue;
				}

				if (text[index] === '}') {
					index++;
					return;
				}

				fail();
			}
		}

		if (char === '[') {
			index++;
			space();
			if (text[index] === ']') {
				index++;
				return;
			}

			for (;;) {
				value();
				space();
				if (text[index] === ',') {
					index++;
					continue;
				}

				if (text[index] === ']') {
					index++;
					return;
				}

				fail();
			}
		}

		if (char === '"') {
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
				literal(word);
				return;
			}
		}

		fail();
	};

	try {
		value();
		space();
		return index < text.length ? index : -1;
	} catch (offset) {
		return offset as number;
	}
}
