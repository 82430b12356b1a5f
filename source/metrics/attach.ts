import type {AuditLog, Fleet, Snapshot} from '../engine/index.js';
import type {Notifier} from '../notify/index.js';
import {Metrics} from './metrics.js';

export type MetricsSource = {subscribe(listener: () => void): () => void; getSnapshot(): Snapshot | undefined};

/** What this process's engine feeds the counters with (absent while attached to another process's engine). */
export type EngineSources = {
	audit: AuditLog;
	notifier?: Notifier;
	/** The provider's fleet: a poll's listing starts the poll-duration clock (a batch's re-check does not). */
	fleet?: Fleet;
};

export type MetricsFeed = {
	metrics: Metrics;
	/** Feeds the counters from an engine this process runs (from the start, or after a takeover); returns the detach. */
	attachEngine(sources: EngineSources): () => void;
	detach(): void;
};

/**
 * Metrics fed without changing the engine: each published snapshot (the figures), and from an
 * engine running in this process each audit entry, each notification outcome, and the time from a
 * poll's listing to its snapshot.
 */
export function attachMetrics(options: {store: MetricsSource; seconds?: () => number; defaults?: boolean} & Partial<EngineSources>): MetricsFeed {
	const metrics = new Metrics({defaults: options.defaults ?? true});
	const seconds = options.seconds ?? (() => performance.now() / 1000);
	let pollStarted: number | undefined;
	const unsubscribe = options.store.subscribe(() => {
		const snapshot = options.store.getSnapshot();
		if (!snapshot) {
			return;
		}

		if (pollStarted !== undefined) {
			metrics.observePoll(seconds() - pollStarted);
			pollStarted = undefined;
		}

		metrics.update(snapshot);
	});
	const current = options.store.getSnapshot();
	if (current) {
		metrics.update(current);
	}

	const detaches: Array<() => void> = [];
	const attachEngine = (sources: EngineSources): (() => void) => {
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

		const off = sources.audit.onAppend(entry => metrics.record(entry));
		const offNotify = sources.notifier?.onOutcome(outcome => metrics.notification(outcome));
		const detach = () => {
			off();
			offNotify?.();
			if (fleet && list) {
				fleet.list = list;
			}
		};

		detaches.push(detach);
		return detach;
	};

	if (options.audit) {
		attachEngine({audit: options.audit, ...(options.notifier ? {notifier: options.notifier} : {}), ...(options.fleet ? {fleet: options.fleet} : {})});
	}

	return {
		metrics,
		attachEngine,
		detach() {
			unsubscribe();
			for (const detach of detaches.splice(0)) {
				detach();
			}
		},
	};
}
