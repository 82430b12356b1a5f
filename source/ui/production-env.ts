/**
 * Imported first by `run.tsx`, before React: a dashboard in a terminal runs React's production
 * build unless told otherwise. The development build validates every element and costs several
 * times more per frame (measured in test/bench/ui-render.mjs); NODE_ENV=development still gets it.
 */
import {colourLevel} from './terminal-caps.js';

process.env['NODE_ENV'] ??= 'production';

// The CLI enters the dashboard only when stdin and stdout are terminals. Ink draws nothing live
// when it believes it runs in CI (it reads CI / CONTINUOUS_INTEGRATION once, when it loads), which
// would leave a person whose shell exports CI=true looking at a blank screen: not here.
for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) {
	if (key in process.env) {
		process.env[key] = 'false';
	}
}

// Ink colours with chalk, which reads the colour depth once, as it loads, by rules of its own (with
// CI set at all, or a TERM it does not know, it writes no colour). On a terminal the depth is
// envwatch's own reading (terminal-caps.ts), so what the theme draws is what chalk writes:
// FORCE_COLOR says it to chalk, and run.ts puts the variable back as it was once Ink has loaded.
const forceColour = process.env['FORCE_COLOR'];
if (process.stdout.isTTY) {
	process.env['FORCE_COLOR'] = String(colourLevel(process.env));
}

/** FORCE_COLOR as it was before the dashboard set it for chalk (called once Ink has loaded). */
export function restoreForceColour(): void {
	if (forceColour === undefined) {
		delete process.env['FORCE_COLOR'];
	} else {
		process.env['FORCE_COLOR'] = forceColour;
	}
}
