import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import type {AuditEntry} from '../../source/engine/state/audit.js';
import {builtCli as cli, prompt, useTerminals, type TmuxSession} from '../helpers/tmux.js';

/**
 * The operator's keys in the built CLI, in a real terminal (tmux), on the simulated account:
 * the events pane after a restart and on the whole screen (e), the table's / filter, command mode
 * (:env, :region, :account, an unknown command, :guard asked and kept in engine.json; refused at
 * 40x11, naming what to do instead), instance marks and their stop through the engine, the
 * describe and the console link copied with OSC 52 (tmux with set-clipboard on keeps it in its
 * buffer), and the spend chart's ranges with the stop marked. `npm run build` first.
 */
const terminals = useTerminals();

/** An audit log from an earlier run: a person's stop of staging, an hour before. */
function earlierLog(file: string): void {
	const at = new Date(Date.now() - 3_600_000).toISOString();
	fs.writeFileSync(file, `${JSON.stringify({at, seq: 7, type: 'action', actor: 'ops@jump', kind: 'stop', environments: ['staging'], reason: 'stopped 2/2 agents in staging (2 stopping; saves $1.54/h)', instanceIds: ['i-0000000000000aa01', 'i-0000000000000aa02'], dryRun: false, outcome: 'executed'})}\n`);
}

function readAudit(file: string): AuditEntry[] {
	return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(line => JSON.parse(line) as AuditEntry);
}

function fits(screen: string, columns: number, rows: number): void {
	const lines = screen.split('\n');
	expect(lines.filter(line => line.trim() !== '').length).toBeLessThan(rows);
	for (const line of lines) {
		expect([...line].length).toBeLessThanOrEqual(columns);
	}
}

/** The terminal's copy of what the dashboard put on the clipboard (OSC 52 with set-clipboard on). */
function clipboard(session: TmuxSession): string {
	return execFileSync('tmux', ['-L', session.socket, 'show-buffer'], {encoding: 'utf8'});
}

describe('the operator\'s keys in tmux', () => {
	it('80x24: events after a restart, / and : narrowing what is shown (:env, :region; :account refused without accounts), :guard, marks and the cursor row stopped through the engine, describe and copy, the chart\'s ranges, e', async () => {
		const dir = terminals.dir('envwatch-e2e-operator-');
		const audit = path.join(dir, 'audit.log');
		const state = path.join(dir, 'state');
		earlierLog(audit);
		const session = await terminals.open(80, 24, {cwd: dir});
		execFileSync('tmux', ['-L', session.socket, 'set-option', '-g', 'set-clipboard', 'on']);
		session.run(`clear; node ${cli} --demo calm --interval 1 --state-dir ${state} --audit-log ${audit}`);
		let screen = await session.waitFor(/dev +ACTIVE/);
		// The events pane opens with the earlier run's stop, and the header says what is guarded.
		screen = await session.waitFor('ops@jump stop staging');
		expect(screen.split('\n')[0]).toMatch(/AUTO guards all/);

		// `/`: the table narrows as it is typed; Enter keeps it; the header says what is shown; Esc clears it.
		session.type('/stag');
		screen = await session.waitFor(/^\/stag_/m);
		session.key('Enter');
		screen = await session.waitFor(/guards all showing 1\/3/);
		expect(screen).toMatch(/› staging +LIMITED/);
		expect(screen).not.toMatch(/ dev +ACTIVE/);
		session.key('Escape');
		await session.waitFor(text => / dev +ACTIVE/.test(text) && !text.includes('showing'));

		// `:`: an unknown command names the known ones; :env shows one; :env all shows all again.
		session.type(':zap');
		await session.waitFor(/^:zap_/m);
		session.key('Enter');
		await session.waitFor('unknown command "zap" — known: env NAME...');
		session.type(':env pro');
		session.key('Tab');
		await session.waitFor(/^:env production _/m);
		session.key('Enter');
		screen = await session.waitFor(/showing 1\/3[\s\S]*› production +MONITOR/);
		expect(screen).not.toMatch(/ dev +ACTIVE/);
		session.type(':env all');
		session.key('Enter');
		await session.waitFor(text => / dev +ACTIVE/.test(text) && !text.includes('showing'));
		// :region shows one region's instances (the header says the view is not what is guarded); a
		// region not watched is refused, naming it and the right ones; :account without accounts too.
		session.type(':region us-west-2');
		session.key('Enter');
		screen = await session.waitFor('showing us-west-2\'s instances; the figures stay each environment\'s whole');
		expect(screen.split('\n')[0]).toMatch(/guards all showing 1\/3: region us/);
		expect(screen).toMatch(/› dev +ACTIVE/);
		expect(screen).not.toMatch(/staging +LIMITED/);
		session.type(':region mars-1');
		session.key('Enter');
		await session.waitFor('region mars-1: not watched here — expected one of: us-east-1, us-west-2 (or all)');
		session.type(':account sandbox-a');
		session.key('Enter');
		await session.waitFor('account: no accounts configured (this run watches one account)');
		session.type(':region all');
		session.key('Enter');
		screen = await session.waitFor('showing every region');
		expect(screen.split('\n')[0]).not.toContain('showing');

		// :guard asks first; y changes what the engine guards, in the audit log and engine.json.
		session.type(':guard dev staging');
		session.key('Enter');
		screen = await session.waitFor('Guard dev, staging?');
		expect(screen).toContain('STOPS guarding production');
		session.type('y');
		screen = await session.waitFor(/guards dev,staging/);
		expect(screen).not.toMatch(/production +MONITOR/);
		const record = JSON.parse(fs.readFileSync(path.join(state, 'engine.json'), 'utf8')) as {environments: string[]};
		expect(record.environments).toEqual(['dev', 'staging']);
		expect(readAudit(audit).find(entry => entry.kind === 'guard')).toMatchObject({environments: ['dev', 'staging'], outcome: 'executed'});

		// Enter: dev's instances. Space marks two agents; x asks, naming them; y stops exactly those.
		session.key('Enter');
		await session.waitFor(/dev: 8 instances/);
		session.type('  ');
		screen = await session.waitFor('2 marked');
		fits(screen, 80, 24);
		session.type('x');
		screen = await session.waitFor('Stop 2 instances in dev?');
		expect(screen).toMatch(/i-\w+ dev-agent g4dn\.xlarge \$0\.53\/h/);
		session.type('y');
		await session.waitFor(/stopped 2\/2 agents in dev/);
		const stop = readAudit(audit).find(entry => entry.type === 'action' && entry.kind === 'stop' && entry.environments.includes('dev'));
		expect(stop?.instanceIds).toHaveLength(2);
		// Nothing marked: x stops the one under the cursor (the first row, dev's dearest running agent), after y.
		session.type('kk');
		screen = await session.waitFor(/› (i-\w+) dev-agent +g4dn\.xlarge running/);
		const [, cursorId] = /› (i-\w+) dev-agent/.exec(screen)!;
		session.type('x');
		screen = await session.waitFor('Stop 1 instance in dev?');
		expect(screen).toContain(`${cursorId!} dev-agent g4dn.xlarge $0.53/h`);
		session.type('y');
		await session.waitFor(/stopped 1\/1 agent in dev/);
		const one = readAudit(audit).filter(entry => entry.type === 'action' && entry.kind === 'stop' && entry.environments.includes('dev')).at(-1);
		expect(one?.instanceIds).toEqual([cursorId]);
		// A non-agent is refused, saying why (by name, descending, a DNS server comes first).
		session.type('NN');
		screen = await session.waitFor('NAME↓');
		session.type(' ');
		await session.waitFor('is not an agent (no agent role tag): only agents are stopped');

		// d describes it; c copies its console link (the terminal's buffer has it) and the link is shown.
		session.type('d');
		screen = await session.waitFor(/AMI +ami-0e5e1d0c0ffee0001/);
		expect(screen).toMatch(/\$\/h +\$0\.01\/h from the /);
		session.type('c');
		await session.waitFor(/console link copied \(OSC 52\): i-\w+/);
		const url = clipboard(session);
		expect(url).toMatch(/^https:\/\/us-(east-1|west-2)\.console\.aws\.amazon\.com\/ec2\/home\?region=us-(east-1|west-2)#InstanceDetails:instanceId=i-[0-9a-f]+$/);
		expect(screen.split('\n').filter(line => line.length > 0).map(line => line.trimEnd()).join('')).toContain(url.slice(0, 60));
		session.key('Escape');
		session.key('Escape');
		await session.waitFor(/staging +LIMITED/);

		// t: the last hour, with the stop marked under the axis; > goes to 6h and 24h.
		session.type('t');
		screen = await session.waitFor(/spend over time: dev \(1h\)[\s\S]*▲ \d\d:\d\d:\d\d by \S+: stop dev/);
		fits(screen, 80, 24);
		expect(screen).toMatch(/^ +▲ *$/m);
		session.type('>');
		await session.waitFor('spend over time: dev (6h)');
		session.type('>');
		await session.waitFor('spend over time: dev (24h, hourly rollup)');
		session.key('Escape');
		await session.waitFor(/staging +LIMITED/);
		// e: the events on the whole screen, newest first, the earlier run's stop among them.
		session.type('e');
		screen = await session.waitFor(/── events, newest first 1-\d+ of \d+/);
		fits(screen, 80, 24);
		expect(screen).toMatch(/ops@jump stop staging/);
		session.key('Escape');
		await session.waitFor(text => /staging +LIMITED/.test(text) && !text.includes('── events, newest first 1-'));
		session.type('q');
		await session.waitFor(text => text.trimEnd().endsWith(prompt.trimEnd()));
	}, 240_000);

	it('40x11: marks, the describe, the link copied and in sight, / and command mode, the chart\'s ranges, the events on the whole screen draw within the terminal; :guard says what to do instead', async () => {
		const dir = terminals.dir('envwatch-e2e-operator-');
		const audit = path.join(dir, 'audit.log');
		const state = path.join(dir, 'state');
		// An earlier run's stop of staging, in its audit log.
		earlierLog(audit);
		const session = await terminals.open(40, 11, {cwd: dir});
		execFileSync('tmux', ['-L', session.socket, 'set-option', '-g', 'set-clipboard', 'on']);
		session.run(`clear; node ${cli} --demo calm --interval 1 --state-dir ${state} --audit-log ${audit}`);
		let screen = await session.waitFor(/dev +ACTIVE/);
		expect(screen.split('\n')[0]).toContain('guards all');
		// The pane has no room here; e shows the events on the whole screen, each whole; Esc goes back.
		expect(screen).not.toContain('ops@jump');
		session.type('e');
		screen = await session.waitFor(/── events 1-\d+\/\d+/);
		fits(screen, 40, 11);
		expect(screen.split('\n').map(line => line.trim()).join(' ')).toMatch(/ops@jump stop staging: stopped 2\/2 agents in staging \(2 stopping; saves \$1\.54\/h\)/);
		expect(screen.split('\n').slice(1).join('\n')).not.toContain('…');
		session.key('Escape');
		await session.waitFor(text => / dev +ACTIVE/.test(text) && !text.includes('── events'));
		// :guard's confirmation cannot be shown whole here (nor u's: tmux-terminal.test.ts): the rows it needs and what to do instead, in words that fit; nothing changes.
		session.type(':guard dev');
		session.key('Enter');
		screen = await session.waitFor(/^:guard needs \d+ rows; make the terminal\s+taller/m);
		fits(screen, 40, 11);
		expect(screen.split('\n')[0]).toContain('guards all');
		// :region narrows what is shown here too; a region not watched is refused, naming it, in lines that fit.
		session.type(':region us-west-2');
		session.key('Enter');
		screen = await session.waitFor(text => /› dev +ACTIVE/.test(text) && !/staging +LIMITED/.test(text));
		fits(screen, 40, 11);
		session.type(':region mars-1');
		session.key('Enter');
		screen = await session.waitFor(/region mars-1: not watched/);
		fits(screen, 40, 11);
		session.type(':account x');
		session.key('Enter');
		screen = await session.waitFor(/account: no accounts configured/);
		fits(screen, 40, 11);
		session.type(':region all');
		session.key('Enter');
		await session.waitFor(/staging +LIMITED/);
		session.key('Enter');
		await session.waitFor(/dev: 8 instances/);
		session.type(' ');
		screen = await session.waitFor('1 marked');
		fits(screen, 40, 11);
		expect(screen).toMatch(/^ \*i-/m);
		// x's confirmation cannot be shown whole here: the bar does not offer it, and x says what it needs.
		expect(screen).not.toContain('x stop');
		session.type('x');
		screen = await session.waitFor(/x needs \d+ rows; make the terminal\s+taller/);
		fits(screen, 40, 11);
		session.type('d');
		screen = await session.waitFor(/AMI +ami-0e5e1d0c0ffee0001/);
		fits(screen, 40, 11);
		// c: the link is on the terminal's clipboard, and the describe scrolls to it, whole in sight.
		session.type('c');
		screen = await session.waitFor(/^https:\/\//m);
		fits(screen, 40, 11);
		const url = clipboard(session);
		expect(url).toMatch(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\/ec2\/home\?region=us-east-1#InstanceDetails:instanceId=i-[0-9a-f]+$/);
		const lines = screen.split('\n');
		const start = lines.findIndex(line => line.startsWith('https://'));
		expect(lines.slice(start, start + 3).map(line => line.trimEnd()).join('')).toBe(url);
		session.key('Escape');
		session.key('Escape');
		session.key('Escape');
		await session.waitFor(text => /staging +LIMITED/.test(text) && !text.includes('instances'));
		session.type('/stag');
		session.key('Enter');
		screen = await session.waitFor(text => /› staging +LIMITED/.test(text) && !/ dev +ACTIVE/.test(text));
		fits(screen, 40, 11);
		session.key('Escape');
		await session.waitFor(/ dev +ACTIVE/);
		session.type('t');
		screen = await session.waitFor(/spend over time: dev \(1h\)/);
		fits(screen, 40, 11);
		session.type('>>');
		screen = await session.waitFor('spend over time: dev (24h');
		fits(screen, 40, 11);
		session.key('Escape');
		await session.waitFor(text => /staging +LIMITED/.test(text) && !text.includes('spend over time'));
		session.type(':env dev');
		screen = await session.waitFor(/^:env dev_/m);
		fits(screen, 40, 11);
		session.key('Enter');
		screen = await session.waitFor(text => /› dev +ACTIVE/.test(text) && !/staging +LIMITED/.test(text));
		fits(screen, 40, 11);
		session.type('q');
		await session.waitFor(text => text.trimEnd().endsWith(prompt.trimEnd()));
	}, 180_000);
});
