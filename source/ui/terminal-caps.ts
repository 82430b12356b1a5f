/**
 * What the terminal can draw, from the environment alone (no Ink, no React, no I/O): whether it
 * takes UTF-8 (the locale) and Unicode glyphs (the terminal type), and how many colours. Pure, so
 * the rules are tested from tables; run.ts applies them to the theme, and production-env.ts hands
 * the colour depth to Ink's colour library before it loads.
 */

type Env = Readonly<Record<string, string | undefined>>;

/** A set, non-empty variable (POSIX: an empty one counts as unset). */
const set = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);

/**
 * The locale that decides the character set, in POSIX's order: LC_ALL, then LC_CTYPE, then LANG.
 * Undefined when none is set: the C locale, which is ASCII.
 */
export function ctypeLocale(env: Env): string | undefined {
	return set(env['LC_ALL']) ?? set(env['LC_CTYPE']) ?? set(env['LANG']);
}

/**
 * Whether the locale is UTF-8: its codeset is UTF-8 (`en_US.UTF-8`, `C.utf8`, `de_DE.UTF-8@euro`),
 * or it is the codeset alone (`UTF-8`, as macOS's Terminal sets LC_CTYPE and sends it over SSH).
 * `C`, `POSIX`, a Latin-1 locale and no locale at all are not.
 */
export function utf8Locale(env: Env): boolean {
	const locale = ctypeLocale(env);
	return locale !== undefined && /(?:^|\.)utf-?8(?:@|$)/i.test(locale);
}

/**
 * Terminal types that cannot be trusted with more than ASCII, whatever the locale: `dumb`, the
 * DEC VTs (`vt100`, `vt220`...), the Linux console (`linux`: its font has few of the glyphs) and
 * plain `ansi`.
 */
export function plainTerminal(term: string | undefined): boolean {
	return /^(?:dumb|linux|vt\d+|ansi)(?:$|[-+])/i.test(term ?? '');
}

/** Why the dashboard draws in ASCII (`--ascii`, the locale, the terminal type), or undefined when it need not. */
export function asciiReason(env: Env, asciiFlag = false): string | undefined {
	if (asciiFlag) {
		return '--ascii';
	}

	if (!utf8Locale(env)) {
		const locale = ctypeLocale(env);
		return locale === undefined ? 'no locale set (C: ASCII)' : `locale ${locale} is not UTF-8`;
	}

	return plainTerminal(env['TERM']) ? `TERM=${env['TERM']}` : undefined;
}

/** Colour depth: 0 none, 1 the 16 basic colours, 2 256 colours, 3 true colour. */
export type ColourLevel = 0 | 1 | 2 | 3;

/**
 * FORCE_COLOR as chalk reads it: `0` or `false` none, empty or `true` basic, `1` to `3` that
 * level (higher is 3); anything else, basic. Undefined when it is not set.
 */
export function forcedColour(value: string | undefined): ColourLevel | undefined {
	if (value === undefined) {
		return undefined;
	}

	if (value === 'false') {
		return 0;
	}

	const number = Number.parseInt(value, 10);
	return Number.isNaN(number) ? 1 : (Math.max(0, Math.min(3, number)) as ColourLevel);
}

/**
 * How many colours the terminal shows: FORCE_COLOR when set; none on `dumb` or with no TERM;
 * true colour with COLORTERM=truecolor (or 24bit) or a `-direct` TERM; 256 with a `256color`
 * TERM; else the 16 basic colours (vt100, linux, xterm, screen and the rest). NO_COLOR is not
 * a depth: it is the person's wish, and the theme honours it (`colourWanted`).
 */
export function colourLevel(env: Env): ColourLevel {
	const forced = forcedColour(env['FORCE_COLOR']);
	if (forced !== undefined) {
		return forced;
	}

	const term = set(env['TERM'])?.toLowerCase();
	if (term === undefined || term === 'dumb') {
		return 0;
	}

	const colourTerm = set(env['COLORTERM'])?.toLowerCase();
	if (colourTerm === 'truecolor' || colourTerm === '24bit' || /-direct$/.test(term)) {
		return 3;
	}

	return /256(?:colou?r)?$/.test(term) ? 2 : 1;
}
