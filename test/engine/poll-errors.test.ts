import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import type {History} from '../../source/domain/history.js';
import {StateStore} from '../../source/engine/state/store.js';
import {useSimHarnesses} from '../helpers/sim.js';

/**
 * A stand-in for a bug in the poll (the engine's own code throwing): neither moto nor the simulated
 * account can make envwatch's own code throw, so saving the history throws while `throwing` is set.
 */
class ThrowingState extends StateStore {
	throwing: Error | undefined;

	override saveHistory(history: History): void {
		if (this.throwing) {
			throw this.throwing;
		}

		super.saveHistory(history);
	}
}

const harnesses = useSimHarnesses();

function setUp(giveUpAfterMs = 60_000) {
	const reports: string[] = [];
	const gaveUp: string[] = [];
	const sim = harnesses.start({scenario: 'calm', options: {report: line => reports.push(line), giveUpAfterMs, onGiveUp: error => gaveUp.push(error)}});
	const state = new ThrowingState(sim.state.dir);
	Object.assign(sim, {state});
	sim.newMonitor();
	return {sim, state, reports, gaveUp};
}

describe('an unexpected error in a poll', () => {
	it('marks the data stale with the error, reports and logs it once, and the next poll tries again', async () => {
		const {sim, state, reports} = setUp();
		await sim.poll();
		state.throwing = new TypeError("Cannot read properties of null (reading 'series')");
		const failed = await sim.poll();
		expect(failed.error).toBe("poll failed unexpectedly: TypeError: Cannot read properties of null (reading 'series')");
		expect(failed.environments.every(view => view.stale === failed.error)).toBe(true);
		// The last known figures stay on screen, never $0.
		expect(failed.global.hourlyUsd).toBeGreaterThan(0);
		expect(reports).toEqual([`envwatch: ${failed.error}; the data is stale, no automatic action until a poll succeeds`]);
		await sim.poll();
		expect(reports).toHaveLength(1);
		expect(sim.auditLines().filter(line => line.kind === 'error').map(line => line.reason)).toEqual([`${failed.error}; no automatic action until a poll succeeds`]);

		state.throwing = undefined;
		const fresh = await sim.poll();
		expect(fresh.error).toBeNull();
	});

	it('the running loop reports it too (it used to swallow it, printing nothing)', async () => {
		const {sim, state, reports} = setUp();
		state.throwing = new RangeError('Invalid time value');
		sim.monitor.start();
		// start() polls at once; poll() joins that poll in flight.
		expect((await sim.monitor.poll()).error).toBe('poll failed unexpectedly: RangeError: Invalid time value');
		expect(sim.store.getSnapshot()?.error).toBe('poll failed unexpectedly: RangeError: Invalid time value');
		expect(reports[0]).toContain('RangeError: Invalid time value');
	});

	it('the same error on every poll for the give-up span calls onGiveUp once, with the error', async () => {
		const {sim, state, gaveUp} = setUp(60_000);
		state.throwing = new TypeError('same');
		await sim.poll(30_000);
		await sim.poll(29_000);
		expect(gaveUp).toEqual([]);
		// Another error restarts the span.
		state.throwing = new TypeError('other');
		await sim.poll(59_000);
		await sim.poll(1000);
		expect(gaveUp).toEqual([]);
		await sim.poll();
		expect(gaveUp).toEqual(['poll failed unexpectedly: TypeError: other (on every poll for 60s)']);
		await sim.poll();
		expect(gaveUp).toHaveLength(1);
	});

	it('a poll that succeeds in between restarts the span', async () => {
		const {sim, state, gaveUp} = setUp(60_000);
		state.throwing = new TypeError('same');
		await sim.poll(40_000);
		state.throwing = undefined;
		await sim.poll(1000);
		state.throwing = new TypeError('same');
		await sim.poll(40_000);
		await sim.poll();
		expect(gaveUp).toEqual([]);
	});

	it('a damaged state file is reported at start (stderr line and audit entry), once', async () => {
		const reports: string[] = [];
		const dir = harnesses.start({scenario: 'calm'}).dir;
		fs.mkdirSync(path.join(dir, 'state'), {recursive: true});
		fs.writeFileSync(path.join(dir, 'state', 'last-stop.json'), '{"at": 1, "actor": "a", "environments": ["dev"], "targets": null, "dryRun": false}');
		const sim = harnesses.start({scenario: 'calm', dir, options: {report: line => reports.push(line)}});
		expect(reports).toEqual([expect.stringMatching(/^envwatch: the state file .*last-stop\.json is damaged \(targets: null — expected an array of \{id, region\}\); moved it aside to .*last-stop\.json\.damaged-/)]);
		const snapshot = await sim.poll();
		expect(snapshot.events.map(event => event.kind)).toEqual(['state']);
		expect(sim.auditLines().map(line => line.kind)).toEqual(['state']);
		expect(reports).toHaveLength(1);
	});
});

describe('headless', () => {
	it('exits 1 with the error when the same unexpected error failed every poll for the give-up span', async () => {
		const {PassThrough} = await import('node:stream');
		const {parseArgs} = await import('../../source/app/args.js');
		const {Reports} = await import('../../source/app/runtime.js');
		const {runMonitor} = await import('../../source/app/run.js');
		const stdout = new PassThrough();
		const stderr = new PassThrough();
		let out = '';
		let err = '';
		stdout.on('data', chunk => (out += String(chunk)));
		stderr.on('data', chunk => (err += String(chunk)));
		const io = {stdout, stderr, stdin: new PassThrough(), env: {}} as unknown as Parameters<typeof runMonitor>[1];
		const sim = harnesses.start({scenario: 'calm'});
		const state = new ThrowingState(sim.state.dir);
		state.throwing = new TypeError('always');
		Object.assign(sim, {state});
		const reports = new Reports(io.stderr);
		const runtime: Awaited<ReturnType<NonNullable<Parameters<typeof runMonitor>[3]>>> = {options: parseArgs(['--demo', 'calm', '--headless']), config: sim.config, monitored: ['dev', 'staging', 'production'], store: sim.store, monitor: sim.monitor, audit: sim.audit, stateDir: sim.state.dir, reports};
		// A span of 0: the first failed poll is already "every poll for the span" (the default is 5 minutes).
		runtime.monitor = sim.newMonitor({report: line => reports.write(line), giveUpAfterMs: 0, onGiveUp: error => runtime.giveUp?.(error)});
		expect(await runMonitor(runtime.options, io, sim.state.dir, async () => runtime)).toBe(1);
		expect(err).toContain('envwatch: poll failed unexpectedly: TypeError: always; the data is stale');
		expect(err).toContain('envwatch: giving up: poll failed unexpectedly: TypeError: always (on every poll for 0s)');
		expect(out).toContain('STALE: poll failed unexpectedly: TypeError: always');
	});
});
