// Render time of a dashboard with 10 environments and 50 events: the whole frame (React, layout,
// output) with Ink's renderToString at 120x40 and 80x24, and in the live renderer the time from a
// store publish to the terminal write. Run: npm run build && node test/bench/ui-render.mjs
import {performance} from 'node:perf_hooks';
import {pathToFileURL} from 'node:url';
import {CountingTty, engineSnapshot, ManualStore, median, QuietTtyIn, settle} from './ui-fixture.js';

export async function run(iterations = 60) {
	process.env.FORCE_COLOR ??= '1';
	// run.js first, as the CLI loads it: it selects React's production build before React loads.
	const {runDashboard} = await import(new URL('../../dist/ui/run.js', import.meta.url).href);
	const React = (await import('react')).default;
	const {renderToString} = await import('ink');
	const {Dashboard} = await import(new URL('../../dist/ui/components/Dashboard.js', import.meta.url).href);
	const {manualClock} = await import(new URL('../../dist/ui/ticker.js', import.meta.url).href);
	const {ClockContext} = await import(new URL('../../dist/ui/hooks/use-now.js', import.meta.url).href);
	const base = await engineSnapshot();
	const template = base.environments[0];
	const environments = Array.from({length: 10}, (_, index) => ({...template, name: `env-${index}`, hourlyUsd: template.hourlyUsd + index, trend: template.trend.map(value => value + index)}));
	const events = Array.from({length: 50}, (_, index) => ({...(base.events[0] ?? {}), at: new Date(base.at - index * 1000).toISOString(), seq: index + 1, type: 'decision', actor: index % 3 ? 'auto' : 'ops@jump', kind: 'warn', environments: [`env-${index % 10}`], reason: `env-${index % 10}: +1.6% > 75% of 2.0% over 30m`, instanceIds: [], dryRun: false}));
	const snapshot = {...base, environments, events};
	const keys = {readOnly: false, pending: false, paused: false};
	const lines = [];
	for (const [columns, rows] of [[120, 40], [80, 24]]) {
		// The parts that show time read the clock from context (as the app provides it).
		const element = React.createElement(ClockContext.Provider, {value: manualClock(base.at)}, React.createElement(Dashboard, {snapshot, columns, rows, selected: 'env-0', keys}));
		for (let index = 0; index < 5; index++) {
			renderToString(element, {columns});
		}

		const times = [];
		for (let index = 0; index < iterations; index++) {
			const started = performance.now();
			renderToString(element, {columns});
			times.push(performance.now() - started);
		}

		lines.push(`full render, 10 environments + 50 events, ${columns}x${rows}: median ${median(times).toFixed(2)} ms (${iterations} runs)`);
	}

	// The live renderer: publish a changed snapshot, time until Ink has written the frame.
	const stdout = Object.assign(new CountingTty(), {columns: 120, rows: 40});
	const store = new ManualStore(snapshot);
	void runDashboard({store, monitor: {command: async () => undefined, cascadeTarget: () => undefined, stop: async () => {}}, stdout, stdin: new QuietTtyIn(), stderr: new CountingTty(), env: {}, signals: [], start: false, patchConsole: false, ticker: Object.assign(manualClock(base.at), {stop() {}})});
	await settle(200);
	const latencies = [];
	for (let index = 0; index < 20; index++) {
		const before = stdout.writes;
		const started = performance.now();
		store.publish({...snapshot, environments: environments.map((view, position) => position === index % 10 ? {...view, hourlyUsd: view.hourlyUsd + 0.01 * (index + 1)} : view)});
		while (stdout.writes === before) {
			await new Promise(resolve => globalThis.setImmediate(resolve));
		}

		latencies.push(performance.now() - started);
		// Past the frame-rate cap (maxFps 10), so every publish is drawn at once.
		await settle(120);
	}

	lines.push(`live: store publish to terminal write, 10 environments + 50 events, 120x40: median ${median(latencies).toFixed(2)} ms (20 publishes)`);
	return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
	console.log((await run()).join('\n'));
	process.exit(0);
}
