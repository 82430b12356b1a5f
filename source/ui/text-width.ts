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
const narrowClass = narrowRanges.map(([from, to]) => from === to ? hex(from) : `${hex(from)}-${hex(to)}`).join('');
const narrowText = new RegExp(`^[${narrowClass}]*$`);
/** Text whose every character is a grapheme of its own: the one-column set, ESC and BEL (controls). */
const singletons = new RegExp(`^[${narrowClass}\\u0007\\u001B]*$`);
let segmenter: Intl.Segmenter | undefined;

/**
 * The grapheme clusters of `text` as Intl.Segmenter gives them, for Ink's colour-code tokenizer
 * (the bundle routes it here). The first Intl.Segmenter of a process loads ICU's break rules,
 * about 7 ms of the start, so one is made only for text that needs it: in a string of the
 * characters above (and escape codes), each character is a cluster of its own.
 */
export function graphemes(text: string): Iterable<{segment: string; index: number}> {
	if (singletons.test(text)) {
		return Array.from(text, (segment, index) => ({segment, index}));
	}

	segmenter ??= new Intl.Segmenter(undefined, {granularity: 'grapheme'});
	return segmenter.segment(text);
}

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
