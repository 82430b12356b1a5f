import {execFileSync, spawnSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterEach, beforeAll} from 'vitest';
import {cliNodeBinDir} from './node.js';

/**
 * Drives a real terminal for end-to-end tests: a private tmux server (its own socket, so a
 * developer's sessions are never touched), a shell with a known prompt, keys sent as a person
 * would, and the screen read back with `capture-pane`. Waits poll the screen until the text is
 * there, with a generous deadline: they are not timing assertions.
 */

/** Fails loudly (never skips) when tmux is missing. */
export function requireTmux(): void {
	const probe = spawnSync('tmux', ['-V'], {encoding: 'utf8'});
	if (probe.error || probe.status !== 0) {
		throw new Error('tmux is required for the end-to-end dashboard tests and was not found on PATH: install it (apt-get install tmux, brew install tmux)');
	}
}

export const prompt = 'envwatch-e2e$ ';

export type TmuxOptions = {
	columns: number;
	rows: number;
	cwd: string;
	/** Extra environment for the shell. */
	env?: Record<string, string>;
};

export class TmuxSession {
	readonly socket = `envwatch-test-${crypto.randomBytes(6).toString('hex')}`;
	private readonly target = 'e2e';

	constructor(private readonly options: TmuxOptions) {}

	private tmux(...args: string[]): string {
		return execFileSync('tmux', ['-L', this.socket, ...args], {encoding: 'utf8', cwd: this.options.cwd});
	}

	/** A shell with a fixed prompt. CI is left as it is: the dashboard must draw even where CI=true is exported. */
	start(): void {
		// `node` typed into the shell is the CLI's Node (ENVWATCH_TEST_NODE: scripts/test-nodes.mjs).
		const bin = cliNodeBinDir();
		const env = {...(bin ? {PATH: `${bin}${path.delimiter}${process.env['PATH'] ?? ''}`} : {}), ...this.options.env};
		const exports = Object.entries(env).map(([key, value]) => `${key}=${shellQuote(value)}`).join(' ');
		const shell = `env ${exports} PS1=${shellQuote(prompt)} bash --norc --noprofile`;
		this.tmux('new-session', '-d', '-s', this.target, '-x', String(this.options.columns), '-y', String(this.options.rows), shell);
		this.tmux('set-option', '-t', this.target, 'status', 'off');
	}

	/** Types a line into the shell and presses Enter. */
	run(line: string): void {
		this.tmux('send-keys', '-t', this.target, '-l', line);
		this.tmux('send-keys', '-t', this.target, 'Enter');
	}

	/** Sends text literally (`y`, `stop all`). */
	type(text: string): void {
		this.tmux('send-keys', '-t', this.target, '-l', text);
	}

	/** Sends named keys (`Enter`, `Escape`, `Down`). */
	key(...names: string[]): void {
		this.tmux('send-keys', '-t', this.target, ...names);
	}

	capture(): string {
		return this.tmux('capture-pane', '-p', '-t', this.target);
	}

	/** The screen with its colours and attributes as escape sequences (`capture-pane -e`). */
	captureStyled(): string {
		return this.tmux('capture-pane', '-p', '-e', '-t', this.target);
	}

	/** Whether the alternate screen is up (a full-screen program such as the dashboard is drawing on it). */
	alternateScreen(): boolean {
		return this.tmux('display-message', '-p', '-t', this.target, '#{alternate_on}').trim() === '1';
	}

	/** Whether the terminal's cursor is visible (a dashboard hides it while it runs). */
	cursorVisible(): boolean {
		return this.tmux('display-message', '-p', '-t', this.target, '#{cursor_flag}').trim() === '1';
	}

	async waitFor(expected: string | RegExp | ((screen: string) => boolean), deadlineMs = 30_000): Promise<string> {
		const test = typeof expected === 'function' ? expected : (screen: string) => (typeof expected === 'string' ? screen.includes(expected) : expected.test(screen));
		const deadline = Date.now() + deadlineMs;
		let screen = '';
		for (;;) {
			screen = this.capture();
			if (test(screen)) {
				return screen;
			}

			if (Date.now() > deadline) {
				throw new Error(`tmux ${this.options.columns}x${this.options.rows}: timed out waiting for ${String(expected)}; the screen was:\n${screen}`);
			}

			await new Promise(resolve => setTimeout(resolve, 100));
		}
	}

	/** Resizes the terminal, as a person dragging the window (or a new SSH window size) would. */
	resize(columns: number, rows: number): void {
		this.tmux('resize-window', '-t', this.target, '-x', String(columns), '-y', String(rows));
	}

	/** The PID of the process running in the shell (the shell's child), if any. */
	foregroundPid(): number | undefined {
		const shell = this.tmux('display-message', '-p', '-t', this.target, '#{pane_pid}').trim();
		const probe = spawnSync('pgrep', ['-P', shell], {encoding: 'utf8'});
		const pid = Number(probe.stdout.trim().split('\n')[0]);
		return Number.isInteger(pid) && pid > 0 ? pid : undefined;
	}

	/**
	 * Ends the private server, removes its socket file (tmux leaves it behind), and waits for what
	 * ran in the shell to exit: a dashboard hung up on saves its state as it goes, and would make its
	 * state dir again after the test removed it.
	 */
	async kill(): Promise<void> {
		let running: number | undefined;
		try {
			running = this.foregroundPid();
			const socketPath = this.tmux('display-message', '-p', '#{socket_path}').trim();
			this.tmux('kill-server');
			fs.rmSync(socketPath, {force: true});
		} catch {
			// Already gone.
		}

		for (let waited = 0; running !== undefined && fs.existsSync(`/proc/${running}`) && waited < 10_000; waited += 50) {
			await new Promise(resolve => setTimeout(resolve, 50));
		}
	}
}

function shellQuote(value: string): string {
	return `'${value.replaceAll('\'', '\'\\\'\'')}'`;
}

/** The built CLI the terminal tests drive (`npm run build` first; npm test does). */
export const builtCli = path.join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'bin', 'cli.js');

export type Terminals = {
	/** A private tmux at that size, its shell at the prompt, in a fresh dir (both gone after the test). */
	open(columns: number, rows: number, options?: {env?: Record<string, string>; cwd?: string}): Promise<TmuxSession>;
	/** A temporary dir removed after the test. */
	dir(prefix?: string): string;
	/** Dirs made elsewhere, removed after the test too. */
	removeAfter(...paths: string[]): void;
};

/**
 * The setup every terminal test file shares: tmux present (and the built CLI, unless `cli: false`),
 * and after each test its terminals ended and its temporary dirs removed.
 */
export function useTerminals(options: {cli?: boolean} = {}): Terminals {
	const sessions: TmuxSession[] = [];
	const dirs: string[] = [];
	beforeAll(() => {
		requireTmux();
		if (options.cli !== false && !fs.existsSync(builtCli)) {
			throw new Error(`${builtCli} is missing: run npm run build first`);
		}
	});

	afterEach(async () => {
		for (const session of sessions.splice(0)) {
			await session.kill();
		}

		for (const dir of dirs.splice(0)) {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});

	const dir = (prefix = 'envwatch-e2e-') => {
		const made = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
		dirs.push(made);
		return made;
	};

	return {
		dir,
		removeAfter(...paths) {
			dirs.push(...paths);
		},
		async open(columns, rows, extra = {}) {
			const session = new TmuxSession({columns, rows, cwd: extra.cwd ?? dir(), ...(extra.env ? {env: extra.env} : {})});
			sessions.push(session);
			session.start();
			await session.waitFor(prompt.trimEnd());
			return session;
		},
	};
}
