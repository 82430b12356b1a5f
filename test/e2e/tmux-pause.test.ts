import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {builtCli as cli, prompt, useTerminals} from '../helpers/tmux.js';

/**
 * Pausing one environment in a real terminal (tmux, 80x24), with the built CLI (`npm run build`
 * first): `--pause-env dev` while dev is load-tested on purpose (the dev-spike scenario), `P` on
 * staging, `P` again on dev to resume.
 */

type AuditLine = {type: string; kind: string; actor: string; environments: string[]; reason: string; outcome?: string};

function readAudit(file: string): AuditLine[] {
	return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(line => JSON.parse(line) as AuditLine) : [];
}

const terminals = useTerminals();

describe('automatic actions paused for one environment, in tmux at 80x24', () => {
	it('--pause-env dev: dev breaches and is shown BREACH PAUSED, never stopped; P pauses staging after y; P on dev resumes and dev is stopped', async () => {
		const dir = terminals.dir();
		const audit = path.join(dir, 'audit.log');
		// The scenario's clock at 2x: dev's spike 10 s in, after polls have shown it ACTIVE (room for a slow start).
		const session = await terminals.open(80, 24, {cwd: dir, env: {ENVWATCH_DEMO_SPEED: '2'}});
		session.run(`node ${cli} --demo dev-spike --interval 2 --pause-env dev --state-dir ${path.join(dir, 'state')} --audit-log ${audit}`);

		let screen = await session.waitFor(/dev +ACTIVE +PAUSED +\$2\.34\/\$5/);
		expect(screen).toMatch(/staging +LIMITED +\$/);
		// The scenario's t3.large joins dev (20 s in, 10 s at 2x): a breach, shown and logged, and nothing stopped.
		screen = await session.waitFor(/dev +BREACH +PAUSED +\$2\.4\d\/\$5 +5\/∞/, 60_000);
		// (The actor column is as wide as its widest actor: the start's pause is by user@host.)
		await session.waitFor(/auto +alert dev: dev \+3\.6% > 2\.0%/);
		// Logged (and notified) as the automatic decision it is, in the same poll that showed it.
		expect(readAudit(audit).find(entry => entry.kind === 'alert' && entry.environments[0] === 'dev')?.reason).toMatch(/\(paused: alert, no automatic stop\)$/);
		expect(readAudit(audit).filter(entry => entry.type === 'action')).toEqual([]);
		for (const line of session.capture().split('\n')) {
			expect([...line].length).toBeLessThanOrEqual(80);
		}

		// P on staging asks first; y pauses it.
		session.type('j');
		await session.waitFor(/› staging/);
		session.type('P');
		screen = await session.waitFor('Pause automatic actions for staging?');
		expect(screen).toContain('nothing stops it automatically: no stop, cascade, re-spawn or emergency');
		session.type('y');
		await session.waitFor(/staging +LIMITED +PAUSED/);
		const paused = readAudit(audit).filter(entry => entry.kind === 'pause');
		// dev's --pause-env as the dashboard started, then P's.
		expect(paused.map(entry => entry.environments)).toEqual([['dev'], ['staging']]);
		expect(paused[1]!.actor).toMatch(/.+@.+/);

		// P on dev resumes at once (no question): the next poll stops dev's agents.
		session.type('k');
		await session.waitFor(/› dev/);
		session.type('P');
		await session.waitFor('automatic actions resumed for dev');
		screen = await session.waitFor(/dev +STOPPED +HELD +\$/, 60_000);
		expect(screen).toMatch(/staging +LIMITED +PAUSED/);
		const entries = readAudit(audit);
		expect(entries.find(entry => entry.kind === 'resume')).toMatchObject({environments: ['dev']});
		expect(entries.find(entry => entry.type === 'action' && entry.kind === 'stop')).toMatchObject({actor: 'auto', environments: ['dev'], outcome: 'executed'});

		session.type('q');
		await session.waitFor(screenText => screenText.trimEnd().endsWith(prompt.trimEnd()));
	}, 180_000);
});
