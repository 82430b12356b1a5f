import {createContext, useContext, useSyncExternalStore} from 'react';
import type {Clock} from '../ticker.js';

/** The dashboard's clock, provided once by the app: each part that shows time subscribes itself. */
export const ClockContext = createContext<Clock | undefined>(undefined);

export function useClock(): Clock {
	const clock = useContext(ClockContext);
	if (!clock) {
		throw new Error('envwatch: a dashboard component that shows time was rendered without a clock (wrap it in ClockContext.Provider)');
	}

	return clock;
}

/**
 * The clock's now, for a component that shows something of it: it re-renders only when
 * `shown(now)` changes (compared with Object.is, so return a string or a number), not on every
 * tick. "updated 4s ago" re-renders each second; "billed 5m old" once a minute; a frame with
 * nothing that depends on time, never.
 */
export function useNowWhen(shown: (now: number) => string | number): number {
	const clock = useClock();
	useSyncExternalStore(clock.subscribe, () => shown(clock.getSnapshot()));
	return clock.getSnapshot();
}
