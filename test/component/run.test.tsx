import {EventEmitter} from 'node:events';
import {describe, expect, it} from 'vitest';
import fs from 'node:fs';
import {cursorTracker, inkStdout, needsCursorFix} from '../../source/ui/ink-fix.js';
import {inkVersion} from '../../source/ui/ink-version.js';
import {dashboardSupported} from '../../source/ui/index.js';
import {runDashboard} from '../../source/ui/run.js';
import {FakeController, FakeStore, snapshot} from './fixtures.js';

describe('dashboardSupported', () => {
	it('needs a terminal on both ends, and says why not in one line', () => {
		expect(dashboardSupported({isTTY: true}, {isTTY: true})).toEqual({ok: true});
		expect(dashboardSupported({isTTY: true}, {isTTY: false})).toEqual({ok: false, note: 'envwatch: stdout is not a terminal; printing headless output instead of the dashboard'});
		expect(dashboardSupported({}, {isTTY: true})).toEqual({ok: false, note: 'envwatch: stdin is not a terminal; printing headless output instead of the dashboard'});
	});
});

describe('the Ink 6.8.0 incremental cursor fix', () => {
	it('moves an incremental frame up one more line when the last frame left the cursor below it', () => {
		const tracker = cursorTracker();
		expect(tracker.correct('\u001B[?2026h')).toBe('\u001B[?2026h');
		expect(tracker.correct('first frame\nline 2\n')).toBe('first frame\nline 2\n');
		expect(tracker.correct('\u001B[?2026l')).toBe('\u001B[?2026l');
		expect(tracker.correct('\u001B[1A\u001B[1Gchanged\u001B[K\n\u001B[E')).toBe('\u001B[2A\u001B[1Gchanged\u001B[K\n\u001B[E');
		expect(tracker.correct('\u001B[1A\u001B[E\u001B[1Glast\u001B[K\n')).toBe('\u001B[2A\u001B[E\u001B[1Glast\u001B[K\n');
	});

	it('leaves it alone after a clear-screen frame that ends on its last line', () => {
		const tracker = cursorTracker();
		tracker.correct('frame\n');
		expect(tracker.correct('\u001B[2J\u001B[3J\u001B[Hframe line 1\nframe line 2')).toBe('\u001B[2J\u001B[3J\u001B[Hframe line 1\nframe line 2');
		expect(tracker.correct('\u001B[1A\u001B[1Gnew\u001B[K\n')).toBe('\u001B[1A\u001B[1Gnew\u001B[K\n');
		expect(tracker.correct('\u001B[1A\u001B[1Gnewer\u001B[K\n')).toBe('\u001B[2A\u001B[1Gnewer\u001B[K\n');
	});

	it('never touches a cursor-up that is not at the start of a write', () => {
		const tracker = cursorTracker();
		tracker.correct('frame\n');
		expect(tracker.correct('\u001B[2K\u001B[1A\u001B[2K')).toBe('\u001B[2K\u001B[1A\u001B[2K');
	});

	it('passes size and events through to the real stream', () => {
		const writes: string[] = [];
		const real = Object.assign(new EventEmitter(), {columns: 80, rows: 24, isTTY: true, write: (chunk: string) => writes.push(chunk) > 0});
		const wrapped = inkStdout(real as unknown as NodeJS.WriteStream);
		expect(wrapped.columns).toBe(80);
		let resized = 0;
		wrapped.on('resize', () => resized++);
		real.emit('resize');
		expect(resized).toBe(1);
		wrapped.write('a frame\n');
		wrapped.write('\u001B[2Aabc');
		expect(writes).toEqual(['\u001B[2J\u001B[H', 'a frame\n', '\u001B[3Aabc']);
	});

	it('is made for the Ink major it was written for (6) only: Ink 7 fixed it, and there it would overshoot by a line', () => {
		expect(['6.8.0', '6.0.0', '6.10.2'].map(version => needsCursorFix(version))).toEqual([true, true, true]);
		expect(['7.0.0', '7.0.0-beta.1', '8.1.0', '5.2.1', 'six', ''].map(version => needsCursorFix(version))).toEqual([false, false, false, false, false, false]);
		expect(needsCursorFix(undefined)).toBe(false);
		const frames = (version: string) => {
			const writes: string[] = [];
			const real = Object.assign(new EventEmitter(), {columns: 80, rows: 24, isTTY: true, write: (chunk: string) => writes.push(chunk) > 0});
			const wrapped = inkStdout(real as unknown as NodeJS.WriteStream, {inkVersion: version});
			wrapped.write('a frame\nline 2\n');
			wrapped.write('\u001B[1A\u001B[1Gchanged\u001B[K\n\u001B[E');
			wrapped.dispose();
			return writes;
		};

		expect(frames('6.8.0')[1]).toBe('\u001B[2A\u001B[1Gchanged\u001B[K\n\u001B[E');
		expect(frames('7.0.0')[1]).toBe('\u001B[1A\u001B[1Gchanged\u001B[K\n\u001B[E');
	});

	it('asks the installed Ink its version (the one package.json allows, major 6)', () => {
		const installed = JSON.parse(fs.readFileSync(new URL('../../node_modules/ink/package.json', import.meta.url), 'utf8')) as {version: string};
		expect(inkVersion()).toBe(installed.version);
		expect(needsCursorFix(inkVersion())).toBe(true);
	});

	it('on resize clears the screen first and makes Ink redraw everything', () => {
		const writes: string[] = [];
		const real = Object.assign(new EventEmitter(), {columns: 80, rows: 24, isTTY: true, write: (chunk: string) => writes.push(chunk) > 0});
		const wrapped = inkStdout(real as unknown as NodeJS.WriteStream);
		const seen: number[] = [];
		// Ink's own listener, registered after the wrapper's: it must see a narrower terminal.
		wrapped.on('resize', () => seen.push(wrapped.columns, wrapped.columns));
		wrapped.write('frame\n');
		real.columns = 100;
		real.emit('resize');
		expect(writes.at(-1)).toBe('\u001B[2J\u001B[H');
		expect(seen).toEqual([-1, -1]);
		wrapped.write('\u001B[2K\u001B[G');
		expect(wrapped.columns).toBe(100);
		// After the clear the cursor is home, not below a frame: no correction.
		expect((wrapped.write('\u001B[3Aabc'), writes.at(-1))).toBe('\u001B[3Aabc');
		wrapped.dispose();
		real.emit('resize');
		expect(writes.filter(chunk => chunk === '\u001B[2J\u001B[H')).toHaveLength(1);
	});
});

class Tty extends EventEmitter {
	isTTY = true;
	columns = 80;
	rows = 24;
	output = '';
	write = (chunk: string) => {
		this.output += chunk;
		return true;
	};
}

class TtyIn extends EventEmitter {
	isTTY = true;
	raw: boolean[] = [];
	private data: string | null = null;
	write(data: string) {
		this.data = data;
		this.emit('readable');
	}

	read() {
		const {data} = this;
		this.data = null;
		return data;
	}

	setRawMode(mode: boolean) {
		this.raw.push(mode);
	}

	setEncoding() {}
	resume() {}
	pause() {}
	ref() {}
	unref() {}
}

describe('runDashboard', () => {
	it('on a signal restores the terminal, stops the monitor, closes the audit log and exits 128 + its number', async () => {
		const calls: string[] = [];
		const stdout = new Tty();
		const stdin = new TtyIn();
		const controller = new FakeController();
		const running = runDashboard({
			store: new FakeStore(snapshot()),
			monitor: {command: controller.command, cascadeTarget: controller.cascadeTarget, start: () => calls.push('start'), stop: async () => {
				calls.push('monitor.stop');
			}},
			audit: {close: () => calls.push('audit.close')},
			stdout: stdout as unknown as NodeJS.WriteStream,
			stdin: stdin as unknown as NodeJS.ReadStream,
			stderr: new Tty() as unknown as NodeJS.WriteStream,
			env: {},
			patchConsole: false,
			signals: ['SIGUSR2'],
		});
		await new Promise(resolve => setImmediate(resolve));
		expect(stdout.output).toContain('dev');
		process.emit('SIGUSR2', 'SIGUSR2');
		// SIGUSR2 stands in for SIGHUP here (vitest's worker must not receive a real hang-up).
		const code = await running;
		expect(code).toBe(128 + 12);
		expect(calls).toEqual(['start', 'monitor.stop', 'audit.close']);
		expect(stdin.raw.at(-1)).toBe(false);
		// The cursor is shown again.
		expect(stdout.output).toContain('\u001B[?25h');
	});

	it('q quits with 0 after the action in flight is recorded', async () => {
		const calls: string[] = [];
		const stdout = new Tty();
		const stdin = new TtyIn();
		let finish: () => void = () => undefined;
		const running = runDashboard({
			store: new FakeStore(snapshot()),
			monitor: {
				command: async () => {
					calls.push('command');
					await new Promise<void>(resolve => {
						finish = resolve;
					});
					calls.push('command done');
					return undefined;
				},
				cascadeTarget: () => 'dev',
				stop: async () => {
					calls.push('monitor.stop');
				},
			},
			audit: {close: () => calls.push('audit.close')},
			stdout: stdout as unknown as NodeJS.WriteStream,
			stdin: stdin as unknown as NodeJS.ReadStream,
			env: {NO_COLOR: '1'},
			patchConsole: false,
			signals: [],
			start: false,
		});
		const tick = () => new Promise(resolve => setImmediate(resolve));
		await tick();
		stdin.write('r');
		await tick();
		stdin.write('q');
		await tick();
		finish();
		expect(await running).toBe(0);
		expect(calls).toEqual(['command', 'command done', 'monitor.stop', 'audit.close']);
		// NO_COLOR: not one colour code.
		// eslint-disable-next-line no-control-regex -- colour codes
		expect(stdout.output).not.toMatch(/\u001B\[3\dm/);
	});
});
