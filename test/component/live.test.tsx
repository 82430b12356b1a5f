import fs from 'node:fs';
import {fallbackPrices} from '../../source/domain/price-table.js';
import os from 'node:os';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {loadConfig} from '../../source/config/load.js';
import {AuditLog} from '../../source/engine/state/audit.js';
import {Monitor} from '../../source/engine/monitor.js';
import {StateStore} from '../../source/engine/state/store.js';
import {SnapshotStore} from '../../source/engine/snapshot-store.js';
import {SimAccount} from '../../source/providers/sim/account.js';
import {useApps} from './harness.js';

/** The dashboard over the real engine and the simulated account: the UI only sends commands. */
function engine(options: {readOnly?: boolean} = {}) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-ui-live-'));
	const {config} = loadConfig({noStore: true});
	config.environments['dev']!.launchTemplate = {name: 'sim-dev-agent', count: 3};
	let now = Date.UTC(2026, 10, 27, 12, 0, 0);
	const clock = () => now;
	const sim = new SimAccount({scenario: 'calm', now: clock, envTagKey: config.envTagKey, roleTag: config.roleTag, tagValueOf: name => config.environments[name]!.tagValues[0]!, prices: fallbackPrices});
	const store = new SnapshotStore();
	const audit = new AuditLog(path.join(dir, 'audit.log'));
	const monitor = new Monitor({provider: {source: 'SIMULATED', fleet: sim, billing: sim}, config, monitored: Object.keys(config.environments), store, state: new StateStore(dir), audit, clock, options: {dryRun: false, readOnly: options.readOnly ?? false, actor: 'tester@jump'}});
	return {dir, sim, store, monitor, audit, advance: (ms: number) => {
		now += ms;
	}};
}

const app = useApps();

describe('the dashboard over the live engine', () => {
	it('s then y stops dev: the events pane and the simulated fleet show it', async () => {
		const live = engine();
		await live.monitor.poll();
		const ui = await app({store: live.store, controller: live.monitor});
		await ui.waitFor(/dev +ACTIVE/);
		await ui.press('s');
		await ui.waitFor('Stop dev\'s agents?');
		await ui.press('y');
		const frame = await ui.waitFor(/tester@jump stop dev -> stopped 2\/2 \(saves \$\d+\.\d\d\/h\)/);
		expect(frame).toMatch(/dev +STOPPED/);
		const devAgents = live.sim.snapshot().filter(instance => instance.tags['Environment'] === 'dev' && instance.tags['Role'] === 'agent' && instance.region === 'us-east-1');
		expect(devAgents.map(instance => instance.state)).toEqual(['stopping', 'stopping']);
		const audit = fs.readFileSync(path.join(live.dir, 'audit.log'), 'utf8');
		expect(audit).toContain('"actor":"tester@jump"');
		await live.monitor.stop();
		live.audit.close();
	});

	it('u then y starts exactly those agents again', async () => {
		const live = engine();
		await live.monitor.poll();
		await live.monitor.command({kind: 'stop', environment: 'dev'});
		live.advance(5000);
		const ui = await app({store: live.store, controller: live.monitor});
		await ui.press('u');
		const question = await ui.waitFor('Undo: start the 2 agents stopped in dev again?');
		// The instances it starts and what they add back, as the stop said it saved.
		const stopped = live.sim.snapshot().filter(instance => instance.tags['Environment'] === 'dev' && instance.tags['Role'] === 'agent' && instance.state !== 'running').map(instance => instance.id);
		expect(stopped).toHaveLength(2);
		expect(question).toContain(`instances: ${stopped.join(', ')}`);
		const saved = /saves (\$\d+\.\d\d)\/h/.exec(fs.readFileSync(path.join(live.dir, 'audit.log'), 'utf8'))?.[1];
		expect(saved).toBeDefined();
		expect(question).toContain(`adds ${saved}/h back (what the stop saved)`);
		await ui.press('y');
		await ui.waitFor(/started 2\/2 agents in dev/);
		await live.monitor.stop();
		live.audit.close();
	});

	it('a, a typed count, then y starts that many agents (the engine checks the count again)', async () => {
		const live = engine();
		await live.monitor.poll();
		const ui = await app({store: live.store, controller: live.monitor});
		await ui.waitFor(/dev +ACTIVE/);
		await ui.press('a');
		await ui.waitFor('Start 3 agents in dev?');
		await ui.press('5');
		const question = await ui.waitFor('Start 5 agents in dev?');
		expect(question).toContain('adds $0.42/h to $1.28/h');
		await ui.press('y');
		await ui.waitFor(/tester@jump start dev -> started 5 t3.large agents/);
		expect(live.sim.snapshot().filter(instance => instance.tags['envwatch:launched-by'] === 'tester@jump')).toHaveLength(5);
		await live.monitor.stop();
		live.audit.close();
	});

	it('a then y starts agents from the launch template, stating count, type and cost first', async () => {
		const live = engine();
		await live.monitor.poll();
		const ui = await app({store: live.store, controller: live.monitor});
		await ui.waitFor(/dev +ACTIVE/);
		await ui.press('a');
		const question = await ui.waitFor('Start 3 agents in dev?');
		expect(question).toContain('instance type: t3.large');
		expect(question).toContain('adds $0.25/h to $1.28/h');
		await ui.press('y');
		await ui.waitFor(/tester@jump start dev -> started 3 t3.large agents/);
		const launched = live.sim.snapshot().filter(instance => instance.tags['envwatch:launched-by'] === 'tester@jump');
		expect(launched).toHaveLength(3);
		await live.monitor.stop();
		live.audit.close();
	});

	it('a with a count whose $/h would pass dev\'s hourly cap: y is refused by the engine with the figures, and nothing starts', async () => {
		const live = engine();
		await live.monitor.poll();
		const ui = await app({store: live.store, controller: live.monitor});
		await ui.waitFor(/dev +ACTIVE/);
		await ui.press('a');
		await ui.waitFor('Start 3 agents in dev?');
		for (const digit of '100') {
			await ui.press(digit);
		}

		await ui.waitFor('Start 100 agents in dev?');
		await ui.press('y');
		// dev runs $1.28/h here (us-east-1 only); 100 t3.large add $8.32/h against its $5/h cap.
		// An outcome too long for one status line takes two (the billed lines and the events give way): said whole.
		await ui.waitFor('refused: over dev\'s hourly cap of $5.00/h: $1.28/h now + $8.32/h for 100\nt3.large ($0.0832/h each) = $9.60/h\n');
		const refusal = fs.readFileSync(path.join(live.dir, 'audit.log'), 'utf8').trim().split('\n').map(line => JSON.parse(line) as {kind: string; outcome?: string; reason: string}).at(-1);
		expect(refusal).toMatchObject({kind: 'start', outcome: 'refused', reason: 'start refused: over dev\'s hourly cap of $5.00/h: $1.28/h now + $8.32/h for 100 t3.large ($0.0832/h each) = $9.60/h'});
		expect(live.sim.snapshot().filter(instance => instance.tags['envwatch:launched-by'])).toEqual([]);
		await live.monitor.stop();
		live.audit.close();
	});

	it('agents in a region nobody watches: the header counts them and the status line says where', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-ui-unwatched-'));
		const {config} = loadConfig({noStore: true, flags: {regions: ['us-east-1', 'us-west-2']}});
		const now = Date.UTC(2026, 10, 27, 12, 0, 0);
		const sim = new SimAccount({scenario: 'unwatched', now: () => now, envTagKey: config.envTagKey, roleTag: config.roleTag, tagValueOf: name => config.environments[name]!.tagValues[0]!, prices: fallbackPrices});
		const store = new SnapshotStore();
		const audit = new AuditLog(path.join(dir, 'audit.log'));
		const monitor = new Monitor({provider: {source: 'SIMULATED', fleet: sim, billing: sim, enabledRegions: async () => sim.enabledRegions()}, config, monitored: Object.keys(config.environments), store, state: new StateStore(dir), audit, clock: () => now, options: {dryRun: false, readOnly: false, actor: 'tester@jump'}});
		await monitor.once();
		const ui = await app({store, controller: monitor});
		const frame = await ui.waitFor('dev: 3 agents in eu-west-1, not watched');
		expect(frame.split('\n')[0]).toContain('3 UNWATCHED');
		expect(frame).toMatch(/auto unwatched dev: 3 agents in eu-west-1, not watched/);
		await monitor.stop();
		audit.close();
	});

	it('a on a monitor-only environment is refused before any question', async () => {
		const live = engine();
		await live.monitor.poll();
		const ui = await app({store: live.store, controller: live.monitor});
		await ui.waitFor(/production +MONITOR/);
		await ui.press('j');
		await ui.press('j');
		await ui.press('a');
		await ui.waitFor('production is monitor only: no agents are ever started there');
		expect(live.sim.snapshot().filter(instance => instance.tags['envwatch:launched-by'])).toEqual([]);
		await live.monitor.stop();
		live.audit.close();
	});
});
