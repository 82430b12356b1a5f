/**
 * The `notify` configuration key: a list of targets, each with a `type` and the events it wants
 * (its shape is checked by the configuration schema, source/config/schema.ts).
 *
 * Secrets (webhook URLs, routing keys, signing secrets) are a string or `{"env": "NAME"}`; they are
 * resolved from the environment only when a run needs them (`resolveTargets`), and no problem
 * message ever quotes a secret's value: only its key path, or the variable's name.
 */
import {isPlainObject} from '../domain/shape.js';

export const notifyEvents = ['breach', 'stop', 'cascade', 'emergency', 'violation', 'respawn', 'stale', 'recover', 'start', 'undo', 'reset', 'pause', 'unwatched', 'down'] as const;
export type NotifyEvent = typeof notifyEvents[number];
/**
 * Every event but `start`. `pause` is in: a pause (all environments, or one) takes the guard's
 * automatic protection away, and one left on is found out otherwise only from the bill. `down` is
 * in: an engine that ended guards nothing until it runs again.
 */
export const defaultEvents: readonly NotifyEvent[] = notifyEvents.filter(event => event !== 'start');

export const targetTypes = ['slack', 'pagerduty', 'sns', 'webhook', 'heartbeat'] as const;
export type TargetType = typeof targetTypes[number];

/** A heartbeat target's default interval between pings, in minutes. */
export const heartbeatDefaultMinutes = 5;

/** A secret as configured: the value itself, or the name of an environment variable that holds it. */
export type Secret = string | {env: string};

type Common = {
	/** How the target is named in output and the audit log; default `<type>#<position>`. */
	name?: string;
	events?: NotifyEvent[];
};

export type NotifyTargetConfig =
	| Common & {type: 'slack'; url: Secret}
	| Common & {type: 'pagerduty'; routingKey: Secret; url?: string}
	| Common & {type: 'sns'; topicArn: string; region?: string}
	| Common & {type: 'webhook'; url: Secret; secret?: Secret}
	/**
	 * A dead man's switch: a GET to `url` every `everyMinutes` (default 5) while polls succeed, for a
	 * service that raises the alarm when the pings stop (Healthchecks.io, Cronitor, Dead Man's Snitch).
	 * It takes no events.
	 */
	| {type: 'heartbeat'; name?: string; url: Secret; everyMinutes?: number};

/** A target ready to send to: secrets resolved, name and events filled in. */
export type NotifyTarget =
	| {type: 'slack'; name: string; events: NotifyEvent[]; url: string}
	| {type: 'pagerduty'; name: string; events: NotifyEvent[]; routingKey: string; url: string}
	| {type: 'sns'; name: string; events: NotifyEvent[]; topicArn: string; region: string}
	| {type: 'webhook'; name: string; events: NotifyEvent[]; url: string; secret: string | undefined}
	/** `events` is always empty: a heartbeat is sent by the polls, not for an audit entry. */
	| {type: 'heartbeat'; name: string; events: NotifyEvent[]; url: string; everyMinutes: number};

export const pagerDutyEventsUrl = 'https://events.pagerduty.com/v2/enqueue';

const topicArnPattern = /^arn:aws[a-z-]*:sns:([a-z]{2}(-[a-z]+)+-\d+):\d{12}:[\w-]{1,256}$/;
function own(object: Record<string, unknown>, key: string): unknown {
	return Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * What the schema cannot see: two targets with the same name (outcomes and `notify test --target`
 * name them). The shape itself is checked by the configuration schema.
 */
export function checkNotifyNames(value: unknown, problems: {push(problem: string): void}): void {
	if (!Array.isArray(value)) {
		return;
	}

	const names = new Map<string, number>();
	value.forEach((target: unknown, index) => {
		if (!isPlainObject(target) || typeof own(target, 'type') !== 'string') {
			return;
		}

		const name = typeof own(target, 'name') === 'string' ? own(target, 'name') as string : `${String(own(target, 'type'))}#${index + 1}`;
		const first = names.get(name);
		if (first !== undefined) {
			problems.push(`notify.${index}.name: "${name}" is also the name of notify.${first} — expected distinct names`);
		}

		names.set(name, index);
	});
}

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

/** The display name of the target at `index`. */
export function targetName(target: NotifyTargetConfig, index: number): string {
	return target.name ?? `${target.type}#${index + 1}`;
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

/** The configured `notify` list with every literal secret replaced, for `config show`. */
export function redactNotify(value: unknown): unknown {
	if (!Array.isArray(value)) {
		return value;
	}

	return value.map((target: unknown) => {
		if (!isPlainObject(target)) {
			return target;
		}

		const copy: Record<string, unknown> = {...target};
		for (const key of ['url', 'routingKey', 'secret']) {
			if (typeof copy[key] === 'string' && !(target['type'] === 'pagerduty' && key === 'url')) {
				copy[key] = '*** (secret; use {"env": "NAME"})';
			}
		}

		return copy;
	});
}
