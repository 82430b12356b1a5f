/** Number formatting shared by every view, so the dashboard, headless lines and audit agree. */
export function money(usd: number): string {
	if (Math.abs(usd) >= 1000) {
		return `$${grouped(Math.round(usd), 0)}`;
	}

	return `$${usd.toFixed(2)}`;
}

/**
 * Two amounts that differ, with enough digits to see that they do: `$0.150` and `$0.155` rather
 * than `$0.15 -> $0.15` for a +3.5% change. Equal amounts print alike, as `money` would.
 */
export function moneyPair(from: number, to: number): [string, string] {
	const levels = [money, (usd: number) => `$${grouped(usd, 2)}`, (usd: number) => `$${usd.toFixed(3)}`, (usd: number) => `$${usd.toFixed(4)}`];
	for (const level of levels) {
		const pair: [string, string] = [level(from), level(to)];
		if (pair[0] !== pair[1] || from === to) {
			return pair;
		}
	}

	return [money(from), money(to)];
}

export function pct(value: number): string {
	const text = value.toFixed(Math.abs(value) >= 10 ? 0 : 1);
	// A tiny decrease rounds to zero: `0.0%`, never `-0.0%`.
	return `${/^-0(?:\.0+)?$/.test(text) ? text.slice(1) : text}%`;
}

export function signedPct(value: number): string {
	return `${value > 0 ? '+' : ''}${pct(value)}`;
}

export function duration(ms: number): string {
	const seconds = Math.max(0, Math.round(ms / 1000));
	if (seconds < 60) {
		return `${seconds}s`;
	}

	const minutes = Math.floor(seconds / 60);
	if (minutes < 60) {
		return `${minutes}m`;
	}

	const hours = Math.floor(minutes / 60);
	return `${hours}h${minutes % 60 ? `${minutes % 60}m` : ''}`;
}

/**
 * How a warming-up window (or the longest still filling) reads at `now`: `warming up 12m` while it
 * fills, `warming up` when how long is not known (no sample yet: never a made-up figure), and
 * undefined once it is full by the clock (before the next poll says so).
 */
export function warmingText(warmingUp: boolean, fullAt: unknown, now: number): string | undefined {
	if (!warmingUp) {
		return undefined;
	}

	if (typeof fullAt !== 'number' || !Number.isFinite(fullAt)) {
		return 'warming up';
	}

	return fullAt > now ? `warming up ${duration(fullAt - now)}` : undefined;
}

/**
 * `value` with `digits` decimals (rounded as toFixed rounds) and its thousands separated by
 * commas, as `toLocaleString('en-US')` separates them, without going through ICU: the first call of
 * that took milliseconds of the dashboard's first frame, and each later one tens of microseconds.
 */
export function grouped(value: number, digits: number): string {
	const fixed = Math.abs(value).toFixed(digits);
	if (!/^\d+(?:\.\d+)?$/.test(fixed)) {
		// NaN, Infinity, 1e21 and up: as toLocaleString writes them.
		return value.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits});
	}

	const [whole = '', fraction] = fixed.split('.');
	// An amount that rounds to zero has no sign: 0.00, never -0.00.
	const sign = value < 0 && /[1-9]/.test(fixed) ? '-' : '';
	return `${sign}${whole.replaceAll(/\B(?=(?:\d{3})+$)/g, ',')}${fraction === undefined ? '' : `.${fraction}`}`;
}

/**
 * Orders two names by their characters (code units), the same on every machine: localeCompare
 * depends on the locale, and its first call loads ICU's collation (about 5 ms of a first poll).
 */
export function byText(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

/** `1 agent`, `3 agents`. */
export function plural(count: number, noun: string): string {
	return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
