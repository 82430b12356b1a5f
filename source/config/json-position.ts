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
	try {
		return new JsonScanner(text).document();
	} catch (error) {
		if (error instanceof At) {
			return error.offset;
		}

		throw error;
	}
}

/** jsonErrorOffset's reader: each method reads one part at `index`, or throws At where it goes wrong. */
class JsonScanner {
	private index = 0;
	/** The open objects and lists around the current position. */
	private readonly open: Array<'{' | '['> = [];

	constructor(private readonly text: string) {}

	/** The whole text: -1 when it is one JSON value, else where the text goes on after it. */
	document(): number {
		const {text, open} = this;
		for (;;) {
			// A value is expected here.
			this.space();
			const char = text[this.index];
			let opened = false;
			if (char === '{' || char === '[') {
				this.index++;
				this.space();
				if (text[this.index] === (char === '{' ? '}' : ']')) {
					this.index++;
				} else {
					open.push(char);
					if (char === '{') {
						this.key();
					}

					opened = true;
				}
			} else {
				this.scalar();
			}

			if (opened) {
				continue;
			}

			if (!this.afterValue()) {
				this.space();
				return this.index < text.length ? this.index : -1;
			}
		}
	}

	/** After a value: close what ends here, until a comma asks for the next value (true) or nothing is open (false). */
	private afterValue(): boolean {
		const {text, open} = this;
		while (open.length > 0) {
			this.space();
			const container = open.at(-1)!;
			if (text[this.index] === ',') {
				this.index++;
				if (container === '{') {
					this.key();
				}

				return true;
			}

			if (text[this.index] === (container === '{' ? '}' : ']')) {
				this.index++;
				open.pop();
			} else {
				this.fail();
			}
		}

		return false;
	}

	private fail(): never {
		throw new At(this.index);
	}

	private space(): void {
		while (this.index < this.text.length && ' \t\n\r'.includes(this.text[this.index]!)) {
			this.index++;
		}
	}

	private string(): void {
		const {text} = this;
		this.index++;
		while (this.index < text.length && text[this.index] !== '"') {
			if (text[this.index] === '\\') {
				this.index++;
			} else if (text.charCodeAt(this.index) < 0x20) {
				this.fail();
			}

			this.index++;
		}

		if (this.index >= text.length) {
			this.fail();
		}

		this.index++;
	}

	/** A member's key and its colon; the value follows. */
	private key(): void {
		this.space();
		if (this.text[this.index] !== '"') {
			this.fail();
		}

		this.string();
		this.space();
		if (this.text[this.index] !== ':') {
			this.fail();
		}

		this.index++;
	}

	private scalar(): void {
		const {text} = this;
		if (text[this.index] === '"') {
			this.string();
			return;
		}

		const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(this.index, this.index + 64));
		if (number) {
			this.index += number[0].length;
			return;
		}

		for (const word of ['true', 'false', 'null']) {
			if (text.startsWith(word, this.index)) {
				this.index += word.length;
				return;
			}
		}

		this.fail();
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
