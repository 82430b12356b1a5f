import fs from 'node:fs';
import {resolveTargets, targetName, type NotifyTargetConfig} from './config.js';

export type NotifyCheck = {name: string; status: 'ok' | 'fail' | 'unknown'; detail: string; fix?: string};

type Recorded = {at: string; outcome: string; event: string};

/** The last recorded delivery per target name, from the last `tailBytes` of the audit log. */
export function lastDeliveries(auditFile: string, tailBytes = 1024 * 1024): Map<string, Recorded> {
	const last = new Map<string, Recorded>();
	let text: string;
	try {
		const fd = fs.openSync(auditFile, 'r');
		try {
			const size = fs.fstatSync(fd).size;
			const length = Math.min(size, tailBytes);
			const buffer = Buffer.alloc(length);
			const read = fs.readSync(fd, buffer, 0, length, size - length);
			text = buffer.subarray(0, read).toString('utf8');
		} finally {
			fs.closeSync(fd);
		}
	} catch {
		return last;
	}

	for (const line of text.split('\n')) {
		if (!line.includes('"type":"notify"')) {
			continue;
		}

		try {
			const entry = JSON.parse(line) as {at?: unknown; outcome?: unknown; figures?: {target?: unknown; event?: unknown}};
			const target = entry.figures?.target;
			if (typeof target === 'string' && typeof entry.outcome === 'string' && typeof entry.at === 'string') {
				last.set(target, {at: entry.at, outcome: entry.outcome, event: typeof entry.figures?.event === 'string' ? entry.figures.event : '?'});
			}
		} catch {
			// A torn line (an earlier crash) is not a delivery.
		}
	}

	return last;
}

/**
 * `doctor`'s notification checks: every secret variable set, and each target's last recorded
 * delivery (from the audit log): a target whose last delivery was given up or refused fails.
 */
export function notifyChecks(configured: readonly NotifyTargetConfig[], env: NodeJS.ProcessEnv, auditFile: string): NotifyCheck[] {
	const deliveries = lastDeliveries(auditFile);
	return configured.map((target, index) => {
		const name = `notify ${targetName(target, index)} (${target.type})`;
		const problems: string[] = [];
		resolveTargets([target], env, problems);
		if (problems.length > 0) {
			return {name, status: 'fail', detail: problems.map(problem => problem.replace('notify.0', `notify.${index}`)).join('; '), fix: 'set the variable in the environment envwatch runs in'};
		}

		const last = deliveries.get(targetName(target, index));
		if (!last) {
			return {name, status: 'unknown', detail: `no delivery recorded in ${auditFile}`, fix: `envwatch notify test --target ${index + 1} sends a test message`};
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
