/**
 * Writes less of Ink 6.8's incremental frames, for a dashboard watched over SSH all day.
 *
 * Ink redraws every line that changed whole (`CSI 1G`, the line, `CSI K`, newline) and moves
 * past each unchanged one with its own `CSI E`. So a clock tick that turns "updated 4s ago"
 * into "5s ago" rewrites the whole coloured header, and a frame ending in twelve unchanged lines
 * spends twelve sequences getting below them. This rewrites such a frame, keeping its meaning:
 *
 * - runs of `CSI E` become one `CSI n E` (the same moves, in one sequence);
 * - a changed line whose previous text this writer saw (it wrote it) gets only the cells that
 *   differ: `CSI col G`, those cells with their colours, a reset, the same newline.
 *
 * Only where it is certain: the cells before the change must be ASCII (so the column is right in
 * any terminal, whatever width it gives ambiguous glyphs like `▁` or `∞`), and a changed middle
 * is written alone only when it is ASCII too (else everything from the change to the line's end
 * is rewritten and erased past, as Ink would). Anything this writer does not recognise (a full
 * redraw, a shrinking frame, a clear, console output) passes through untouched and makes it
 * forget every line; so does a resize (`reset`). The shorter of the edit and Ink's own line wins.
 */

type Cell = {char: string; style: string};

/** An incremental frame starts by moving the cursor up to the frame's first line (Ink's log-update). */
// eslint-disable-next-line no-control-regex -- matching escape sequences is the point
export const frameStart = /^\u001B\[(\d+)A/;
/** A chunk of DEC private mode toggles only (synchronized update, cursor). */
// eslint-disable-next-line no-control-regex -- DEC private mode toggles (synchronized update, cursor)
export const modeOnly = /^(?:\u001B\[\?\d+[hl])+$/;
const nextLine = '\u001B[E';
const lineStart = '\u001B[1G';
const eraseEnd = '\u001B[K';

type Attributes = {flags: Set<number>; fg: string | undefined; bg: string | undefined};

/** Applies one SGR sequence's parameters; false for any this writer does not model. */
function applySgr(attributes: Attributes, parameters: string): boolean {
	const codes = parameters === '' ? [0] : parameters.split(';').map(Number);
	for (let index = 0; index < codes.length; index++) {
		const code = codes[index]!;
		if (!Number.isInteger(code)) {
			return false;
		}

		if (code === 0) {
			attributes.flags.clear();
			attributes.fg = undefined;
			attributes.bg = undefined;
		} else if ([1, 2, 3, 4, 5, 7, 8, 9].includes(code)) {
			attributes.flags.add(code);
		} else if (code === 22) {
			attributes.flags.delete(1);
			attributes.flags.delete(2);
		} else if ([23, 24, 25, 27, 28, 29].includes(code)) {
			attributes.flags.delete(code - 20);
		} else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) {
			attributes.fg = String(code);
		} else if ((code >= 40 && code <= 47) || (code >= 100 && code <= 107)) {
			attributes.bg = String(code);
		} else if (code === 39) {
			attributes.fg = undefined;
		} else if (code === 49) {
			attributes.bg = undefined;
		} else if (code === 38 || code === 48) {
			const kind = codes[index + 1];
			const length = kind === 5 ? 2 : kind === 2 ? 4 : 0;
			const extended = codes.slice(index, index + 1 + length);
			if (length === 0 || extended.length !== 1 + length || extended.some(value => !Number.isInteger(value))) {
				return false;
			}

			attributes[code === 38 ? 'fg' : 'bg'] = extended.join(';');
			index += length;
		} else {
			return false;
		}
	}

	return true;
}

/** The SGR parameters that set `attributes` from the default state ('' is the default). */
function styleOf(attributes: Attributes): string {
	return [...[...attributes.flags].sort((a, b) => a - b).map(String), ...(attributes.fg ? [attributes.fg] : []), ...(attributes.bg ? [attributes.bg] : [])].join(';');
}

/**
 * A line as cells (one per character, with its style) and the style left at its end; undefined
 * for anything but printable characters and SGR sequences.
 */
export function cellsOf(line: string): {cells: Cell[]; end: string} | undefined {
	const attributes: Attributes = {flags: new Set(), fg: undefined, bg: undefined};
	const cells: Cell[] = [];
	let style = '';
	let index = 0;
	while (index < line.length) {
		if (line[index] === '\u001B') {
			// eslint-disable-next-line no-control-regex -- an SGR sequence
			const sgr = /^\u001B\[([\d;]*)m/.exec(line.slice(index, index + 64));
			if (!sgr || !applySgr(attributes, sgr[1]!)) {
				return undefined;
			}

			style = styleOf(attributes);
			index += sgr[0].length;
			continue;
		}

		const char = String.fromCodePoint(line.codePointAt(index)!);
		if (char.codePointAt(0)! < 0x20 || (char.codePointAt(0)! >= 0x7F && char.codePointAt(0)! < 0xA0)) {
			return undefined;
		}

		cells.push({char, style});
		index += char.length;
	}

	return {cells, end: style};
}

const ascii = (cell: Cell) => cell.char.length === 1 && cell.char.charCodeAt(0) < 0x7F;
const same = (a: Cell | undefined, b: Cell | undefined) => a !== undefined && b !== undefined && a.char === b.char && a.style === b.style;

/**
 * The bytes that turn `before` into `after` on the cursor's row (the terminal's style at the
 * start is `style`; undefined: unknown), leaving the style at the default; undefined when that
 * cannot be done with certainty (see the module's comment).
 */
export function lineEdit(before: string, after: string, style: string | undefined): string | undefined {
	const old = cellsOf(before);
	const next = cellsOf(after);
	if (!old || !next) {
		return undefined;
	}

	let first = 0;
	while (first < next.cells.length && same(old.cells[first], next.cells[first])) {
		first++;
	}

	if (first === next.cells.length && old.cells.length === next.cells.length) {
		return '';
	}

	if (!next.cells.slice(0, first).every(cell => ascii(cell))) {
		return undefined;
	}

	let last = next.cells.length - 1;
	let toEnd = old.cells.length !== next.cells.length;
	if (!toEnd) {
		while (last > first && same(old.cells[last], next.cells[last])) {
			last--;
		}

		// A changed middle other than ASCII might differ in width in this terminal from what it replaces.
		toEnd = ![...old.cells.slice(first, last + 1), ...next.cells.slice(first, last + 1)].every(cell => ascii(cell));
	}

	const end = toEnd ? next.cells.length - 1 : last;
	let out = `\u001B[${first + 1}G`;
	let current = style;
	for (const cell of next.cells.slice(first, end + 1)) {
		if (cell.style !== current) {
			out += current === '' ? `\u001B[${cell.style}m` : `\u001B[0${cell.style ? `;${cell.style}` : ''}m`;
			current = cell.style;
		}

		out += cell.char;
	}

	if (current !== '') {
		out += '\u001B[0m';
	}

	return toEnd ? out + eraseEnd : out;
}

type Token = {kind: 'same'} | {kind: 'line'; line: string; newline: boolean};

function tokensOf(chunk: string, from: number): Token[] | undefined {
	const tokens: Token[] = [];
	let index = from;
	while (index < chunk.length) {
		if (chunk.startsWith(nextLine, index)) {
			tokens.push({kind: 'same'});
			index += nextLine.length;
			continue;
		}

		if (!chunk.startsWith(lineStart, index)) {
			return undefined;
		}

		const end = chunk.indexOf(eraseEnd, index + lineStart.length);
		if (end === -1) {
			return undefined;
		}

		const line = chunk.slice(index + lineStart.length, end);
		index = end + eraseEnd.length;
		const newline = chunk[index] === '\n';
		if (line.includes('\n') || (!newline && index < chunk.length)) {
			return undefined;
		}

		index += newline ? 1 : 0;
		tokens.push({kind: 'line', line, newline});
	}

	return tokens;
}

export type FrameCompactor = {
	/** The chunk to write instead (the same, when it is not an incremental frame this recognises). */
	compact(chunk: string): string;
	/** The screen changed under the frame (a resize cleared it): forget every line. */
	reset(): void;
};

export function frameCompactor(): FrameCompactor {
	/** What each line of the frame shows, as far as this writer knows (undefined: not known). */
	let lines: Array<string | undefined> = [];
	/** The terminal's style after the last write (undefined: not known). */
	let style: string | undefined;
	const forget = () => {
		lines = [];
		style = undefined;
	};

	return {
		compact(chunk) {
			if (chunk === '' || modeOnly.test(chunk)) {
				return chunk;
			}

			const start = frameStart.exec(chunk);
			const tokens = start ? tokensOf(chunk, start[0].length) : undefined;
			if (!start || !tokens) {
				forget();
				return chunk;
			}

			if (tokens.length !== lines.length) {
				lines = Array.from({length: tokens.length}, () => undefined);
			}

			let out = start[0];
			let skipped = 0;
			const flush = () => {
				out += skipped === 0 ? '' : skipped === 1 ? nextLine : `\u001B[${skipped}E`;
				skipped = 0;
			};

			for (const [row, token] of tokens.entries()) {
				if (token.kind === 'same') {
					skipped++;
					continue;
				}

				flush();
				const whole = lineStart + token.line + eraseEnd + (token.newline ? '\n' : '');
				const before = lines[row];
				const edit = before !== undefined && token.newline ? lineEdit(before, token.line, style) : undefined;
				if (edit !== undefined && edit.length + 1 < whole.length) {
					out += edit + '\n';
					// An edit ends at the default style; an empty one (nothing shown changed) wrote none.
					style = edit === '' ? style : '';
				} else {
					out += whole;
					style = cellsOf(token.line)?.end;
				}

				lines[row] = token.line;
			}

			flush();
			return out;
		},
		reset: forget,
	};
}
