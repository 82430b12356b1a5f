import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {fallbackPrices} from '../../source/domain/price-table.js';
import {loadConfig} from '../../source/config/load.js';
import {AuditLog, type AuditEntry} from '../../source/engine/state/audit.js';
import {Monitor} from '../../source/engine/monitor.js';
import {toJson} from '../../source/engine/snapshot.js';
import {StateStore} from '../../source/engine/state/store.js';
import {SnapshotStore} from '../../source/engine/snapshot-store.js';
import {formatDashboard, formatPollLine} from '../../source/app/headless.js';
import {dedupKey, eventOf, pagerDutyAction, subject, text, type Notice} from '../../source/notify/messages.js';
import {SimAccount} from '../../source/providers/sim/account.js';
import type {Fleet, Provider} from '../../source/providers/types.js';
import {statusText} from '../../source/ui/components/StatusLine.js';
import {useTempDirs} from '../helpers/tmp-root.js';

const tempDir = useTempDirs();

/**
 * The simulated account (enabled regions us-east-1, us-west-2 and eu-west-1) watched in us-east-1
 * and us-west-2 only, on a manual clock; `provider` can be changed before a Monitor is made.
 */
function account(scenario: 'unwatched' | 'calm' = 'unwatched', monitored = ['dev', 'staging', 'production']) {
	const {config} = loadConfig({noStore: true, flags: {regions: ['us-east-1', 'us-west-2'], costExplorer: {enabled: false, refreshMinutes: 60}}});
	const clock = {now: Date.UTC(2026, 10, 27, 9)};
	const sim = new SimAccount({scenario, now: () => clock.now, envTagKey: config.envTagKey, roleTag: config.roleTag, tagValueOf: name => config.environments[name]!.tagValues[0]!, prices: fallbackPrices, transitionSeconds: 0});
	let asked = 0;
	const provider: Provider = {
		source: 'SIMULATED',
		fleet: sim,
		billing: undefined,
		async enabledRegions() {
			asked++;
			return sim.enabledRegions();
		},
	};
	const dir = tempDir('envwatch-sweep-');
	const audit = new AuditLog(path.join(dir, 'audit.jsonl'));
	const monitor = (parts: Partial<Provider> = {}) => new Monitor({
		provider: {...provider, ...parts}, config, monitored, store: new SnapshotStore(), state: new StateStore(path.join(dir, 'state')), audit, clock: () => clock.now,
		options: {dryRun: false, readOnly: false, actor: 'tester@jump'},
	});
	const entries = () => (fs.existsSync(audit.file) ? fs.readFileSync(audit.file, 'utf8').trim().split('\n').filter(Boolean).map(line => JSON.parse(line) as AuditEntry) : []).filter(entry => entry.kind === 'unwatched');
	return {config, clock, sim, monitor, entries, asked: () => asked, stateDir: path.join(dir, 'state')};
}

function notice(entry: AuditEntry): Notice {
	return {event: eventOf(entry)!, entry, decisionFigures: undefined, snapshot: {}, host: 'jump'};
}

describe('agents where nobody looks: the sweep of the regions not watched', () => {
	it('--once sweeps every enabled region and says "dev: 3 agents in eu-west-1, not watched" in its text, its JSON, the audit log and a notification', async () => {
		const {monitor, entries} = account();
		const once = monitor();
		const snapshot = await once.once();
		await once.stop();
		expect(snapshot.unwatched).toMatchObject({regions: ['eu-west-1'], found: [{environment: 'dev', region: 'eu-west-1', agents: 3, instances: 3}], error: null, running: false});
		expect(formatDashboard(snapshot)).toContain('UNWATCHED: dev: 3 agents in eu-west-1, not watched');
		expect(toJson(snapshot)['unwatched']).toMatchObject({found: [{environment: 'dev', region: 'eu-west-1', agents: 3, instances: 3}], error: null});
		// The dev agents in the watched regions are not counted as unwatched, nor are those over there counted in dev's figure.
		expect(snapshot.environments.find(view => view.name === 'dev')!.agents.running).toBe(4);
		const [found] = entries();
		expect(found).toMatchObject({kind: 'unwatched', environments: ['dev'], outcome: 'found', reason: '3 agents in eu-west-1, not watched (envwatch watches us-east-1, us-west-2: add eu-west-1 to regions, or set regions to "all")'});
		expect(found!.instanceIds).toHaveLength(3);
		expect(eventOf(found!)).toBe('unwatched');
		expect(pagerDutyAction(notice(found!))).toBe('trigger');
		expect(dedupKey(notice(found!))).toBe('envwatch/unwatched/dev');
		expect(subject(notice(found!))).toBe('envwatch: agents not watched: dev');
		expect(text(notice(found!))).toContain('3 agents in eu-west-1, not watched');
	});

	it('the loop sweeps at most every 10 minutes, in the background; what is gone is said gone (and resolves the incident)', async () => {
		const {monitor, clock, sim, entries, asked} = account();
		const loop = monitor();
		loop.start();
		await expect.poll(() => entries().length).toBe(1);
		for (let poll = 0; poll < 3; poll++) {
			clock.now += 15_000;
			await loop.poll();
		}

		expect(asked()).toBe(1);
		// The agents over there are stopped; the next sweep, 10 minutes after the first, sees them gone.
		await sim.stop(sim.snapshot().filter(instance => instance.region === 'eu-west-1').map(instance => ({id: instance.id, region: instance.region})), {dryRun: false});
		clock.now += 10 * 60_000;
		await loop.poll();
		await expect.poll(() => entries().length).toBe(2);
		await loop.stop();
		expect(asked()).toBe(2);
		const cleared = entries()[1]!;
		expect(cleared).toMatchObject({environments: ['dev'], outcome: 'cleared', reason: 'no longer found: 3 agents in eu-west-1'});
		expect(pagerDutyAction(notice(cleared))).toBe('resolve');
		expect(subject(notice(cleared))).toBe('envwatch: agents no longer found outside the watched regions: dev');
	});

	it('across processes, at most one sweep every 10 minutes: a cron --once within them shows the last one and how old it is; a future-dated or damaged record is ignored and a sweep runs', async () => {
		const {monitor, clock, entries, asked, stateDir} = account();
		const run = async () => {
			const once = monitor();
			const snapshot = await once.once();
			await once.stop();
			return snapshot;
		};

		const first = await run();
		expect(asked()).toBe(1);
		expect(first.unwatched).not.toHaveProperty('reused');
		clock.now += 4 * 60_000;
		const second = await run();
		expect(asked()).toBe(1);
		expect(second.unwatched).toMatchObject({at: first.unwatched!.at, regions: ['eu-west-1'], found: [{environment: 'dev', region: 'eu-west-1', agents: 3, instances: 3}], error: null, reused: true});
		const text = formatDashboard(second);
		expect(text).toContain('SWEPT: 1 region not watched (eu-west-1), 4m ago by an earlier run (a sweep runs at most every 10 minutes)');
		expect(text).toContain('UNWATCHED: dev: 3 agents in eu-west-1, not watched');
		expect(toJson(second)['unwatched']).toMatchObject({at: new Date(first.unwatched!.at!).toISOString(), reused: true});
		// What the first run found is not recorded (nor notified) again.
		expect(entries()).toHaveLength(1);

		clock.now += 7 * 60_000;
		await run();
		expect(asked()).toBe(2);

		// A record dated after now (a clock stepped back) is not believed: a sweep runs.
		const file = path.join(stateDir, 'sweep.json');
		fs.writeFileSync(file, JSON.stringify({...JSON.parse(fs.readFileSync(file, 'utf8')) as object, at: clock.now + 3_600_000}));
		clock.now += 60_000;
		await run();
		expect(asked()).toBe(3);
		// A damaged one is moved aside, said, and a sweep runs.
		fs.writeFileSync(file, JSON.stringify({version: 1, at: 'soon'}));
		clock.now += 60_000;
		const damaged = await run();
		expect(asked()).toBe(4);
		expect(damaged.unwatched).not.toHaveProperty('reused');
		expect(fs.readdirSync(stateDir).some(name => name.startsWith('sweep.json.damaged-'))).toBe(true);
	});

	it('a sweep that fails says so, never "nothing found": in --once, the JSON, the status line, the audit log (once)', async () => {
		const {monitor, sim, entries, clock} = account();
		sim.failRegions('UnauthorizedOperation: ec2:DescribeRegions');
		for (let run = 0; run < 2; run++) {
			const once = monitor();
			const snapshot = await once.once();
			await once.stop();
			clock.now += 60_000;
			expect(snapshot.unwatched).toMatchObject({found: [], error: 'the region sweep could not list the account\'s regions (UnauthorizedOperation: ec2:DescribeRegions): agents in regions not watched cannot be seen'});
			expect(formatDashboard(snapshot)).toContain('UNWATCHED: the region sweep could not list the account\'s regions (UnauthorizedOperation: ec2:DescribeRegions)');
			expect(statusText({snapshot, now: clock.now})).toMatchObject({text: snapshot.unwatched!.error, colour: 'magenta'});
		}

		// The second run, a minute later, shows the first's failed sweep (not swept again within 10 minutes), and does not record it again.
		expect(entries().map(entry => entry.outcome)).toEqual([expect.stringMatching(/^failed: /)]);
	});

	it('a region that cannot be listed is named; what was found elsewhere is still said', async () => {
		const {monitor, sim} = account();
		sim.spawn({environment: 'staging', role: 'agent', type: 't3.large', count: 1, region: 'ap-south-1', name: 'far'}, undefined, 'running');
		const fleet: Fleet = {
			list: async query => {
				const listing = await sim.list(query);
				return query.regions?.includes('ap-south-1') ? {...listing, instances: listing.instances.filter(instance => instance.region !== 'ap-south-1'), errors: [{region: 'ap-south-1', message: 'RequestLimitExceeded'}]} : listing;
			},
			stop: async (targets, options) => sim.stop(targets, options),
			start: async (targets, options) => sim.start(targets, options),
		};
		const once = monitor({fleet, enabledRegions: async () => [...sim.enabledRegions(), 'ap-south-1']});
		const snapshot = await once.once();
		await once.stop();
		expect(snapshot.unwatched).toMatchObject({found: [{environment: 'dev', region: 'eu-west-1', agents: 3}], error: 'the region sweep could not look in ap-south-1: RequestLimitExceeded: agents there cannot be seen'});
		expect(formatPollLine(snapshot)).toContain(' UNWATCHED: dev: 3 agents in eu-west-1, not watched; the region sweep could not look in ap-south-1');
	});

	it('only environments monitored in this run are reported; --once waits for a slow sweep, within its bound', async () => {
		const {monitor, sim, clock} = account('unwatched', ['staging']);
		sim.spawn({environment: 'staging', role: 'other', type: 't3.small', count: 2, region: 'eu-west-1', name: 'staging-db'}, undefined, 'running');
		const slow = monitor({enabledRegions: async () => new Promise(resolve => {
			setTimeout(() => resolve(sim.enabledRegions()), 50);
		})});
		const snapshot = await slow.once();
		await slow.stop();
		expect(snapshot.unwatched?.found).toEqual([{environment: 'staging', region: 'eu-west-1', agents: 0, instances: 2}]);
		expect(formatDashboard(snapshot)).toContain('UNWATCHED: staging: 2 instances in eu-west-1, not watched');

		// The next sweep is due 10 minutes after that one.
		clock.now += 10 * 60_000;
		const hung = monitor({enabledRegions: async () => new Promise(() => undefined)});
		const cut = await hung.once(100);
		await hung.stop();
		expect(cut.unwatched).toMatchObject({at: null, running: true});
		expect(formatDashboard(cut)).toContain('UNWATCHED: the sweep of the regions not watched had not finished: they were not looked in');
	});
});
