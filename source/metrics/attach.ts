import type {AuditLog} from '../engine/audit.js';
import type {SnapshotStore} from '../engine/store.js';
import type {Notifier} from '../notify/notifier.js';
import type {Fleet} from '../providers/types.js';
import {Metrics} from './metrics.js';

export type MetricsSources = {
	store: SnapshotStore;
	audit: AuditLog;
	notifier?: Notifier;
	/** The provider's fleet: a poll's listing starts the poll-duration clock (a batch's re-check does not). */
	fleet?: Fleet;
	/** Monotonic seconds (tests pass their own). */
	seconds?: () => number;
	defaults?: boolean;
};

/**
 * Metrics fed by the engine without changing it: each published snapshot, each audit entry, each
 * notification outcome, and the time from a poll's listing to its snapshot.
 */
export function attachMetrics(sources: MetricsSources): {metrics: Metrics; detach: () => void} {
	const metrics = new Metrics({defaults: sources.defaults ?? true});
	const seconds = sources.seconds ?? (() => performance.now() / 1000);
	let pollStarted: number | undefined;
	const {fleet} = sources;
	const list = fleet?.list;
	if (fleet && list) {
		fleet.list = async query => {
			if (query.instanceIds === undefined) {
				pollStarted ??= seconds();
			}

			return list.call(fleet, query);
		};
	}

	const unsubscribe = sources.store.subscribe(() => {
		const snapshot = sources.store.getSnapshot();
		if (!snapshot) {
			return;
		}

		if (pollStarted !== undefined) {
			metrics.observePoll(seconds() - pollStarted);
			pollStarted = undefined;
		}

		metrics.update(snapshot);
	});
	const off = sources.audit.onAppend(entry => metrics.record(entry));
	const offNotify = sources.notifier?.onOutcome(outcome => metrics.notification(outcome));
	const current = sources.store.getSnapshot();
	if (current) {
		metrics.update(current);
	}

	return {
		metrics,
		detach() {
			unsubscribe();
			off();
			offNotify?.();
			if (fleet && list) {
				fleet.list = list;
			}
		},
	};
}
