import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, beforeAll, describe, expect, test} from 'vitest';
import {loadConfig} from '../../source/config/load.js';
import type {Config} from '../../source/config/schema.js';
import {AuditLog} from '../../source/engine/state/audit.js';
import {Monitor} from '../../source/engine/monitor.js';
import {StateStore} from '../../source/engine/state/store.js';
import {SnapshotStore} from '../../source/engine/snapshot-store.js';
import {AwsFleet} from '../../source/providers/aws/fleet.js';
import {AwsPrices} from '../../source/providers/aws/pricing.js';
import type {Provider} from '../../source/providers/types.js';
import {AttachVolumeCommand, CreateVolumeCommand, DescribeVolumesCommand, StopInstancesCommand, type VolumeType} from '@aws-sdk/client-ec2';
import {ec2, freePort, launch, testCredentials, useFaultProxy, useMoto, windowsImage} from '../helpers/moto.js';
import {ebsDocument, productDocument, recordedEbs, usePriceList} from '../helpers/price-list.js';

// EC2 (listing, spot prices) is moto_server through the real SDK; the Price List, which moto does
// not implement, is a loopback server answering recorded GetProducts answers of the real shape.
const moto = useMoto();
const proxy = useFaultProxy(moto);
const priceList = usePriceList([
	{region: 'us-east-1', type: 'm5.large', operatingSystem: 'Linux', tenancy: 'Shared', usd: '0.0960000000'},
	{region: 'eu-west-1', type: 'm5.large', operatingSystem: 'Linux', tenancy: 'Shared', usd: '0.1070000000'},
	{region: 'us-east-1', type: 'm5.large', operatingSystem: 'Windows', tenancy: 'Shared', usd: '0.1880000000'},
	{region: 'us-east-1', type: 'm5.large', operatingSystem: 'Linux', tenancy: 'Dedicated', usd: '0.1060000000'},
	{region: 'eu-west-1', type: 'c5.xlarge', operatingSystem: 'Linux', tenancy: 'Shared', usd: '0.1920000000'},
	// eu-west-1 t3.micro is deliberately absent: an answer with no product.
]);
const regions = ['us-east-1', 'eu-west-1'];
let config: Config;
const dirs: string[] = [];
const monitors: Monitor[] = [];

beforeAll(() => {
	config = loadConfig({noStore: true, flags: {regions, costExplorer: {enabled: false, refreshMinutes: 60}}}).config;
});

afterEach(async () => {
	for (const monitor of monitors.splice(0)) {
		await monitor.stop();
	}

	for (const dir of dirs.splice(0)) {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

/**
 * moto answers every spot price as $0.00001/h, which envwatch does not believe (under a tenth of any
 * on-demand price): through the proxy, m5.large's spot price is a plausible $0.0351/h instead.
 */
const spotPrice = '0.035100';
function plausibleSpot(): void {
	proxy.rule = request => (request.action === 'DescribeSpotPriceHistory' ? {rewrite: {answer: body => body.replaceAll(/<spotPrice>[^<]*<\/spotPrice>/g, `<spotPrice>${spotPrice}</spotPrice>`)}} : undefined);
}

function provider(pricingEndpointUrl = priceList.url, endpointUrl = proxy.url): Provider & {prices: AwsPrices} {
	const fleet = new AwsFleet({regions, endpointUrl, credentials: testCredentials, maxAttempts: 1});
	const prices = new AwsPrices({endpointUrl, pricingEndpointUrl, credentials: testCredentials, maxAttempts: 1, ec2: region => fleet.client(region)});
	return {source: 'aws test', fleet, billing: undefined, prices, close: () => {
		prices.close();
		fleet.close();
	}};
}

function monitor(source: Provider, dir?: string): Monitor {
	const where = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-pricing-'));
	if (!dir) {
		dirs.push(where);
	}

	const created = new Monitor({
		provider: source, config, monitored: ['dev', 'staging', 'production'], store: new SnapshotStore(), state: new StateStore(path.join(where, 'state')),
		audit: new AuditLog(path.join(where, 'audit.jsonl')), clock: () => Date.now(), options: {dryRun: false, readOnly: false, actor: 'test@host'},
	});
	monitors.push(created);
	return created;
}

/** dev: Linux on demand in two regions, Windows, spot, and a type the Price List has no product for; staging: one in eu-west-1. */
async function seed(): Promise<void> {
	plausibleSpot();
	await launch(moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent', type: 'm5.large'});
	await launch(moto.url, {region: 'eu-west-1', count: 1, environment: 'dev', role: 'agent', type: 'm5.large'});
	await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'dev', type: 'm5.large', image: windowsImage, name: 'dev-windows'});
	await launch(moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent', type: 'm5.large', spot: true, name: 'dev-spot'});
	await launch(moto.url, {region: 'eu-west-1', count: 1, environment: 'dev', type: 't3.micro', name: 'dev-dns'});
	await launch(moto.url, {region: 'eu-west-1', count: 1, environment: 'staging', type: 'c5.xlarge'});
}

describe('live prices by region, OS and market', () => {
	test('dev is priced to the cent by region, OS and lifecycle once the Price List answered; the first poll never waited for it', async () => {
		await seed();
		const watch = monitor(provider());
		const first = await watch.poll();
		const dev0 = first.environments.find(view => view.name === 'dev')!;
		// Before any answer: the shipped table for Linux, estimates (~) for Windows and the spot agents,
		// and the volumes of all seven not known yet (marked, never an unmarked $0).
		expect(dev0.estimated).toBe(3 + 7);
		expect(dev0.estimatedTypes).toEqual(['EBS volumes not known yet', 'm5.large']);

		await watch.pricing.settled();
		const second = await watch.poll();
		const dev = second.environments.find(view => view.name === 'dev')!;
		// The spot price history answers $0.0351 for m5.large in each us-east-1 AZ.
		const expected = 2 * 0.096 + 0.107 + 0.188 + 2 * 0.0351 + 0.0104;
		// Each instance's root volume (moto: 8 GB gp2) costs too, at its region's gp2 rate: $0.10 in
		// us-east-1 (five), $0.11 in eu-west-1 (two); the EBS tests cover volumes.
		expect(dev.storageHourlyUsd).toBeCloseTo((5 * 8 * 0.1 + 2 * 8 * 0.11) / 730, 6);
		expect(dev.hourlyUsd - dev.storageHourlyUsd!).toBeCloseTo(expected, 6);
		expect(dev).toMatchObject({estimated: 0, estimatedTypes: [], unpriced: 0});
		// What stopping dev's agents saves: the two on-demand agents in us-east-1, the one in eu-west-1, the spot ones.
		expect(dev.agentHourlyUsd).toBeCloseTo(2 * 0.096 + 0.107 + 2 * 0.0351, 6);
		expect(second.environments.find(view => view.name === 'staging')!.hourlyUsd).toBeCloseTo(0.192 + 8 * 0.11 / 730, 6);
		// A price that came in is no spend that rose: the window was restated, nothing breaches.
		expect(dev.increasePct ?? 0).toBeCloseTo(0, 6);
		expect(second.decisions.filter(decision => decision.kind === 'stop' || decision.kind === 'emergency')).toEqual([]);
		expect(second.error).toBeNull();

		// One GetProducts per (region, type, OS, tenancy): us-east-1 m5.large Linux and Windows,
		// eu-west-1 m5.large, t3.micro (no product: the shipped table) and c5.xlarge.
		// And one set of EBS queries (Storage, System Operation, Provisioned Throughput) per region.
		const onDemand = () => priceList.requests.filter(filters => filters['instanceType'] !== undefined);
		expect(onDemand()).toHaveLength(5);
		expect(new Set(onDemand().map(filters => `${filters['regionCode']} ${filters['instanceType']} ${filters['operatingSystem']}`)).size).toBe(5);
		expect(priceList.requests.filter(filters => filters['productFamily'] !== undefined).map(filters => `${filters['regionCode']} ${filters['productFamily']}`).sort()).toEqual([
			'eu-west-1 Provisioned Throughput', 'eu-west-1 Storage', 'eu-west-1 System Operation', 'us-east-1 Provisioned Throughput', 'us-east-1 Storage', 'us-east-1 System Operation',
		]);
		await watch.poll();
		await watch.pricing.settled();
		expect(priceList.requests).toHaveLength(11);
	});

	test('the cache survives a restart: a new run on the same state dir asks the Price List nothing', async () => {
		await seed();
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-pricing-'));
		dirs.push(dir);
		const first = monitor(provider(), dir);
		await first.poll();
		await first.pricing.settled();
		await first.stop();
		monitors.splice(monitors.indexOf(first), 1);
		const asked = priceList.requests.length;

		const again = monitor(provider(), dir);
		const snapshot = await again.poll();
		await again.pricing.settled();
		expect(priceList.requests).toHaveLength(asked);
		// eu-west-1's EBS rates came from the cache too.
		expect(snapshot.environments.find(view => view.name === 'staging')!.hourlyUsd).toBeCloseTo(0.192 + 8 * 0.11 / 730, 6);
	});

	test('the Price List unreachable: the shipped table is used, the data is not stale, the failure is said', async () => {
		await seed();
		const closed = `http://127.0.0.1:${await freePort()}`;
		const watch = monitor(provider(closed));
		await watch.poll();
		await watch.pricing.settled();
		const snapshot = await watch.poll();
		expect(snapshot.error).toBeNull();
		expect(snapshot.environments.every(view => view.status !== 'STALE')).toBe(true);
		// Every failing job is said: the on-demand prices and the EBS rates both come from the Price List.
		expect(snapshot.pricing?.error).toMatch(/^Price List: .*the shipped table and estimates are used meanwhile(; EBS rates in us-east-1: .*)?$/);
		const staging = snapshot.environments.find(view => view.name === 'staging')!;
		// c5.xlarge from the shipped table (us-east-1 Linux), not an estimate.
		expect(staging.estimated).toBe(0);
		expect(staging.hourlyUsd - staging.storageHourlyUsd!).toBeCloseTo(0.17, 6);
		// Windows has no table price: an estimate, marked; spot now has its price.
		const dev = snapshot.environments.find(view => view.name === 'dev')!;
		expect(dev.estimated).toBe(1);
	});

	test('moto\'s own spot price ($0.00001/h, under a tenth of any on-demand price) is not believed: the spot agents count at their on-demand bound, marked, and it is said', async () => {
		await seed();
		proxy.rule = () => undefined;
		const watch = monitor(provider());
		await watch.poll();
		await watch.pricing.settled();
		const snapshot = await watch.poll();
		expect(snapshot.pricing?.error).toMatch(/spot prices in us-east-1: DescribeSpotPriceHistory page 1 item 1: m5\.large Linux\/UNIX in us-east-1\w at \$0\.00001\/h is under a tenth of what EC2 charges for it on demand .*rejected/);
		const dev = snapshot.environments.find(view => view.name === 'dev')!;
		expect(dev).toMatchObject({estimated: 2, estimatedTypes: ['m5.large']});
		// What stopping the agents saves counts the spot ones at m5.large's on-demand price, never at $0.00001.
		expect(dev.agentHourlyUsd).toBeCloseTo(2 * 0.096 + 0.107 + 2 * 0.096, 6);
	});
});

describe('EBS volumes', () => {
	test('volumes of each type count in their environment, a stopped instance\'s too; a stop saves only compute', async () => {
		const [agent] = await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent', type: 'm5.large'});
		const [parked] = await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'dev', type: 'm5.large', name: 'dev-parked'});
		const [west] = await launch(moto.url, {region: 'eu-west-1', count: 1, environment: 'staging', type: 'c5.xlarge'});
		const east = ec2(moto.url, 'us-east-1');
		const extra: Array<{type: VolumeType; size: number; iops?: number; throughput?: number; on: string}> = [
			{type: 'gp2', size: 100, on: agent!},
			{type: 'gp3', size: 200, iops: 6000, throughput: 250, on: agent!},
			{type: 'io1', size: 50, iops: 1000, on: agent!},
			{type: 'io2', size: 100, iops: 40_000, on: parked!},
			{type: 'st1', size: 500, on: parked!},
			{type: 'sc1', size: 1000, on: parked!},
		];
		for (const [index, volume] of extra.entries()) {
			const created = await east.send(new CreateVolumeCommand({AvailabilityZone: 'us-east-1a', VolumeType: volume.type, Size: volume.size, ...(volume.iops ? {Iops: volume.iops} : {}), ...(volume.throughput ? {Throughput: volume.throughput} : {})}));
			await east.send(new AttachVolumeCommand({VolumeId: created.VolumeId!, InstanceId: volume.on, Device: `/dev/sd${'fghijk'[index]}`}));
		}

		await east.send(new StopInstancesCommand({InstanceIds: [parked!]}));
		// moto gives every instance a root volume: read its size and type rather than assume them.
		const roots = (await east.send(new DescribeVolumesCommand({}))).Volumes!.filter(volume => volume.Attachments?.[0]?.Device === '/dev/sda1');
		expect(roots.map(volume => volume.VolumeType)).toEqual(['gp2', 'gp2']);
		const rootMonth = roots.reduce((sum, volume) => sum + volume.Size! * 0.1, 0);
		east.destroy();

		const watch = monitor(provider());
		await watch.poll();
		await watch.pricing.settled();
		const snapshot = await watch.poll();
		const dev = snapshot.environments.find(view => view.name === 'dev')!;
		// Per month: gp2 100 x $0.10; gp3 200 x $0.08 + 3,000 IOPS over 3,000 x $0.005 + 125 MB/s over
		// 125 x $0.04; io1 50 x $0.125 + 1,000 IOPS x $0.065; io2 100 x $0.125 + 32,000 x $0.065 +
		// 8,000 x $0.0455; st1 500 x $0.045; sc1 1,000 x $0.015; and the two roots. / 730 for $/h.
		const month = 10 + (16 + 15 + 5) + (6.25 + 65) + (12.5 + 2080 + 364) + 22.5 + 15 + rootMonth;
		expect(dev.storageHourlyUsd).toBeCloseTo(month / 730, 6);
		// The stopped instance's compute costs nothing; the running agent's does (the Price List: $0.096).
		expect(dev.hourlyUsd).toBeCloseTo(0.096 + month / 730, 6);
		expect(dev.agentHourlyUsd).toBeCloseTo(0.096, 6);
		const staging = snapshot.environments.find(view => view.name === 'staging')!;
		const westRoot = (await ec2(moto.url, 'eu-west-1').send(new DescribeVolumesCommand({Filters: [{Name: 'attachment.instance-id', Values: [west!]}]}))).Volumes![0]!;
		expect(staging.hourlyUsd).toBeCloseTo(0.192 + westRoot.Size! * 0.11 / 730, 6);
		expect(dev.estimated).toBe(0);
	});
});

describe('EBS rates by region', () => {
	/** A staging c5.xlarge in eu-west-1 with a 500 GB gp3 volume at 6,000 IOPS and 250 MB/s; its root volume's size read back. */
	async function westGp3(): Promise<{rootGb: number}> {
		const [west] = await launch(moto.url, {region: 'eu-west-1', count: 1, environment: 'staging', type: 'c5.xlarge'});
		const client = ec2(moto.url, 'eu-west-1');
		const created = await client.send(new CreateVolumeCommand({AvailabilityZone: 'eu-west-1a', VolumeType: 'gp3', Size: 500, Iops: 6000, Throughput: 250}));
		await client.send(new AttachVolumeCommand({VolumeId: created.VolumeId!, InstanceId: west!, Device: '/dev/sdf'}));
		const root = (await client.send(new DescribeVolumesCommand({Filters: [{Name: 'attachment.instance-id', Values: [west!]}]}))).Volumes!.find(volume => volume.Attachments?.[0]?.Device === '/dev/sda1')!;
		expect(root.VolumeType).toBe('gp2');
		client.destroy();
		return {rootGb: root.Size!};
	}

	test('a gp3 volume in eu-west-1 is priced at eu-west-1\'s rates, to the cent, and the rate change is no spend spike', async () => {
		const {rootGb} = await westGp3();
		const watch = monitor(provider());
		const first = await watch.poll();
		await watch.pricing.settled();
		const second = await watch.poll();
		// eu-west-1 per month: 500 GB x $0.088 + 3,000 IOPS over 3,000 x $0.0055 + 125 MB/s over 125 x
		// ($45.056 per GiBps-month / 1024 = $0.044) + the gp2 root at $0.11: $66 + the root. us-east-1's rates would make it $60 + the root.
		const month = 500 * 0.088 + 3000 * 0.0055 + 125 * 0.044 + rootGb * 0.11;
		expect(month).toBeCloseTo(66 + rootGb * 0.11, 6);
		const staging = second.environments.find(view => view.name === 'staging')!;
		expect(Math.round(staging.storageHourlyUsd! * 730 * 100) / 100).toBe(Math.round(month * 100) / 100);
		expect(staging.storageHourlyUsd).toBeCloseTo(month / 730, 9);
		expect(second.pricing?.error).toBeNull();
		// The first poll priced the volume at the shipped us-east-1 table; the rates that came in are a
		// new price book, so the window was restated: no increase, nothing stopped.
		const before = first.environments.find(view => view.name === 'staging')!;
		expect(before.storageHourlyUsd ?? 0).not.toBeCloseTo(month / 730, 4);
		expect(staging.increasePct ?? 0).toBeCloseTo(0, 6);
		expect(second.decisions.filter(decision => decision.kind === 'stop' || decision.kind === 'emergency')).toEqual([]);
	});

	test('a malformed EBS answer falls back to the shipped table, said in pricing.error', async () => {
		const {rootGb} = await westGp3();
		priceList.reply = filters => filters['productFamily'] === undefined ? undefined
			: {status: 200, body: JSON.stringify({FormatVersion: 'aws_v1', PriceList: ['{"product": cut', JSON.stringify({product: {productFamily: filters['productFamily'], attributes: {regionCode: 'eu-west-1'}}, terms: {}})]})};
		const watch = monitor(provider());
		await watch.poll();
		await watch.pricing.settled();
		const snapshot = await watch.poll();
		expect(snapshot.pricing?.error).toMatch(/^EBS rates in eu-west-1: .*none an EBS storage, IOPS or throughput rate.*; the shipped us-east-1 rates are used meanwhile$/);
		// The shipped table: 500 x $0.08 + 3,000 x $0.005 + 125 x $0.04 + the root at $0.10.
		const month = 500 * 0.08 + 3000 * 0.005 + 125 * 0.04 + rootGb * 0.1;
		expect(snapshot.environments.find(view => view.name === 'staging')!.storageHourlyUsd).toBeCloseTo(month / 730, 9);
		expect(snapshot.error).toBeNull();
	});

	test('a region\'s rates without io2 tiers scale the shipped tiers by its io2 base rate; an answer with no entry is the table, no error', async () => {
		const source = provider();
		const eu = recordedEbs.filter(product => product.region === 'eu-west-1' && !product.usageType.includes('.tier'));
		priceList.reply = filters => ({status: 200, body: JSON.stringify({FormatVersion: 'aws_v1', PriceList: eu.filter(product => product.family === filters['productFamily']).map(product => ebsDocument(product))})});
		const {rates} = await source.prices.ebs('eu-west-1');
		expect(rates!.io2IopsMonth[0]).toBeCloseTo(0.072, 9);
		expect(rates!.io2IopsMonth[1]).toBeCloseTo(0.0455 * 0.072 / 0.065, 9);
		expect(rates!.io2IopsMonth[2]).toBeCloseTo(0.032 * 0.072 / 0.065, 9);
		expect(rates!.gbMonth['gp3']).toBeCloseTo(0.088, 9);
		priceList.reply = undefined;
		expect(await source.prices.ebs('ap-southeast-2')).toEqual({rates: null, requests: 3});
		source.close!();
	});
});

describe('EBS volumes, answers checked', () => {
	test('a cut-off DescribeVolumes answer is an error said in the snapshot, never fewer volumes, and the data is not stale', async () => {
		await launch(moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent', type: 'm5.large'});
		proxy.rule = request => request.action === 'DescribeVolumes' ? {truncate: 0.5} : undefined;
		const watch = monitor(provider(priceList.url, proxy.url));
		await watch.poll();
		await watch.pricing.settled();
		const snapshot = await watch.poll();
		expect(snapshot.error).toBeNull();
		expect(snapshot.pricing?.error).toMatch(/^volumes in us-east-1: DescribeVolumes answered HTTP 200 .*cut off/);
		const dev = snapshot.environments.find(view => view.name === 'dev')!;
		expect(dev.status).not.toBe('STALE');
		expect(dev.hourlyUsd).toBeCloseTo(2 * 0.096, 6);
	});
});

describe('GetProducts answers, checked for shape', () => {
	const query = {region: 'us-east-1', type: 'm5.large', operatingSystem: 'Linux', preInstalledSw: 'NA', tenancy: 'Dedicated'};

	test('dedicated tenancy is its own product; an answer with no product is null, never $0', async () => {
		const source = provider();
		expect(await source.prices.onDemand(query)).toEqual({usd: 0.106, requests: 1});
		expect(await source.prices.onDemand({...query, region: 'eu-west-1', type: 't3.micro', tenancy: 'Shared'})).toEqual({usd: null, requests: 1});
		source.close!();
	});

	test('an entry that does not parse is skipped; when none is usable the answer is an error, not a price', async () => {
		const source = provider();
		const good = productDocument({region: 'us-east-1', type: 'm5.large', operatingSystem: 'Linux', tenancy: 'Dedicated', usd: '0.1060000000'});
		const zero = productDocument({region: 'us-east-1', type: 'm5.large', operatingSystem: 'Linux', tenancy: 'Dedicated', usd: '0.0000000000'});
		const other = productDocument({region: 'eu-west-1', type: 'm5.large', operatingSystem: 'Linux', tenancy: 'Dedicated', usd: '9.0000000000'});
		priceList.reply = () => ({status: 200, body: JSON.stringify({FormatVersion: 'aws_v1', PriceList: ['{"product": cut', zero, other, good]})});
		expect((await source.prices.onDemand(query)).usd).toBe(0.106);

		priceList.reply = () => ({status: 200, body: JSON.stringify({FormatVersion: 'aws_v1', PriceList: ['not json', zero, other]})});
		await expect(source.prices.onDemand(query)).rejects.toThrow(/GetProducts answered 3 entries for m5.large Linux Dedicated in us-east-1, none with an hourly USD on-demand price/);

		priceList.reply = () => ({status: 200, body: JSON.stringify({FormatVersion: 'aws_v1', PriceList: 'everything'})});
		await expect(source.prices.onDemand(query)).rejects.toThrow(/PriceList is not a list|expected/);

		priceList.reply = () => ({status: 200, body: '<html><body>Sign in</body></html>'});
		await expect(source.prices.onDemand(query)).rejects.toThrow(/GetProducts answered HTTP 200 .*expected a JSON object/);
		source.close!();
	});
});
