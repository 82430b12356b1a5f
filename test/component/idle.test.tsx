import React from 'react';
import {render} from 'ink-testing-library';
import {describe, expect, it} from 'vitest';
import type {Snapshot} from '../../source/engine/snapshot.js';
import {EnvRow} from '../../source/ui/components/EnvTable.js';
import {columnWidths} from '../../source/ui/layout.js';
import {FakeController, FakeStore, snapshot, t0, view} from './fixtures.js';
import {useApps} from './harness.js';

/**
 * The dashboard idles when nothing changes: a clock tick re-renders only what shows time, and an
 * age past a minute changes once a minute. (The harness runs Ink in debug mode: every render
 * writes a whole frame, so a render that was not needed shows up as a frame.)
 */

const turn = () => new Promise(resolve => setTimeout(resolve, 0));

/** A store that counts how often the dashboard read it (once per render of the app). */
class CountingStore extends FakeStore {
	reads = 0;
	constructor(current: Snapshot) {
		super(current);
		const read = this.getSnapshot;
		this.getSnapshot = () => {
			this.reads++;
			return read();
		};
	}
}

const app = useApps();

describe('the dashboard while nothing changes', () => {
	it('a clock tick redraws the header\'s age without rendering the rest of the dashboard again', async () => {
		const store = new CountingStore(snapshot());
		const ui = await app({store, controller: new FakeController()});
		ui.clock.set(t0 + 2000);
		await ui.waitFor('updated 2s ago');
		const reads = store.reads;
		ui.clock.set(t0 + 3000);
		const frame = await ui.waitFor('updated 3s ago');
		// Everything else is still there, drawn from the same snapshot, which the app did not read again.
		expect(frame).toContain('staging');
		expect(frame).toContain('billed today/MTD, 12m old');
		expect(store.reads).toBe(reads);
	});

	it('past a minute the ages change once a minute: the ticks in between draw nothing', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController()});
		ui.clock.set(t0 + 61_000);
		await ui.waitFor('updated 1m ago');
		const frames = ui.stdout.frames.length;
		for (let second = 62; second < 120; second++) {
			ui.clock.set(t0 + second * 1000);
			// Each tick on its own turn, as the real 1 s ticker delivers them (React would batch them otherwise).
			await turn();
		}

		expect(ui.lastFrame()).toContain('updated 1m ago');
		expect(ui.lastFrame()).toContain('billed today/MTD, 13m old');
		ui.clock.set(t0 + 120_000);
		const frame = await ui.waitFor('updated 2m ago');
		expect(frame).toContain('billed today/MTD, 14m old');
		// One frame for the minute that changed; none for the 58 ticks that changed nothing shown.
		expect(ui.stdout.frames.length).toBe(frames + 1);
	});

	it('a pending automatic stop still counts down each second', async () => {
		const pending = {decision: {kind: 'stop', environment: 'dev', reason: 'dev +3.6% in 30m', level: 'breach'}, dueAt: t0 + 11_000} as unknown as Snapshot['pending'];
		const ui = await app({store: new FakeStore(snapshot({pending})), controller: new FakeController()});
		await ui.waitFor('AUTO stop dev in 10s');
		ui.clock.set(t0 + 2000);
		await ui.waitFor('AUTO stop dev in 9s');
		ui.clock.set(t0 + 3000);
		await ui.waitFor('AUTO stop dev in 8s');
	});
});

describe('what still follows the clock without the app re-rendering', () => {
	it('a flash message goes when its time is up, on the tick that ends it', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController()});
		await ui.press('r');
		await ui.waitFor('refreshed');
		// Shown for 6 s from the clock's time when it was said (t0 + 1 s).
		ui.clock.set(t0 + 6500);
		await turn();
		expect(ui.lastFrame()).toContain('refreshed');
		ui.clock.set(t0 + 7000);
		const frame = await ui.waitFor('all environments within their limits');
		expect(frame).not.toContain('refreshed');
	});
});

describe('memoised rows redraw when anything they show changes', () => {
	const widths = columnWidths(100, {name: 10, spend: 10, agents: 5, figures: 13});
	it('the allowance, the window and the baseline (the sparkline\'s scale) each redraw the row', () => {
		const before = view('staging', {agents: {running: 2, allowed: 2}, windowMinutes: 45, trend: [1.84, 1.84, 1.85], baselineUsd: 1.84, thresholdPct: 1.5});
		const {lastFrame, rerender, unmount} = render(<EnvRow view={before} widths={widths} />);
		expect(lastFrame()).toContain('2/2');
		rerender(<EnvRow view={{...before, agents: {running: 2, allowed: 3}}} widths={widths} />);
		expect(lastFrame()).toContain('2/3');
		rerender(<EnvRow view={{...before, agents: {running: 2, allowed: 3}, windowMinutes: 60}} widths={widths} />);
		expect(lastFrame()).toContain(' 60m');
		const spark = (frame: string | undefined) => /[▁▂▃▄▅▆▇█]+/.exec(frame ?? '')?.[0];
		const tall = spark(lastFrame());
		// A far lower baseline makes the breach-sized span far wider: the same rise draws lower.
		rerender(<EnvRow view={{...before, agents: {running: 2, allowed: 3}, windowMinutes: 60, baselineUsd: 0.01}} widths={widths} />);
		expect(spark(lastFrame())).not.toBe(tall);
		unmount();
	});
});
