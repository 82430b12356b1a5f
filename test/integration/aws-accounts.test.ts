import {CloseAccountCommand, CreateAccountCommand, CreateOrganizationCommand, OrganizationsClient} from '@aws-sdk/client-organizations';
import {EC2Client, RunInstancesCommand} from '@aws-sdk/client-ec2';
import {AssumeRoleCommand, STSClient} from '@aws-sdk/client-sts';
import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {UsageError} from '../../source/domain/errors.js';
import {AccountsFleet} from '../../source/providers/aws/accounts-fleet.js';
import {CostExplorerBilling} from '../../source/providers/aws/billing.js';
import {organizationAccounts} from '../../source/providers/aws/accounts.js';
import {AssumedRole} from '../../source/providers/aws/credentials.js';
import {formatDoctor, runDoctor} from '../../source/providers/aws/doctor.js';
import {loadConfig} from '../../source/config/load.js';
import {tempDir} from '../helpers/cli.js';
import {instanceStates, launch, linuxImage, seedCostAndUsage, testCredentials, useFaultProxy, useMoto} from '../helpers/moto.js';

// The composite fleet of many accounts through the real SDK clients against moto_server: an
// organization (moto's management account is 123456789012, the test keys' account), roles
// assumed in its members (moto keeps each account's EC2 apart, by the assumed key), and the fault
// proxy to make one account's AssumeRole fail or hang (moto never denies it by itself).
const moto = useMoto();
const proxy = useFaultProxy(moto);
const self = '123456789012';
const regions = ['us-east-1', 'eu-west-1'];

if (process.env['MOTO_ACCOUNT_ID']) {
	throw new Error('MOTO_ACCOUNT_ID is set: moto_server would put every account\'s requests in that one account; unset it');
}

async function organization(names: string[]): Promise<Record<string, string>> {
	const org = new OrganizationsClient({region: 'us-east-1', endpoint: moto.url, credentials: testCredentials, maxAttempts: 1});
	await org.send(new CreateOrganizationCommand({FeatureSet: 'ALL'}));
	const ids: Record<string, string> = {};
	for (const name of names) {
		const created = await org.send(new CreateAccountCommand({AccountName: name, Email: `${name}@example.com`}));
		ids[name] = created.CreateAccountStatus!.AccountId!;
	}

	org.destroy();
	return ids;
}

/** Credentials of a member account, as an administrator would use them (not through envwatch). */
async function assumed(account: string) {
	const sts = new STSClient({region: 'us-east-1', endpoint: moto.url, credentials: testCredentials, maxAttempts: 1});
	const answer = await sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`, RoleSessionName: 'test'}));
	sts.destroy();
	return {accessKeyId: answer.Credentials!.AccessKeyId!, secretAccessKey: answer.Credentials!.SecretAccessKey!, sessionToken: answer.Credentials!.SessionToken!};
}

async function runIn(account: string, region: string, count: number, environment: string): Promise<string[]> {
	const client = new EC2Client({region, endpoint: moto.url, credentials: await assumed(account), maxAttempts: 1});
	const answer = await client.send(new RunInstancesCommand({ImageId: linuxImage, MinCount: count, MaxCount: count, InstanceType: 't3.large', TagSpecifications: [{ResourceType: 'instance', Tags: [{Key: 'Environment', Value: environment}, {Key: 'Role', Value: 'agent'}]}]}));
	client.destroy();
	return answer.Instances!.map(instance => instance.InstanceId!);
}

function fleetOf(options: {accountBudgetMs?: number; clock?: () => number; url?: string} = {}) {
	return AccountsFleet.create({
		connection: {endpointUrl: options.url ?? proxy.url, credentials: testCredentials, maxAttempts: 1},
		accounts: {organization: {roleName: 'OrganizationAccountAccessRole'}},
		regions,
		self,
		...(options.accountBudgetMs ? {accountBudgetMs: options.accountBudgetMs} : {}),
		...(options.clock ? {clock: options.clock} : {}),
	});
}

const query = {envTagKey: 'Environment', states: ['pending' as const, 'running' as const], regions};

describe('many accounts through one fleet (moto)', () => {
	it('lists the organization\'s active accounts on every page, each account\'s instances stamped with it, and stops in the target\'s account only', async () => {
		// Three members and the management account, in pages of 2 (the proxy asks moto for 2 where
		// envwatch asks for AWS's 20): moto's own page tokens, two pages.
		const ids = await organization(['sandbox-a', 'staging', 'team-0']);
		proxy.rule = ({action}) => (action === 'ListAccounts' ? {rewrite: {request: body => body.replace('"MaxResults":20', '"MaxResults":2'), answer: body => body}} : undefined);
		const ownDev = await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
		const devA = await runIn(ids['sandbox-a']!, 'us-east-1', 2, 'dev');
		const stagingB = await runIn(ids['staging']!, 'eu-west-1', 1, 'staging');
		const fleet = await fleetOf();
		try {
			expect(proxy.seen.filter(request => request.action === 'ListAccounts')).toHaveLength(2);
			const accounts = fleet.accounts();
			expect(accounts).toHaveLength(4);
			expect(accounts[0]).toEqual({name: 'master', id: self, via: 'self', regions});
			expect(accounts.find(account => account.id === ids['sandbox-a'])).toEqual({name: 'sandbox-a', id: ids['sandbox-a'], via: 'role', through: `arn:aws:iam::${ids['sandbox-a']}:role/OrganizationAccountAccessRole`, regions});

			const listing = await fleet.list(query);
			expect(listing.errors).toEqual([]);
			const where = Object.fromEntries(listing.instances.map(instance => [instance.id, `${instance.account?.name} ${instance.account?.id} ${instance.region}`]));
			expect(where).toEqual({
				[ownDev[0]!]: `master ${self} us-east-1`,
				[devA[0]!]: `sandbox-a ${ids['sandbox-a']} us-east-1`,
				[devA[1]!]: `sandbox-a ${ids['sandbox-a']} us-east-1`,
				[stagingB[0]!]: `staging ${ids['staging']} eu-west-1`,
			});
			// One AssumeRole per member account, not per region or per call.
			expect(fleet.assumeRoleCalls).toBe(3);
			// Volumes are asked in the account each instance was listed in (moto gives each a root volume).
			const {volumes} = await fleet.volumes('us-east-1', [...devA, ...ownDev]);
			expect(volumes.map(volume => volume.instanceId).sort()).toEqual([...devA, ...ownDev].sort());

			// A stop goes to the target's account; named in another account, the same ID is not found there.
			const outcomes = await fleet.stop([{id: devA[0]!, region: 'us-east-1', account: 'sandbox-a'}, {id: devA[1]!, region: 'us-east-1', account: 'staging'}], {dryRun: false});
			expect(outcomes).toEqual([
				expect.objectContaining({id: devA[0], result: 'stopping', account: ids['sandbox-a'], accountName: 'sandbox-a'}),
				expect.objectContaining({id: devA[1], result: 'not-found', account: ids['staging'], accountName: 'staging'}),
			]);
			const assumedA = await assumed(ids['sandbox-a']!);
			const stateA = await new EC2Client({region: 'us-east-1', endpoint: moto.url, credentials: assumedA, maxAttempts: 1}).send(new (await import('@aws-sdk/client-ec2')).DescribeInstancesCommand({InstanceIds: devA}));
			expect(stateA.Reservations!.flatMap(reservation => reservation.Instances!).map(instance => `${instance.InstanceId} ${instance.State!.Name}`).sort()).toEqual([`${devA[0]} stopped`, `${devA[1]} running`].sort());
			// The management account's own instance was never touched.
			expect((await instanceStates(moto.url, ['us-east-1'])).get(ownDev[0]!)).toBe('running');
		} finally {
			fleet.close();
		}
	}, 60_000);

	it('an account whose role cannot be assumed, or whose AssumeRole hangs, fails alone and by name; the others are listed', async () => {
		const ids = await organization(['sandbox-a', 'sandbox-b', 'sandbox-c']);
		await runIn(ids['sandbox-a']!, 'us-east-1', 1, 'dev');
		await runIn(ids['sandbox-b']!, 'us-east-1', 1, 'dev');
		const devC = await runIn(ids['sandbox-c']!, 'us-east-1', 1, 'dev');
		// B's role is denied; C's AssumeRole hangs past the account's time budget.
		proxy.rule = ({action, body}) => action === 'AssumeRole' && body.includes(ids['sandbox-b']!) ? {status: 403, code: 'AccessDenied', message: 'User is not authorized to perform: sts:AssumeRole'} : undefined;
		// C's AssumeRole hangs until the test lets it go: only the budget ends its wait (generous, so the
		// other accounts finish within theirs on a busy machine).
		let release = () => {};
		const hang = new Promise<void>(resolve => {
			release = resolve;
		});
		proxy.before = async ({action, body}) => {
			if (action === 'AssumeRole' && body.includes(ids['sandbox-c']!)) {
				await hang;
			}
		};
		const fleet = await fleetOf({accountBudgetMs: 4000});
		try {
			const listing = await fleet.list(query);
			expect(listing.instances.map(instance => instance.account?.name)).toEqual(['sandbox-a']);
			const byAccount = (name: string) => listing.errors.filter(error => error.account?.name === name);
			expect(byAccount('sandbox-b').map(error => error.region).sort()).toEqual([...regions].sort());
			expect(byAccount('sandbox-b')[0]).toMatchObject({account: {name: 'sandbox-b', id: ids['sandbox-b']}, message: expect.stringMatching(new RegExp(`^cannot assume arn:aws:iam::${ids['sandbox-b']}:role/OrganizationAccountAccessRole \\(AccessDenied: User is not authorized to perform: sts:AssumeRole\\): deploy the member role there`))});
			expect(byAccount('sandbox-c')[0]).toMatchObject({message: 'account sandbox-c did not answer within its time budget of 4 s'});
			expect(listing.errors.filter(error => !['sandbox-b', 'sandbox-c'].includes(error.account?.name ?? ''))).toEqual([]);

			// The hang ends: C is listed at the next poll (its role assumed now); B, throttled now, still fails alone.
			proxy.before = () => undefined;
			proxy.rule = ({action, body}) => action === 'AssumeRole' && body.includes(ids['sandbox-b']!) ? {status: 400, code: 'Throttling', message: 'Rate exceeded'} : undefined;
			release();
			const next = await fleet.list(query);
			expect(next.instances.map(instance => instance.id)).toEqual(expect.arrayContaining(devC));
			expect(new Set(next.errors.map(error => error.account?.name))).toEqual(new Set(['sandbox-b']));
			expect(next.errors[0]!.message).toMatch(/^cannot assume .* \(Throttling: Rate exceeded\)$/);
		} finally {
			fleet.close();
		}
	}, 60_000);

	it('credentials are assumed again before they expire (counted, not waited for), and an organization\'s accounts are listed again every 10 minutes in the background', async () => {
		const ids = await organization(['sandbox-a', 'sandbox-b']);
		let now = Date.now();
		const clock = () => now;
		const role = new AssumedRole({roleArn: `arn:aws:iam::${ids['sandbox-a']}:role/OrganizationAccountAccessRole`}, {endpointUrl: proxy.url, credentials: testCredentials, maxAttempts: 1}, {region: 'us-east-1', durationSeconds: 900, clock});
		const assumes = () => proxy.seen.filter(request => request.action === 'AssumeRole').length;
		const first = await role.get();
		expect(await role.get()).toBe(first);
		now += 9 * 60_000;
		expect(await role.get()).toBe(first);
		expect(assumes()).toBe(1);
		// Less than 5 minutes left of the 15: assumed again before any call could go out expired.
		now += 2 * 60_000;
		const second = await role.get();
		expect(second.accessKeyId).not.toBe(first.accessKeyId);
		expect(assumes()).toBe(2);
		expect(role.calls).toBe(2);
		role.close();

		now = Date.now();
		const fleet = await fleetOf({clock});
		try {
			expect(fleet.accounts().map(account => account.name)).toEqual(['master', 'sandbox-a', 'sandbox-b']);
			const org = new OrganizationsClient({region: 'us-east-1', endpoint: moto.url, credentials: testCredentials, maxAttempts: 1});
			const joined = (await org.send(new CreateAccountCommand({AccountName: 'sandbox-d', Email: 'd@example.com'}))).CreateAccountStatus!.AccountId!;
			await org.send(new CloseAccountCommand({AccountId: ids['sandbox-b']!}));
			org.destroy();
			// Not yet due: the same accounts.
			now += 9 * 60_000;
			await fleet.list(query);
			await fleet.settled();
			expect(fleet.accounts().map(account => account.name)).toEqual(['master', 'sandbox-a', 'sandbox-b']);
			now += 2 * 60_000;
			const listed = await fleet.list(query);
			// The poll did not wait for the organization: it listed the accounts it had.
			expect(listed.accounts?.map(account => account.name)).toEqual(['master', 'sandbox-a', 'sandbox-b']);
			await fleet.settled();
			expect(fleet.accounts().map(account => `${account.name} ${account.id}`)).toEqual([`master ${self}`, `sandbox-a ${ids['sandbox-a']}`, `sandbox-d ${joined}`]);
			expect(listed.accountsProblem).toBeUndefined();

			// The next list is not believed (it names sandbox-a twice): the accounts before are still
			// watched and listed, and the problem is said on every listing until a list is believed again.
			proxy.rule = ({action}) => action === 'ListAccounts' ? {reply: {status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({Accounts: [1, 2].map(() => ({Id: ids['sandbox-a'], Name: 'sandbox-a', Status: 'ACTIVE', State: 'ACTIVE'}))})}} : undefined;
			now += 11 * 60_000;
			await fleet.list(query);
			await fleet.settled();
			const doubted = await fleet.list(query);
			expect(doubted.accountsProblem).toMatch(new RegExp(`^the organization's accounts could not be listed again \\(.*ListAccounts page 1 lists ${ids['sandbox-a']} again \\(first on page 1\\).*\\): the accounts listed before are still watched$`));
			expect(doubted.accounts?.map(account => account.name)).toEqual(['master', 'sandbox-a', 'sandbox-d']);
			expect(doubted.errors).toEqual([]);
			proxy.rule = () => undefined;
			now += 11 * 60_000;
			await fleet.list(query);
			await fleet.settled();
			expect((await fleet.list(query)).accountsProblem).toBeUndefined();
		} finally {
			fleet.close();
		}
	}, 60_000);

	it('an organization\'s list is not believed when its pages repeat or never end, an account ID has the wrong shape, or an account comes twice', async () => {
		await organization([]);
		const json = (body: unknown) => ({reply: {status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(body)}});
		const account = (id: string) => ({Id: id, Name: `n${id}`, Status: 'ACTIVE', State: 'ACTIVE'});
		const lying = async (page: (n: number) => unknown): Promise<string> => {
			let n = 0;
			proxy.rule = ({action}) => (action === 'ListAccounts' ? json(page(++n)) : undefined);
			const error = await organizationAccounts({endpointUrl: proxy.url, credentials: testCredentials, maxAttempts: 1}, {maxPages: 5}).then(() => undefined, (error: unknown) => error);
			expect(error).toBeInstanceOf(Error);
			return (error as Error).message;
		};

		expect(await lying(n => ({Accounts: [account(`11111111111${n}`)], NextToken: 'again'}))).toMatch(/ListAccounts page 2 carries the page token of page 1 again: an answer that repeats itself, not believed/);
		expect(await lying(n => ({Accounts: [account(`11111111111${n}`)], NextToken: `more-${n}`}))).toMatch(/ListAccounts still had more pages after 5/);
		expect(await lying(() => ({Accounts: [account('12345')]}))).toMatch(/ListAccounts page 1 lists an account without a 12-digit ID, a name and a state \("12345"\)/);
		expect(await lying(n => (n === 1 ? {Accounts: [account('222222222222')], NextToken: 't1'} : {Accounts: [account('222222222222')]}))).toMatch(/ListAccounts page 2 lists 222222222222 again \(first on page 1\)/);
		// Well-formed, and short: one member account and not the management account (every other member would look gone).
		expect(await lying(() => ({Accounts: [account('333333333333')]}))).toMatch(/ListAccounts did not list the management account \d{12} \(1 account listed\): a listing cut short, not believed/);
	}, 60_000);

	it('a role\'s session that AWS rejects mid-poll is assumed again and the account listed again, within the same poll', async () => {
		const ids = await organization(['sandbox-a']);
		const devA = await runIn(ids['sandbox-a']!, 'us-east-1', 1, 'dev');
		const fleet = await AccountsFleet.create({
			connection: {endpointUrl: proxy.url, credentials: testCredentials, maxAttempts: 1},
			accounts: [{name: 'sandbox-a', roleArn: `arn:aws:iam::${ids['sandbox-a']}:role/OrganizationAccountAccessRole`}],
			regions: ['us-east-1'],
			self,
		});
		try {
			// The first DescribeInstances signed with the first session is refused as expired (a session revoked, or clocks that disagree).
			proxy.rule = ({action, n}) => (action === 'DescribeInstances' && n === 1 ? {status: 400, code: 'ExpiredToken', message: 'The security token included in the request is expired'} : undefined);
			const listing = await fleet.list({...query, regions: ['us-east-1']});
			expect(listing.errors).toEqual([]);
			expect(listing.instances.map(instance => instance.id)).toEqual(devA);
			expect(fleet.assumeRoleCalls).toBe(2);
			// Refused again after the new session: the account fails alone, by name, and says why.
			proxy.rule = ({action}) => (action === 'DescribeInstances' ? {status: 400, code: 'ExpiredToken', message: 'The security token included in the request is expired'} : undefined);
			const refused = await fleet.list({...query, regions: ['us-east-1']});
			expect(refused.errors).toEqual([expect.objectContaining({region: 'us-east-1', code: 'ExpiredToken', account: {name: 'sandbox-a', id: ids['sandbox-a']}})]);
			expect(fleet.assumeRoleCalls).toBe(3);
		} finally {
			fleet.close();
		}
	}, 60_000);

	it('two entries that turn out to be one account (two profiles of it) are a configuration error naming both, before anything is counted', async () => {
		const dir = tempDir();
		const file = path.join(dir, 'aws-config');
		// Two profiles with the same keys: both are moto's account 123456789012.
		fs.writeFileSync(file, ['a', 'b'].map(name => `[profile ${name}]\naws_access_key_id = AKIDTEST\naws_secret_access_key = secret\n`).join('\n'));
		const saved = process.env['AWS_CONFIG_FILE'];
		process.env['AWS_CONFIG_FILE'] = file;
		try {
			const made = AccountsFleet.create({
				connection: {endpointUrl: proxy.url, maxAttempts: 1},
				accounts: [{name: 'team-a', profile: 'a'}, {name: 'team-b', profile: 'b'}],
				regions: ['us-east-1'],
				self,
			});
			await expect(made).rejects.toThrow(UsageError);
			await expect(made).rejects.toThrow(`accounts: team-b (profile b) is account ${self}, as team-a is — expected each account once (its instances would be counted twice)`);
			expect(proxy.seen.filter(request => request.action === 'DescribeInstances')).toEqual([]);
		} finally {
			if (saved === undefined) {
				delete process.env['AWS_CONFIG_FILE'];
			} else {
				process.env['AWS_CONFIG_FILE'] = saved;
			}
		}
	});

	it('doctor runs per account: which role cannot be assumed, and which permission is missing in which account\'s region, each with its fix', async () => {
		const ids = await organization(['sandbox-a', 'sandbox-b']);
		const [agent] = await runIn(ids['sandbox-a']!, 'us-east-1', 1, 'dev');
		proxy.rule = ({action, body}) => {
			if (action === 'AssumeRole' && body.includes(ids['sandbox-b']!)) {
				return {status: 403, code: 'AccessDenied', message: 'User is not authorized to perform: sts:AssumeRole'};
			}

			// sandbox-a's role lacks ec2:StopInstances (its agent's DryRun is refused).
			return action === 'StopInstances' && body.includes(agent!) ? {status: 403, code: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.'} : undefined;
		};
		const {config} = loadConfig({noStore: true, flags: {regions: ['us-east-1'], costExplorer: {enabled: false}, accounts: {organization: {roleName: 'OrganizationAccountAccessRole'}}}});
		const report = await runDoctor(config, {endpointUrl: proxy.url, credentials: testCredentials, maxAttempts: 1, pricingEndpointUrl: 'http://127.0.0.1:9'});
		const text = formatDoctor(report);
		expect(report.ok).toBe(false);
		expect(text).toMatch(/✓ organizations:ListAccounts permitted: organization o-\w+: 3 accounts, 3 watched/);
		expect(text).toContain(`✓ account master: envwatch's own credentials: account ${self}`);
		expect(text).toContain(`✓ account sandbox-a: sts:AssumeRole of arn:aws:iam::${ids['sandbox-a']}:role/OrganizationAccountAccessRole: account ${ids['sandbox-a']}`);
		expect(text).toContain('✓ sandbox-a us-east-1 ec2:DescribeInstances permitted');
		expect(text).toMatch(new RegExp(`✗ sandbox-a us-east-1 ec2:StopInstances permitted: DryRun on ${agent}: UnauthorizedOperation\n +fix: grant ec2:StopInstances on instances tagged Role=agent .*config/envwatch-member-role\\.json`));
		expect(text).toMatch(new RegExp(`✗ account sandbox-b: sts:AssumeRole of arn:aws:iam::${ids['sandbox-b']}:role/OrganizationAccountAccessRole: cannot assume .*AccessDenied.*\n +fix: deploy the member role OrganizationAccountAccessRole in ${ids['sandbox-b']}`));
		expect(text).not.toMatch(/sandbox-b us-east-1/);
	}, 60_000);

	it('billed cost comes from the management account\'s Cost Explorer grouped by linked account and the tag: totals and each account\'s share', async () => {
		const today = new Date().toISOString().slice(0, 10);
		await seedCostAndUsage(moto.url, [{
			ResultsByTime: [{TimePeriod: {Start: today, End: today}, Total: {}, Estimated: true, Groups: [
				{Keys: ['111111111111', 'Environment$dev'], Metrics: {UnblendedCost: {Amount: '12.5', Unit: 'USD'}}},
				{Keys: ['111111111111', 'Environment$'], Metrics: {UnblendedCost: {Amount: '0.75', Unit: 'USD'}}},
				{Keys: ['222222222222', 'Environment$dev'], Metrics: {UnblendedCost: {Amount: '1.5', Unit: 'USD'}}},
				{Keys: ['222222222222', 'Environment$staging'], Metrics: {UnblendedCost: {Amount: '3.1', Unit: 'USD'}}},
			]}],
			GroupDefinitions: [{Type: 'DIMENSION', Key: 'LINKED_ACCOUNT'}, {Type: 'TAG', Key: 'Environment'}],
		}]);
		const billing = new CostExplorerBilling({endpointUrl: proxy.url, credentials: testCredentials, maxAttempts: 1}, 'Environment', true);
		const {cost, requests} = await billing.fetch(Date.now(), {maxPages: 2});
		billing.close();
		expect(requests).toBe(1);
		expect(JSON.parse(proxy.seen.find(request => request.action === 'GetCostAndUsage')!.body)['GroupBy']).toEqual([{Type: 'DIMENSION', Key: 'LINKED_ACCOUNT'}, {Type: 'TAG', Key: 'Environment'}]);
		expect({...cost.todayUsd}).toEqual({dev: 14, untagged: 0.75, staging: 3.1});
		expect(JSON.parse(JSON.stringify(cost.byAccount))).toEqual({
			'111111111111': {todayUsd: {dev: 12.5, untagged: 0.75}, monthToDateUsd: {dev: 12.5, untagged: 0.75}},
			'222222222222': {todayUsd: {dev: 1.5, staging: 3.1}, monthToDateUsd: {dev: 1.5, staging: 3.1}},
		});
	});
});
