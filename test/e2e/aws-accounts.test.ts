import fs from 'node:fs';
import path from 'node:path';
import {CreateAccountCommand, CreateOrganizationCommand, OrganizationsClient} from '@aws-sdk/client-organizations';
import {DescribeInstancesCommand, EC2Client, RunInstancesCommand} from '@aws-sdk/client-ec2';
import {AssumeRoleCommand, STSClient} from '@aws-sdk/client-sts';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {CliProcess, isolatedEnv, runCli, tempDir} from '../helpers/cli.js';
import {linuxImage, motoEnv, seedCostAndUsage, testCredentials, useFaultProxy, useMoto} from '../helpers/moto.js';
import {builtCli, prompt, useTerminals} from '../helpers/tmux.js';

// The built CLI against moto_server with an organization of three member accounts (moto keeps each
// account's EC2 apart by the assumed keys), through the fault proxy, which makes sandbox-b's
// AssumeRole fail (moto never denies one by itself). One moto for the file; three CLI runs.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const moto = useMoto();
// Only us-east-1 enabled: the sweep of regions not watched (proved in aws-cli.test.ts) has nothing to list in the four accounts.
const proxy = useFaultProxy(moto, {enabledRegions: ['us-east-1']});
const running: CliProcess[] = [];
const terminals = useTerminals();
let ids: Record<string, string>;
let instances: Record<string, string[]>;

async function credentialsOf(account: string) {
	const sts = new STSClient({region: 'us-east-1', endpoint: moto.url, credentials: testCredentials, maxAttempts: 1});
	const answer = await sts.send(new AssumeRoleCommand({RoleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`, RoleSessionName: 'test'}));
	sts.destroy();
	return {accessKeyId: answer.Credentials!.AccessKeyId!, secretAccessKey: answer.Credentials!.SecretAccessKey!, sessionToken: answer.Credentials!.SessionToken!};
}

async function ec2Of(account: string): Promise<EC2Client> {
	return new EC2Client({region: 'us-east-1', endpoint: moto.url, credentials: await credentialsOf(account), maxAttempts: 1});
}

async function runIn(account: string, count: number, environment: string, role = 'agent'): Promise<string[]> {
	const client = await ec2Of(account);
	const answer = await client.send(new RunInstancesCommand({ImageId: linuxImage, MinCount: count, MaxCount: count, InstanceType: 't3.large', TagSpecifications: [{ResourceType: 'instance', Tags: [{Key: 'Environment', Value: environment}, {Key: 'Role', Value: role}]}]}));
	client.destroy();
	return answer.Instances!.map(instance => instance.InstanceId!);
}

/** Each instance's state in its own account, read straight from moto. */
async function statesIn(account: string): Promise<Map<string, string>> {
	const client = await ec2Of(account);
	const answer = await client.send(new DescribeInstancesCommand({MaxResults: 1000}));
	client.destroy();
	return new Map(answer.Reservations!.flatMap(reservation => reservation.Instances!).map(instance => [instance.InstanceId!, instance.State!.Name!]));
}

beforeEach(async () => {
	const org = new OrganizationsClient({region: 'us-east-1', endpoint: moto.url, credentials: testCredentials, maxAttempts: 1});
	await org.send(new CreateOrganizationCommand({FeatureSet: 'ALL'}));
	ids = {};
	for (const name of ['sandbox-a', 'sandbox-b', 'staging']) {
		ids[name] = (await org.send(new CreateAccountCommand({AccountName: name, Email: `${name}@example.com`}))).CreateAccountStatus!.AccountId!;
	}

	org.destroy();
	instances = {
		devA: await runIn(ids['sandbox-a']!, 2, 'dev'),
		devB: await runIn(ids['sandbox-b']!, 1, 'dev'),
		staging: await runIn(ids['staging']!, 2, 'staging'),
	};
});

afterEach(async () => {
	await Promise.all(running.splice(0).map(async cli => cli.stop('SIGKILL')));
});

/** A config file: the organization's accounts, us-east-1; with `split`, dev one row per account. */
function home(options: {split?: boolean; costExplorer?: boolean} = {}) {
	const dir = tempDir();
	const config = path.join(dir, 'config.json');
	fs.writeFileSync(config, JSON.stringify({
		regions: ['us-east-1'],
		accounts: {organization: {roleName: 'OrganizationAccountAccessRole'}},
		costExplorer: {enabled: options.costExplorer ?? false},
		...(options.split ? {environments: {dev: {splitBy: 'account'}}} : {}),
	}));
	const base = isolatedEnv();
	const env = motoEnv(proxy.url, {ENVWATCH_CONFIG_DIR: base['ENVWATCH_CONFIG_DIR']!, ENVWATCH_STATE_DIR: base['ENVWATCH_STATE_DIR']!, AWS_ENDPOINT_URL_PRICING: 'http://127.0.0.1:9'});
	return {args: ['--config', config, '--state-dir', path.join(dir, 'state'), '--audit-log', path.join(dir, 'audit.jsonl')], env, audit: path.join(dir, 'audit.jsonl')};
}

const auditOf = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').map(line => JSON.parse(line) as Json);
const snapshots = (cli: CliProcess) => cli.lines().filter(line => line.startsWith('{"type":"snapshot"')).map(line => JSON.parse(line) as Json);

describe('envwatch over an organization\'s accounts (moto)', () => {
	it('dev spans the accounts: a runaway of dev in one member account stops dev, another account\'s staging is untouched, and the audit log names each instance\'s account', async () => {
		const {args, env, audit} = home();
		const cli = new CliProcess(['--headless', '--json', '--interval', '1', ...args], env);
		running.push(cli);
		await cli.waitForLine(line => line.includes('"type":"snapshot"') && line.includes('"sandbox-a"'), 60_000);
		const first = snapshots(cli)[0]!;
		expect(first['source']).toBe('aws 4 accounts (organization) us-east-1');
		expect((first['accounts'] as Json[]).map(account => [account['name'], account['id'], account['status']])).toEqual([
			['master', '123456789012', 'OK'], ['sandbox-a', ids['sandbox-a'], 'OK'], ['sandbox-b', ids['sandbox-b'], 'OK'], ['staging', ids['staging'], 'OK'],
		]);
		const runaway = await runIn(ids['sandbox-a']!, 3, 'dev');
		const action = JSON.parse(await cli.waitForLine(line => line.includes('"type":"action"'), 60_000)) as Json;
		expect(action).toMatchObject({actor: 'auto', kind: 'stop', environments: ['dev'], outcome: 'executed'});
		const acted = (action['results'] as Json[]).map(result => `${result['id']} ${result['account']} ${result['accountName']} ${result['result']}`).sort();
		expect(acted).toEqual([
			...[...instances['devA']!, ...runaway].map(id => `${id} ${ids['sandbox-a']} sandbox-a stopping`),
			...instances['devB']!.map(id => `${id} ${ids['sandbox-b']} sandbox-b stopping`),
		].sort());
		expect([...(await statesIn(ids['sandbox-a']!)).values()]).toEqual(['stopped', 'stopped', 'stopped', 'stopped', 'stopped']);
		expect([...(await statesIn(ids['staging']!)).values()]).toEqual(['running', 'running']);
		// On disk: the action names every instance's account ID and name.
		const written = auditOf(audit).find(entry => entry['type'] === 'action')!;
		expect((written['results'] as Json[]).every(result => /^\d{12}$/.test(result['account']) && typeof result['accountName'] === 'string')).toBe(true);
		expect(written['reason']).toContain(`sandbox-a (${ids['sandbox-a']}): 5`);
		expect(cli.stderr).toBe('');
	}, 120_000);

	it('splitBy: an account whose role cannot be assumed goes STALE by name while the others are still guarded: only dev@sandbox-a is stopped; --once prints the accounts; billed cost by account', async () => {
		proxy.rule = ({action, body}) => action === 'AssumeRole' && body.includes(ids['sandbox-b']!) ? {status: 403, code: 'AccessDenied', message: 'User is not authorized to perform: sts:AssumeRole'} : undefined;
		const today = new Date().toISOString().slice(0, 10);
		await seedCostAndUsage(moto.url, [{ResultsByTime: [{TimePeriod: {Start: today, End: today}, Total: {}, Estimated: true, Groups: [
			{Keys: [ids['sandbox-a'], 'Environment$dev'], Metrics: {UnblendedCost: {Amount: '12.5', Unit: 'USD'}}},
			{Keys: [ids['sandbox-b'], 'Environment$dev'], Metrics: {UnblendedCost: {Amount: '2', Unit: 'USD'}}},
			{Keys: [ids['staging'], 'Environment$staging'], Metrics: {UnblendedCost: {Amount: '3.25', Unit: 'USD'}}},
		]}]}]);
		const {args, env, audit} = home({split: true, costExplorer: true});
		// A role ARN of the wrong shape in the configuration: exit 2 naming it and what is expected, nothing polled.
		const bad = path.join(tempDir(), 'bad.json');
		fs.writeFileSync(bad, JSON.stringify({regions: ['us-east-1'], accounts: [{name: 'sandbox-a', roleArn: `arn:aws:iam::${ids['sandbox-a']}:user/\u001b[2Jx`}]}));
		const refused = await runCli(['--once', '--config', bad, ...args.slice(2)], {env});
		expect(refused.code).toBe(2);
		expect(refused.stderr).toContain(`accounts.0.roleArn: "arn:aws:iam::${ids['sandbox-a']}:user/\\u001b[2Jx" — expected an IAM role ARN like arn:aws:iam::123456789012:role/envwatch-member`);
		expect(proxy.seen).toEqual([]);
		const once = await runCli(['--once', ...args], {env});
		expect(once.stdout).toMatch(new RegExp(`- sandbox-b \\(${ids['sandbox-b']}, role arn:aws:iam::${ids['sandbox-b']}:role/OrganizationAccountAccessRole\\): STALE: cannot assume arn:aws:iam::${ids['sandbox-b']}:role/OrganizationAccountAccessRole \\(AccessDenied`));
		// Never listed: its $/h is unknown, never $0.
		expect(once.stdout).toMatch(/Dev@sandbox-b Environment: +STALE +\(\$\?\/hr\) - agents unknown/);
		expect(once.stdout).toMatch(/Dev@sandbox-a Environment: +ACTIVE/);

		const cli = new CliProcess(['--headless', '--json', '--interval', '1', ...args], env);
		running.push(cli);
		await cli.waitForLine(line => line.includes('"type":"snapshot"') && line.includes('"billed":{"todayUsd":12.5'), 60_000);
		const first = snapshots(cli).at(-1)!;
		const byName = Object.fromEntries((first['environments'] as Json[]).map(view => [view['name'], view]));
		expect(byName['dev@sandbox-b']).toMatchObject({status: 'STALE', account: 'sandbox-b', splitOf: 'dev', hourlyUsd: null, unlisted: true, stale: expect.stringMatching(new RegExp(`^account sandbox-b \\(${ids['sandbox-b']}\\): cannot assume`))});
		expect(byName['dev@sandbox-a']).toMatchObject({stale: null, account: 'sandbox-a', billed: {todayUsd: 12.5}});
		// staging spans the accounts: one of them is unknown, so it is STALE too (unknown is never $0); its bill is every account's.
		expect(byName['staging']).toMatchObject({status: 'STALE', billed: {todayUsd: 3.25}});
		expect((first['accounts'] as Json[]).find(account => account['name'] === 'sandbox-b')).toMatchObject({status: 'STALE', hourlyUsd: null});

		await runIn(ids['sandbox-a']!, 3, 'dev');
		const action = JSON.parse(await cli.waitForLine(line => line.includes('"type":"action"'), 60_000)) as Json;
		expect(action).toMatchObject({kind: 'stop', environments: ['dev@sandbox-a'], outcome: 'executed'});
		expect(new Set((action['results'] as Json[]).map(result => result['accountName']))).toEqual(new Set(['sandbox-a']));
		expect([...(await statesIn(ids['sandbox-a']!)).values()].every(state => state === 'stopped')).toBe(true);
		expect([...(await statesIn(ids['sandbox-b']!)).values()]).toEqual(['running']);
		expect([...(await statesIn(ids['staging']!)).values()]).toEqual(['running', 'running']);
		const failed = auditOf(audit).find(entry => entry['kind'] === 'accounts' && entry['outcome'] === 'failed: sandbox-b');
		expect(failed?.['reason']).toMatch(/its share is STALE .*the other accounts are still guarded/);
	}, 120_000);

	it('the dashboard in tmux: :account NAME shows that account\'s instances and the header says the view is not what is guarded; a name not configured is refused, naming the accounts; at 40x11 too', async () => {
		const {args, env} = home();
		// The shell gets the moto endpoint, the test keys and the isolated envwatch dirs, nothing else of this process's.
		const shellEnv = Object.fromEntries(Object.entries(env).filter(([key]) => key.startsWith('AWS_') || key.startsWith('ENVWATCH_'))) as Record<string, string>;
		const session = await terminals.open(80, 24, {env: shellEnv});
		session.run(`clear; node ${builtCli} --interval 2 ${args.join(' ')}`);
		let screen = await session.waitFor(/dev +ACTIVE/, 60_000);
		expect(screen.split('\n')[0]).toContain('guards all');
		session.type(':account sandbox-a');
		session.key('Enter');
		screen = await session.waitFor('showing account sandbox-a\'s instances');
		expect(screen.split('\n')[0]).toMatch(/guards all showing \d\/3: account sandbox-a/);
		session.key('Enter');
		screen = await session.waitFor(/dev: 2 instances/);
		for (const id of instances['devA']!) {
			expect(screen).toContain(id);
		}

		expect(screen).not.toContain(instances['devB']![0]);
		session.key('Escape');
		session.type(':account nope');
		session.key('Enter');
		await session.waitFor('account nope: not one of master, sandbox-a, sandbox-b, staging (or all)');
		// At 40x11: another account, drawn within the terminal.
		session.resize(40, 11);
		session.type(':account sandbox-b');
		session.key('Enter');
		session.key('Enter');
		screen = await session.waitFor(/dev: 1 instance/);
		expect(screen).toContain(instances['devB']![0]!.slice(0, 19));
		const lines = screen.split('\n');
		expect(lines.filter(line => line.trim() !== '').length).toBeLessThan(11);
		expect(lines.every(line => [...line].length <= 40)).toBe(true);
		session.type('q');
		await session.waitFor(text => text.trimEnd().endsWith(prompt.trimEnd()));
	}, 120_000);
});
