/**
 * A chunk of terminal input as the key presses it holds, in order. Over a slow link several keys
 * arrive in one chunk (`y` and Enter as `y\r`, two arrows as `ESC[B ESC[B`); each is taken alone,
 * so a fast typist gets exactly what they typed. Pure: no React, no Ink.
 */
import type {KeyState} from './keymap.js';

/** One key press: the character (empty for a named key) and the key's state. */
export type Press = [input: string, key: KeyState];

// eslint-disable-next-line no-control-regex -- a CSI sequence: ESC [ parameters/intermediates, then a final byte
const csi = /^\u001B\[[\x20-\x3f]*[\x40-\x7e]/;
// eslint-disable-next-line no-control-regex -- an SS3 sequence: ESC O and one final byte (application-mode arrows)
const ss3 = /^\u001BO[\x40-\x7e]/;

function sequenceKey(sequence: string): Press {
	const final = sequence.at(-1);
	if (final === 'A') {
		return ['', {upArrow: true}];
	}

	if (final === 'B') {
		return ['', {downArrow: true}];
	}

	// Page Up and Page Down (`ESC [5~`, `ESC [6~`): the views scroll by a page.
	if (sequence === '\u001B[5~') {
		return ['', {pageUp: true}];
	}

	if (sequence === '\u001B[6~') {
		return ['', {pageDown: true}];
	}

	// Another cursor or function key: not bound, passed on as nothing printable.
	return ['', {meta: true}];
}

/**
 * One chunk of input as the key presses it holds, in order. Over a slow link several keys arrive
 * together (`y` and Enter as `y\r`, two arrows as `ESC[B ESC[B`, `k` then an arrow): each CSI or
 * SS3 sequence is one press, every other character is one press, and an Esc that starts no
 * sequence is an Esc of its own, never glued to what follows.
 */
export function splitKeys(chunk: string): Press[] {
	const presses: Press[] = [];
	let rest = chunk;
	while (rest.length > 0) {
		const sequence = csi.exec(rest)?.[0] ?? ss3.exec(rest)?.[0];
		if (sequence) {
			presses.push(sequenceKey(sequence));
			rest = rest.slice(sequence.length);
			continue;
		}

		const char = String.fromCodePoint(rest.codePointAt(0)!);
		rest = rest.slice(char.length);
		if (char === '\u001B') {
			presses.push(['', {escape: true, meta: true}]);
		} else if (char === '\r' || char === '\n') {
			presses.push(['\r', {return: true}]);
		} else if (char === '\u007F' || char === '\b') {
			presses.push(['', {backspace: true}]);
		} else if (char === '\u0003') {
			presses.push(['c', {ctrl: true}]);
		} else if (char === '\t') {
			presses.push(['', {tab: true}]);
		} else {
			presses.push([char, {}]);
		}
	}

	return presses;
}

/**
 * The presses one `useInput` event holds. `raw` is the chunk as the terminal sent it (Ink's raw
 * input event, seen before useInput's), or '' when unknown.
 */
export function pressesOf(input: string, key: KeyState, raw: string): Press[] {
	// Ink already cuts escape sequences apart; the splitter does so too, for any chunk that still
	// holds several.
	let presses: Press[] = input.length > 1 && !key.ctrl && !key.meta ? splitKeys(input) : [[input, key]];
	// Ink reads an Esc glued to the next key (`ESC y`, `ESC ESC [B`) as Alt+key. The dashboard
	// binds no Alt keys: it is an Esc, then the key. Never a y that confirms what Esc cancelled.
	if (key.meta && !key.escape && !key.ctrl && (input !== '' || key.upArrow || key.downArrow)) {
		presses = [['', {escape: true, meta: true}], ...(input === '' ? [['', {upArrow: key.upArrow, downArrow: key.downArrow}] as Press] : splitKeys(input))];
	}

	// Ink reads an Esc glued to a key that is neither a letter nor a digit (`ESC :`, `ESC /`) as that
	// key alone, the Esc dropped: the raw chunk says it was there.
	if (!key.meta && !key.escape && input !== '' && raw === `\u001B${input}`) {
		presses = [['', {escape: true, meta: true}], ...splitKeys(input)];
	}

	// Ink hands two Escs that arrive in one packet (`Esc Esc` typed fast over SSH) to useInput as
	// one Esc: the raw chunk tells them apart.
	if (key.escape && raw === '\u001B\u001B') {
		presses = [['', {escape: true, meta: true}], ['', {escape: true, meta: true}]];
	}

	return presses;
}
