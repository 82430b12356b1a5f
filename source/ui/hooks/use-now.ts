import {useSyncExternalStore} from 'react';
import type {Clock} from '../ticker.js';

/** The current time from the dashboard's clock; re-renders on each tick. */
export function useNow(clock: Clock): number {
	return useSyncExternalStore(clock.subscribe, clock.getSnapshot);
}
