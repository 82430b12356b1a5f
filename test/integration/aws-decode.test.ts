import {RunInstancesCommand, StopInstancesCommand, type Tag} from '@aws-sdk/client-ec2';
import {beforeEach, describe, expect, test} from 'vitest';
import {AwsFleet} from '../../source/providers/aws/fleet.js';
import type {FleetQuery} from '../../source/providers/types.js';
import {ec2, launch, testCredentials, useFaultProxy, useMoto} from '../helpers/moto.js';

// The lean DescribeInstances decoder against the SDK's own decoding of the same moto answers:
// both run through AwsFleet (same requests, same checks), one with `leanDecoding: false`.
const moto = useMoto();
const proxy = useFaultProxy(moto);
const regions = ['us-east-1', 'eu-west-1'];
const allStates: FleetQuery['states'] = ['pending', 'running', 'stopping', 'stopped'];
const awkward = 'a & b <c> "d" \'e\' ]]> Ünïcødé ✓';
let ids: {spot: string[]; zoneB: string[]; awkward: string[]; stopped: string[]};

function fleet(url: string, extra: Partial<ConstructorParameters<typeof AwsFleet>[0]> = {}): AwsFleet {
	return new AwsFleet({regions, endpointUrl: url, credentials: testCredentials, ...extra});
}

async function run(region: string, tags: Tag[], extra: Record<string, unknown> = {}, count = 1): Promise<string[]> {
	const client = ec2(moto.url, region);
	const result = await client.send(new RunInstancesCommand({
		ImageId: 'ami-12c6146b', MinCount: count, MaxCount: count, InstanceType: 'm5.large',
		TagSpecifications: [{ResourceType: 'instance', Tags: tags}], ...extra,
	}));
	client.destroy();
	return (result.Instances ?? []).map(instance => instance.InstanceId!);
}

beforeEach(async () => {
	// Many reservations (moto pages by reservation): 9 of one instance each, and one of 4.
	await launch(moto.url, {region: 'us-east-1', count: 9, perReservation: 1, environment: 'dev', role: 'agent'});
	await launch(moto.url, {region: 'eu-west-1', count: 4, environment: 'staging', role: 'monitor'});
	const spot = await run('us-east-1', [{Key: 'Environment', Value: 'dev'}], {InstanceMarketOptions: {MarketType: 'spot'}});
	const zoneB = await run('eu-west-1', [{Key: 'Environment', Value: 'prod'}], {Placement: {AvailabilityZone: 'eu-west-1b'}}, 2);
	// Tag keys and values with XML entities, quotes, non-ASCII, an empty value, keys named like
	// members of every object.
	const tricky = await run('us-east-1', [
		{Key: 'Environment', Value: awkward}, {Key: 'constructor', Value: 'x'}, {Key: '__proto__', Value: 'y'},
		{Key: 'Empty', Value: ''}, {Key: 'Role & <Kind>', Value: 'agent'},
	]);
	const stopped = await run('us-east-1', [{Key: 'Environment', Value: 'dev'}]);
	const client = ec2(moto.url, 'us-east-1');
	await client.send(new StopInstancesCommand({InstanceIds: stopped}));
	client.destroy();
	ids = {spot, zoneB, awkward: tricky, stopped};
});

describe('lean decoding equals the SDK decoding on moto answers', () => {
	test.each([5, 1000])('pages of %i: the same instances, fields, tags and call count', async pageSize => {
		const query: FleetQuery = {envTagKey: 'Environment', states: allStates};
		const lean = await fleet(moto.url, {pageSize}).list(query);
		const sdk = await fleet(moto.url, {pageSize, leanDecoding: false}).list(query);
		expect(lean.errors).toEqual([]);
		expect(sdk.errors).toEqual([]);
		expect(lean.instances).toHaveLength(9 + 4 + 1 + 2 + 1 + 1);
		expect(lean.instances).toEqual(sdk.instances);
		// The AMI the describe (`d`) shows, read by both.
		expect(lean.instances.every(instance => /^ami-[0-9a-f]{8,17}$/.test(instance.imageId ?? ''))).toBe(true);
		expect(lean.instances.filter(instance => ids.spot.includes(instance.id)).map(instance => instance.imageId)).toEqual(['ami-12c6146b']);
		expect(lean.calls).toBe(sdk.calls);
		if (pageSize === 5) {
			// Several pages in us-east-1 (12 reservations at 5 a page).
			expect(lean.calls).toBeGreaterThanOrEqual(4);
		}

		const byId = new Map(lean.instances.map(instance => [instance.id, instance]));
		const tricky = byId.get(ids.awkward[0]!)!;
		expect(tricky.tags['Environment']).toBe(awkward);
		expect(tricky.tags['Role & <Kind>']).toBe('agent');
		expect(tricky.tags['Empty']).toBe('');
		expect(Object.hasOwn(tricky.tags, '__proto__')).toBe(true);
		expect(Object.getOwnPropertyDescriptor(tricky.tags, '__proto__')?.value).toBe('y');
		expect(Object.hasOwn(tricky.tags, 'constructor') && tricky.tags['constructor']).toBe('x');
		expect(byId.get(ids.spot[0]!)).toMatchObject({lifecycle: 'spot', availabilityZone: 'us-east-1a', tenancy: 'default', state: 'running', type: 'm5.large'});
		expect(byId.get(ids.zoneB[0]!)).toMatchObject({lifecycle: 'on-demand', availabilityZone: 'eu-west-1b', region: 'eu-west-1'});
		expect(byId.get(ids.stopped[0]!)?.state).toBe('stopped');
		for (const instance of lean.instances) {
			expect(typeof instance.launchedAt).toBe('number');
		}
	});

	test('volumes: the same sizes, types, rates and attachments, a page at a time', async () => {
		const {instances} = await fleet(moto.url).list({envTagKey: 'Environment', states: allStates});
		for (const region of regions) {
			const inRegion = instances.filter(instance => instance.region === region).map(instance => instance.id);
			const lean = await fleet(moto.url).volumes(region, inRegion);
			const sdk = await fleet(moto.url, {leanDecoding: false}).volumes(region, inRegion);
			// moto gives each instance its root volume.
			expect(lean.volumes).toHaveLength(inRegion.length);
			expect(new Set(lean.volumes.map(volume => volume.instanceId))).toEqual(new Set(inRegion));
			expect(lean).toEqual(sdk);
		}
	});

	test('a DescribeVolumes page holding more volumes than the 500 asked for: the region\'s volumes are an error, by either decoder', async () => {
		const {instances} = await fleet(moto.url).list({envTagKey: 'Environment', states: allStates, regions: ['eu-west-1']});
		const id = instances[0]!.id;
		const item = (n: number) => `<item><volumeId>vol-${n.toString(16).padStart(17, '0')}</volumeId><size>8</size><volumeType>gp3</volumeType><attachmentSet><item><instanceId>${id}</instanceId></item></attachmentSet></item>`;
		const body = `<DescribeVolumesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><volumeSet>${Array.from({length: 501}, (_, n) => item(n)).join('')}</volumeSet></DescribeVolumesResponse>`;
		proxy.rule = request => (request.action === 'DescribeVolumes' ? {reply: {status: 200, body, contentType: 'text/xml;charset=UTF-8'}} : undefined);
		await expect(fleet(proxy.url).volumes('eu-west-1', [id])).rejects.toThrow(/more than 500 items in one page/);
		await expect(fleet(proxy.url, {leanDecoding: false}).volumes('eu-west-1', [id])).rejects.toThrow(/holds 501 volumes, more than the 500 asked for/);
	});

	test('an answer that starts with a byte order mark reads as without one', async () => {
		const real = await (await fetch(`${moto.url}/?Action=DescribeInstances&Version=2016-11-15`, {headers: {authorization: 'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0'}})).text();
		proxy.rule = request => (request.action === 'DescribeInstances' ? {reply: {status: 200, body: `\uFEFF${real}`, contentType: 'text/xml;charset=UTF-8'}} : undefined);
		const query: FleetQuery = {envTagKey: 'Environment', states: allStates, regions: ['us-east-1']};
		const withMark = await fleet(proxy.url).list(query);
		proxy.rule = () => undefined;
		const without = await fleet(moto.url).list(query);
		expect(withMark.errors).toEqual([]);
		expect(withMark.instances).toEqual(without.instances);
	});

	test('platform details (which moto 5.2 leaves out) as EC2 sends them, in a real moto answer', async () => {
		// moto's own answer for us-east-1, fetched unsigned (moto does not check signatures), with
		// <platformDetails> added after each instance's type as EC2 writes it.
		const real = await (await fetch(`${moto.url}/?Action=DescribeInstances&Version=2016-11-15`, {headers: {authorization: 'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0'}})).text();
		const body = real.replaceAll('</instanceType>', '</instanceType><platformDetails>Red Hat Enterprise Linux with SQL Server Standard &amp; HA</platformDetails>');
		expect(body).not.toBe(real);
		proxy.rule = request => (request.action === 'DescribeInstances' ? {reply: {status: 200, body, contentType: 'text/xml;charset=UTF-8'}} : undefined);
		const query: FleetQuery = {envTagKey: 'Environment', states: allStates, regions: ['us-east-1']};
		const lean = await fleet(proxy.url).list(query);
		const sdk = await fleet(proxy.url, {leanDecoding: false}).list(query);
		expect(lean.errors).toEqual([]);
		expect(lean.instances).toEqual(sdk.instances);
		expect(lean.instances.length).toBeGreaterThan(10);
		expect(new Set(lean.instances.map(instance => instance.platformDetails))).toEqual(new Set(['Red Hat Enterprise Linux with SQL Server Standard & HA']));
	});
});

describe('malformed answers: the region errs, never a shorter listing', () => {
	const page = (inside: string) => `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><reservationSet><item><reservationId>r-0a</reservationId><instancesSet>
${inside}
</instancesSet></item></reservationSet></DescribeInstancesResponse>`;
	const good = '<item><instanceId>i-0aaaaaaaaaaaaaaa1</instanceId><instanceType>t3.large</instanceType><instanceState><code>16</code><name>running</name></instanceState></item>';

	test.each([
		['a mismatched closing tag', `${good}<item><instanceId>i-0aaaaaaaaaaaaaaa2</instanceType><instanceState><name>running</name></instanceState></item>`, /closed by <\/instanceType>/, true],
		['an unknown entity', `${good}<item><instanceId>i-0aaaaaaaaaaaaaaa2</instanceId><instanceType>t3.large&bogus;</instanceType><instanceState><name>running</name></instanceState></item>`, /unknown entity &bogus;/, false],
		['an element never closed', `${good}<item><instanceId>i-0aaaaaaaaaaaaaaa2</instanceId>`, /closed by <\/instancesSet>/, true],
		['an instance without a state', `${good}<item><instanceId>i-0aaaaaaaaaaaaaaa2</instanceId><instanceType>t3.large</instanceType></item>`, /instance i-0aaaaaaaaaaaaaaa2 has no state/, true],
	])('%s', async (_name, inside, message, sdkRejects) => {
		const body = page(inside);
		proxy.rule = request => (request.action === 'DescribeInstances' && request.region === 'us-east-1' ? {reply: {status: 200, body, contentType: 'text/xml;charset=UTF-8'}} : undefined);
		const listing = await fleet(proxy.url).list({envTagKey: 'Environment', states: allStates});
		expect(listing.instances.map(instance => instance.region).every(region => region === 'eu-west-1')).toBe(true);
		expect(listing.instances).toHaveLength(4 + 2);
		expect(listing.errors).toHaveLength(1);
		expect(listing.errors[0]).toMatchObject({region: 'us-east-1', message: expect.stringMatching(message) as unknown});
		// The SDK's decoding rejects the same page, but for an unknown entity, which it reads as
		// text (an instance of type "t3.large&bogus;"): the lean decoder is the stricter there.
		const sdk = await fleet(proxy.url, {leanDecoding: false}).list({envTagKey: 'Environment', states: allStates});
		expect(sdk.errors.map(error => error.region)).toEqual(sdkRejects ? ['us-east-1'] : []);
	});
});

describe('an unusable instance on a later page', () => {
	test('names its page, as the SDK path does, and the region lists nothing', async () => {
		// Instances are checked as the lean decoder reads them: the page number still comes from the listing.
		const page = (inside: string, next: string) => `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><reservationSet><item><reservationId>r-0a</reservationId><instancesSet>${inside}</instancesSet></item></reservationSet>${next}</DescribeInstancesResponse>`;
		const instance = (id: string, type: string) => `<item><instanceId>${id}</instanceId><instanceType>${type}</instanceType><instanceState><code>16</code><name>running</name></instanceState></item>`;
		const first = page(instance('i-0aaaaaaaaaaaaaaa1', 't3.large'), '<nextToken>page-2</nextToken>');
		const second = page(instance('i-0aaaaaaaaaaaaaaa2', 't3.large') + instance('i-0aaaaaaaaaaaaaaa3', ''), '');
		proxy.rule = request => (request.action === 'DescribeInstances' && request.region === 'us-east-1'
			? {reply: {status: 200, body: request.body.includes('NextToken=page-2') ? second : first, contentType: 'text/xml;charset=UTF-8'}}
			: undefined);
		const query: FleetQuery = {envTagKey: 'Environment', states: allStates, regions: ['us-east-1']};
		const lean = await fleet(proxy.url).list(query);
		const sdk = await fleet(proxy.url, {leanDecoding: false}).list(query);
		expect(lean.instances).toEqual([]);
		expect(lean.errors).toEqual([{region: 'us-east-1', message: 'DescribeInstances page 2: instance i-0aaaaaaaaaaaaaaa3 has no instance type: its cost is unknown'}]);
		expect(lean.errors).toEqual(sdk.errors);
		expect(sdk.calls).toBe(2);
		expect(lean.calls).toBe(2);
	});
});
