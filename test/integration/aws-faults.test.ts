import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, beforeEach, describe, expect, test} from 'vitest';
import {loadConfig} from '../../source/config/load.js';
import {AuditLog} from '../../source/engine/state/audit.js';
import {Monitor} from '../../source/engine/monitor.js';
import {StateStore} from '../../source/engine/state/store.js';
import {SnapshotStore} from '../../source/engine/snapshot-store.js';
import {UsageError} from '../../source/domain/errors.js';
import {createAwsProvider} from '../../source/providers/aws/index.js';
import {AwsFleet} from '../../source/providers/aws/fleet.js';
import type {Timer} from '../../source/providers/aws/rate.js';
import {CreateTagsCommand, DescribeInstancesCommand} from '@aws-sdk/client-ec2';
import type {InstanceOutcome, Target} from '../../source/providers/types.js';
import {ec2, launch, testCredentials, useFaultProxy, useMoto} from '../helpers/moto.js';

// Faults are made by a small loopback HTTP proxy in front of moto_server (test/helpers/moto.ts,
// startFaultProxy): it answers chosen requests with an AWS error of our choosing and forwards the
// rest to moto. The SDK clients are real and go through their standard retry strategy.
const moto = useMoto();
const proxy = useFaultProxy(moto);
const motoUrl = () => moto.url;
const regions = ['us-east-1', 'eu-west-1'];
const config = loadConfig({noStore: true, flags: {regions}}).config;
let devAgents: string[];

beforeEach(async () => {
	devAgents = await launch(moto.url, {region: 'us-east-1', count: 3, environment: 'dev', role: 'agent'});
	await launch(moto.url, {region: 'eu-west-1', count: 2, environment: 'staging', role: 'agent'});
});

/** Fails the first `times` requests for `action` (in `region`, when given) with `fault`. */
function failFirst(action: string, times: number, fault: {status: number; code: string}, region?: string) {
	let left = times;
	proxy.rule = request => {
		if (request.action === action && (!region || request.region === region) && left > 0) {
			left--;
			return fault;
		}

		return undefined;
	};
}

const instantTimer: Timer = {now: () => Date.now(), sleep: async () => undefined};

function fleet(extra: Partial<ConstructorParameters<typeof AwsFleet>[0]> = {}): AwsFleet {
	return new AwsFleet({regions, endpointUrl: proxy.url, credentials: testCredentials, ...extra});
}

const count = (action: string, region?: string) => proxy.seen.filter(request => request.action === action && (!region || request.region === region)).length;

describe('listing under faults', () => {
	test('throttling (503 RequestLimitExceeded twice) is absorbed by the SDK retry', async () => {
		failFirst('DescribeInstances', 2, {status: 503, code: 'RequestLimitExceeded'}, 'us-east-1');
		const listing = await fleet().list({envTagKey: 'Environment', states: ['running']});
		expect(listing.errors).toEqual([]);
		expect(listing.instances).toHaveLength(5);
		expect(count('DescribeInstances', 'us-east-1')).toBe(3);
		expect(listing.calls).toBe(4); // 3 attempts in us-east-1, 1 in eu-west-1
	});

	test('5xx (500 InternalError twice) is absorbed by the SDK retry', async () => {
		failFirst('DescribeInstances', 2, {status: 500, code: 'InternalError'}, 'eu-west-1');
		const listing = await fleet().list({envTagKey: 'Environment', states: ['running']});
		expect(listing.errors).toEqual([]);
		expect(listing.instances).toHaveLength(5);
	});

	test('a persistent 503 makes that region an error, the data STALE and no action; recovery is automatic', async () => {
		proxy.rule = request => request.action === 'DescribeInstances' && request.region === 'eu-west-1' ? {status: 503, code: 'Unavailable'} : undefined;
		const listing = await fleet().list({envTagKey: 'Environment', states: ['running']});
		expect(listing.instances.map(instance => instance.region)).toEqual(['us-east-1', 'us-east-1', 'us-east-1']);
		expect(listing.errors).toEqual([{region: 'eu-west-1', code: 'Unavailable', message: 'Unavailable (after 3 attempts)'}]);

		// The same through the real monitor loop: STALE with the reason, then fresh again.
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-faults-'));
		const provider = {source: 'aws test', fleet: fleet(), billing: undefined};
		const monitor = new Monitor({
			provider,
			config: {...config, costExplorer: {...config.costExplorer, enabled: false}},
			monitored: ['dev', 'staging', 'production'],
			store: new SnapshotStore(),
			state: new StateStore(dir),
			audit: new AuditLog(path.join(dir, 'audit.jsonl')),
			clock: () => Date.now(),
			options: {dryRun: false, readOnly: false, actor: 'test@host'},
		});
		const stale = await monitor.poll();
		expect(stale.error).toContain('eu-west-1: Unavailable');
		expect(stale.environments.map(environment => environment.status)).toEqual(['STALE', 'STALE', 'STALE']);
		expect(stale.decisions.filter(decision => decision.kind === 'stop' || decision.kind === 'emergency')).toEqual([]);

		proxy.rule = () => undefined;
		const fresh = await monitor.poll();
		expect(fresh.error).toBeNull();
		expect(fresh.environments.every(environment => environment.status !== 'STALE')).toBe(true);
		expect(fresh.environments.find(environment => environment.name === 'staging')?.agents.running).toBe(2);
		await monitor.stop();
		fs.rmSync(dir, {recursive: true, force: true});
	});
});

describe('answers that repeat themselves', () => {
	/** moto's page answered again under a new token (the token dropped before moto sees it): token, end. */
	const twice = (request: {action: string; region: string | undefined; n: number}) => (request.action === 'DescribeInstances' && request.region === 'us-east-1'
		? {rewrite: {request: (body: string) => body.replace(/(^|&)NextToken=[^&]*/, ''), answer: (body: string) => (request.n === 1 ? body.replace('</DescribeInstancesResponse>', '<nextToken>again</nextToken></DescribeInstancesResponse>') : body)}}
		: undefined);

	for (const leanDecoding of [true, false]) {
		test(`an instance listed twice (the same page again) errs its region, never counts twice (${leanDecoding ? 'lean decoder' : 'SDK decoder'})`, async () => {
			proxy.rule = twice;
			const listing = await fleet({leanDecoding}).list({envTagKey: 'Environment', states: ['running']});
			expect(listing.instances.map(instance => instance.region)).toEqual(['eu-west-1', 'eu-west-1']);
			expect(listing.errors).toEqual([{region: 'us-east-1', code: 'MalformedAnswer', message: expect.stringMatching(/^DescribeInstances page 2 lists i-[0-9a-f]+ again \(first on page 1\): an answer that repeats itself, not believed$/) as unknown}]);
		});
	}

	test('a volume listed twice by one answer makes its region\'s volumes an error, never counted twice', async () => {
		proxy.rule = request => (request.action === 'DescribeVolumes'
			? {rewrite: {answer: (body: string) => body.replace(/<volumeSet>(.*)<\/volumeSet>/s, (_whole, items: string) => `<volumeSet>${items}${items}</volumeSet>`)}}
			: undefined);
		await expect(fleet().volumes('us-east-1', devAgents)).rejects.toThrow(/^DescribeVolumes page 1 lists vol-[0-9a-f]+ again \(first on page 1\): an answer that repeats itself, not believed/);
	});
});

describe('answers that are not EC2 answers (a proxy, a captive portal, a broken endpoint)', () => {
	const html = {reply: {status: 200, body: '<!DOCTYPE html><html><head><title>Sign in to the guest network</title></head><body>Welcome</body></html>', contentType: 'text/html; charset=utf-8'}};

	test('an HTML page with 200 for one of two regions: that region errs, naming what came back; the other is listed', async () => {
		proxy.rule = request => request.action === 'DescribeInstances' && request.region === 'eu-west-1' ? html : undefined;
		const listing = await fleet().list({envTagKey: 'Environment', states: ['running']});
		expect(listing.instances.map(instance => instance.id).sort()).toEqual([...devAgents].sort());
		expect(listing.errors).toHaveLength(1);
		expect(listing.errors[0]).toMatchObject({region: 'eu-west-1', code: 'MalformedAnswer'});
		const message = listing.errors[0]!.message;
		expect(message).toContain('DescribeInstances answered HTTP 200 text/html; charset=utf-8');
		expect(message).toContain('bytes, starting "<!DOCTYPE html><html><head><title>Sign i..."');
		expect(message).toContain('expected an XML <DescribeInstancesResponse> document');
		// Not retried as if it were a transient failure: one request.
		expect(count('DescribeInstances', 'eu-west-1')).toBe(1);
	});

	test('an empty 200 is an error for that region, not "no instances"', async () => {
		proxy.rule = request => request.action === 'DescribeInstances' && request.region === 'us-east-1' ? {reply: {status: 200, body: '', contentType: 'text/xml;charset=UTF-8'}} : undefined;
		const listing = await fleet().list({envTagKey: 'Environment', states: ['running']});
		expect(listing.instances.map(instance => instance.region)).toEqual(['eu-west-1', 'eu-west-1']);
		expect(listing.errors).toEqual([{region: 'us-east-1', code: 'MalformedAnswer', message: expect.stringContaining('DescribeInstances answered HTTP 200 text/xml;charset=UTF-8, 0 bytes: expected an XML <DescribeInstancesResponse> document') as unknown}]);
	});

	test('a real answer cut off half-way (200, content length matching the cut) is an error, not a shorter listing', async () => {
		proxy.rule = request => request.action === 'DescribeInstances' && request.region === 'us-east-1' ? {truncate: 0.5} : undefined;
		const listing = await fleet().list({envTagKey: 'Environment', states: ['running']});
		expect(listing.instances.map(instance => instance.region)).toEqual(['eu-west-1', 'eu-west-1']);
		expect(listing.errors).toHaveLength(1);
		expect(listing.errors[0]!.region).toBe('us-east-1');
		expect(listing.errors[0]!.message).toMatch(/^DescribeInstances answered HTTP 200 .*cut off before <\/DescribeInstancesResponse>/);
	});

	test.each([
		['an HTML page', html],
		['a cut-off answer', {truncate: 0.5}],
	] as const)('page 2 of 3 is %s: the whole region errs, no half listing', async (_name, fault) => {
		await launch(moto.url, {region: 'us-west-2', count: 12, perReservation: 1, environment: 'dev', role: 'agent'});
		proxy.rule = request => request.action === 'DescribeInstances' && request.region === 'us-west-2' && request.n === 2 ? fault : undefined;
		const listing = await fleet({pageSize: 5}).list({envTagKey: 'Environment', states: ['running'], regions: ['us-east-1', 'us-west-2']});
		expect(listing.instances.map(instance => instance.region)).toEqual(['us-east-1', 'us-east-1', 'us-east-1']);
		expect(listing.errors.map(error => error.region)).toEqual(['us-west-2']);
		expect(count('DescribeInstances', 'us-west-2')).toBe(2);
		// And without the fault the same query reads all three pages.
		proxy.rule = () => undefined;
		const whole = await fleet({pageSize: 5}).list({envTagKey: 'Environment', states: ['running'], regions: ['us-west-2']});
		expect(whole.instances).toHaveLength(12);
		expect(whole.calls).toBe(3);
	});

	test('a well-formed page with an instance that has no state: the region errs instead of skipping it', async () => {
		const body = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><reservationSet><item><reservationId>r-0a</reservationId><instancesSet>
<item><instanceId>i-0aaaaaaaaaaaaaaa1</instanceId><instanceType>t3.large</instanceType><instanceState><code>16</code><name>running</name></instanceState></item>
<item><instanceId>i-0aaaaaaaaaaaaaaa2</instanceId><instanceType>t3.large</instanceType></item>
</instancesSet></item></reservationSet></DescribeInstancesResponse>`;
		proxy.rule = request => request.action === 'DescribeInstances' && request.region === 'us-east-1' ? {reply: {status: 200, body, contentType: 'text/xml;charset=UTF-8'}} : undefined;
		const listing = await fleet().list({envTagKey: 'Environment', states: ['running']});
		expect(listing.instances.map(instance => instance.region)).toEqual(['eu-west-1', 'eu-west-1']);
		expect(listing.errors).toEqual([{region: 'us-east-1', message: expect.stringContaining('instance i-0aaaaaaaaaaaaaaa2 has no state') as unknown}]);
	});

	test('StopInstances answered with an HTML 200: every instance of the batch is an error, none reads as stopping', async () => {
		proxy.rule = request => request.action === 'StopInstances' ? html : undefined;
		const outcomes = await fleet().stop(devAgents.map(id => ({id, region: 'us-east-1'})), {dryRun: false});
		expect(outcomes.map(outcome => outcome.result)).toEqual(['error', 'error', 'error']);
		expect(outcomes[0]!.message).toContain('StopInstances answered HTTP 200 text/html');
		expect(outcomes[0]!.message).toContain('(region us-east-1)');
	});

	test('a StopInstances answer that does not account for the batch: the missing instance is an error', async () => {
		// A well-formed answer that names only the first instance of three.
		proxy.rule = request => request.action === 'StopInstances' ? {reply: {status: 200, contentType: 'text/xml;charset=UTF-8', body: `<StopInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><instancesSet>
<item><instanceId>${devAgents[0]}</instanceId><currentState><code>64</code><name>stopping</name></currentState><previousState><code>16</code><name>running</name></previousState></item>
<item><instanceId>${devAgents[1]}</instanceId></item>
</instancesSet></StopInstancesResponse>`}} : undefined;
		const outcomes = await fleet().stop(devAgents.map(id => ({id, region: 'us-east-1'})), {dryRun: false});
		expect(outcomes.map(outcome => outcome.result)).toEqual(['stopping', 'error', 'error']);
		expect(outcomes[1]!.message).toContain('has no known current state');
		expect(outcomes[2]!.message).toContain('did not report');
	});

	test('RunInstances and DescribeLaunchTemplateVersions answered with HTML: an error, never an empty success', async () => {
		proxy.rule = request => request.action === 'RunInstances' || request.action === 'DescribeLaunchTemplateVersions' ? html : undefined;
		const aws = fleet();
		const launched = await aws.launch({region: 'us-east-1', template: {name: 'agents', version: '$Latest'}, count: 2, tags: {Environment: 'dev'}, dryRun: false});
		expect(launched.result).toBe('error');
		expect(launched.message).toContain('RunInstances answered HTTP 200 text/html');
		await expect(aws.templateInstanceType('us-east-1', {name: 'agents', version: '$Latest'})).rejects.toThrow(/DescribeLaunchTemplateVersions answered HTTP 200 text\/html/);
	});
});

describe('stopping under faults', () => {
	test('StopInstances throttled past the SDK retries is tried again with backoff until it goes through', async () => {
		// 5 throttles: the SDK's 3 attempts fail, our backoff loop's next call fails twice more, then succeeds.
		failFirst('StopInstances', 5, {status: 503, code: 'RequestLimitExceeded'});
		const sleeps: number[] = [];
		const aws = fleet({timer: {...instantTimer, sleep: async ms => {
			sleeps.push(ms);
		}}, random: () => 0.5});
		const outcomes = await aws.stop(devAgents.map(id => ({id, region: 'us-east-1'})), {dryRun: false});
		expect(outcomes.map(outcome => outcome.result)).toEqual(['stopping', 'stopping', 'stopping']);
		expect(count('StopInstances')).toBe(6);
		expect(aws.stats.throttled).toBe(1);
		// Full jitter: half of the 1 s base on the first backoff with random() = 0.5.
		expect(sleeps).toEqual([500]);
	});

	test('persistent throttling ends as an error outcome per instance, nothing half-done', async () => {
		proxy.rule = request => request.action === 'StopInstances' ? {status: 503, code: 'RequestLimitExceeded'} : undefined;
		const aws = fleet({timer: instantTimer, throttleRetries: 2, maxAttempts: 1});
		const outcomes = await aws.stop(devAgents.map(id => ({id, region: 'us-east-1'})), {dryRun: false});
		expect(outcomes.every(outcome => outcome.result === 'error' && outcome.message?.includes('RequestLimitExceeded'))).toBe(true);
		expect(count('StopInstances')).toBe(3);
	});

	test('a NotFound that names no instance: the batch is bisected until the bad ID is alone', async () => {
		// The proxy answers InvalidInstanceID.NotFound, without naming the ID, to any StopInstances
		// that carries the ghost ID, and forwards the rest to moto.
		const ghost = 'i-0123456789abcdef0';
		proxy.rule = request => request.action === 'StopInstances' && request.body.includes(ghost) ? {status: 400, code: 'InvalidInstanceID.NotFound', message: 'An instance ID does not exist'} : undefined;
		const targets = [devAgents[0]!, ghost, devAgents[1]!, devAgents[2]!].map(id => ({id, region: 'us-east-1'}));
		const outcomes = await fleet().stop(targets, {dryRun: false});
		expect(outcomes.map(outcome => outcome.result)).toEqual(['stopping', 'not-found', 'stopping', 'stopping']);
		// [a, ghost, b, c] -> [a, ghost] + [b, c] -> [a] + [ghost]: 5 calls, 3 rejected.
		expect(count('StopInstances')).toBe(5);
	});

	test('UnauthorizedOperation is reported per instance with the missing permission', async () => {
		// moto does not enforce IAM, so the denial is injected by the proxy.
		proxy.rule = request => request.action === 'StopInstances' ? {status: 403, code: 'UnauthorizedOperation'} : undefined;
		const outcomes = await fleet().stop(devAgents.map(id => ({id, region: 'us-east-1'})), {dryRun: true});
		expect(outcomes.map(outcome => outcome.result)).toEqual(['unauthorized', 'unauthorized', 'unauthorized']);
		expect(outcomes[0]!.message).toContain('ec2:StopInstances');
	});
});

describe('the scope re-check before each batch', () => {
	/** What the engine's re-check does: list the batch again with the server-side filters, by instance ID. */
	const recheckWith = (aws: AwsFleet) => async (batch: Target[]) => {
		const listing = await aws.list({envTagKey: 'Environment', envTagValues: ['dev'], role: {key: 'Role', value: 'agent'}, states: ['pending', 'running'], regions: [batch[0]!.region], instanceIds: batch.map(target => target.id)});
		if (listing.errors.length > 0) {
			throw new Error(listing.errors.map(error => `${error.region}: ${error.message}`).join('; '));
		}

		return new Set(listing.instances.map(instance => instance.id));
	};

	async function moto(id: string): Promise<string | undefined> {
		const client = ec2(motoUrl(), 'us-east-1');
		try {
			const answer = await client.send(new DescribeInstancesCommand({InstanceIds: [id]}));
			return answer.Reservations?.[0]?.Instances?.[0]?.State?.Name;
		} finally {
			client.destroy();
		}
	}

	test('an agent retagged while batch 1 is stopped is left running: out-of-scope, not in any call; onBatch sees 3 batches', async () => {
		const [first, retagged, third] = devAgents as [string, string, string];
		// The retag lands as the 1st StopInstances arrives, i.e. after batch 1's re-check and before batch 2's.
		proxy.before = async request => {
			if (request.action === 'StopInstances' && request.n === 1) {
				const client = ec2(motoUrl(), 'us-east-1');
				await client.send(new CreateTagsCommand({Resources: [retagged], Tags: [{Key: 'Environment', Value: 'production'}]}));
				client.destroy();
			}
		};
		const aws = fleet({maxBatch: 1});
		const batches: InstanceOutcome[][] = [];
		const outcomes = await aws.stop(devAgents.map(id => ({id, region: 'us-east-1'})), {dryRun: false, recheck: recheckWith(aws), onBatch: done => batches.push(done)});
		expect(outcomes.map(outcome => [outcome.id, outcome.result])).toEqual([[first, 'stopping'], [retagged, 'out-of-scope'], [third, 'stopping']]);
		expect(outcomes[1]!.message).toBe('left scope before its batch (retagged or gone)');
		expect(batches.map(batch => batch.map(outcome => [outcome.id, outcome.result]))).toEqual([[[first, 'stopping']], [[retagged, 'out-of-scope']], [[third, 'stopping']]]);
		expect(await moto(retagged)).toBe('running');
		expect(await moto(third)).toBe('stopped');
		// Three re-checks by instance ID, two StopInstances calls (none for the retagged agent).
		expect(proxy.seen.filter(request => request.action === 'DescribeInstances' && request.body.includes('instance-id')).length).toBe(3);
		expect(proxy.seen.filter(request => request.action === 'StopInstances').map(request => request.body.includes(retagged))).toEqual([false, false]);
	});

	test('a re-check that fails (its listing answered with HTML): that batch is not acted on, the others are', async () => {
		proxy.rule = request => request.action === 'DescribeInstances' && request.n === 2 ? {reply: {status: 200, body: '<html>portal</html>', contentType: 'text/html'}} : undefined;
		const aws = fleet({maxBatch: 1});
		const outcomes = await aws.stop(devAgents.map(id => ({id, region: 'us-east-1'})), {dryRun: false, recheck: recheckWith(aws)});
		expect(outcomes.map(outcome => outcome.result)).toEqual(['stopping', 'error', 'stopping']);
		expect(outcomes[1]!.message).toMatch(/^not acted on: could not re-check this batch's scope \(us-east-1: DescribeInstances answered HTTP 200 text\/html/);
		expect(await moto(devAgents[1]!)).toBe('running');
		expect(count('StopInstances')).toBe(2);
	});
});

describe('credentials', () => {
	const saved = {...process.env};
	afterEach(() => {
		for (const key of Object.keys(process.env)) {
			if (!(key in saved)) {
				delete process.env[key];
			}
		}

		Object.assign(process.env, saved);
	});

	test('missing credentials: one paragraph naming what was tried and what to do, as a UsageError (exit 2)', async () => {
		// The fault: an environment with no keys, no profile files and instance metadata disabled.
		for (const key of Object.keys(process.env).filter(key => key.startsWith('AWS_'))) {
			delete process.env[key];
		}

		Object.assign(process.env, {AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_EC2_METADATA_DISABLED: 'true'});
		const error = await createAwsProvider(config, {endpointUrl: moto.url}).catch((error_: unknown) => error_);
		expect(error).toBeInstanceOf(UsageError);
		const message = (error as UsageError).message;
		expect(message).toMatch(/^no AWS credentials could be found \(CredentialsProviderError\)/);
		expect(message).toContain('environment variables');
		expect(message).toContain('aws sso login');
		expect(message).toContain('--profile');
		expect(message).toContain('--demo');
		expect(message).not.toContain('\n');
		expect(message).not.toMatch(/\n\s+at /);
	});

	test('expired credentials (STS answers ExpiredToken): a UsageError, and the secret never appears', async () => {
		// moto accepts any keys, so the expiry is injected by the proxy.
		proxy.rule = request => request.action === 'GetCallerIdentity' ? {status: 403, code: 'ExpiredToken'} : undefined;
		const secret = 'wJalrXUtnFEMI-SECRET-DO-NOT-PRINT';
		const error = await createAwsProvider(config, {endpointUrl: proxy.url, credentials: {accessKeyId: 'AKIDEXPIRED', secretAccessKey: secret, sessionToken: 'TOKEN-DO-NOT-PRINT'}}).catch((error_: unknown) => error_);
		expect(error).toBeInstanceOf(UsageError);
		const message = (error as UsageError).message;
		expect(message).toContain('AWS rejected the credentials (ExpiredToken');
		expect(message).not.toContain(secret);
		expect(message).not.toContain('DO-NOT-PRINT');
	});

	test('STS unreachable (persistent 503 from the proxy) is not fatal: the account is unknown, the fleet still lists', async () => {
		proxy.rule = request => request.action === 'GetCallerIdentity' ? {status: 503, code: 'ServiceUnavailable'} : undefined;
		const provider = await createAwsProvider(config, {endpointUrl: proxy.url, credentials: testCredentials, maxAttempts: 1});
		expect(provider.source).toBe('aws (account unknown) us-east-1,eu-west-1');
		const listing = await provider.fleet.list({envTagKey: 'Environment', states: ['running']});
		expect(listing.instances).toHaveLength(5);
		provider.close?.();
	});

	test('STS answering an HTML 200 (a captive portal) leaves the account unknown rather than reading an empty answer', async () => {
		proxy.rule = request => request.action === 'GetCallerIdentity' ? {reply: {status: 200, body: '<html>Accept the terms</html>', contentType: 'text/html'}} : undefined;
		const provider = await createAwsProvider(config, {endpointUrl: proxy.url, credentials: testCredentials, maxAttempts: 1});
		expect(provider.source).toBe('aws (account unknown) us-east-1,eu-west-1');
		provider.close?.();
	});

	test('with working credentials the source names the account and regions', async () => {
		const provider = await createAwsProvider(config, {endpointUrl: moto.url, credentials: testCredentials});
		expect(provider.source).toBe('aws 123456789012 us-east-1,eu-west-1');
		expect(provider.billing).toBeDefined();
		provider.close?.();
	});
});
