import {isPlainObject, maxDailyUsdPerGroup, money, printable} from '../domain/index.js';

// The field checks a snapshot from outside (a socket peer, the coordination table) passes before a
// view shows it (snapshot-check.ts): each names the field it refused, what it was and what would be right.

/** A field of a snapshot from outside that cannot be shown: `message` names it, what it was, and what was expected. */
export class SnapshotRefusal extends Error {
	override readonly name = 'SnapshotRefusal';
}

/**
 * The most a row can spend by the hour: what one group is believed billed in a day at most
 * (`maxDailyUsdPerGroup`, the bound a Cost Explorer answer is held to), by the hour. More than that
 * is no fleet's figure but a broken or lying snapshot.
 */
export const maxRowUsdPerHour = maxDailyUsdPerGroup / 24;

/** How far ahead of this host's clock a snapshot's time may be: clocks drift, and the table's snapshot is another host's. */
export const snapshotSkewMs = 15 * 60_000;

/** No snapshot, nor anything it names, is older than this (2001): an earlier time is none envwatch made. */
export const earliestTime = Date.UTC(2001, 0, 1);

/** Text a person reads (a reason, an error): at most this long, its control characters escaped. */
export const maxTextChars = 16 * 1024;

/** A name (an environment, a region, an account, an instance ID): 1 to this many printable characters. */
export const maxNameChars = 200;

export type Check<T> = (value: unknown, where: string) => T;

/** `where.key`, or `key` at the top. */
export const field = (where: string, key: string) => (where === '' ? key : `${where}.${key}`);

/** What a refused value was, short and escaped (never the whole of a huge one). */
function shown(value: unknown): string {
	if (typeof value === 'number') {
		return String(value);
	}

	if (typeof value === 'string') {
		return printable(JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value));
	}

	if (Array.isArray(value)) {
		return `an array of ${value.length}`;
	}

	return value === null ? 'null' : value === undefined ? 'missing' : typeof value === 'object' ? 'an object' : typeof value;
}

export function refuse(where: string, value: unknown, expected: string): never {
	throw new SnapshotRefusal(`${where} is ${shown(value)}, expected ${expected}`);
}

export function record(value: unknown, where: string): Record<string, unknown> {
	return isPlainObject(value) ? value : refuse(where, value, 'an object');
}

export const bool: Check<boolean> = (value, where) => (typeof value === 'boolean' ? value : refuse(where, value, 'true or false'));

/** Only `true` (a flag that is absent when not set). */
export const yes: Check<true> = (value, where) => (value === true ? true : refuse(where, value, 'true when present'));

export function oneOf<T extends string>(words: readonly T[]): Check<T> {
	return (value, where) => (typeof value === 'string' && (words as readonly string[]).includes(value) ? value as T : refuse(where, value, `one of ${words.join(', ')}`));
}

export function number(min: number, max: number, expected: string): Check<number> {
	return (value, where) => (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? value : refuse(where, value, expected));
}

/** A whole number from 0 (a count of instances, agents, polls, calls). */
export function count(max = Number.MAX_SAFE_INTEGER): Check<number> {
	return (value, where) => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max ? value : refuse(where, value, `a whole number from 0${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}`));
}

/** Money: finite, never negative, and no more than `max` (dollars, or dollars an hour). */
export function usd(max = maxRowUsdPerHour, per = '/h'): Check<number> {
	return number(0, max, `an amount from $0 to ${money(max)}${per}`);
}

/** Billed cost: a day's at most what one group is believed billed in a day; a month's, 31 of them. */
export const dayUsd = usd(maxDailyUsdPerGroup, ' a day');
export const monthUsd = usd(31 * maxDailyUsdPerGroup, ' a month');

/** A time (epoch ms) this host could have seen: after 2001, and not ahead of now by more than the skew (plus `aheadMs` for a time that is meant to come: a window full, a grace period's end). */
export function time(now: number, aheadMs = 0): Check<number> {
	const latest = now + snapshotSkewMs + aheadMs;
	return number(earliestTime, latest, `a time (epoch ms) from 2001 to ${new Date(latest).toISOString()}${aheadMs === 0 ? ' (not in the future)' : ''}`);
}

/** A name a view shows and matches on: 1 to `maxNameChars` characters, none of them a control character (refused, never escaped: it would no longer be the name). */
export const name: Check<string> = (value, where) => (typeof value === 'string' && value.length > 0 && value.length <= maxNameChars && printable(value) === value ? value : refuse(where, value, `a name of 1 to ${maxNameChars} printable characters`));

/** Text a person reads: at most `max` characters; its control characters escaped (a reason may quote anything). */
export function text(max = maxTextChars): Check<string> {
	return (value, where) => (typeof value === 'string' && value.length <= max ? printable(value) : refuse(where, value, `text of at most ${max} characters`));
}

export function nullable<T>(check: Check<T>): Check<T | null> {
	return (value, where) => (value === null ? null : check(value, where));
}

/** An array of at most `max` items, each checked (`where[index]`). */
export function list<T>(check: Check<T>, max: number): Check<T[]> {
	return (value, where) => {
		if (!Array.isArray(value) || value.length > max) {
			return refuse(where, value, `an array of at most ${max}`);
		}

		return value.map((item, index) => check(item, `${where}[${index}]`));
	};
}

/** `{key: checked}` when the object has the key, `{}` when not (a field an older envwatch did not send). */
export function optional<K extends string, T>(object: Record<string, unknown>, key: K, where: string, check: Check<T>): {[P in K]?: T} {
	return (object[key] === undefined ? {} : {[key]: check(object[key], field(where, key))}) as {[P in K]?: T};
}
