import {describe, expect, it} from 'vitest';
import {parseArgs} from '../../source/app/args.js';
import {each} from '../../source/commands/act.js';
import {localSide} from '../../source/commands/local.js';
import type {CommandSide} from '../../source/commands/side.js';
import {eventOf} from '../../source/notify/messages.js';
import {halted, live, type SimHarness, useSimHarnesses} from '../helpers/sim.js';

/**
 * `envwatch undo` with the engine in this process (the simulated account): what the dashboard's
 * `u` does, asked first, through the engine's undo command; nothing to undo, an undo already done,
 * and a last stop outside `-e` are refused (exit 1), nothing started.
 */
const {start} = useSimHarnesses();

type Run = {code: number; out: string; err: string; asked: string[]; sent: unknown[]};

async function undo(sim: SimHarness, argv: string[], answer = true, wrap: (side: CommandSide) => CommandSide = side => side, remote = false): Promise<Run> {
	const options = parseArgs(['undo', ...argv]);
	const out: string[] = [];
	const err: string[] = [];
	const asked: string[] = [];
	const sent: unknown[] = [];
	const local = localSide(sim.monitor, sim.config, options.dryRun);
	const side = wrap({...local, command: async command => (sent.push(command), local.command(command))});
	const io = {stdout: {write: (text: string) => out.push(text)}, stderr: {write: (text: string) => err.push(text)}} as unknown as Parameters<typeof each>[4];
	const code = await each('undo', options.environments ?? [], side, options, io, {confirm: async text => (asked.push(text), answer), ask: async () => ''}, {remote, history: () => sim.auditLines().reverse()});
	return {code, out: out.join(''), err: err.join(''), asked, sent};
}

describe('envwatch undo, the engine in this process', () => {
	it('asks naming the last stop, starts exactly its instances with an undo audit entry and notification; again is refused as already undone', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		const none = await undo(sim, []);
		expect(none).toMatchObject({code: 1, out: '', asked: [], sent: []});
		expect(none.err).toBe('envwatch: nothing to undo: envwatch has not stopped anything on this state dir (no last stop recorded); nothing started\n');

		const dev = sim.agents('dev');
		await sim.monitor.command({kind: 'stop', environment: 'dev'});
		expect(sim.agents('dev', halted)).toEqual(dev);
		// -e naming another environment: an undo starts all of the last stop, never a part of it.
		const elsewhere = await undo(sim, ['-e', 'staging']);
		expect(elsewhere).toMatchObject({code: 1, asked: [], sent: []});
		expect(elsewhere.err).toMatch(/^envwatch: undo -e staging: the last stop is the 4 agents stopped in dev at .* UTC, and an undo starts all of it — run envwatch undo -e dev \(or without -e\); nothing started\n$/);
		// No: nothing sent, nothing started.
		const no = await undo(sim, ['-e', 'dev'], false);
		expect(no).toMatchObject({code: 0, out: 'Not undone.\n', sent: []});
		expect(no.asked[0]).toMatch(new RegExp(`^Undo: start the 4 agents stopped in dev at .* UTC again \\(${dev.slice(0, 3).join(', ')}, \\+1 more\\), adding back \\$\\d+\\.\\d\\d/h\\? Exactly those instances start, nothing else\\.$`));
		expect(sim.agents('dev', halted)).toEqual(dev);

		const yes = await undo(sim, []);
		expect(yes).toMatchObject({code: 0, err: ''});
		expect(yes.sent).toEqual([{kind: 'undo', stopAt: expect.any(Number)}]);
		expect(yes.out).toMatch(/^started 4\/4 agents in dev \(.*adds \$\d+\.\d\d\/h\)\n$/);
		expect(sim.agents('dev', live)).toEqual(dev);
		// The same audit lines as the dashboard's u (the engine's undo), and an undo notification.
		const lines = sim.auditLines().filter(entry => entry.kind === 'undo' && entry.type !== 'progress');
		expect(lines.map(entry => [entry.type, entry.actor, entry.outcome])).toEqual([['decision', 'tester@jump', undefined], ['action', 'tester@jump', 'executed']]);
		expect(eventOf(lines[1]!)).toBe('undo');
		expect(lines[1]!.instanceIds.toSorted()).toEqual(dev);

		// Again: the last stop was undone, and it says when and by whom.
		const again = await undo(sim, []);
		expect(again).toMatchObject({code: 1, asked: [], sent: []});
		expect(again.err).toMatch(/^envwatch: nothing to undo: the last stop was already undone at .* UTC by tester@jump \(started 4\/4 agents in dev .*\); nothing started\n$/);
		// Also after a restart (the engine's events are new; the audit log says it).
		sim.newMonitor();
		await sim.poll();
		expect((await undo(sim, [])).err).toContain('nothing to undo: the last stop was already undone at');
	});

	it('--dry-run and --read-only start nothing and say so; attached with --read-only nothing is sent', async () => {
		const sim = start({scenario: 'calm'});
		await sim.poll();
		const dev = sim.agents('dev');
		await sim.monitor.command({kind: 'stop', environment: 'dev'});
		sim.newMonitor({dryRun: true});
		await sim.poll();
		const dry = await undo(sim, ['--dry-run']);
		expect(dry).toMatchObject({code: 0, err: ''});
		expect(dry.out).toMatch(/^\[dry run\] undo: start dev: 4 agents/);
		expect(sim.agents('dev', halted)).toEqual(dev);

		sim.newMonitor({readOnly: true});
		await sim.poll();
		const readOnly = await undo(sim, ['--read-only']);
		expect(readOnly).toMatchObject({code: 0, err: ''});
		expect(readOnly.out).toMatch(/^read-only: undo: start dev not executed/);
		// To a server (whose mode is its own), a --read-only run sends nothing that acts.
		const attached = await undo(sim, ['--read-only'], true, side => side, true);
		expect(attached).toMatchObject({code: 0, sent: [], out: 'read-only: undo not sent (the 4 agents stopped in dev at ' + attached.out.split(' at ')[1]});
		expect(sim.agents('dev', halted)).toEqual(dev);
		// The last stop is kept: an undo that acts still can.
		expect(sim.store.getSnapshot()!.lastStop).toMatchObject({environments: ['dev'], count: 4});
	});
});
