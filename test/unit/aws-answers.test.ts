import {CostExplorerClient, GetCostAndUsageCommand} from '@aws-sdk/client-cost-explorer';
import {DescribeInstancesCommand, EC2Client} from '@aws-sdk/client-ec2';
import {describe, expect, test} from 'vitest';
import {Budget, BudgetError, checkAnswer, checkAnswers, MalformedAnswerError, PageCapError, paginate, Unique} from '../../source/providers/aws/answers.js';
import {AwsFleet} from '../../source/providers/aws/fleet.js';
import {instancesOf} from '../../source/providers/aws/instances.js';

// The pure halves of the answer checks; the same checks through the SDK against moto and the
// fault proxy are in test/integration/aws-faults.test.ts.
const bytes = (text: string) => new TextEncoder().encode(text);
const complete = '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet/></DescribeInstancesResponse>\n';

describe('checkAnswer', () => {
	test('a complete EC2 answer passes; the same cut off, under another root or as HTML does not', () => {
		expect(checkAnswer('DescribeInstances', 'xml', 200, 'text/xml;charset=UTF-8', bytes(complete))).toBeUndefined();
		expect(checkAnswer('DescribeInstances', 'xml', 200, 'text/xml', bytes(complete.slice(0, 120)))).toMatch(/cut off before <\/DescribeInstancesResponse>/);
		expect(checkAnswer('StopInstances', 'xml', 200, 'text/xml', bytes(complete))).toMatch(/expected an XML <StopInstancesResponse> document/);
		expect(checkAnswer('DescribeInstances', 'xml', 200, 'text/xml', bytes('<html><body>Log in</body></html>'))).toContain('starting "<html><body>Log in</body></html>"');
		expect(checkAnswer('DescribeInstances', 'xml', 200, 'text/html', bytes(complete))).toContain('HTTP 200 text/html');
	});

	test('what came back is quoted short and printable: 40 characters, no control characters', () => {
		const message = checkAnswer('DescribeInstances', 'xml', 200, undefined, bytes(`\u0007\u001b[31m${'x'.repeat(100)}`))!;
		expect(message).toContain('(no content type), 106 bytes, starting "[31m');
		// eslint-disable-next-line no-control-regex
		expect(message).not.toMatch(/[\u0000-\u001F]/);
		expect(/starting "([^"]*)"/.exec(message)![1]!.length).toBeLessThanOrEqual(43);
	});

	test('AWS error answers are left to the SDK; an HTML error page is named', () => {
		expect(checkAnswer('StopInstances', 'xml', 400, 'text/xml', bytes('<?xml version="1.0"?><Response><Errors><Error><Code>X</Code></Error></Errors></Response>'))).toBeUndefined();
		expect(checkAnswer('GetCallerIdentity', 'xml', 403, 'text/xml', bytes('<ErrorResponse><Error><Code>ExpiredToken</Code></Error></ErrorResponse>'))).toBeUndefined();
		expect(checkAnswer('StopInstances', 'xml', 502, 'text/html', bytes('<html>Bad gateway</html>'))).toBe('StopInstances answered HTTP 502 text/html, 24 bytes, starting "<html>Bad gateway</html>": not an AWS error answer');
	});

	test('JSON answers (Cost Explorer): an object, complete', () => {
		expect(checkAnswer('GetCostAndUsage', 'json', 200, 'application/x-amz-json-1.1', bytes('{"ResultsByTime":[]}'))).toBeUndefined();
		expect(checkAnswer('GetCostAndUsage', 'json', 200, 'application/x-amz-json-1.1', bytes('{"ResultsByTime":['))).toMatch(/not valid JSON \(cut off\?\)/);
		expect(checkAnswer('GetCostAndUsage', 'json', 200, 'application/x-amz-json-1.1', bytes('[]'))).toMatch(/expected a JSON object/);
		expect(checkAnswer('GetCostAndUsage', 'json', 200, 'text/html', bytes('<html><body>Log in</body></html>'))).toMatch(/HTTP 200 text\/html, 32 bytes, starting "<html><body>Log in<\/body><\/html>": expected a JSON object/);
		expect(checkAnswer('GetCostAndUsage', 'json', 200, 'application/json', bytes(''))).toMatch(/0 bytes: expected a JSON object/);
	});
});

describe('instancesOf (one DescribeInstances page)', () => {
	const good = {InstanceId: 'i-0aaaaaaaaaaaaaaa1', InstanceType: 't3.large' as const, State: {Name: 'running' as const}};

	test('complete instances become raw instances', () => {
		expect(instancesOf({Reservations: [{Instances: [{...good, Tags: [{Key: 'Environment', Value: 'constructor'}]}]}]}, 'us-east-1')).toEqual([
			{id: 'i-0aaaaaaaaaaaaaaa1', region: 'us-east-1', type: 't3.large', state: 'running', tags: {Environment: 'constructor'}, lifecycle: 'on-demand'},
		]);
		expect(instancesOf({}, 'us-east-1')).toEqual([]);
		// What it is billed as: market, OS (Platform windows alone is Windows), AZ and tenancy.
		expect(instancesOf({Reservations: [{Instances: [{...good, InstanceLifecycle: 'spot', Platform: 'windows' as never, Placement: {AvailabilityZone: 'us-east-1b', Tenancy: 'dedicated'}}]}]}, 'us-east-1')[0])
			.toMatchObject({lifecycle: 'spot', platformDetails: 'Windows', availabilityZone: 'us-east-1b', tenancy: 'dedicated'});
		expect(instancesOf({Reservations: [{Instances: [{...good, PlatformDetails: 'Red Hat Enterprise Linux'}]}]}, 'us-east-1')[0]).toMatchObject({platformDetails: 'Red Hat Enterprise Linux'});
	});

	test('an instance missing its state, type or ID makes the page (and so its region) err instead of being skipped', () => {
		expect(() => instancesOf({Reservations: [{Instances: [good, {InstanceId: 'i-0aaaaaaaaaaaaaaa2', InstanceType: 't3.large'}]}]}, 'us-east-1', 2))
			.toThrow('DescribeInstances page 2: instance i-0aaaaaaaaaaaaaaa2 has no state: expected one of pending, running, stopping, stopped, shutting-down, terminated');
		expect(() => instancesOf({Reservations: [{Instances: [{...good, State: {Name: 'hibernating' as never}}]}]}, 'us-east-1')).toThrow(/unknown state "hibernating"/);
		expect(() => instancesOf({Reservations: [{Instances: [{...good, InstanceType: undefined}]}]}, 'us-east-1')).toThrow(/has no instance type/);
		expect(() => instancesOf({Reservations: [{Instances: [{...good, InstanceId: undefined}]}]}, 'us-east-1')).toThrow(/\(no ID\) has no valid instance ID/);
	});
});

/**
 * An SDK client whose HTTP layer answers `body` itself (no network, no moto): what a captive portal
 * or a proxy would answer, handed to the real SDK stack. The moto-backed version of these checks is
 * test/integration/aws-faults.test.ts.
 */
function answering<T>(make: (requestHandler: never) => T, status: number, contentType: string, body: string): T {
	return make({handle: async () => ({response: {statusCode: status, headers: {'content-type': contentType}, body: new TextEncoder().encode(body)}})} as never);
}

const credentials = {accessKeyId: 'AKIDTEST', secretAccessKey: 'secret'};
const html = '<!DOCTYPE html><html><head><title>Sign in</title></head><body>Wi-Fi login</body></html>';

describe('an HTML 200 never reaches the SDK\'s parser', () => {
	test('EC2 (the lean decoder and the SDK\'s own): a MalformedAnswerError naming what came back; without the check the SDK reads it as no instances', async () => {
		const ec2 = (requestHandler: never) => new EC2Client({region: 'eu-west-1', credentials, maxAttempts: 1, requestHandler});
		// Unchecked, the SDK's parser takes the page for an empty listing: the blindness the check exists for.
		const unchecked = await answering(ec2, 200, 'text/html', html).send(new DescribeInstancesCommand({MaxResults: 5}));
		expect(unchecked.Reservations ?? []).toEqual([]);

		for (const leanDecoding of [true, false]) {
			const fleet = new AwsFleet({regions: ['eu-west-1'], credentials, maxAttempts: 1, leanDecoding});
			const client = fleet.client('eu-west-1');
			(client.config as {requestHandler: unknown}).requestHandler = {handle: async () => ({response: {statusCode: 200, headers: {'content-type': 'text/html'}, body: new TextEncoder().encode(html)}})};
			const error = await client.send(new DescribeInstancesCommand({MaxResults: 5})).catch((caught: unknown) => caught);
			expect(error).toBeInstanceOf(MalformedAnswerError);
			expect((error as MalformedAnswerError).detail).toBe('DescribeInstances answered HTTP 200 text/html, 87 bytes, starting "<!DOCTYPE html><html><head><title>Sign i...": expected an XML <DescribeInstancesResponse> document, complete');
			fleet.close();
		}
	});

	test('a fleet\'s listing of a region answering HTML is that region\'s error, never an empty fleet', async () => {
		const fleet = new AwsFleet({regions: ['eu-west-1'], credentials, maxAttempts: 1});
		const client = fleet.client('eu-west-1');
		// The fleet's own client (lean decoder and check installed), its HTTP layer swapped for the portal.
		(client.config as {requestHandler: unknown}).requestHandler = {handle: async () => ({response: {statusCode: 200, headers: {'content-type': 'text/html'}, body: new TextEncoder().encode(html)}})};
		const listing = await fleet.list({envTagKey: 'Environment', states: ['running']});
		expect(listing.instances).toEqual([]);
		expect(listing.errors).toEqual([{region: 'eu-west-1', code: 'MalformedAnswer', message: expect.stringContaining('DescribeInstances answered HTTP 200 text/html') as unknown}]);
		fleet.close();
	});

	test('a DescribeVolumes page that never ends: an error soon after it holds more than the 500 volumes asked for, and the rest is not read (SDK mocked: moto cannot answer an endless page)', async () => {
		const fleet = new AwsFleet({regions: ['eu-west-1'], credentials, maxAttempts: 1});
		const client = fleet.client('eu-west-1');
		let sent = 0;
		let closed = false;
		async function * endless(): AsyncGenerator<Uint8Array> {
			try {
				yield bytes('<DescribeVolumesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><volumeSet>');
				// Endless as far as envwatch can tell (bounded here so that a regression fails rather than hangs).
				for (; sent < 5000; sent++) {
					yield bytes('<item><volumeId>vol-0aaaaaaaaaaaaaaa1</volumeId><size>8</size><volumeType>gp3</volumeType><attachmentSet><item><instanceId>i-0aaaaaaaaaaaaaaa1</instanceId></item></attachmentSet></item>'.repeat(100));
				}
			} finally {
				closed = true;
			}
		}

		(client.config as {requestHandler: unknown}).requestHandler = {handle: async () => ({response: {statusCode: 200, headers: {'content-type': 'text/xml'}, body: endless()}})};
		const error = await fleet.volumes('eu-west-1', ['i-0aaaaaaaaaaaaaaa1']).catch((caught: unknown) => caught);
		expect((error as MalformedAnswerError).detail).toMatch(/^DescribeVolumes answered HTTP 200, \d+ bytes before envwatch stopped reading, that is not a readable answer \(more than 500 items in one page: not an answer to the request\)/);
		expect(closed).toBe(true);
		// About 1 MiB read past the failure (some 60 pieces of 17 KB), not the endless rest.
		expect(sent).toBeLessThan(200);
		fleet.close();
	});

	test('a streamed answer over 64 MiB is not read to its end, whatever it holds (SDK mocked: moto cannot answer one)', async () => {
		const fleet = new AwsFleet({regions: ['eu-west-1'], credentials, maxAttempts: 1});
		const client = fleet.client('eu-west-1');
		let sent = 0;
		const spaces = bytes(' '.repeat(1024 * 1024));
		async function * huge(): AsyncGenerator<Uint8Array> {
			yield bytes('<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><reservationSet>');
			// Bounded here (200 MiB) so that a regression fails rather than hangs.
			for (; sent < 200; sent++) {
				yield spaces;
			}
		}

		(client.config as {requestHandler: unknown}).requestHandler = {handle: async () => ({response: {statusCode: 200, headers: {'content-type': 'text/xml'}, body: huge()}})};
		const listing = await fleet.list({envTagKey: 'Environment', states: ['running']});
		expect(listing.instances).toEqual([]);
		expect(listing.errors[0]?.message).toMatch(/before envwatch stopped reading, that is not a readable answer \(over 64 MiB: larger than any page of this call\)/);
		expect(sent).toBeLessThan(70);
		fleet.close();
	});

	test('Cost Explorer: an HTML or empty 200 is an error, never $0', async () => {
		for (const [contentType, body] of [['text/html', html], ['application/x-amz-json-1.1', '']] as const) {
			const client = answering(requestHandler => new CostExplorerClient({region: 'us-east-1', credentials, maxAttempts: 1, requestHandler}), 200, contentType, body);
			checkAnswers(client, 'us-east-1', 'json');
			const error = await client.send(new GetCostAndUsageCommand({TimePeriod: {Start: '2026-11-01', End: '2026-11-02'}, Granularity: 'DAILY', Metrics: ['UnblendedCost']})).catch((caught: unknown) => caught);
			expect(error).toBeInstanceOf(MalformedAnswerError);
			expect((error as MalformedAnswerError).detail).toMatch(/^GetCostAndUsage answered HTTP 200 .*expected a JSON object$/);
		}
	});
});

/** Pages of a fake call: `tokens[n]` is the token page n+1 answers with (undefined: the last page). */
function fakeCall(tokens: unknown[], sent: Array<Record<string, string>> = []) {
	return async (paging: Partial<Record<'NextToken' | 'NextPageToken', string>>) => {
		sent.push(paging as Record<string, string>);
		const index = sent.length - 1;
		return {items: [index + 1], NextToken: tokens[index], $metadata: {attempts: 1}};
	};
}

async function readAll(pages: AsyncIterable<{output: {items: number[]}; page: number}>): Promise<number[]> {
	const read: number[] = [];
	for await (const {output} of pages) {
		read.push(...output.items);
	}

	return read;
}

describe('paginate: the one paginator', () => {
	test('follows the tokens to the last page, sends each token back, counts every request', async () => {
		const sent: Array<Record<string, string>> = [];
		const pages = paginate({call: 'DescribeVolumes', region: 'us-east-1', maxPages: 5, send: fakeCall(['a', 'b', undefined], sent)});
		expect(await readAll(pages)).toEqual([1, 2, 3]);
		expect(sent).toEqual([{}, {NextToken: 'a'}, {NextToken: 'b'}]);
		expect(pages.requests).toBe(3);
		// An empty token is the end, as AWS sends it at times.
		expect(await readAll(paginate({call: 'X', region: 'r', maxPages: 5, send: fakeCall(['a', '']) }))).toEqual([1, 2]);
	});

	test('a token seen before is an answer that repeats itself: refused before its page is read', async () => {
		const read: number[] = [];
		const pages = paginate({call: 'DescribeInstances', region: 'us-east-1', maxPages: 100, send: fakeCall(['t1', 't2', 't1', 't2'])});
		await expect((async () => {
			for await (const {output} of pages) {
				read.push(...output.items);
			}
		})()).rejects.toThrow('DescribeInstances page 3 carries the page token of page 1 again: an answer that repeats itself, not believed (region us-east-1)');
		expect(read).toEqual([1, 2]);
	});

	test('pages that never end stop at the cap, named as the caller names it; a page token that is not a string is malformed', async () => {
		const endless = Array.from({length: 1000}, (_, index) => `t${index}`);
		const capped = paginate({call: 'GetCostAndUsage', region: 'us-east-1', token: 'NextPageToken', maxPages: 20, capName: 'costExplorer.maxPagesPerQuery', capConsequence: 'billed cost is not shown rather than part of it', send: async paging => ({NextPageToken: `p${Object.keys(paging).length}${Math.random()}`, items: [1], $metadata: {attempts: 1}})});
		const error = await readAll(capped).catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(PageCapError);
		expect((error as PageCapError).detail).toBe('GetCostAndUsage still had more pages after 20 (costExplorer.maxPagesPerQuery): billed cost is not shown rather than part of it');
		expect(capped.requests).toBe(20);
		await expect(readAll(paginate({call: 'DescribeInstances', region: 'us-east-1', maxPages: 200, send: fakeCall(endless)}))).rejects.toThrow(/still had more pages after 200 \(envwatch's cap\): an answer that never ends/);
		await expect(readAll(paginate({call: 'DescribeSpotPriceHistory', region: 'us-east-1', maxPages: 5, send: fakeCall([42])}))).rejects.toThrow('DescribeSpotPriceHistory page 1 has a NextToken that is not a string');
	});

	test('a call held past its time budget is abandoned (its request aborted) with that reason', async () => {
		const budget = new Budget(30, 'the listing\'s time budget of 0.03 s');
		let aborted = false;
		const held = paginate({call: 'DescribeInstances', region: 'eu-west-1', maxPages: 5, budget, send: async (_paging, options) => new Promise<object>((_resolve, reject) => {
			options.abortSignal!.addEventListener('abort', () => {
				aborted = true;
				reject(Object.assign(new Error('Request aborted'), {name: 'AbortError'}));
			});
		})});
		const error = await readAll(held as never).catch((caught: unknown) => caught);
		expect(aborted).toBe(true);
		expect(error).toBeInstanceOf(BudgetError);
		expect((error as BudgetError).detail).toBe('DescribeInstances did not finish within the listing\'s time budget of 0.03 s (page 1 was still under way)');
		// Spent: the next call under it does not even start.
		const sent: Array<Record<string, string>> = [];
		await expect(readAll(paginate({call: 'DescribeInstances', region: 'us-east-1', maxPages: 5, budget, send: fakeCall([undefined], sent)}))).rejects.toThrow(BudgetError);
		expect(sent).toEqual([]);
		budget.done();
	});

	test('Unique: an item listed twice by one answer is malformed, naming both pages', () => {
		const once = new Unique('DescribeInstances', 'us-east-1');
		once.add('i-0aaaaaaaaaaaaaaa1', 1);
		once.add('i-0aaaaaaaaaaaaaaa2', 1);
		expect(() => once.add('i-0aaaaaaaaaaaaaaa1', 3)).toThrow('DescribeInstances page 3 lists i-0aaaaaaaaaaaaaaa1 again (first on page 1): an answer that repeats itself, not believed (region us-east-1)');
	});
});

describe('launch times that cannot be true', () => {
	/** A DescribeInstances page with one dev agent launched at `launchTime`. */
	const pageAt = (launchTime: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet><item><reservationId>r-1</reservationId><instancesSet><item><instanceId>i-0aaaaaaaaaaaaaaa1</instanceId><instanceType>t3.large</instanceType><instanceState><code>16</code><name>running</name></instanceState><launchTime>${launchTime}</launchTime><tagSet><item><key>Environment</key><value>dev</value></item></tagSet></item></instancesSet></item></reservationSet></DescribeInstancesResponse>`;

	/** One listing of eu-west-1 by the fleet's own client (lean decoder or the SDK's), its HTTP layer answering `body` with `date` as AWS's clock. */
	async function listAt(body: string, leanDecoding: boolean, date = new Date().toUTCString()) {
		const fleet = new AwsFleet({regions: ['eu-west-1'], credentials, maxAttempts: 1, leanDecoding});
		(fleet.client('eu-west-1').config as {requestHandler: unknown}).requestHandler = {handle: async () => ({response: {statusCode: 200, headers: {'content-type': 'text/xml;charset=UTF-8', date}, body: new TextEncoder().encode(body)}})};
		try {
			return await fleet.list({envTagKey: 'Environment', states: ['running']});
		} finally {
			fleet.close();
		}
	}

	test.each([true, false])('a launch time in 2099, or before EC2 existed, makes the region STALE (lean decoder: %s), never the newest agent', async leanDecoding => {
		const future = await listAt(pageAt('2099-01-01T00:00:00.000Z'), leanDecoding);
		expect(future.instances).toEqual([]);
		expect(future.errors).toEqual([expect.objectContaining({region: 'eu-west-1', message: expect.stringMatching(/instance i-0aaaaaaaaaaaaaaa1 has launch time 2099-01-01T00:00:00\.000Z, in the future \(AWS's clock and this host's say \S+\): an answer that cannot be true/) as unknown})]);
		const early = await listAt(pageAt('1999-12-31T00:00:00.000Z'), leanDecoding);
		expect(early.errors[0]?.message).toMatch(/launch time 1999-12-31T00:00:00\.000Z, before EC2 existed \(August 2006\)/);
		// Not a date at all: the SDK's own parser refuses the page; the lean decoder says why.
		const garbage = await listAt(pageAt('yesterday'), leanDecoding);
		expect(garbage.instances).toEqual([]);
		expect(garbage.errors[0]?.message).toMatch(leanDecoding ? /launch time "yesterday" that is not a date/ : /not a/);
	});

	test('the future is judged by AWS\'s clock as well as this host\'s: a host an hour slow still lists an instance launched a minute ago', async () => {
		const launched = new Date(Date.now() + 3_600_000 - 60_000).toISOString();
		const listing = await listAt(pageAt(launched), true, new Date(Date.now() + 3_600_000).toUTCString());
		expect(listing.errors).toEqual([]);
		expect(listing.instances[0]).toMatchObject({id: 'i-0aaaaaaaaaaaaaaa1', launchedAt: Date.parse(launched)});
	});
});
