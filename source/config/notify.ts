/**
 * The `notify` configuration key: a list of targets, each with a `type` and the events it wants
 * (its shape is checked by the configuration schema, source/config/schema.ts).
 *
 * Secrets (webhook URLs, routing keys, signing secrets) are a string or `{"env": "NAME"}`; they are
 * resolved from the environment only when a run needs them (`resolveTargets`), and no problem
 * message ever quotes a secret's value: only its key path, or the variable's name.
 */
import {isPlainObject} from '../domain/index.js';

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

export const topicArnPattern = /^arn:aws[a-z-]*:sns:([a-z]{2}(-[a-z]+)+-\d+):\d{12}:[\w-]{1,256}$/;

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

/** The display name of the target at `index`. */
export function targetName(target: NotifyTargetConfig, index: number): string {
	return target.name ?? `${target.type}#${index + 1}`;
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
