import {describe, expect, it} from 'vitest';
import {formatPollLine} from '../../source/app/headless.js';
import {toJson} from '../../source/engine/snapshot.js';
import {FakeController, FakeStore, snapshot, t0, view} from './fixtures.js';
import {useApps} from './harness.js';

/** Pausing automatic actions for one environment: the `P` key, its confirmation, the row's marker. */
const app = useApps();

const staging = (overrides: Parameters<typeof view>[1] = {}) => view('staging', {status: 'BREACH', level: 'breach', hourlyUsd: 1.9, increasePct: 2.3, thresholdPct: 1.5, windowMinutes: 45, maxHourlyUsd: 10, agents: {running: 2, allowed: 2}, priority: 2, ...overrides});
const withPaused = (paused: boolean, breaker = false) => snapshot({environments: [
	view('dev', {paused: false}),
	staging({paused, ...(breaker ? {breaker: {trippedAt: t0, actor: 'auto', reason: 'breach'}} : {})}),
	view('production', {status: 'MONITOR', hourlyUsd: 0.15, agents: {running: 0, allowed: 'monitor-only'}, priority: 3, policy: {agents: 'monitor-only', onBreach: 'alert'}, paused: false}),
]});

const rowOf = (frame: string, name: string) => frame.split('\n').find(line => new RegExp(`^[ ›] ${name} `).test(line)) ?? '';

describe('P: automatic actions paused for the selected environment', () => {
	it('the paused row says PAUSED beside its status, which stays BREACH; the other rows do not', async () => {
		const ui = await app({store: new FakeStore(withPaused(true)), controller: new FakeController()});
		const frame = ui.lastFrame();
		expect(rowOf(frame, 'staging')).toMatch(/staging +BREACH +PAUSED +\$1\.90\/\$10/);
		expect(rowOf(frame, 'dev')).not.toContain('PAUSED');
		expect(rowOf(frame, 'global')).not.toContain('PAUSED');
		for (const line of frame.split('\n')) {
			expect([...line].length).toBeLessThanOrEqual(80);
		}
	});

	it('a row both held and paused says both, compactly where the full words would push TREND off the row', async () => {
		const ui = await app({store: new FakeStore(withPaused(true, true)), controller: new FakeController()});
		// 80 columns: `HELD+P` (as wide as PAUSED), and the row keeps its trend.
		expect(ui.lastFrame()).toMatch(/ENV +STATUS .* TREND\n/);
		expect(rowOf(ui.lastFrame(), 'staging')).toMatch(/^ {2}staging +BREACH +HELD\+P +\$1\.90\/\$10 +2\/2 \S{10} 2\.3%\/1\.5% 45m +\S+/);
		// Where there is room for both, the words in full.
		await ui.resize(120, 30);
		expect(rowOf(await ui.waitFor(/HELD PAUSED/), 'staging')).toMatch(/staging +BREACH +HELD PAUSED +\$1\.90\/\$10 .* 45m +\S+/);
		expect(ui.lastFrame()).toContain('TREND');
	});

	it('pausing asks first, saying what it does and does not do; y sends pause-env for the selected row', async () => {
		const controller = new FakeController();
		const store = new FakeStore(withPaused(false));
		const ui = await app({store, controller});
		await ui.press('jP');
		const frame = ui.lastFrame();
		expect(frame).toContain('Pause automatic actions for staging?');
		expect(frame).toContain('staging stays polled and shown: a breach is still BREACH, logged, notified');
		expect(frame).toContain('nothing stops it automatically: no stop, cascade, re-spawn or emergency');
		expect(frame).toContain('the others stay guarded; s and E still stop staging; P resumes');
		expect(controller.commands).toEqual([]);
		await ui.press('y');
		await ui.waitFor('automatic actions PAUSED for staging');
		expect(controller.commands).toEqual([{kind: 'pause-env', environment: 'staging'}]);
		store.publish(withPaused(true));
		await ui.waitFor(/staging +BREACH +PAUSED/);
	});

	it('P on a paused row while another action runs sends nothing, and the status line then says what that action did', async () => {
		const controller = new FakeController();
		// A refresh that does not finish until the test says.
		let release: () => void = () => undefined;
		const slow = controller.command;
		controller.command = async command => {
			if (command.kind === 'refresh') {
				controller.commands.push(command);
				await new Promise<void>(resolve => {
					release = resolve;
				});
				return undefined;
			}

			return slow(command);
		};

		const ui = await app({store: new FakeStore(withPaused(true)), controller});
		await ui.press('r');
		await ui.waitFor('refreshing');
		await ui.press('jP');
		release();
		// What the status line says once the refresh is done: not that staging was resumed.
		await ui.waitFor('refreshed');
		expect(ui.lastFrame()).not.toContain('resumed');
		expect(controller.commands).toEqual([{kind: 'refresh'}]);
		await ui.press('P');
		await ui.waitFor('automatic actions resumed for staging');
		expect(controller.commands).toEqual([{kind: 'refresh'}, {kind: 'resume-env', environment: 'staging'}]);
	});

	it('n (the default) pauses nothing', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(withPaused(false)), controller});
		await ui.press('jP');
		await ui.press('n');
		await ui.waitFor('cancelled: nothing done');
		expect(controller.commands).toEqual([]);
	});

	it('on a paused row P resumes at once, without asking', async () => {
		const controller = new FakeController();
		const ui = await app({store: new FakeStore(withPaused(true)), controller});
		await ui.press('jP');
		await ui.waitFor('automatic actions resumed for staging');
		expect(ui.lastFrame()).not.toContain('Pause automatic actions');
		expect(controller.commands).toEqual([{kind: 'resume-env', environment: 'staging'}]);
	});

	it('help lists P on the p line, and says resume for a paused row', async () => {
		const ui = await app({store: new FakeStore(withPaused(true)), controller: new FakeController()});
		await ui.press('?');
		expect(ui.lastFrame()).toMatch(/p P +pause all \/ this env/);
		await ui.press('?');
		await ui.press('j?');
		expect(ui.lastFrame()).toMatch(/p P +pause all \/ resume this env/);
	});
});

describe('headless and JSON output', () => {
	it('the poll line marks a paused environment PAUSED; NDJSON rows carry paused', () => {
		const paused = withPaused(true);
		expect(formatPollLine(paused)).toMatch(/staging BREACH \$1\.90\/h \+2\.3%\/1\.5% 2a PAUSED \|/);
		expect(formatPollLine(paused)).not.toMatch(/dev [^|]*PAUSED/);
		const json = toJson(paused) as {environments: Array<{name: string; paused: boolean}>};
		expect(json.environments.map(row => [row.name, row.paused])).toEqual([['dev', false], ['staging', true], ['production', false]]);
	});
});
