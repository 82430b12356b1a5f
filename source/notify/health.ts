import type {AuditTail} from '../engine/index.js';
import {targetName, type NotifyTargetConfig} from '../config/index.js';
import {resolveTargets} from './targets.js';

export type NotifyCheck = {name: string; status: 'ok' | 'fail' | 'unknown'; detail: string; fix?: string};

type Recorded = {at: string; outcome: string; event: string};

/** How much of the audit log's end `doctor` reads for the last deliveries. */
export const deliveryTailBytes = 1024 * 1024;

/**
 * The last recorded delivery per target name, from the audit log's tail (`deliveryTailBytes` of it:
 * torn or malformed lines skipped); `error` when the log cannot be read (a log not written yet has none).
 */
export function lastDeliveries(tail: AuditTail): {deliveries: Map<string, Recorded>; error: string | null} {
	const deliveries = new Map<string, Recorded>();
	// Newest first: the first entry seen for a target is its last delivery.
	for (const entry of tail.entries) {
		const target = entry.figures?.['target'];
		if (entry.type === 'notify' && typeof target === 'string' && entry.outcome !== undefined && !deliveries.has(target)) {
			const event = entry.figures?.['event'];
			deliveries.set(target, {at: entry.at, outcome: entry.outcome, event: typeof event === 'string' ? event : '?'});
		}
	}

	return {deliveries, error: tail.error};
}

/**
 * `doctor`'s notification checks: every secret variable set, and each target's last recorded
 * delivery (from the audit log): a target whose last delivery was given up or refused fails.
 */
export function notifyChecks(configured: readonly NotifyTargetConfig[], env: NodeJS.ProcessEnv, tail: AuditTail, auditFile: string): NotifyCheck[] {
	const {deliveries, error} = lastDeliveries(tail);
	return configured.map((target, index) => {
		const name = `notify ${targetName(target, index)} (${target.type})`;
		const problems: string[] = [];
		resolveTargets([target], env, problems);
		if (problems.length > 0) {
			return {name, status: 'fail', detail: problems.map(problem => problem.replace('notify.0', `notify.${index}`)).join('; '), fix: 'set the variable in the environment envwatch runs in'};
		}

		const last = deliveries.get(targetName(target, index));
		if (!last) {
			return {name, status: 'unknown', detail: error ?? `no delivery recorded in ${auditFile}`, fix: `envwatch notify test --target ${index + 1} sends a test message`};
		}

		const ok = last.outcome === 'delivered' || last.outcome === 'skipped';
		return {
			name,
			status: ok ? 'ok' : 'fail',
			detail: `last delivery (${last.event}, ${last.at}): ${last.outcome}`,
			...(ok ? {} : {fix: `check the target (URL, key, topic, permissions), then run envwatch notify test --target ${index + 1}`}),
		};
	});
}
