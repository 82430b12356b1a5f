import {afterEach, describe, expect, it} from 'vitest';
import {formatDashboard, formatPollLine} from '../../source/headless.js';
import {buildConfirmation} from '../../source/ui/confirm.js';
import {splitKeys} from '../../source/ui/keymap.js';
import {FakeController, FakeStore, snapshot, t0, view} from './fixtures.js';
import {renderApp, type Harness} from './harness.js';

/** The dashboard in edge states: keys arriving together, unknown figures, short terminals, breakers. */
let open: Harness | undefined;
afterEach(() => {
	open?.unmount();
	open = undefined;
});

async function app(options: Parameters<typeof renderApp>[0]): Promise<Harness> {
	open = await renderApp(options);
	return open;
}

describe('keys that arrive together', () => {
	it('splits CSI and SS3 sequences, plain characters, Enter and a lone Esc', () => {
		expect(splitKeys('\u001B[B\u001B[B')).toEqual([['', {downArrow: true}], ['', {downArrow: true}]]);
		expect(splitKeys('k\u001B[A')).toEqual([['k', {}], ['', {upArrow: true}]]);
		expect(splitKeys('\u001BOA\u001BOB')).toEqual([['', {upArrow: true}], ['', {downArrow: true}]]);
		expect(splitKeys('y\r')).toEqual([['y', {}], ['\r', {return: true}]]);
		expect(splitKeys('\u001B')).toEqual([['', {escape: true, meta: true}]]);
		// An Esc followed by a key that starts no sequence stays an Esc, then the key.
		expect(splitKeys('\u001Bq')).toEqual([['', {escape: true, meta: true}], ['q', {}]]);
		expect(splitKeys('\u001B\u001B[A')).toEqual([['', {escape: true, meta: true}], ['', {upArrow: true}]]);
		expect(splitKeys('ab\u007F')).toEqual([['a', {}], ['b', {}], ['', {backspace: true}]]);
	});

	it('two Downs in one chunk move two rows; k and Up together move two rows', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController()});
		await ui.press('\u001B[B\u001B[B');
		expect(ui.lastFrame()).toMatch(/› production/);
		await ui.press('k\u001B[A');
		expect(ui.lastFrame()).toMatch(/› dev/);
		await ui.press('jj');
		expect(ui.lastFrame()).toMatch(/› production/);
	});
});

describe('unknown is unknown everywhere', () => {
	const error = 'us-east-1: RequestLimitExceeded';
	// The last good poll 40 s ago; this one failed: every view is stale, with its last known figures.
	const stale = () => snapshot({
		at: t0,
		lastSuccessAt: t0 - 40_000,
		error,
		environments: [
			view('dev', {status: 'STALE', stale: error, agents: {running: 0, allowed: 'all'}, agentIds: [], agentHourlyUsd: 0}),
			view('staging', {status: 'STALE', stale: error, agents: {running: 0, allowed: 2}, agentIds: [], agentHourlyUsd: 0, priority: 2}),
		],
		global: view('global', {status: 'STALE', stale: error, agents: {running: 0, allowed: 'all'}, policy: {agents: 'global', onBreach: 'emergency-stop'}}),
	});

	it('the AGENTS column says ?, not 0, for a stale environment and the global row', async () => {
		const ui = await app({store: new FakeStore(stale()), controller: new FakeController()});
		const frame = ui.lastFrame();
		expect(frame).toMatch(/dev +STALE +\$2\.34\/\$5 +\?\/∞/);
		expect(frame).toMatch(/staging +STALE +\$2\.34\/\$5 +\?\/2/);
		expect(frame).toMatch(/global +STALE +\$2\.34\/\$5 +\? /);
		expect(frame).not.toMatch(/0\/∞/);
	});

	it('before any poll returned, the agents are unknown too', async () => {
		const ui = await app({store: new FakeStore(snapshot({lastSuccessAt: null, error, environments: [view('dev', {status: 'STALE', hourlyUsd: 0, agents: {running: 0, allowed: 'all'}})]})), controller: new FakeController()});
		expect(ui.lastFrame()).toMatch(/dev +STALE +--\/\$5 +\?\/∞/);
	});

	it('s on a stale environment says the agents are unknown and why, never "0 agents ... saves $0.00/h"', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(stale()), controller});
		ui.clock.set(t0);
		await ui.press('s');
		const frame = ui.lastFrame();
		expect(frame).toContain('Stop dev\'s agents?');
		expect(frame).toContain('agents: unknown (last poll failed; last good data 40s ago)');
		expect(frame).toContain('listed afresh right before the stop');
		expect(frame).not.toContain('0 agents');
		expect(frame).not.toContain('$0.00/h');
		await ui.press('y');
		expect(controller.commands).toEqual([{kind: 'stop', environment: 'dev'}]);
	});

	it('E and a cascade name the unknown environments rather than skip them', () => {
		const emergency = buildConfirmation('emergency', {snapshot: stale(), selected: 'dev', cascadeTarget: undefined, now: t0});
		expect('details' in emergency && emergency.details).toEqual(expect.arrayContaining(['environments: dev, staging', 'agents: unknown in dev, staging (last poll failed; last good data 40s ago)']));
		const cascade = buildConfirmation('cascade', {snapshot: stale(), selected: 'dev', cascadeTarget: 'staging', now: t0});
		expect('details' in cascade && cascade.details.join('\n')).toContain('agents: unknown (last poll failed');
		expect('details' in cascade && cascade.details.join('\n')).not.toMatch(/0 agents|\$0\.00\/h/);
		// A start cannot be checked against the cap without a count: refused, with why.
		const start = buildConfirmation('start', {snapshot: snapshot({...stale(), environments: [view('dev', {stale: error, launch: {count: 1, instanceType: 'm5.large', usdPerHourEach: 0.1}})]}), selected: 'dev', cascadeTarget: undefined, now: t0});
		expect(start).toEqual({refused: expect.stringContaining('dev: agents unknown') as string});
	});

	it('headless lines say ?a and agents unknown, not 0', () => {
		const line = formatPollLine(stale());
		expect(line).toContain('dev STALE $2.34/h +1.2%/2.0% ?a');
		expect(line).not.toMatch(/ 0a/);
		expect(formatDashboard(stale())).toContain('agents unknown (last poll failed)');
		expect(formatPollLine(snapshot({lastSuccessAt: null, error}))).toMatch(/dev ACTIVE \$\?\/h .* \?a/);
	});
});
