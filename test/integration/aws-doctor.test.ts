import {beforeEach, expect, test} from 'vitest';
import {loadConfig} from '../../source/config/load.js';
import {formatDoctor, runDoctor} from '../../source/providers/aws/doctor.js';
import {freePort, launch, testCredentials, useFaultProxy, useMoto} from '../helpers/moto.js';
import {usePriceList} from '../helpers/price-list.js';

// doctor against moto_server through the real SDK clients. Denials and an unreachable region are
// made by the loopback fault proxy in front of moto (moto does not enforce IAM).
const moto = useMoto();
const proxy = useFaultProxy(moto);
// moto has no Price List: a loopback server answers GetProducts with a recorded answer.
const priceList = usePriceList([{region: 'us-east-1', type: 't3.micro', operatingSystem: 'Linux', tenancy: 'Shared', usd: '0.0104000000'}]);
const config = loadConfig({noStore: true, flags: {regions: ['us-east-1', 'eu-west-1']}}).config;

beforeEach(async () => {
	await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
});

test('every check passes against moto; DryRun is tried on a real agent instance', async () => {
	const report = await runDoctor(config, {endpointUrl: proxy.url, pricingEndpointUrl: priceList.url, credentials: testCredentials});
	const byName = Object.fromEntries(report.checks.map(check => [check.name, check]));
	expect(report.account).toBe('123456789012');
	expect(byName['pricing:GetProducts permitted']).toMatchObject({status: 'ok', detail: 'the Price List answered (us-east-1): t3.micro Linux in us-east-1 $0.0104/h'});
	expect(byName['eu-west-1 ec2:DescribeSpotPriceHistory permitted']?.status).toBe('ok');
	expect(byName['us-east-1 ec2:DescribeVolumes permitted']).toMatchObject({status: 'ok', detail: expect.stringMatching(/^1 volume of i-[0-9a-f]+ seen$/)});
	expect(byName['credentials']?.status).toBe('ok');
	for (const region of ['us-east-1', 'eu-west-1']) {
		expect(byName[`region ${region} reachable`]?.status).toBe('ok');
		expect(byName[`${region} ec2:DescribeInstances permitted`]?.status).toBe('ok');
	}

	expect(byName['us-east-1 ec2:StopInstances permitted']).toMatchObject({status: 'ok', detail: expect.stringMatching(/^DryRun on i-[0-9a-f]+ would have succeeded$/)});
	expect(byName['Cost Explorer']?.status).toBe('ok');
	// moto has no ListCostAllocationTags: doctor says it cannot tell, and that does not fail the run.
	expect(byName['cost allocation tag Environment']?.status).toBe('unknown');
	expect(report.ok).toBe(true);
	expect(proxy.seen.filter(request => request.action === 'StopInstances').every(request => request.body.includes('DryRun=true'))).toBe(true);
});

test('a denied StopInstances, a denied Cost Explorer and an unreachable region fail with a fix each', async () => {
	proxy.rule = request => {
		if (request.action === 'StopInstances') {
			return {status: 403, code: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation. Encoded authorization failure message: AAAA'};
		}

		if (request.action === 'GetCostAndUsage') {
			return {status: 400, code: 'AccessDeniedException', message: 'User is not authorized to perform ce:GetCostAndUsage'};
		}

		if (request.action === 'DescribeInstances' && request.region === 'eu-west-1') {
			return {status: 503, code: 'Unavailable'};
		}

		if (request.action === 'DescribeSpotPriceHistory' || (request.action === 'DescribeVolumes' && request.region === 'us-east-1')) {
			return {status: 403, code: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.'};
		}

		return undefined;
	};
	priceList.reply = () => ({status: 400, body: JSON.stringify({__type: 'AccessDeniedException', message: 'User is not authorized to perform: pricing:GetProducts'})});
	const report = await runDoctor(config, {endpointUrl: proxy.url, pricingEndpointUrl: priceList.url, credentials: testCredentials, maxAttempts: 1});
	const byName = Object.fromEntries(report.checks.map(check => [check.name, check]));
	expect(report.ok).toBe(false);
	expect(byName['us-east-1 ec2:StopInstances permitted']).toMatchObject({status: 'fail', fix: expect.stringContaining('grant ec2:StopInstances on instances tagged Role=agent')});
	expect(byName['Cost Explorer']).toMatchObject({status: 'fail', fix: expect.stringContaining('grant ce:GetCostAndUsage')});
	expect(byName['region eu-west-1 reachable']).toMatchObject({status: 'fail', fix: expect.stringContaining('check the region name')});
	// The price permissions: what to grant, and what envwatch does without them.
	expect(byName['pricing:GetProducts permitted']).toMatchObject({status: 'fail', fix: expect.stringMatching(/^grant pricing:GetProducts .*shipped table .*estimates/)});
	expect(byName['us-east-1 ec2:DescribeSpotPriceHistory permitted']).toMatchObject({status: 'fail', fix: expect.stringContaining('grant ec2:DescribeSpotPriceHistory')});
	expect(byName['us-east-1 ec2:DescribeVolumes permitted']).toMatchObject({status: 'fail', fix: expect.stringContaining('grant ec2:DescribeVolumes')});
	const text = formatDoctor(report);
	expect(text).toContain('✗ us-east-1 ec2:StopInstances permitted');
	expect(text).toContain('      fix: grant ec2:StopInstances');
	expect(text).not.toContain('AAAA');
	expect(text).toMatch(/\d+ ok, 6 failed/);
});

test('no credentials: doctor stops at the first check with the credentials paragraph as the fix', async () => {
	proxy.rule = request => request.action === 'GetCallerIdentity' ? {status: 403, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.'} : undefined;
	const report = await runDoctor(config, {endpointUrl: proxy.url, credentials: testCredentials});
	expect(report.checks).toHaveLength(1);
	expect(report.checks[0]).toMatchObject({name: 'credentials', status: 'fail', fix: expect.stringContaining('aws sso login')});
	expect(report.ok).toBe(false);
});

test('an endpoint where nothing listens: the credentials check fails with the network fix', async () => {
	const report = await runDoctor(config, {endpointUrl: `http://127.0.0.1:${await freePort()}`, credentials: testCredentials, maxAttempts: 1});
	expect(report.checks[0]).toMatchObject({name: 'credentials', status: 'fail', fix: expect.stringContaining('network path')});
});
