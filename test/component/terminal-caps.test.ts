import {describe, expect, it} from 'vitest';
import {asciiReason, colourLevel, ctypeLocale, forcedColour, plainTerminal, utf8Locale} from '../../source/ui/terminal-caps.js';

/** What the terminal can draw, read from the environment: POSIX's locale order, TERM, COLORTERM, FORCE_COLOR. */

describe('the locale', () => {
	it.each([
		// LC_ALL, then LC_CTYPE, then LANG; an empty variable counts as unset.
		[{LC_ALL: 'C', LC_CTYPE: 'en_US.UTF-8', LANG: 'en_US.UTF-8'}, 'C', false],
		[{LC_ALL: '', LC_CTYPE: 'en_US.UTF-8', LANG: 'C'}, 'en_US.UTF-8', true],
		[{LC_CTYPE: 'C', LANG: 'en_US.UTF-8'}, 'C', false],
		[{LANG: 'C'}, 'C', false],
		[{LANG: 'POSIX'}, 'POSIX', false],
		[{LANG: 'C.UTF-8'}, 'C.UTF-8', true],
		[{LANG: 'C.utf8'}, 'C.utf8', true],
		[{LANG: 'de_DE.UTF-8@euro'}, 'de_DE.UTF-8@euro', true],
		[{LANG: 'de_DE@euro'}, 'de_DE@euro', false],
		[{LANG: 'en_US.ISO-8859-1'}, 'en_US.ISO-8859-1', false],
		[{LANG: 'en_US'}, 'en_US', false],
		// macOS's Terminal sets LC_CTYPE to the codeset alone (and sends it over SSH).
		[{LC_CTYPE: 'UTF-8'}, 'UTF-8', true],
		// Nothing set: the C locale, which is ASCII.
		[{}, undefined, false],
		[{LANG: ''}, undefined, false],
	])('%o: %s, UTF-8 %s', (env, locale, utf8) => {
		expect(ctypeLocale(env)).toBe(locale);
		expect(utf8Locale(env)).toBe(utf8);
	});
});

describe('plain terminals', () => {
	it.each([
		['dumb', true], ['vt100', true], ['vt102', true], ['vt220', true], ['VT100', true], ['linux', true], ['linux-16color', true], ['ansi', true],
		['xterm', false], ['xterm-256color', false], ['screen', false], ['tmux-256color', false], ['rxvt-unicode', false], ['alacritty', false], ['vtnext', false], [undefined, false], ['', false],
	])('TERM=%s: plain %s', (term, plain) => {
		expect(plainTerminal(term)).toBe(plain);
	});
});

describe('ASCII by itself', () => {
	it.each([
		[{LANG: 'en_US.UTF-8', TERM: 'xterm-256color'}, false, undefined],
		[{LANG: 'en_US.UTF-8', TERM: 'xterm-256color'}, true, '--ascii'],
		[{LANG: 'C', TERM: 'xterm-256color'}, false, 'locale C is not UTF-8'],
		[{LANG: 'C', TERM: 'vt100'}, false, 'locale C is not UTF-8'],
		[{LANG: 'en_US.UTF-8', TERM: 'vt100'}, false, 'TERM=vt100'],
		[{LC_ALL: 'en_US.UTF-8', TERM: 'linux'}, false, 'TERM=linux'],
		[{LANG: 'en_US.UTF-8', TERM: 'dumb'}, false, 'TERM=dumb'],
		[{TERM: 'xterm'}, false, 'no locale set (C: ASCII)'],
	])('%o, --ascii %s: %s', (env, flag, reason) => {
		expect(asciiReason(env, flag)).toBe(reason);
	});
});

describe('the colour depth', () => {
	it.each([
		[undefined, undefined], ['0', 0], ['false', 0], ['', 1], ['true', 1], ['1', 1], ['2', 2], ['3', 3], ['4', 3], ['-1', 0], ['yes', 1],
	])('FORCE_COLOR=%s: %s', (value, level) => {
		expect(forcedColour(value)).toBe(level);
	});

	it.each([
		// The examples: 16 colours on vt100 and the Linux console, none on dumb.
		[{TERM: 'vt100'}, 1],
		[{TERM: 'linux'}, 1],
		[{TERM: 'dumb'}, 0],
		[{TERM: 'dumb', COLORTERM: 'truecolor'}, 0],
		[{TERM: 'xterm'}, 1],
		[{TERM: 'screen'}, 1],
		[{TERM: 'xterm-256color'}, 2],
		[{TERM: 'tmux-256color'}, 2],
		[{TERM: 'xterm-256colour'}, 2],
		[{TERM: 'xterm-direct'}, 3],
		[{TERM: 'xterm-256color', COLORTERM: 'truecolor'}, 3],
		[{TERM: 'xterm', COLORTERM: '24bit'}, 3],
		[{TERM: 'xterm', COLORTERM: ''}, 1],
		// A terminal type it does not know still takes the basic colours.
		[{TERM: 'alacritty'}, 1],
		// No TERM: nothing known about the terminal, no colour codes.
		[{}, 0],
		[{TERM: ''}, 0],
		// FORCE_COLOR wins, either way.
		[{TERM: 'dumb', FORCE_COLOR: '1'}, 1],
		[{TERM: 'xterm-256color', COLORTERM: 'truecolor', FORCE_COLOR: '0'}, 0],
		[{TERM: 'vt100', FORCE_COLOR: '3'}, 3],
		// NO_COLOR is a wish, not a depth: the theme honours it (colourWanted).
		[{TERM: 'xterm-256color', NO_COLOR: '1'}, 2],
		// CI set says nothing about this terminal (chalk would write no colour).
		[{TERM: 'xterm-256color', CI: 'true'}, 2],
	])('%o: level %s', (env, level) => {
		expect(colourLevel(env)).toBe(level);
	});
});
