/**
 * The `notify` configuration key: a list of targets, each with a `type` and the events it wants
 * (its shape is checked by the configuration schema, source/config/schema.ts).
 *
 * Secrets (webhook URLs, routing keys, signing secrets) are a string or `{"env": "NAME"}`; they are
 * resolved from the environment only when a run needs them (`resolveTargets`), and no problem
 * message ever quotes a secret's value: only its key path, or the variable's name.
 */
import {isPlainObject} from '../domain/shape.js';

export const notifyEvents = ['breach', 'stop', 'cascade', 'emergency', 'violation', 'respawn', 'stale', 'recover', 'start', 'undo', 'reset', 'pause', 'unwatched'] as const;
export type NotifyEvent = typeof notifyEvents[number];
/**
 * Every event but `start`. `pause` is in: a pause (all environments, or one) takes the guard's
 * automatic protection away, and one left on is found out otherwise only from the bill.
 */
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
