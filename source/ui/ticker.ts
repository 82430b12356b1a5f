/**
 * The dashboard's clock as an external store: one timer outside React (no setInterval inside a
 * component), read with `useSyncExternalStore`. It ticks once a second for the "updated 3s ago"
 * age and the grace countdown; Ink writes nothing when a tick changes no visible character.
 */
export type Clock = {
	subscribe(listener: () => void): () => void;
	/** The current time in epoch ms, as of the last tick. */
	getSnapshot(): number;
};

export type Ticker = Clock & {stop(): void};

export function createTicker(options: {
	/** @default 1000 */
	intervalMs?: number;
	/** @default Date.now */
	now?: () => number;
} = {}): Ticker {
	const now = options.now ?? Date.now;
	const intervalMs = options.intervalMs ?? 1000;
	const listeners = new Set<() => void>();
	let current = now();
	let timer: NodeJS.Timeout | undefined;
	const tick = () => {
		current = now();
		for (const listener of listeners) {
			listener();
		}
	};

	return {
		subscribe(listener) {
			listeners.add(listener);
			if (!timer) {
				timer = setInterval(tick, intervalMs);
				// The clock alone must never keep the process alive.
				timer.unref?.();
			}

			return () => {
				listeners.delete(listener);
				if (listeners.size === 0 && timer) {
					clearInterval(timer);
					timer = undefined;
				}
			};
		},
		getSnapshot: () => current,
		stop() {
			clearInterval(timer);
			timer = undefined;
			listeners.clear();
		},
	};
}

/** A clock tests move by hand. */
export function manualClock(start: number): Clock & {set(at: number): void} {
	const listeners = new Set<() => void>();
	let current = start;
	return {
		subscribe(listener) {
			listeners.add(listener);
			return () => listeners.delete(listener);
		},
		getSnapshot: () => current,
		set(at) {
			current = at;
			for (const listener of listeners) {
				listener();
			}
		},
	};
}
