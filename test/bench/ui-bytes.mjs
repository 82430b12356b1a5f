// Bytes written to the terminal by the dashboard (runDashboard, incremental rendering, 80x24):
// the first full frame, and a steady-state refresh where one figure changes.
// Run: npm run build && node test/bench/ui-bytes.mjs (or npm run bench -- ui-bytes)
import {pathToFileURL} from 'node:url';
import {CountingTty, engineSnapshot, ManualStore, QuietTtyIn, settle} from './ui-fixture.js';

export async function run() {
	// Count colour codes as a real terminal gets them (chalk reads this when Ink first loads).
	process.env.FORCE_COLOR ??= '1';
	const {runDashboard} = await import(new URL('../../dist/ui/run.js', import.meta.url).href);
	const {manualClock} = await import(new URL('../../dist/ui/ticker.js', import.meta.url).href);
	const base = await engineSnapshot();
	const stdout = new CountingTty();
	const stdin = new QuietTtyIn();
	const store = new ManualStore(base);
	const clock = Object.assign(manualClock(base.at), {stop() {}});
	const done = runDashboard({
		store,
		monitor: {command: async () => undefined, cascadeTarget: () => undefined, stop: async () => {}},
		stdout, stdin, stderr: new CountingTty(), env: {}, signals: [], start: false, patchConsole: false, ticker: clock,
	});
	// Ink throttles to maxFps (10): leave each frame room to be written on its own.
	const gap = 150;
	await settle(gap);
	const full = stdout.bytes;
	const lines = [];

	const measure = async (label, change) => {
		stdout.reset();
		change();
		await settle(gap);
		lines.push(`${label}: ${stdout.bytes} bytes in ${stdout.writes} writes`);
	};

	// One figure: dev's hourly spend (as if nothing else had moved).
	const dev = base.environments.find(view => view.name === 'dev');
	await measure('one figure changes (dev $/h)', () => store.publish({...base, environments: base.environments.map(view => view === dev ? {...view, hourlyUsd: view.hourlyUsd + 0.01} : view)}));
	// The 1-second clock: the header's "updated Ns ago". The first tick writes the header line whole (the output
	// layer has not seen it drawn yet); from then on only its changed cells.
	await measure('first clock tick (header age)', () => clock.set(base.at + 1000));
	await measure('clock tick (header age)', () => clock.set(base.at + 2000));
	// A realistic poll: age resets, dev and the global total change.
	await measure('poll: dev and global $/h, age', () => {
		store.publish({...store.getSnapshot(), at: base.at + 15_000, lastSuccessAt: base.at + 15_000, environments: store.getSnapshot().environments.map(view => view.name === 'dev' ? {...view, hourlyUsd: view.hourlyUsd + 0.01} : view), global: {...base.global, hourlyUsd: base.global.hourlyUsd + 0.02}});
		clock.set(base.at + 15_000);
	});
	await measure('nothing changes (a publish with equal figures)', () => store.publish({...store.getSnapshot()}));
	// The same idle refreshes with each drill-down view open (Enter: detail, t: spend chart, g: by region).
	let at = base.at + 15_000;
	for (const [key, name] of [['\r', 'detail'], ['t', 'spend chart'], ['g', 'by region']]) {
		stdout.reset();
		stdin.press(key);
		await settle(gap);
		lines.push(`${name} view opens: ${stdout.bytes} bytes`);
		at += 1000;
		await measure(`${name}: clock tick`, () => clock.set(at));
		at += 15_000;
		await measure(`${name}: poll (dev and global $/h, age)`, () => {
			store.publish({...store.getSnapshot(), at, lastSuccessAt: at, environments: store.getSnapshot().environments.map(view => view.name === 'dev' ? {...view, hourlyUsd: view.hourlyUsd + 0.01, trend: [...view.trend.slice(1), view.hourlyUsd + 0.01]} : view), global: {...base.global, hourlyUsd: base.global.hourlyUsd + 0.02}});
			clock.set(at);
		});
		await measure(`${name}: nothing changes`, () => store.publish({...store.getSnapshot()}));
		stdin.press('\u001B');
		await settle(gap);
	}

	// The dashboard keeps running until the process exits (the runner exits when all benches ran).
	void done;
	return [`full first frame (80x24): ${full} bytes`, ...lines];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
	console.log((await run()).join('\n'));
	process.exit(0);
}
