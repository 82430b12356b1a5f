/**
 * Imported first by `run.tsx`, before React: a dashboard in a terminal runs React's production
 * build unless told otherwise. The development build validates every element and costs several
 * times more per frame (measured in test/bench/ui-render.mjs); NODE_ENV=development still gets it.
 */
process.env['NODE_ENV'] ??= 'production';

// The CLI enters the dashboard only when stdin and stdout are terminals. Ink draws nothing live
// when it believes it runs in CI (it reads CI / CONTINUOUS_INTEGRATION once, when it loads), which
// would leave a person whose shell exports CI=true looking at a blank screen: not here.
for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) {
	if (key in process.env) {
		process.env[key] = 'false';
	}
}

export {};
