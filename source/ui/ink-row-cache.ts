/**
 * Lets Ink 6.8 build only the rows of a frame that changed, for a dashboard that sits idle all day.
 *
 * Ink draws every frame whole: after any change, even a one-second clock tick that turns the
 * header's "updated 4s ago" into "5s ago", its Output (ink/build/output.js) lays a fresh grid of
 * cells for the whole terminal, places every text into it and writes every row out as a string
 * again; that was most of the idle dashboard's CPU. A row's string depends only on the texts
 * placed in it (where, and what, in order), so each row is keyed by those and a row that has not
 * changed since the last frame is taken from it. A changed row is built by Ink's own code, in an
 * Output one row high, so the frame is exactly Ink's.
 *
 * The bundle (scripts/bundle.mjs) makes Ink's Output call `rowCachedFrame` from its `get()`; a
 * version of Ink that words output.js differently fails the build. Tests run the unpatched Ink
 * and check this against it (test/component/ink-row-cache.test.ts).
 */

type Transformer = (line: string, index: number) => string;

/** A placement Ink's Output records (`write`), or a clip region's start or end. */
export type OutputOperation =
	| {type: 'write'; x: number; y: number; text: string; transformers: readonly Transformer[]}
	| {type: 'clip'; clip: unknown}
	| {type: 'unclip'};

/** What of Ink 6's Output this reads; `wholeFrame` is its own `get()`, renamed by the bundle. */
export type InkOutput = {
	width: number;
	height: number;
	operations: readonly OutputOperation[];
	write(x: number, y: number, text: string, options: {transformers: readonly Transformer[]}): void;
	wholeFrame(): {output: string; height: number};
};

export type InkOutputClass = new (options: {width: number; height: number}) => InkOutput;

/** The rows of the frame before, by key; with those of the frame being built, all that is kept. */
let previous = new Map<string, string>();

let built = 0;

/** How many rows were built (not taken from the frame before) since the process started. */
export function rowsBuilt(): number {
	return built;
}

/**
 * The frame `output` holds, as Ink's `get()` would return it. Clipped output (a Box with
 * `overflow` set, which the dashboard never draws) is built the whole way, as Ink does.
 */
export function rowCachedFrame(output: InkOutput, Output: InkOutputClass): {output: string; height: number} {
	const {width, height, operations} = output;
	if (operations.some(operation => operation.type !== 'write')) {
		return output.wholeFrame();
	}

	// Each row's placements in order, exactly as Ink's get() makes them: a text that starts outside
	// the frame is dropped whole, and its lines stop at the frame's last row.
	const rows: Array<Array<[number, string]>> = Array.from({length: height}, () => []);
	for (const operation of operations) {
		if (operation.type !== 'write') {
			continue;
		}

		let offsetY = 0;
		for (const [index, text] of operation.text.split('\n').entries()) {
			const row = rows[operation.y + offsetY];
			if (!row) {
				continue;
			}

			let line = text;
			for (const transformer of operation.transformers) {
				line = transformer(line, index);
			}

			row.push([operation.x, line]);
			offsetY++;
		}
	}

	const current = new Map<string, string>();
	const lines = rows.map(placements => {
		const key = `${width}\u0000${placements.map(([x, line]) => `${x}\u0001${line}`).join('\u0002')}`;
		let text = current.get(key) ?? previous.get(key);
		if (text === undefined) {
			const one = new Output({width, height: 1});
			for (const [x, line] of placements) {
				one.write(x, 0, line, {transformers: []});
			}

			text = one.wholeFrame().output;
			built++;
		}

		current.set(key, text);
		return text;
	});
	previous = current;
	return {output: lines.join('\n'), height: rows.length};
}
