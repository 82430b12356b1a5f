import {EventEmitter} from 'node:events';
import {describe, expect, it} from 'vitest';
import fs from 'node:fs';
import {cursorTracker, inkStdout, needsCursorFix} from '../../source/ui/ink-fix.js';
import {inkVersion} from '../../source/ui/ink-version.js';
import {dashboardSupported} from '../../source/ui/index.js';
import {runDashboard} from '../../source/ui/run.js';
import {enterAlternateScreen, leaveAlternateScreen, takeScreen} from '../../source/ui/screen.js';
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

describe('the alternate screen', () => {
	const enter = '\u001B[?1049h';
	const leave = '\u001B[?1049l';

	it('q: the dashboard draws on a screen of its own, and leaves it (cursor shown, raw mode off) when it ends', async () => {
		const stdout = new Tty();
		const stdin = new TtyIn();
		const running = runDashboard({
			store: new FakeStore(snapshot()),
			monitor: {command: async () => undefined, cascadeTarget: () => 'dev', stop: async () => undefined},
			stdout: stdout as unknown as NodeJS.WriteStream,
			stdin: stdin as unknown as NodeJS.ReadStream,
			stderr: new Tty() as unknown as NodeJS.WriteStream,
			env: {LANG: 'en_US.UTF-8', TERM: 'xterm-256color'},
			patchConsole: false,
			signals: [],
			start: false,
		});
		await new Promise(resolve => setImmediate(resolve));
		// Entered before the first frame, which starts at the top of the new screen.
		expect(stdout.output.startsWith(`${enter}\u001B[H`)).toBe(true);
		expect(stdout.output.indexOf('dev')).toBeGreaterThan(0);
		expect(stdout.output).not.toContain(leave);
		stdin.write('q');
		expect(await running).toBe(0);
		// Left once, after Ink's last frame: nothing of the dashboard is written after it.
		expect(stdout.output.split(leave)).toHaveLength(2);
		expect(stdout.output.endsWith(`${leave}\u001B[?25h`)).toBe(true);
		expect(stdin.raw.at(-1)).toBe(false);
	});

	it('a crash while drawing: the shell\'s screen comes back and the crash is said there, exit 1', async () => {
		const stdout = new Tty();
		const stderr = new Tty();
		const stdin = new TtyIn();
		const store = new FakeStore(snapshot());
		let broken = false;
		const original = store.getSnapshot;
		store.getSnapshot = () => {
			if (broken) {
				throw new Error('a snapshot that cannot be drawn');
			}

			return original();
		};

		const running = runDashboard({
			store,
			monitor: {command: async () => undefined, cascadeTarget: () => 'dev', stop: async () => undefined},
			stdout: stdout as unknown as NodeJS.WriteStream,
			stdin: stdin as unknown as NodeJS.ReadStream,
			stderr: stderr as unknown as NodeJS.WriteStream,
			env: {LANG: 'en_US.UTF-8', TERM: 'xterm-256color'},
			patchConsole: false,
			signals: [],
			start: false,
		});
		await new Promise(resolve => setImmediate(resolve));
		broken = true;
		store.publish(snapshot());
		expect(await running).toBe(1);
		expect(stdout.output).toContain(leave);
		expect(stdin.raw.at(-1)).toBe(false);
		// Written after the alternate screen was left: it stays in sight.
		expect(stderr.output).toMatch(/^envwatch: the dashboard crashed: Error: a snapshot that cannot be drawn\n/m);
	});

	it('what stderr said while the dashboard had the screen is said again once the shell\'s screen is back', () => {
		const stdout = new Tty();
		const stderr = new Tty();
		const stdin = new TtyIn();
		const events = new EventEmitter();
		stdin.raw.push(true);
		Object.assign(stdin, {isRaw: true});
		const screen = takeScreen({stdout: stdout as unknown as NodeJS.WriteStream, stdin, stderr: stderr as unknown as NodeJS.WriteStream, events});
		expect(stdout.output).toBe(enterAlternateScreen);
		stderr.write('envwatch: crashed: boom\n');
		expect(stderr.output).toBe('envwatch: crashed: boom\n');
		// Any way out: here the process exiting (a process.exit elsewhere).
		events.emit('exit');
		expect(stdout.output).toBe(enterAlternateScreen + leaveAlternateScreen);
		expect(stdin.raw.at(-1)).toBe(false);
		expect(stderr.output).toBe('envwatch: crashed: boom\nenvwatch: crashed: boom\n');
		// Once only, and stderr is itself again.
		screen.leave();
		stderr.write('after\n');
		expect(stdout.output).toBe(enterAlternateScreen + leaveAlternateScreen);
		expect(stderr.output).toBe('envwatch: crashed: boom\nenvwatch: crashed: boom\nafter\n');
		expect(events.listenerCount('exit')).toBe(0);
	});

	it('not on a stream that is not a terminal', () => {
		const stdout = Object.assign(new Tty(), {isTTY: false});
		takeScreen({stdout: stdout as unknown as NodeJS.WriteStream, stdin: new TtyIn(), events: new EventEmitter()}).leave();
		expect(stdout.output).toBe('');
	});
});

describe('what the terminal can draw', () => {
	const frameIn = async (env: NodeJS.ProcessEnv, options: {ascii?: boolean; noColor?: boolean} = {}, shot = snapshot()) => {
		const stdout = new Tty();
		const stdin = new TtyIn();
		const running = runDashboard({
			store: new FakeStore(shot),
			monitor: {command: async () => undefined, cascadeTarget: () => 'dev', stop: async () => undefined},
			stdout: stdout as unknown as NodeJS.WriteStream,
			stdin: stdin as unknown as NodeJS.ReadStream,
			stderr: new Tty() as unknown as NodeJS.WriteStream,
			env,
			...options,
			patchConsole: false,
			signals: [],
			start: false,
		});
		await new Promise(resolve => setImmediate(resolve));
		stdin.write('q');
		await running;
		// eslint-disable-next-line no-control-regex -- the text without its escape sequences
		return stdout.output.replaceAll(/\u001B\[[\d;?]*[A-Za-z]/g, '');
	};

	it('LANG=C or TERM=vt100: ASCII by itself (no ›, ∞, gauge blocks or box lines); UTF-8 on xterm: Unicode', async () => {
		for (const env of [{LANG: 'C', TERM: 'xterm-256color'}, {LANG: 'en_US.UTF-8', TERM: 'vt100'}, {LC_ALL: 'POSIX', LANG: 'en_US.UTF-8', TERM: 'xterm'}]) {
			const text = await frameIn(env);
			expect(text).toContain('dev');
			expect(text).toMatch(/^[\u0020-\u007E\n\r]*$/);
			expect(text).toContain('> dev');
		}

		const unicode = await frameIn({LANG: 'en_US.UTF-8', TERM: 'xterm-256color'});
		expect(unicode).toContain('› dev');
		expect(unicode).toContain('4/∞');
	});

	it('a plain terminal gets ASCII for text from elsewhere too: a message\'s dash, a tag value', async () => {
		const text = await frameIn({LANG: 'C', TERM: 'vt100'}, {}, snapshot({error: 'DescribeInstances — throttled ×3 (tag Équipe)'}));
		expect(text).toContain('last poll failed: DescribeInstances - throttled x3 (tag ?quipe)');
		expect(text).toMatch(/^[\u0020-\u007E\n\r]*$/);
	});
});
