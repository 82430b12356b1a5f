import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {cliNodeVersion} from '../helpers/node.js';
import {builtCli as cli, prompt, useTerminals} from '../helpers/tmux.js';

/**
 * The built CLI in a real terminal (tmux), as an on-call engineer would run it over SSH:
 * `npm run build` first (npm test does). The simulated account runs the calm scenario, so
 * nothing stops unless a key says so.
 */

type AuditLine = {type: string; kind: string; actor: string; environments: string[]; outcome?: string; results?: Array<{id: string; result: string}>};

function readAudit(file: string): AuditLine[] {
	return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(line => JSON.parse(line) as AuditLine) : [];
}

const terminals = useTerminals();

describe.each([
	// What is guarded comes before the warming up.
	{columns: 80, rows: 24, trend: true, warming: /AUTO guards all warming up 5[89]m$/m},
	// Narrower, the header is cut after its badges, age, what is guarded and source (and says it is cut).
	{columns: 60, rows: 20, trend: false, warming: /AUTO updated \d+s ago guards all SIMULATED \(calm\) e?v?…$/m},
])('the dashboard in tmux at $columns x $rows', ({columns, rows, trend, warming}) => {
	it('appears, s then y stops dev, E needs the typed confirmation, q leaves the prompt intact', {tags: columns === 80 ? ['nodes'] : [], timeout: 120_000}, async () => {
		const dir = terminals.dir();
		const audit = path.join(dir, 'audit.log');
		const session = await terminals.open(columns, rows, {cwd: dir});
		// Every 2 s: between two polls the 1 s clock shows "updated 1s ago" once (at a 1 s interval
		// the poll can land just before each tick, and the age reads 0s every time).
		session.run(`node ${cli} --demo calm --interval 2 --state-dir ${path.join(dir, 'state')} --audit-log ${audit}`);

		// The dashboard appears, and keeps to one frame as it refreshes (the header is never repeated).
		let screen = await session.waitFor(/dev +ACTIVE +\$2\.34\/\$5/);
		expect(screen).toMatch(/staging +LIMITED/);
		expect(screen).toMatch(/production +MONITOR/);
		expect(screen).toMatch(/global +NORMAL/);
		expect(screen.includes('TREND')).toBe(trend);
		// A fresh start: the longest window (global, 60m) fills in about 59 minutes, and the header says so.
		expect(screen).toMatch(warming);
		screen = await session.waitFor(/updated [1-9]\d*s ago|updated 0s ago[\s\S]*▁▁▁/);
		const lines = screen.split('\n');
		expect(lines.filter(line => line.startsWith('envwatch ') && line.includes('SIMULATED'))).toHaveLength(1);
		expect(lines.filter(line => line.trim() !== '').length).toBeLessThan(rows);
		expect(session.cursorVisible()).toBe(false);

		// s, then y: dev's agents stop; the events pane and the simulated fleet (the next poll) show it.
		session.type('s');
		screen = await session.waitFor('Stop dev\'s agents?');
		expect(screen).toMatch(/4 agents running/);
		expect(screen).toMatch(/instances: i-[0-9a-f]+/);
		expect(readAudit(audit).filter(entry => entry.kind === 'stop')).toHaveLength(0);
		session.type('y');
		// One line per incident in the events pane: who, what, and its outcome.
		screen = await session.waitFor(/\S+@\S+ +stop dev -> stopped 4\/4 \(saves \$\d+\.\d\d\/h\)/);
		screen = await session.waitFor(/dev +STOPPED HELD +\$0\.2\d\/\$5 +0\//);
		const action = readAudit(audit).find(entry => entry.type === 'action' && entry.kind === 'stop');
		expect(action?.environments).toEqual(['dev']);
		expect(action?.outcome).toBe('executed');
		expect(action?.results?.map(result => result.result)).toEqual(['stopping', 'stopping', 'stopping', 'stopping']);
		expect(action?.actor).toMatch(/.+@.+/);

		// E asks for "stop all": y alone is not enough, a wrong word is refused, Esc leaves everything running.
		session.type('E');
		await session.waitFor('type stop all and Enter');
		session.type('y');
		session.key('Enter');
		await session.waitFor('"y" is not "stop all"');
		session.key('Escape');
		await session.waitFor('cancelled: nothing done');
		expect(readAudit(audit).filter(entry => entry.kind === 'emergency')).toHaveLength(0);
		screen = session.capture();
		expect(screen).toMatch(/staging +LIMITED/);

		// u: the undo confirmation names the instances it starts again and the $/h they add back
		// (what the stop saved); n leaves them stopped.
		session.type('u');
		screen = await session.waitFor('Undo: start the 4 agents stopped in dev again?');
		const stopped = readAudit(audit).find(entry => entry.type === 'action' && entry.kind === 'stop')!.results!.map(result => result.id);
		expect(screen).toContain(`instances: ${stopped.slice(0, columns >= 80 ? 3 : 1).join(', ')}`);
		expect(screen).toMatch(/adds \$2\.\d\d\/h back/);
		session.type('n');
		await session.waitFor(screenText => !screenText.includes('Undo: start'));
		expect(readAudit(audit).filter(entry => entry.kind === 'undo')).toHaveLength(0);

		// q: back to the shell prompt, cursor shown, terminal out of raw mode.
		session.type('q');
		screen = await session.waitFor(screenText => screenText.trimEnd().endsWith(prompt.trimEnd()));
		expect(session.cursorVisible()).toBe(true);
		session.run('stty -a | tr " " "\\n" | grep -x -e icanon -e -icanon -e echo -e -echo | tr "\\n" " "; echo');
		// The output line (not the command line): canonical mode and echo are back on.
		screen = await session.waitFor(/^-?icanon -?echo *$/m);
		expect(screen).toMatch(/^icanon echo *$/m);
	});
});

describe('the dashboard in tmux, leaving', () => {
	it('re-lays out on resize: the trend goes below 80 columns and the frame stays whole', async () => {
		const dir = terminals.dir();
		const session = await terminals.open(100, 30, {cwd: dir});
		session.run(`clear; node ${cli} --demo calm --interval 1 --state-dir ${path.join(dir, 'state')} --audit-log ${path.join(dir, 'audit.log')}`);
		await session.waitFor(/TREND[\s\S]*dev +ACTIVE/);
		session.resize(70, 20);
		const screen = await session.waitFor(text => !text.includes('TREND') && /dev +ACTIVE/.test(text) && /q quit/.test(text));
		expect(screen.split('\n').filter(line => line.startsWith('envwatch ') && line.includes('SIMULATED'))).toHaveLength(1);
		for (const line of screen.split('\n')) {
			expect([...line].length).toBeLessThanOrEqual(70);
		}

		session.type('q');
		await session.waitFor(text => text.trimEnd().endsWith(prompt.trimEnd()));
	}, 120_000);

	it('SIGHUP (a dropped SSH session) restores the terminal, records everything and exits 129', {tags: ['nodes'], timeout: 120_000}, async () => {
		const dir = terminals.dir();
		const audit = path.join(dir, 'audit.log');
		const session = await terminals.open(80, 24, {cwd: dir});
		session.run(`node ${cli} --demo calm --interval 1 --state-dir ${path.join(dir, 'state')} --audit-log ${audit}`);
		await session.waitFor(/dev +ACTIVE/);
		session.type('s');
		await session.waitFor('Stop dev\'s agents?');
		session.type('y');
		const pid = session.foregroundPid();
		expect(pid).toBeGreaterThan(0);
		process.kill(pid!, 'SIGHUP');
		await session.waitFor(text => text.trimEnd().endsWith(prompt.trimEnd()));
		session.run('echo "exit:$?"');
		await session.waitFor(/^exit:129$/m);
		expect(session.cursorVisible()).toBe(true);
		// Every line of the audit log is whole, and the stop that was sent is recorded with its outcome.
		const entries = readAudit(audit);
		const decision = entries.find(entry => entry.type === 'decision' && entry.kind === 'stop');
		expect(decision?.environments).toEqual(['dev']);
		expect(entries.find(entry => entry.type === 'action' && entry.kind === 'stop')?.outcome).toBe('executed');
	});
});

describe('the dashboard\'s start', () => {
	it('keeps Ink\'s and React\'s compiled code in an owner-only folder of the user\'s cache dir, and starts from it next time', {tags: ['nodes'], timeout: 60_000}, async () => {
		const dir = terminals.dir();
		const cache = path.join(dir, 'cache');
		const folder = path.join(cache, 'envwatch-nodejs', 'script-cache');
		// The configuration's script keeps its code there too (test/unit/bundle-config.test.ts).
		const stored = () => (fs.existsSync(folder) ? fs.readdirSync(folder).filter(name => name.startsWith('vendor-') && name.endsWith('.v8')) : []);
		const session = await terminals.open(80, 24, {cwd: dir, env: {XDG_CACHE_HOME: cache}});
		const start = async () => {
			session.run(`node ${cli} --demo calm --state-dir ${path.join(dir, 'state')}`);
			await session.waitFor(/dev +ACTIVE/);
			session.type('q');
			await session.waitFor(screenText => screenText.trimEnd().endsWith(prompt.trimEnd()));
		};

		await start();
		expect(stored()).toEqual([expect.stringMatching(new RegExp(`^vendor-[0-9a-f]{12}-${cliNodeVersion.replaceAll('.', '\\.')}-[0-9a-f]+\\.v8$`))]);
		for (const file of [path.dirname(folder), folder, path.join(folder, stored()[0]!)]) {
			expect(fs.statSync(file).mode & 0o077, file).toBe(0);
		}

		// V8 took the stored code: it is not written again.
		const written = fs.statSync(path.join(folder, stored()[0]!)).mtimeMs;
		fs.utimesSync(path.join(folder, stored()[0]!), 0, 0);
		await start();
		expect(fs.statSync(path.join(folder, stored()[0]!)).mtimeMs).toBe(0);
		expect(written).toBeGreaterThan(0);
	});
});
