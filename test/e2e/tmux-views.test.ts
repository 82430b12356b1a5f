import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {builtCli as cli, prompt, useTerminals} from '../helpers/tmux.js';

/**
 * The drill-down views of the built CLI in a real terminal (tmux): Enter, l, t and g open them,
 * `/` filters, a column key sorts, Esc goes back. `npm run build` first.
 */

const terminals = useTerminals();

/** An audit log from an earlier run: 40 entries and a torn last line (a crash mid-write). */
function earlierLog(file: string): void {
	const lines = Array.from({length: 40}, (_, index) => JSON.stringify({
		at: new Date(Date.UTC(2026, 10, 26, 9, 0, index)).toISOString(), seq: index + 1, type: 'decision', actor: 'auto', kind: 'warn', environments: ['staging'],
		reason: `staging near its limit, entry ${index + 1}`, figures: {hourlyUsd: 1.9, increasePct: 1.2}, instanceIds: [], dryRun: false,
	}));
	lines.push(JSON.stringify({at: '2026-11-26T09:01:00.000Z', seq: 41, type: 'action', actor: 'ops@jump', kind: 'stop', environments: ['dev'], reason: 'manual stop of dev', instanceIds: ['i-00000000000000aa1'], dryRun: false, outcome: 'executed',
		results: [{id: 'i-00000000000000aa1', region: 'us-east-1', result: 'stopping', previousState: 'running', currentState: 'stopping'}]}));
	fs.writeFileSync(file, lines.join('\n') + '\n{"at":"2026-11-26T09:02:00.000Z","seq":42,"ty');
}

function fits(screen: string, columns: number, rows: number): void {
	const lines = screen.split('\n');
	expect(lines.filter(line => line.trim() !== '').length).toBeLessThan(rows);
	for (const line of lines) {
		expect([...line].length).toBeLessThanOrEqual(columns);
	}
}

describe.each([
	{columns: 80, rows: 24},
	{columns: 60, rows: 20},
])('the views in tmux at $columns x $rows', ({columns, rows}) => {
	it('detail (open, filter, sort, back), audit log, spend over time and by region', async () => {
		const dir = terminals.dir('envwatch-e2e-views-');
		const audit = path.join(dir, 'audit.log');
		earlierLog(audit);
		const session = await terminals.open(columns, rows, {cwd: dir});
		session.run(`clear; node ${cli} --demo calm --interval 1 --state-dir ${path.join(dir, 'state')} --audit-log ${audit}`);
		await session.waitFor(/dev +ACTIVE/);

		// Enter: dev's 8 instances, the dearest first; the key bar is the view's.
		session.key('Enter');
		let screen = await session.waitFor(/dev: 8 instances[\s\S]*i-0/);
		fits(screen, columns, rows);
		expect(screen).toMatch(/^› i-0\w+ +dev-a/m);
		expect(screen).toMatch(/\$\/H↓/);
		expect(screen).toMatch(/Esc back/);
		expect(screen).not.toMatch(/E emergency/);

		// `/dns` and Enter: only the two DNS servers.
		session.type('/dns');
		session.key('Enter');
		screen = await session.waitFor(/8 instances, 2 shown \$2\.34\/h filter: dns/);
		expect(screen.match(/dev-dns/g)).toHaveLength(2);
		expect(screen).not.toMatch(/dev-agent/);

		// Esc clears the filter; N sorts by name (ascending, then reversed).
		session.key('Escape');
		await session.waitFor(text => /dev: 8 instances \$/.test(text) && !text.includes('shown'));
		session.type('N');
		screen = await session.waitFor('NAME↑');
		const names = (text: string) => [...text.matchAll(/ (dev-[a-z-]+)/g)].map(match => match[1]);
		expect(names(screen)[0]).toMatch(/^dev-a/);
		session.type('N');
		screen = await session.waitFor('NAME↓');
		expect(names(screen)[0]).toBe('dev-dns');
		fits(screen, columns, rows);

		// Esc: back to the table.
		session.key('Escape');
		screen = await session.waitFor(/staging +LIMITED/);
		expect(screen).not.toContain('instances');

		// l: the earlier run's entries, newest first, the torn line skipped and said.
		session.type('l');
		screen = await session.waitFor(/audit log: \d+ entries/);
		fits(screen, columns, rows);
		expect(screen).toContain('1 torn or invalid line skipped');
		expect(screen).toMatch(/by ops@jump/);
		expect(screen).toMatch(/i-00000000000000aa1 us-east-1 stopping running->stopping/);
		session.type('/entry 7');
		session.key('Enter');
		// Every word must match: entries 37, 27, 17 and 7, newest first.
		screen = await session.waitFor(/4 shown filter: entry 7/);
		expect(screen).toContain('reason: staging near its limit, entry 37');
		expect(screen).toContain('hourlyUsd=1.9');
		session.key('Escape');
		session.key('Escape');
		await session.waitFor(/staging +LIMITED/);

		// t: dev's spend from $0, with the cap's line; Down moves to staging.
		session.type('t');
		screen = await session.waitFor(/spend over time: dev[\s\S]*\$0\.00│.*█/);
		fits(screen, columns, rows);
		expect(screen).toMatch(/═{10,}/);
		expect(screen).toContain('cap $5.00');
		session.key('Down');
		screen = await session.waitFor(/spend over time: staging[\s\S]*cap \$10\.00/);
		session.key('Escape');
		await session.waitFor(/staging +LIMITED/);

		// g: dev by region.
		session.type('g');
		screen = await session.waitFor(/by region: dev[\s\S]*total/);
		fits(screen, columns, rows);
		expect(screen).toMatch(/us-east-1 +\$1\.28 +2 +6/);
		expect(screen).toMatch(/us-west-2 +\$1\.05 +2 +2/);
		expect(screen).toMatch(/total +\$2\.34 +4 +8/);
		session.key('Escape');
		await session.waitFor(/staging +LIMITED/);
		session.type('q');
		await session.waitFor(text => text.trimEnd().endsWith(prompt.trimEnd()));
	}, 180_000);
});

describe('the views in tmux under NO_COLOR and --ascii', () => {
	it('draw in ASCII only, without colour codes', async () => {
		const dir = terminals.dir('envwatch-e2e-views-');
		const session = await terminals.open(80, 24, {cwd: dir, env: {NO_COLOR: '1'}});
		session.run(`clear; node ${cli} --demo calm --ascii --interval 1 --state-dir ${path.join(dir, 'state')} --audit-log ${path.join(dir, 'audit.log')}`);
		await session.waitFor(/dev +ACTIVE/);
		for (const [key, expected] of [['Enter', /dev: 8 instances/], ['t', /spend over time: dev[\s\S]*#/], ['g', /by region: dev/], ['l', /audit log/]] as const) {
			if (key === 'Enter') {
				session.key('Enter');
			} else {
				session.type(key);
			}

			const screen = await session.waitFor(expected);
			expect(screen).toMatch(/^[\u0020-\u007E\n]*$/);
			session.key('Escape');
			await session.waitFor(/staging +LIMITED/);
		}

		session.type('q');
		await session.waitFor(text => text.trimEnd().endsWith(prompt.trimEnd()));
	}, 180_000);
});
