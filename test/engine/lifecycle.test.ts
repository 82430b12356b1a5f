import {EventEmitter} from 'node:events';
import {PassThrough} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {parseArgs} from '../../source/app/args.js';
import type {Io} from '../../source/app/io.js';
import {runMonitor} from '../../source/app/run.js';
import {Reports, type Runtime} from '../../source/app/runtime.js';
import {useSimHarnesses} from '../helpers/sim.js';

/**
 * How a process running the engine ends (source/app/run.ts's runMonitor, source/serve/lifecycle.ts),
 * in this process on the simulated account: signals and crashes come from an emitter standing in
 * for `process` (the built CLI gets real ones in test/faults/process.test.ts). Every end of an
 * engine is exactly one `down` line in the audit log.
 */
const harnesses = useSimHarnesses();

async function until(predicate: () => boolean, what: string): Promise<void> {
	const deadline = Date.now() + 10_000;
	while (!predicate()) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, 20));
	}
}

/** `args` run as the CLI would run them, with a terminal on stdin when `terminal`. */
function start(args: string[], terminal = false) {
	const stdout = new PassThrough();
	const stderr = new PassThrough();
	const stdin = Object.assign(new PassThrough(), terminal ? {isTTY: true} : {});
	let out = '';
	let err = '';
	stdout.on('data', chunk => (out += String(chunk)));
	stderr.on('data', chunk => (err += String(chunk)));
	const events = new EventEmitter();
	const io = {stdout, stderr, stdin, env: {}, events} as unknown as Io;
	const sim = harnesses.start({scenario: 'calm'});
	const options = parseArgs(args);
	const runtime: Runtime = {options, config: sim.config, monitored: ['dev', 'staging', 'production'], store: sim.store, monitor: sim.monitor, audit: sim.audit, stateDir: sim.state.dir, reports: new Reports(io.stderr)};
	let code: number | undefined;
	const exited = runMonitor(options, io, sim.state.dir, async () => runtime).then(value => (code = value));
	return {
		events,
		sim,
		exited,
		code: () => code,
		out: () => out,
		err: () => err,
		runtime,
		downs: () => sim.auditLines().filter(entry => entry.kind === 'down'),
		polled: async () => until(() => out.includes(' poll '), 'the first poll'),
	};
}

describe('the end of an engine', () => {
	it('serve ignores SIGHUP (nohup envwatch serve & outlives the SSH session): said once, recorded once, still running; SIGTERM then ends it with one down line', async () => {
		const run = start(['serve', '--demo', 'calm']);
		await run.polled();
		run.events.emit('SIGHUP', 'SIGHUP');
		run.events.emit('SIGHUP', 'SIGHUP');
		const polls = run.out().split(' poll ').length;
		await run.sim.monitor.poll();
		await until(() => run.out().split(' poll ').length > polls, 'another poll after the SIGHUPs');
		expect(run.code()).toBeUndefined();
		expect(run.err().match(/SIGHUP ignored: a server goes on when the terminal it was started from goes away \(stop it with SIGTERM\)/g)).toHaveLength(1);
		expect(run.sim.auditLines().filter(entry => entry.kind === 'signal').map(entry => entry.reason)).toEqual([expect.stringContaining('SIGHUP ignored')]);
		expect(run.downs()).toEqual([]);

		run.events.emit('SIGTERM', 'SIGTERM');
		expect(await run.exited).toBe(143);
		expect(run.downs()).toEqual([expect.objectContaining({type: 'decision', actor: 'auto', environments: ['dev', 'staging', 'production'], reason: 'SIGTERM', instanceIds: [], dryRun: false})]);
	});

	it('a headless run without a terminal ignores SIGHUP too; SIGINT ends it: exit 130, down "SIGINT"', async () => {
		const run = start(['--headless', '--demo', 'calm']);
		await run.polled();
		run.events.emit('SIGHUP', 'SIGHUP');
		expect(run.err()).toContain('SIGHUP ignored: a run without a terminal goes on');
		run.events.emit('SIGINT', 'SIGINT');
		expect(await run.exited).toBe(130);
		expect(run.downs().map(entry => entry.reason)).toEqual(['SIGINT']);
	});

	it('a headless run in a terminal ends on SIGHUP (its terminal is gone): exit 129, down "SIGHUP: the terminal is gone"', async () => {
		const run = start(['--headless', '--demo', 'calm'], true);
		await run.polled();
		run.events.emit('SIGHUP', 'SIGHUP');
		expect(await run.exited).toBe(129);
		expect(run.downs().map(entry => entry.reason)).toEqual(['SIGHUP: the terminal is gone']);
		expect(run.err()).not.toContain('SIGHUP ignored');
	});

	it('a crash (an exception nothing caught) is recorded, not a bare stack trace: exit 1, down "crash: ..."', async () => {
		const run = start(['serve', '--demo', 'calm']);
		await run.polled();
		run.events.emit('uncaughtException', new TypeError('boom'));
		expect(await run.exited).toBe(1);
		expect(run.err()).toContain('envwatch: crashed: TypeError: boom');
		expect(run.downs().map(entry => entry.reason)).toEqual(['crash: boom']);
		// A rejection nothing handled is a crash too (and ends nothing twice).
		run.events.emit('unhandledRejection', new Error('later'));
		expect(run.downs()).toHaveLength(1);
	});

	it('a give-up (the same unexpected error on every poll for the span) is exit 1 and down "gave up: ..."', async () => {
		const run = start(['--headless', '--demo', 'calm']);
		await run.polled();
		// What the monitor calls when the span is over (test/engine/poll-errors.test.ts drives it from a failing poll).
		run.runtime.giveUp?.('poll failed unexpectedly: TypeError: always (on every poll for 300s)');
		expect(await run.exited).toBe(1);
		expect(run.downs().map(entry => entry.reason)).toEqual(['gave up: poll failed unexpectedly: TypeError: always (on every poll for 300s)']);
	});
});
