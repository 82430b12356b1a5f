/**
 * `string-width` for Ink, with a fast path. The bundle routes Ink's (and its helpers') imports of
 * `string-width` here. The real one segments every string that is not plain ASCII into graphemes
 * and tests each against an emoji regex: its first call compiles that regex (15-20 ms of the first
 * frame), and each later call costs tens of microseconds. The dashboard's non-ASCII text is a small
 * set of one-column glyphs (box drawing, blocks, sparklines, arrows, ∞, ›, …, ·), so a string made
 * only of those, printable ASCII and colour codes has its length as its width. Anything else (an
 * environment named in CJK, an emoji, a combining mark) goes to the real `string-width`.
 */
import realStringWidth from 'string-width';

type Options = {ambiguousIsNarrow?: boolean; countAnsiEscapeCodes?: boolean};

/**
 * One-column characters: printable ASCII, Latin-1 (but the soft hyphen), general punctuation
 * (dashes, quotes, bullet, ellipsis, ‹ ›), arrows, mathematical operators (−, ∞, ≤), box drawing,
 * block elements and geometric shapes (but ◽ and ◾, emoji). A unit test checks every one against
 * the real `string-width`. Box drawing and some others are East Asian "ambiguous": one column with
 * ambiguousIsNarrow, the default, which is what Ink asks for.
 */
export const narrowRanges: ReadonlyArray<readonly [number, number]> = [[0x20, 0x7E], [0xA0, 0xAC], [0xAE, 0xFF], [0x20_10, 0x20_27], [0x20_30, 0x20_5E], [0x21_90, 0x22_FF], [0x25_00, 0x25_FC], [0x25_FF, 0x25_FF]];
const hex = (code: number) => `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
const narrowText = new RegExp(`^[${narrowRanges.map(([from, to]) => from === to ? hex(from) : `${hex(from)}-${hex(to)}`).join('')}]*$`);
/** Colour and style codes (SGR) and OSC 8 hyperlinks: no columns. */
// eslint-disable-next-line no-control-regex -- matching escape sequences is the point
const escapes = /\u001B\[[0-9;:]*m|\u001B\]8;[^\u0007\u001B]*(?:\u0007|\u001B\\)/g;

export default function stringWidth(input: string, options?: Options): number {
	if (typeof input !== 'string' || options?.countAnsiEscapeCodes || options?.ambiguousIsNarrow === false) {
		return realStringWidth(input, options);
	}

	const text = input.includes('\u001B') ? input.replace(escapes, '') : input;
	return narrowText.test(text) ? text.length : realStringWidth(input, options);
}
