import type {Snapshot} from '../engine/index.js';
import type {Notifier} from './notifier.js';

type Source = {subscribe(listener: () => void): () => void; getSnapshot(): Snapshot | undefined};

/** The failing targets in one line (null: none), e.g. `slack#1: gave up: HTTP 500 (...)`. */
export function failingText(notifier: Notifier): string | null {
	const failing = notifier.health().filter(target => target.failing !== null);
	return failing.length === 0 ? null : failing.map(target => `${target.name}: ${target.failing}`).join(' | ');
}

/**
 * The store as the dashboard reads it, with `notifyError` set while a notification target is
 * failing. A view re-renders on each publish and each delivery outcome; the same inputs give the
 * same object (useSyncExternalStore needs a stable snapshot).
 */
export function withNotifyStatus(store: Source, notifier: Notifier): Source {
	let lastBase: Snapshot | undefined;
	let lastText: string | null = null;
	let last: Snapshot | undefined;
	return {
		subscribe(listener) {
			const off = store.subscribe(listener);
			const offOutcome = notifier.onOutcome(() => listener());
			return () => {
				off();
				offOutcome();
			};
		},
		getSnapshot() {
			const base = store.getSnapshot();
			const text = failingText(notifier);
			if (base !== lastBase || text !== lastText) {
				lastBase = base;
				lastText = text;
				last = base && text ? Object.freeze({...base, notifyError: text}) : base;
			}

			return last;
		},
	};
}
