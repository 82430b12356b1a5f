import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {builtCli as cli, prompt, useTerminals, type TmuxSession} from '../helpers/tmux.js';

/**
 * The terminal habits of a full-screen tool, with the built CLI (`npm run build` first) in real
 * terminals (tmux): the alternate screen on every way out, plain terminals, small terminals, and
 * the words it uses. The calm scenario unless said, so nothing stops unless a key says so.
 */

type AuditLine = {type: string; kind: string; environments: string[]; reason: string; outcome?: string};

const terminals = useTerminals();
const crashHook = fileURLToPath(new URL('../helpers/draw-crash.mjs', import.meta.url));
const promptLine = prompt.trimEnd();
const atPrompt = (screen: string) => screen.trimEnd().endsWith(promptLine);
const linesOf = (screen: string) => screen.split('\n').map(line => line.trimEnd()).filter(line => line !== '');

function readAudit(file: string): AuditLine[] {
	return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(line => JSON.parse(line) as AuditLine) : [];
}

/** A shell function `ew` that runs the dashboard: a short command line, so the shell's screen is easy to read back. */
async function withDashboard(session: TmuxSession, dir: string, args = ''): Promise<void> {
	session.run(`ew() { node --import ${crashHook} ${cli} --demo calm --interval 1 --state-dir ${path.join(dir, 'state')} --audit-log ${path.join(dir, 'audit.log')} ${args} "$@"; }`);
	session.run('clear');
	await session.waitFor(screen => linesOf(screen).length === 1 && atPrompt(screen));
}

/** Every line of the screen fits the width, and the frame is shorter than the terminal. */
function fits(screen: string, columns: number, rows: number): void {
	const lines = screen.split('\n').map(line => line.trimEnd());
	expect(lines.filter(line => line !== '').length).toBeLessThan(rows);
	for (const line of lines) {
		expect([...line].length, line).toBeLessThanOrEqual(columns);
	}
}

/** The terminal as the shell left it: canonical mode and echo on, the cursor shown, no alternate screen. */
async function restored(session: TmuxSession, code: number): Promise<void> {
	expect(session.alternateScreen()).toBe(false);
	expect(session.cursorVisible()).toBe(true);
	session.run('echo "exit:$?"; stty -a | tr " " "\\n" | grep -x -e icanon -e -icanon -e echo -e -echo | tr "\\n" " "; echo');
	const screen = await session.waitFor(/^-?icanon -?echo *$/m);
	expect(screen).toMatch(new RegExp(`^exit:${code}$`, 'm'));
	expect(screen).toMatch(/^icanon echo *$/m);
}

describe('the alternate screen, at 80x24', () => {
	it('the dashboard draws on its own screen; q, SIGTERM, SIGINT, SIGHUP and a crash while drawing each give the shell its screen back as it was, with no frame in it', async () => {
		const dir = terminals.dir('envwatch-e2e-screen-');
		const flag = path.join(dir, 'crash-now');
		const audit = path.join(dir, 'audit.log');
		const session = await terminals.open(80, 24, {cwd: dir, env: {ENVWATCH_TEST_CRASH_FLAG: flag}});
		await withDashboard(session, dir);
		for (const [end, code] of [['q', 0], ['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129], ['crash', 1]] as const) {
			session.run('clear; echo before-1; echo before-2');
			await session.waitFor(screen => linesOf(screen).length === 3 && atPrompt(screen));
			session.run('ew');
			let screen = await session.waitFor(/dev +ACTIVE/);
			// Its own screen: the shell's lines are not under the frame.
			expect(session.alternateScreen()).toBe(true);
			expect(screen).not.toContain('before-1');
			expect(linesOf(screen)[0]).toMatch(/^envwatch SIMULATED/);
			if (end === 'q') {
				session.type('q');
			} else if (end === 'crash') {
				// An event on the events pane, then a frame that cannot be drawn: React throws while rendering it.
				session.type('s');
				await session.waitFor('Stop dev\'s agents?');
				session.type('y');
				await session.waitFor(/stop dev -> stopped 4\/4/);
				fs.writeFileSync(flag, '');
			} else {
				process.kill(session.foregroundPid()!, end);
			}

			screen = await session.waitFor(text => atPrompt(text) && !text.includes('dev '), 60_000);
			fs.rmSync(flag, {force: true});
			const lines = linesOf(screen);
			// The shell's screen as it was, then what envwatch said on leaving (a crash), then the prompt.
			expect(lines.slice(0, 3)).toEqual(['before-1', 'before-2', `${promptLine} ew`]);
			expect(lines.at(-1)).toBe(promptLine);
			const said = lines.slice(3, -1);
			if (end === 'crash') {
				expect(said[0]).toBe('envwatch: the dashboard crashed: Error: drawing failed (a test fault)');
				expect(said.slice(1).every(line => /^\s*at /.test(line) || /^[^:]*\)$/.test(line) || line.length <= 80)).toBe(true);
			} else {
				expect(said).toEqual([]);
			}

			expect(screen).not.toMatch(/ACTIVE|LIMITED|MONITOR|envwatch SIMULATED|\? help/);
			await restored(session, code);
		}

		// Each end is the engine's `down` line, with why.
		const downs = readAudit(audit).filter(entry => entry.kind === 'down').map(entry => entry.reason);
		expect(downs).toEqual(['quit', 'SIGTERM', 'SIGINT', 'SIGHUP: the terminal is gone', 'crash: drawing failed (a test fault)']);
		// The stop that ran before the crash is recorded whole.
		expect(readAudit(audit).find(entry => entry.type === 'action' && entry.kind === 'stop')?.outcome).toBe('executed');
	}, 240_000);
});

describe('a plain terminal: LANG=C, TERM=vt100', () => {
	it('80x24, then 40x11: ASCII only, by itself (no ›, ∞, gauge blocks or box lines), in the 16 basic colours', async () => {
		const dir = terminals.dir('envwatch-e2e-plain-');
		const session = await terminals.open(80, 24, {cwd: dir, env: {LANG: 'C', TERM: 'vt100'}});
		// Nothing else says what the terminal is: no other locale, no colour hints from the test's own terminal.
		session.run('unset LC_ALL LC_CTYPE COLORTERM FORCE_COLOR NO_COLOR');
		await withDashboard(session, dir);
		session.run('ew');
		let screen = await session.waitFor(/> dev +ACTIVE/);
		fits(screen, 80, 24);
		expect(screen).toMatch(/^[\u0020-\u007E\n]*$/);
		expect(screen).toMatch(/> dev +ACTIVE +~?\$2\.34\/\$5 +4\/all [#-]{10} /);
		expect(screen).toMatch(/^ {2}-{78}$/m);
		// Colour, as a vt100 shows it: SGR codes of the 16 basic colours only (no 256-colour or RGB codes).
		const styled = session.captureStyled();
		// eslint-disable-next-line no-control-regex -- the screen's SGR sequences
		const codes = [...styled.matchAll(/\u001B\[([\d;]*)m/g)].flatMap(match => match[1]!.split(';').filter(Boolean).map(Number));
		expect(codes.some(code => (code >= 30 && code <= 37) || (code >= 90 && code <= 97))).toBe(true);
		expect(codes.every(code => code < 38 || code === 39 || (code >= 40 && code <= 47) || code === 49 || (code >= 90 && code <= 97) || (code >= 100 && code <= 107))).toBe(true);
		session.resize(40, 11);
		screen = await session.waitFor(text => /> dev +ACTIVE/.test(text) && linesOf(text).every(line => line.length <= 40) && /q quit/.test(text));
		fits(screen, 40, 11);
		expect(screen).toMatch(/^[\u0020-\u007E\n]*$/);
		session.type('q');
		await session.waitFor(atPrompt);
		await restored(session, 0);
	}, 120_000);
});

describe('a small terminal: 40x11', () => {
	it('u after a stop: not offered, and refused whole with what it needs; the log\'s hidden lines one key away; q gives the screen back', async () => {
		const dir = terminals.dir('envwatch-e2e-small-');
		const session = await terminals.open(40, 11, {cwd: dir});
		await withDashboard(session, dir);
		session.run('ew');
		let screen = await session.waitFor(/› dev +ACTIVE/);
		fits(screen, 40, 11);
		session.type('s');
		await session.waitFor('Stop dev\'s agents?');
		session.type('y');
		screen = await session.waitFor(/dev +STOPPED HELD/);
		// The key bar no longer offers u: its confirmation (4 IDs, the $/h they add back) needs 13 rows.
		await session.waitFor(text => /q quit/.test(text) && !/stopped 4\/4/.test(text));
		screen = session.capture();
		const bar = linesOf(screen).slice(-2).join('\n');
		expect(bar).toContain('? help');
		expect(bar).not.toMatch(/\bu undo/);
		session.type('u');
		screen = await session.waitFor(/needs 13 rows/);
		fits(screen, 40, 11);
		expect(screen).not.toContain('Undo: start');
		// Whole at 40 columns (two lines), and what to do instead: the command that does the same from a shell.
		expect(linesOf(screen).slice(-4, -2)).toEqual(['terminal too small to confirm undo: it', 'needs 13 rows; or run envwatch undo']);
		// The audit log: the stop's entry does not fit below the list; Enter shows it whole, the arrows scroll it.
		session.type('l');
		screen = await session.waitFor(/more lines: Enter shows them/);
		fits(screen, 40, 11);
		session.key('Enter');
		screen = await session.waitFor(/entry 1 of \d+, lines 1-\d+ of (\d+)/);
		fits(screen, 40, 11);
		const total = Number(/lines 1-\d+ of (\d+)/.exec(screen)![1]);
		for (let press = 0; press < total; press++) {
			session.key('Down');
		}

		screen = await session.waitFor(new RegExp(`lines \\d+-${total} of ${total}`));
		fits(screen, 40, 11);
		session.key('Escape');
		await session.waitFor(/audit log: \d+ entries/);
		session.key('Escape');
		await session.waitFor(/dev +STOPPED HELD/);
		session.type('q');
		screen = await session.waitFor(atPrompt);
		expect(linesOf(screen)).toEqual([`${promptLine} ew`, promptLine]);
		await restored(session, 0);
	}, 120_000);
});

describe('the words, at 80x24 (and 120 and 40 columns)', () => {
	it('x: the next line says "skipped: paused" first; HELD+P keeps TREND; E with no agents has nothing to stop; help keeps its legend', async () => {
		const dir = terminals.dir('envwatch-e2e-words-');
		const config = path.join(dir, 'grace.json');
		fs.writeFileSync(config, JSON.stringify({graceSeconds: 60}));
		const session = await terminals.open(80, 24, {cwd: dir, env: {ENVWATCH_DEMO_SPEED: '10'}});
		session.run(`node ${cli} --demo dev-spike --config ${config} --interval 1 --state-dir ${path.join(dir, 'state')} --audit-log ${path.join(dir, 'audit.log')}`);
		// The spike: an automatic stop counts down its grace period; x cancels it (and pauses automatic actions).
		await session.waitFor(/AUTO stop dev in \d+s/, 60_000);
		session.type('x');
		let screen = await session.waitFor(/auto +skipped: paused: stop dev: dev \+3\.6% > 2\.0%/, 60_000);
		fits(screen, 80, 24);
		expect(readAudit(path.join(dir, 'audit.log')).filter(entry => entry.type === 'action')).toEqual([]);

		// dev stopped by hand (HELD) and paused (P): both, compactly, and the row keeps its trend.
		session.type('s');
		await session.waitFor('Stop dev\'s agents?');
		session.type('y');
		await session.waitFor(/dev +STOPPED +HELD/);
		session.type('P');
		await session.waitFor('Pause automatic actions for dev?');
		session.type('y');
		screen = await session.waitFor(/dev +STOPPED +HELD\+P +\$0\.2\d\/\$5 +0\/∞ \S{10} \S+ \d+m +[▁-█]+/);
		expect(screen).toMatch(/ENV +STATUS .* TREND$/m);
		fits(screen, 80, 24);

		// staging stopped too: no agent runs where E stops, and E says so rather than ask for "stop all".
		session.type('j');
		await session.waitFor(/› staging/);
		session.type('s');
		await session.waitFor('Stop staging\'s agents?');
		session.type('y');
		await session.waitFor(/staging +STOPPED +HELD/);
		session.type('E');
		screen = await session.waitFor('nothing to stop: no agent runs outside monitor-only environments');
		expect(screen).not.toContain('stop all');

		// Help at 80 and 120 columns: every key, R's whole sentence, and the legend.
		session.type('?');
		for (const columns of [80, 120]) {
			if (columns === 120) {
				session.resize(120, 24);
			}

			screen = await session.waitFor(text => text.includes('keys (? or Esc') && linesOf(text).some(line => line.length > 80) === (columns > 80) && /^colour {2}/m.test(text));
			fits(screen, columns, 24);
			const help = linesOf(screen).slice(linesOf(screen).findIndex(line => line.includes('keys (? or Esc')) + 1);
			expect(help.join('\n')).not.toContain('…');
			expect(help.join(' ').replaceAll(/ {2,}/g, ' ')).toContain('R reset the selected environment\'s breaker: agents may run there again, no longer stopped as re-spawns (its limits still apply)');
			for (const legend of ['STATUS', 'HELD', 'PAUSED', '$/H', 'AGENTS', 'colour']) {
				expect(help.some(line => line.startsWith(`${legend} `)), `${columns}: ${legend}`).toBe(true);
			}
		}

		// 40x11: the held and paused row still says both.
		session.key('Escape');
		session.resize(40, 11);
		session.type('k');
		screen = await session.waitFor(text => /› dev +STOPPED HELD\+P/.test(text) && linesOf(text).every(line => line.length <= 40));
		fits(screen, 40, 11);
		// E, at 40 columns too: nothing to stop, in words that fit, and no confirmation.
		session.type('E');
		screen = await session.waitFor(/nothing to stop/);
		fits(screen, 40, 11);
		expect(screen).not.toContain('stop all');
		session.type('q');
		await session.waitFor(atPrompt);
		await restored(session, 0);
	}, 240_000);
});
