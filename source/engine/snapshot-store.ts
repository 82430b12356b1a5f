import type {Snapshot} from './snapshot.js';

type Listener = () => void;

/**
 * The one store the engine writes and every view reads (`useSyncExternalStore` in the UI, the
 * printer in headless mode). Snapshots are immutable: a new object per publish.
 */
export class SnapshotStore {
	private snapshot: Snapshot | undefined;
	private readonly listeners = new Set<Listener>();

	getSnapshot = (): Snapshot | undefined => this.snapshot;

	subscribe = (listener: Listener): (() => void) => {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	};

	publish(snapshot: Snapshot): void {
		this.snapshot = Object.freeze(snapshot);
		for (const listener of this.listeners) {
			listener();
		}
	}
}
