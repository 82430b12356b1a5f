import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {fallbackPrices} from '../../source/domain/price-table.js';
import {loadConfig} from '../../source/config/load.js';
import {AuditLog} from '../../source/engine/state/audit.js';
import {Monitor} from '../../source/engine/monitor.js';
import {StateStore} from '../../source/engine/state/store.js';
import {SnapshotStore} from '../../source/engine/snapshot-store.js';
import {formatDashboard} from '../../source/app/headless.js';
import {toJson} from '../../source/engine/snapshot.js';
import {SimAccount} from '../../source/providers/sim/account.js';
import type {Fleet, PriceSource} from '../../source/providers/types.js';
import {useTempDirs} from '../helpers/tmp-root.js';

/**
 * The cron run and the first run: one state dir, one simulated account whose dev agents have big
 * EBS volumes, and a new Monitor per run (a new process each time, as cron starts them), with the
 * volumes and the Price List answering as each test says.
 */
const tempDir = useTempDirs();

/** A gate: what waits on `opened` goes on once `open()` is called. */
function gate(): {opened: Promise<void>; open(): void} {
	let open = () => undefined as void;
	const opened = new Promise<void>(resolve => {
		open = resolve;
	});
	return {opened, open};
}

function account() {
	const {config} = loadConfig({noStore: true, flags: {regions: ['us-east-1', 'us-west-2'], costExplorer: {enabled: false, refreshMinutes: 60}}});
	const clock = {now: Date.UTC(2026, 10, 27, 9)};
	const sim = new SimAccount({scenario: 'calm', now: () => clock.now, envTagKey: config.envTagKey, roleTag: config.roleTag, tagValueOf: name => config.environments[name]!.tagValues[0]!, prices: fallbackPrices, transitionSeconds: 0});
	// Two more dev agents with 2 TB gp3 each: about $0.22/h of volumes apiece, some 17% of dev.
	sim.spawn({environment: 'dev', role: 'agent', type: 't3.large', count: 2, region: 'us-east-1', name: 'dev-agent-disk', volumes: [{type: 'gp3', sizeGb: 2000}]}, clock.now - 3_600_000, 'running');
	const dir = tempDir('envwatch-cron-');
	const audit = new AuditLog(path.join(dir, 'audit.jsonl'));
	/** One run of envwatch: its own Monitor (a new process) on the shared state dir. */
	const run = (parts: {volumes?: Fleet['volumes']; prices?: PriceSource}) => {
		const fleet: Fleet = {
			list: async query => sim.list(query),
			stop: async (targets, options) => sim.stop(targets, options),
			start: async (targets, options) => sim.start(targets, options),
			volumes: parts.volumes ?? (async (region, ids) => sim.volumes(region, ids)),
		};
		return new Monitor({
			provider: {source: 'SIMULATED', fleet, billing: undefined, ...(parts.prices ? {prices: parts.prices} : {})}, config, monitored: ['dev', 'staging', 'production'],
			store: new SnapshotStore(), state: new StateStore(path.join(dir, 'state')), audit, clock: () => clock.now, options: {dryRun: false, readOnly: false, actor: 'cron@host'},
		});
	};

	const actions = () => (fs.existsSync(audit.file) ? fs.readFileSync(audit.file, 'utf8') : '').trim().split('\n').filter(Boolean).map(line => JSON.parse(line) as {type: string; kind: string; reason: string}).filter(entry => entry.kind === 'stop' || entry.kind === 'emergency' || entry.kind === 'cascade');
	return {config, clock, sim, run, audit, actions, dir};
}

/** The Price List: down (every call fails), or answering `usd` for c5.xlarge in us-east-1 and the shipped table otherwise, with EBS rates 10% over the shipped ones. */
function priceList(state: 'down' | 'up', sim: SimAccount): PriceSource {
	return {
		async onDemand(query) {
			if (state === 'down') {
				throw new Error('connect ECONNREFUSED');
			}

			return query.type === 'c5.xlarge' && query.region === 'us-east-1' && query.operatingSystem === 'Linux' ? {usd: 0.19, requests: 1} : sim.onDemand(query);
		},
		async spot(region, types, products) {
			return sim.spot(region, types, products);
		},
		async ebs() {
			if (state === 'down') {
				throw new Error('connect ECONNREFUSED');
			}

			return {rates: {gbMonth: {gp2: 0.11, gp3: 0.088, io1: 0.138, io2: 0.138, st1: 0.05, sc1: 0.0168, standard: 0.055}, gp3IopsMonth: 0.0055, gp3ThroughputMonth: 0.044, io1IopsMonth: 0.072, io2IopsMonth: [0.072, 0.0504, 0.03528]}, requests: 3};
		},
	};
}

describe('a price or volume learnt later is never a spike, in any process', () => {
	it('volumes learnt after the first run\'s sample (its process ended): the next run restates the persisted history and decides nothing', async () => {
		const {clock, sim, run, actions, dir} = account();
		// The first run's DescribeVolumes answers only after its poll was recorded.
		const slow = gate();
		const first = run({volumes: async (region, ids) => {
			await slow.opened;
			return sim.volumes(region, ids);
		}});
		await first.poll();
		slow.open();
		await first.pricing.settled();
		await first.stop();

		// Seconds later, over the same fleet: its volumes are known from the first poll on.
		clock.now += 20_000;
		const second = run({});
		const snapshot = await second.poll();
		await second.stop();
		const dev = snapshot.environments.find(view => view.name === 'dev')!;
		expect(dev.storageHourlyUsd).toBeGreaterThan(0.4);
		expect(dev.increasePct).toBeCloseTo(0, 3);
		expect(snapshot.decisions.filter(decision => decision.kind !== 'warn')).toEqual([]);
		expect(actions()).toEqual([]);
		// The history on disk says what it is priced under now.
		const saved = JSON.parse(fs.readFileSync(path.join(dir, 'state', 'samples.json'), 'utf8')) as {basis?: {storage: unknown[]}};
		expect(saved.basis?.storage.length).toBeGreaterThan(0);
	});

	it('the Price List down for the first run and answering for the next (a higher price, higher EBS rates): restated, nothing decided', async () => {
		const {clock, sim, run, actions} = account();
		const first = run({prices: priceList('down', sim)});
		const before = await first.once();
		await first.stop();
		expect(before.pricing?.error).toContain('ECONNREFUSED');

		clock.now += 20_000;
		const second = run({prices: priceList('up', sim)});
		const after = await second.once();
		await second.stop();
		const [devBefore, devAfter] = [before, after].map(snapshot => snapshot.environments.find(view => view.name === 'dev')!);
		// The prices that came in do change the figure (c5.xlarge $0.17 -> $0.19, gp3 $0.08 -> $0.088)...
		expect(devAfter!.hourlyUsd - devBefore!.hourlyUsd).toBeCloseTo(0.02 + (2 * 2000 * 0.008) / 730, 6);
		// ...and the window measures what started: nothing.
		expect(devAfter!.increasePct).toBeCloseTo(0, 3);
		expect(after.global.increasePct).toBeCloseTo(0, 3);
		expect(after.decisions.filter(decision => decision.kind !== 'warn')).toEqual([]);
		expect(actions()).toEqual([]);
	});

	it('a history priced with another shipped table is not compared across books: the windows start afresh, with an audit note', async () => {
		const {clock, run, dir, audit} = account();
		const first = run({});
		await first.once();
		await first.stop();
		const file = path.join(dir, 'state', 'samples.json');
		const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as {basis: {table: string}};
		saved.basis.table = 'fnv1a:00000000';
		fs.writeFileSync(file, JSON.stringify(saved));
		fs.rmSync(path.join(dir, 'state', 'samples.log'), {force: true});

		clock.now += 20_000;
		const second = run({});
		const snapshot = await second.poll();
		await second.stop();
		expect(snapshot.environments.find(view => view.name === 'dev')!.baselineUsd).toBe(snapshot.environments.find(view => view.name === 'dev')!.hourlyUsd);
		expect(fs.readFileSync(audit.file, 'utf8')).toContain('priced with another version\'s shipped price table');
	});
});

describe('--once waits (bounded) for what its figures need', () => {
	it('the first run waits for its volumes: its figure includes them, unmarked', async () => {
		const {run, sim} = account();
		const once = run({volumes: async (region, ids) => {
			await new Promise(resolve => {
				setTimeout(resolve, 50);
			});
			return sim.volumes(region, ids);
		}});
		const snapshot = await once.once();
		await once.stop();
		const dev = snapshot.environments.find(view => view.name === 'dev')!;
		expect(dev.storageHourlyUsd).toBeCloseTo((2 * 2000 * 0.08) / 730, 6);
		expect({estimated: dev.estimated, types: dev.estimatedTypes, learning: dev.learning}).toEqual({estimated: 0, types: [], learning: undefined});
	});

	it('past the bound, figures still being learnt are marked ~ and a rise there is alerted on, not stopped; the hourly cap still stops', async () => {
		const {clock, sim, run, actions, config} = account();
		const first = run({});
		await first.once();
		await first.stop();

		// dev adds agents in us-west-2 (a real rise of +11%), and this run's volumes never answer.
		clock.now += 20_000;
		sim.spawn({environment: 'dev', role: 'agent', type: 'g4dn.xlarge', count: 1, region: 'us-west-2', name: 'dev-agent'}, clock.now - 1000, 'running');
		const hung = run({volumes: async () => new Promise(() => undefined)});
		const snapshot = await hung.once(100);
		await hung.stop();
		const dev = snapshot.environments.find(view => view.name === 'dev')!;
		expect(dev.learning).toBe('prices or volumes in us-west-2 still being learnt when --once stopped waiting');
		expect(dev.estimatedTypes).toContain('EBS volumes not known yet');
		expect(dev.level).toBe('breach');
		expect(snapshot.decisions).toContainEqual({kind: 'alert', environment: 'dev', reason: expect.stringContaining('still being learnt when --once stopped waiting: alert, no automatic stop; the hourly cap still applies') as string});
		expect(actions()).toEqual([]);
		const text = formatDashboard(snapshot);
		expect(text).toMatch(/Dev Environment: +BREACH +\(~\$\d+\.\d\d\/hr\)/);
		expect(text).toContain('EBS volumes not known yet, counted as $0');
		expect(toJson(snapshot)['environments']).toContainEqual(expect.objectContaining({name: 'dev', hourlyUsdEstimated: true, learning: dev.learning}));

		// Over its hourly cap, the same conservative figure is acted on.
		config.environments['dev']!.maxHourlyUsd = 2;
		clock.now += 20_000;
		const capped = run({volumes: async () => new Promise(() => undefined)});
		const over = await capped.once(100);
		await capped.stop();
		expect(over.decisions.find(decision => decision.kind === 'stop')).toMatchObject({environment: 'dev'});
	});
});

describe('the first run', () => {
	it('volumes not known yet are never an unmarked $0: the figure is marked ~ and says why', async () => {
		const {run} = account();
		const first = run({volumes: async () => new Promise(() => undefined)});
		const snapshot = await first.poll();
		await first.stop();
		const dev = snapshot.environments.find(view => view.name === 'dev')!;
		expect(dev.estimatedTypes).toEqual(['EBS volumes not known yet']);
		expect(dev.estimated).toBeGreaterThan(0);
		expect(formatDashboard(snapshot)).toMatch(/Dev Environment: +ACTIVE +\(~\$\d+\.\d\d\/hr\) - 6 agents running, ~ \d+ at an estimate \(EBS volumes not known yet, counted as \$0\)/);
		// The total holds dev's figure: marked too, never a bare figure.
		expect(formatDashboard(snapshot)).toMatch(/^Global Status: +NORMAL +\(~\$\d+\.\d\d\/hr total\)$/m);
		const json = toJson(snapshot);
		expect(json['environments']).toContainEqual(expect.objectContaining({name: 'dev', hourlyUsdEstimated: true}));
		// What the volumes cost is not known: null, never 0 (dev's and the total's).
		expect(json['environments']).toContainEqual(expect.objectContaining({name: 'dev', storageHourlyUsd: null}));
		expect(json['global']).toMatchObject({hourlyUsdEstimated: true, storageHourlyUsd: null});
	});
});
