import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {builtCli as cli, useTerminals, type TmuxSession} from '../helpers/tmux.js';

/**
 * The built CLI in small real terminals (tmux) and with keys that arrive together: `npm run build`
 * first. The calm scenario, so nothing stops unless a key says so.
 */

const terminals = useTerminals();
/** The latest dashboard's dir (state and audit log). */
let dir: string | undefined;

async function dashboard(columns: number, rows: number): Promise<TmuxSession> {
	dir = terminals.dir('envwatch-e2e-edge-');
	const session = await terminals.open(columns, rows, {cwd: dir});
	session.run(`node ${cli} --demo calm --interval 1 --state-dir ${path.join(dir, 'state')} --audit-log ${path.join(dir, 'audit.log')}`);
	await session.waitFor(/› dev +ACTIVE/);
	return session;
}

/** Lines with something on them: the frame is always shorter than the terminal, the header on top. */
function frameOf(screen: string, rows: number): string[] {
	const lines = screen.split('\n').filter(line => line.trim() !== '');
	expect(lines.length).toBeLessThan(rows);
	expect(lines[0]).toMatch(/^envwatch /);
	return lines;
}

describe('keys that arrive together', () => {
	it('Down Down from dev reaches production; k Up goes back two rows', async () => {
		const tmux = await dashboard(80, 24);
		tmux.key('Down', 'Down');
		await tmux.waitFor(/› production/);
		tmux.key('k', 'Up');
		const screen = await tmux.waitFor(/› dev/);
		expect(screen).not.toMatch(/› staging|› production/);
	});

	it('Esc then y together cancels a stop; the y confirms nothing', async () => {
		const tmux = await dashboard(80, 24);
		tmux.type('s');
		await tmux.waitFor('Stop dev\'s agents?');
		tmux.key('Escape', 'y');
		const screen = await tmux.waitFor('cancelled: nothing done');
		expect(screen).toMatch(/dev +ACTIVE/);
		const audit = path.join(dir!, 'audit.log');
		const lines = fs.existsSync(audit) ? fs.readFileSync(audit, 'utf8') : '';
		expect(lines).not.toMatch(/"type":"action"/);
	});
});

describe('the dashboard at 80x12', () => {
	it('s and E show their whole blast radius', async () => {
		const tmux = await dashboard(80, 12);
		tmux.type('s');
		let screen = await tmux.waitFor('Stop dev\'s agents?');
		frameOf(screen, 12);
		expect(screen).toMatch(/4 agents running/);
		// EC2's IDs (19 characters) put "+1 more" on the next line, never "more" alone.
		expect(screen).toMatch(/instances: i-[0-9a-f]+, i-[0-9a-f]+, i-[0-9a-f]+\n {4}\+1 more\n/);
		expect(screen).toMatch(/saves \$\d+\.\d\d\/h/);
		expect(screen).toMatch(/y yes +n\/Esc\/Enter no/);
		tmux.key('Escape');
		await tmux.waitFor('cancelled: nothing done');
		tmux.type('E');
		screen = await tmux.waitFor('EMERGENCY');
		frameOf(screen, 12);
		expect(screen).toMatch(/environments: dev, staging/);
		expect(screen).toMatch(/\d+ agents running/);
		tmux.key('Escape');
	});
});

describe('the dashboard at 80x12: undo and add agents', () => {
	const audit = () => {
		const file = path.join(dir!, 'audit.log');
		return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(line => JSON.parse(line) as {type: string; kind: string; reason: string; instanceIds: string[]}) : [];
	};

	it('u names the instances it starts again and the $/h they add back, whole', async () => {
		const tmux = await dashboard(80, 12);
		tmux.type('s');
		await tmux.waitFor('Stop dev\'s agents?');
		tmux.type('y');
		await tmux.waitFor(/dev +STOPPED/);
		const stop = audit().find(entry => entry.type === 'action' && entry.kind === 'stop')!;
		tmux.type('u');
		const screen = await tmux.waitFor('Undo: start the 4 agents stopped in dev again?');
		frameOf(screen, 12);
		expect(screen).toContain(`instances: ${stop.instanceIds.slice(0, 3).join(', ')}\n    +1 more\n`);
		expect(screen).toContain(`adds ${/saves (\$\d+\.\d\d\/h)/.exec(stop.reason)![1]} back`);
		expect(screen).toMatch(/y yes +n\/Esc\/Enter no/);
		tmux.key('Escape');
		await tmux.waitFor('cancelled: nothing done');
	});

	it('a asks how many: a typed count is what starts', async () => {
		const tmux = await dashboard(80, 12);
		tmux.type('a');
		await tmux.waitFor('Start 1 agent in dev?');
		tmux.type('2');
		const screen = await tmux.waitFor('Start 2 agents in dev?');
		frameOf(screen, 12);
		expect(screen).toMatch(/count: 2_? \(1 or more, no cap; type a number\)/);
		expect(screen).toMatch(/0-9 count +y yes +n\/Esc\/Enter no/);
		tmux.type('y');
		await tmux.waitFor(/started 2 \S+ agents in dev/);
		expect(audit().filter(entry => entry.type === 'action' && entry.kind === 'start')).toHaveLength(1);
	});
});

describe('the dashboard at 40x12', () => {
	it('E keeps the header and shows what is typed; help lists every key; the key bar keeps help and quit', async () => {
		const tmux = await dashboard(40, 12);
		let screen = await tmux.waitFor('q quit');
		expect(screen).toContain('? help');
		tmux.type('E');
		await tmux.waitFor('EMERGENCY');
		tmux.type('stop al');
		screen = await tmux.waitFor('stop al_');
		const lines = frameOf(screen, 12);
		expect(lines.some(line => /\d+ agents running/.test(line))).toBe(true);
		tmux.key('Escape');
		await tmux.waitFor('cancelled: nothing done');
		tmux.type('?');
		// At 40 columns the title is the short one, so that it fits.
		screen = await tmux.waitFor('keys (? or Esc) ');
		frameOf(screen, 12);
		for (const key of [/s +stop/, /c +cascade/, /E +emergency/, /u +undo/, /p +pause/, /r +refresh/, /q +quit/]) {
			expect(screen).toMatch(key);
		}
	});
});
