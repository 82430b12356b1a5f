import {useSyncExternalStore} from 'react';
import type {Snapshot} from '../../engine/index.js';

/** What the dashboard needs of `SnapshotStore`: tests pass a fake with the same two methods. */
export type SnapshotSource = {
	subscribe(listener: () => void): () => void;
	getSnapshot(): Snapshot | undefined;
};

/** The engine's latest snapshot; re-renders once per publish, never polls. */
export function useSnapshot(store: SnapshotSource): Snapshot | undefined {
	return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
