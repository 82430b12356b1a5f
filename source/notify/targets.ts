// What runs when a message is sent: the targets with their secrets resolved from the environment,
// the secrets' masking (scrub) and a safe description of where each sends. Their configured shape
// is config/notify.ts.
import {defaultEvents, heartbeatDefaultMinutes, targetName, topicArnPattern, type NotifyEvent, type NotifyTargetConfig, type Secret} from '../config/index.js';

/** A target ready to send to: secrets resolved, name and events filled in. */
export type NotifyTarget =
	| {type: 'slack'; name: string; events: NotifyEvent[]; url: string}
	| {type: 'pagerduty'; name: string; events: NotifyEvent[]; routingKey: string; url: string}
	| {type: 'sns'; name: string; events: NotifyEvent[]; topicArn: string; region: string}
	| {type: 'webhook'; name: string; events: NotifyEvent[]; url: string; secret: string | undefined}
	/** `events` is always empty: a heartbeat is sent by the polls, not for an audit entry. */
	| {type: 'heartbeat'; name: string; events: NotifyEvent[]; url: string; everyMinutes: number};

export const pagerDutyEventsUrl = 'https://events.pagerduty.com/v2/enqueue';

function resolveSecret(secret: Secret, path: string, env: NodeJS.ProcessEnv, problems: string[]): string {
	if (typeof secret === 'string') {
		return secret;
	}

	const value = Object.hasOwn(env, secret.env) ? env[secret.env] : undefined;
	if (value === undefined || value.trim() === '') {
		problems.push(`${path}: the environment variable ${secret.env} is ${value === undefined ? 'not set' : 'empty'} — expected it to hold the ${path.split('.').at(-1)}`);
		return '';
	}

	return value.trim();
}

/**
 * Resolves secrets from `env` into targets ready to send to; every missing variable in `problems`
 * (by name, never a value).
 */
export function resolveTargets(targets: readonly NotifyTargetConfig[], env: NodeJS.ProcessEnv, problems: string[]): NotifyTarget[] {
	return targets.map((target, index): NotifyTarget => {
		const at = `notify.${index}`;
		const name = targetName(target, index);
		const events = target.type === 'heartbeat' ? [] : [...(target.events ?? defaultEvents)];
		switch (target.type) {
			case 'slack': {
				return {type: 'slack', name, events, url: resolveSecret(target.url, `${at}.url`, env, problems)};
			}

			case 'pagerduty': {
				return {type: 'pagerduty', name, events, routingKey: resolveSecret(target.routingKey, `${at}.routingKey`, env, problems), url: target.url ?? pagerDutyEventsUrl};
			}

			case 'sns': {
				return {type: 'sns', name, events, topicArn: target.topicArn, region: target.region ?? topicArnPattern.exec(target.topicArn)?.[1] ?? 'us-east-1'};
			}

			case 'webhook': {
				return {type: 'webhook', name, events, url: resolveSecret(target.url, `${at}.url`, env, problems), secret: target.secret === undefined ? undefined : resolveSecret(target.secret, `${at}.secret`, env, problems)};
			}

			case 'heartbeat': {
				return {type: 'heartbeat', name, events, url: resolveSecret(target.url, `${at}.url`, env, problems), everyMinutes: target.everyMinutes ?? heartbeatDefaultMinutes};
			}
		}
	});
}

/** Every secret value of resolved targets, for scrubbing any text that could carry one. */
export function secretsOf(targets: readonly NotifyTarget[]): string[] {
	const values: string[] = [];
	for (const target of targets) {
		if (target.type === 'slack' || target.type === 'webhook' || target.type === 'heartbeat') {
			values.push(target.url, ...urlSecrets(target.url));
		}

		if (target.type === 'webhook' && target.secret) {
			values.push(target.secret);
		}

		if (target.type === 'pagerduty') {
			values.push(target.routingKey);
		}
	}

	return [...new Set(values.filter(value => value.length >= 4))].sort((a, b) => b.length - a.length);
}

/**
 * The secret parts of a URL: its path (Slack's incoming webhooks carry the token there), each long
 * segment of it, its query and each long query value, as sent and percent-decoded. A short path
 * such as /hook is a route, not a secret: it would blank out ordinary words.
 */
function urlSecrets(text: string): string[] {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		// Checked as a URL at load; nothing more to take apart.
		return [];
	}

	const parts: string[] = [];
	if (url.pathname.length > 8) {
		parts.push(url.pathname, url.pathname.slice(1), ...url.pathname.split('/').filter(token));
	}

	if (url.search.length > 8) {
		parts.push(url.search.slice(1), ...[...url.searchParams.values()].filter(token));
	}

	return parts.flatMap(part => {
		try {
			const decoded = decodeURIComponent(part);
			return decoded === part ? [part] : [part, decoded];
		} catch {
			return [part];
		}
	});
}

/** A part of a URL that may be a token on its own: 8 characters with a digit, or 16 of any kind (not a word like `services`). */
function token(part: string): boolean {
	return part.length >= partialAlways || (part.length >= partialMinimum && /\d/.test(part));
}

/** The shortest piece of a secret that is masked where a text holds only part of it. */
const partialMinimum = 8;

/** A piece this long is masked wherever it is, cut or not. */
const partialAlways = 16;

const word = /[A-Za-z0-9]/;

/**
 * `text` with every secret replaced by `***`, and every piece of one: a receiver's page may quote
 * the URL it was sent to cut short (`/services/T0SEC...`), or from its end. A piece of at least 8
 * characters that starts or ends a secret is masked where the text cuts the secret's word short
 * (the text ends, or goes on with something else, inside a run of letters and digits of the
 * secret), and a piece of 16 or more wherever it is. Whole URLs are masked only whole: their
 * beginning (`https://hooks.slack.com/`) is no secret, and their secret parts are listed apart.
 */
export function scrub(text: string, secrets: readonly string[]): string {
	// Every occurrence and piece is marked on the text as it came, then each marked run becomes
	// `***`: masking one secret first would break up the longer one around it.
	const masked = new Uint8Array(text.length);
	let any = false;
	for (const secret of secrets) {
		for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
			masked.fill(1, at, at + secret.length);
			any = true;
		}

		if (secret.length >= partialMinimum && !/^[a-z][a-z\d+.-]*:\/\//i.test(secret)) {
			any = markPieces(text, secret, masked) || any;
		}
	}

	if (!any) {
		return text;
	}

	let out = '';
	for (let index = 0; index < text.length; index++) {
		if (!masked[index]) {
			out += text[index];
		} else if (index === 0 || !masked[index - 1]) {
			out += '***';
		}
	}

	return out;
}

/** Marks in `masked` the pieces of `secret` that `text` holds cut short at either end; whether it marked any. */
function markPieces(text: string, secret: string, masked: Uint8Array): boolean {
	const length = secret.length;
	let marked = false;
	const mark = (from: number, to: number) => {
		masked.fill(1, from, to);
		marked = true;
	};

	for (let start = 0; start < text.length; start++) {
		// A piece that starts the secret: how far does the text follow it from here?
		let ahead = 0;
		while (ahead < length && start + ahead < text.length && text[start + ahead] === secret[ahead]) {
			ahead++;
		}

		if (ahead >= partialMinimum) {
			const end = start + ahead;
			const cut = ahead === length || ahead >= partialAlways || end === text.length || (word.test(secret[ahead] ?? '') && !word.test(text[end]!));
			if (cut) {
				mark(start, end);
			}
		}

		// A piece that ends the secret, ending here (exclusive end = start + 1).
		const end = start + 1;
		let back = 0;
		while (back < length && end - back - 1 >= 0 && text[end - back - 1] === secret[length - back - 1]) {
			back++;
		}

		if (back >= partialMinimum && back < length) {
			const from = end - back;
			const cut = back >= partialAlways || from === 0 || (word.test(secret[length - back - 1] ?? '') && !word.test(text[from - 1]!));
			if (cut) {
				mark(from, end);
			}
		}
	}

	return marked;
}

/** A safe description of where a target sends: the host only (a URL's path may be its secret). */
export function destinationOf(target: NotifyTarget): string {
	if (target.type === 'sns') {
		return target.topicArn;
	}

	try {
		return `${new URL(target.url).host} (path hidden)`;
	} catch {
		return '(invalid URL)';
	}
}
