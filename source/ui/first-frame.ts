/**
 * Work that waits until the dashboard's first frame is on the screen, so it costs the person
 * waiting for that frame nothing: the bundle stores the compiled Ink and React here (see
 * script-cache.ts). Nothing registers in the tests, which load Ink as it is.
 */
const waiting: Array<() => void> = [];

export function afterFirstFrame(callback: () => void): void {
	waiting.push(callback);
}

/** Called by `runDashboard` once the first frame has been rendered. */
export function firstFrameShown(): void {
	for (const callback of waiting.splice(0)) {
		callback();
	}
}
