/**
 * The `notify` configuration key: a list of targets, each with a `type` and the events it wants.
 * Kept in its own module with its own validation (every problem with its key path, the bad value
 * and what is allowed), plugged into the configuration's validation.
 *
 * Secrets (webhook URLs, routing keys, signing secrets) are a string or `{"env": "NAME"}`; they are
 * resolved from the environment only when a run needs them (`resolveTargets`), and no problem
 * message ever quotes a secret's value: only its key path, or the variable's name.
 */

export const notifyEvents = ['breach', 'stop', 'cascade', 'emergency', 'violation', 'respawn', 'stale', 'recover', 'start', 'undo', 'reset'] as const;
export type NotifyEvent = typeof notifyEvents[number];
/** Every event but `start`. */
export const defaultEvents: readonly NotifyEvent[] = notifyEvents.filter(event => event !== 'start');

export const targetTypes = ['slack', 'pagerduty', 'sns', 'webhook'] as const;
export type TargetType = typeof targetTypes[number];

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
	| Common & {type: 'webhook'; url: Secret; secret?: Secret};

/** A target ready to send to: secrets resolved, name and events filled in. */
export type NotifyTarget =
	| {type: 'slack'; name: string; events: NotifyEvent[]; url: string}
	| {type: 'pagerduty'; name: string; events: NotifyEvent[]; routingKey: string; url: string}
	| {type: 'sns'; name: string; events: NotifyEvent[]; topicArn: string; region: string}
	| {type: 'webhook'; name: string; events: NotifyEvent[]; url: string; secret: string | undefined};

export const pagerDutyEventsUrl = 'https://events.pagerduty.com/v2/enqueue';

const fieldsOf: Record<TargetType, {required: string[]; optional: string[]; secrets: string[]}> = {
	slack: {required: ['url'], optional: [], secrets: ['url']},
	pagerduty: {required: ['routingKey'], optional: ['url'], secrets: ['routingKey']},
	sns: {required: ['topicArn'], optional: ['region'], secrets: []},
	webhook: {required: ['url'], optional: ['secret'], secrets: ['url', 'secret']},
};

const topicArnPattern = /^arn:aws[a-z-]*:sns:([a-z]{2}(-[a-z]+)+-\d+):\d{12}:[\w-]{1,256}$/;
const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(object: Record<string, unknown>, key: string): unknown {
	return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** A value for a message: a secret field is never quoted, only described. */
function describe(value: unknown): string {
	if (value === undefined) {
		return 'missing';
	}

	const json = JSON.stringify(value);
	return json === undefined ? String(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

function checkSecret(value: unknown, path: string, problems: string[], url: boolean): void {
	if (isPlainObject(value)) {
		const keys = Object.keys(value);
		const name = own(value, 'env');
		if (keys.length !== 1 || typeof name !== 'string' || !envNamePattern.test(name)) {
			problems.push(`${path}: ${keys.length === 1 && typeof name === 'string' ? `{"env": ${JSON.stringify(name)}}` : 'an object'} — expected {"env": "NAME"} with an environment variable name (letters, digits, _)`);
		}

		return;
	}

	if (typeof value !== 'string' || value.trim() === '') {
		problems.push(`${path}: ${typeof value === 'string' ? 'empty' : value === undefined ? 'missing' : `a ${Array.isArray(value) ? 'list' : typeof value}`} — expected ${url ? 'an http(s) URL' : 'a string'} or {"env": "NAME"}`);
		return;
	}

	if (url && !/^https?:\/\/[^\s/]+/.test(value)) {
		// The value is a secret: say what is wrong without quoting it.
		problems.push(`${path}: not an http(s) URL (value not shown: it is a secret) — expected https://... or {"env": "NAME"}`);
	}
}

/**
 * Checks the `notify` value (undefined: no targets). Problems are pushed with their key path; the
 * result is the list as configured (secrets unresolved), or [] when it is not a list.
 */
export function checkNotify(value: unknown, problems: string[], path = 'notify'): NotifyTargetConfig[] {
	if (value === undefined) {
		return [];
	}

	if (!Array.isArray(value)) {
		problems.push(`${path}: ${describe(value)} — expected a list of targets, e.g. [{"type": "slack", "url": {"env": "SLACK_WEBHOOK_URL"}}]`);
		return [];
	}

	const names = new Map<string, number>();
	value.forEach((target: unknown, index) => {
		const at = `${path}[${index}]`;
		if (!isPlainObject(target)) {
			problems.push(`${at}: ${describe(target)} — expected an object with a "type" (${targetTypes.join(', ')})`);
			return;
		}

		const type = own(target, 'type');
		if (typeof type !== 'string' || !(targetTypes as readonly string[]).includes(type)) {
			problems.push(`${at}.type: ${describe(type)} — expected one of: ${targetTypes.join(', ')}`);
			return;
		}

		const fields = fieldsOf[type as TargetType];
		const known = new Set(['type', 'name', 'events', ...fields.required, ...fields.optional]);
		for (const key of Object.keys(target)) {
			if (!known.has(key)) {
				problems.push(`${at}.${key}: unknown key for a ${type} target — expected only: ${[...known].join(', ')}`);
			}
		}

		for (const key of fields.required) {
			if (own(target, key) === undefined) {
				problems.push(`${at}.${key}: missing — a ${type} target needs ${key}`);
			}
		}

		for (const key of fields.secrets) {
			const secret = own(target, key);
			if (secret !== undefined) {
				checkSecret(secret, `${at}.${key}`, problems, key === 'url');
			}
		}

		const name = own(target, 'name');
		if (name !== undefined && (typeof name !== 'string' || !/^[\w.-]{1,64}$/.test(name))) {
			problems.push(`${at}.name: ${describe(name)} — expected 1 to 64 letters, digits, _, . or -`);
		} else if (typeof name === 'string') {
			if (names.has(name)) {
				problems.push(`${at}.name: "${name}" is also the name of notify[${names.get(name)}] — expected distinct names`);
			}

			names.set(name, index);
		}

		const events = own(target, 'events');
		if (events !== undefined) {
			if (!Array.isArray(events) || events.length === 0) {
				problems.push(`${at}.events: ${describe(events)} — expected a non-empty list of: ${notifyEvents.join(', ')}`);
			} else {
				for (const event of events) {
					if (typeof event !== 'string' || !(notifyEvents as readonly string[]).includes(event)) {
						problems.push(`${at}.events: ${describe(event)} — expected one of: ${notifyEvents.join(', ')}`);
					}
				}
			}
		}

		if (type === 'pagerduty' && own(target, 'url') !== undefined) {
			const url = own(target, 'url');
			if (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/.test(url)) {
				problems.push(`${at}.url: ${describe(url)} — expected the Events API v2 URL (default ${pagerDutyEventsUrl})`);
			}
		}

		if (type === 'sns') {
			const arn = own(target, 'topicArn');
			if (arn !== undefined && (typeof arn !== 'string' || !topicArnPattern.test(arn))) {
				problems.push(`${at}.topicArn: ${describe(arn)} — expected an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:envwatch`);
			}

			const region = own(target, 'region');
			if (region !== undefined && (typeof region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))) {
				problems.push(`${at}.region: ${describe(region)} — expected a region name like us-east-1 (default: the topic ARN's)`);
			}
		}
	});

	return value as NotifyTargetConfig[];
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
		const at = `notify[${index}]`;
		const name = targetName(target, index);
		const events = [...(target.events ?? defaultEvents)];
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
		}
	});
}

/** Every secret value of resolved targets, for scrubbing any text that could carry one. */
export function secretsOf(targets: readonly NotifyTarget[]): string[] {
	const values: string[] = [];
	for (const target of targets) {
		if (target.type === 'slack' || target.type === 'webhook') {
			values.push(target.url);
			// The URL's path is secret too (Slack's incoming webhooks carry the token there).
			try {
				const url = new URL(target.url);
				// (A short path such as /hook is a route, not a secret: it would blank out ordinary words.)
				if (url.pathname.length > 8) {
					values.push(url.pathname, url.pathname.slice(1));
				}

				if (url.search.length > 8) {
					values.push(url.search.slice(1));
				}
			} catch {
				// Checked as a URL at load; nothing more to take apart.
			}
		}

		if (target.type === 'webhook' && target.secret) {
			values.push(target.secret);
		}

		if (target.type === 'pagerduty') {
			values.push(target.routingKey);
		}
	}

	return values.filter(value => value.length >= 4).sort((a, b) => b.length - a.length);
}

/** `text` with every secret replaced by `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
	let result = text;
	for (const secret of secrets) {
		result = result.split(secret).join('***');
	}

	return result;
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
