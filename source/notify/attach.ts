import type {AuditLog, SnapshotStore} from '../engine/index.js';
import type {NotifyTarget} from './targets.js';
import {Notifier, type DeliveryOutcome, type NotifierOptions} from './notifier.js';
import {plural} from '../domain/index.js';

/** One line for a delivery's outcome: what, to whom, and how it went (secrets already scrubbed). */
export function describeOutcome(outcome: DeliveryOutcome): string {
	const what = outcome.outcome === 'delivered' ? `delivered${outcome.attempts > 1 ? ` after ${outcome.attempts} attempts` : ''}`
		: outcome.outcome === 'skipped' ? 'nothing to send for this event'
			: outcome.outcome === 'gave-up' ? `gave up after ${plural(outcome.attempts, 'attempt')}: ${outcome.error ?? ''}`
				: `${outcome.outcome}: ${outcome.error ?? ''}`;
	return `${outcome.event === 'heartbeat' ? 'heartbeat ping' : `${outcome.event} notification`} to ${outcome.target} (${outcome.type}): ${what}`;
}

export type AttachOptions = {
	targets: NotifyTarget[];
	audit: AuditLog;
	store: SnapshotStore;
	host: string;
	/** Where a delivery given up or refused is reported, one line each. */
	report: (line: string) => void;
	/** SNS publishing (the providers' snsPublisher); without it an sns target's deliveries fail. */
	publishSns?: NotifierOptions['publishSns'];
	/** Queue tuning (tests shorten the backoff). */
	tuning?: Pick<NotifierOptions, 'attempts' | 'backoffMs' | 'maxBackoffMs' | 'timeoutMs' | 'cap'>;
};

/**
 * A notifier listening to the audit log: every entry's event goes to the targets that want it, in
 * the background; each delivery's outcome is appended to the audit log (type and kind `notify`,
 * `figures.about` the seq of the entry it was about). Heartbeat targets follow the store: each
 * snapshot of a successful poll may send their ping.
 */
export function attachNotifier(options: AttachOptions): Notifier {
	const {audit} = options;
	const notifier = new Notifier(options.targets, {
		...options.tuning,
		host: options.host,
		snapshot: options.store.getSnapshot,
		...(options.publishSns ? {publishSns: options.publishSns} : {}),
		record(outcome, notice) {
			audit.append({
				at: new Date().toISOString(),
				dryRun: notice.entry.dryRun,
				type: 'notify',
				actor: 'auto',
				kind: 'notify',
				environments: notice.entry.environments,
				reason: describeOutcome(outcome),
				figures: {target: outcome.target, targetType: outcome.type, event: outcome.event, about: outcome.seq, attempts: outcome.attempts},
				instanceIds: [],
				outcome: outcome.outcome === 'delivered' || outcome.outcome === 'skipped' ? outcome.outcome : `${outcome.outcome}: ${outcome.error ?? ''}`,
			});
			if (outcome.outcome !== 'delivered' && outcome.outcome !== 'skipped') {
				options.report(describeOutcome(outcome));
			}
		},
	});
	audit.onAppend(notifier.handle);
	if (options.targets.some(target => target.type === 'heartbeat')) {
		options.store.subscribe(() => notifier.beat(options.store.getSnapshot()));
	}

	return notifier;
}
