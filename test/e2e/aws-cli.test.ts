import fs from 'node:fs';
import path from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {CliProcess, isolatedEnv, runCli, tempDir} from '../helpers/cli.js';
import {AttachVolumeCommand, CreateVolumeCommand, DescribeInstancesCommand} from '@aws-sdk/client-ec2';
import {ec2, freePort, instanceStates, launch, motoEnv, useFaultProxy, useMoto} from '../helpers/moto.js';
import {usePriceList} from '../helpers/price-list.js';

// The built CLI (dist/bin/cli.js, the bundle `npm run build` makes) as a process, against moto_server (through the fault proxy) through AWS_ENDPOINT_URL.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const moto = useMoto();
// The CLI reaches moto through the fault proxy, for an account with only the watched regions enabled:
// the sweep of the regions not watched lists nothing except in the test about it (see onlyRegions).
const proxy = useFaultProxy(moto, {enabledRegions: ['us-east-1', 'eu-west-1']});
// moto has no Price List: the CLI reaches a loopback one through AWS_ENDPOINT_URL_PRICING.
const priceList = usePriceList([
	{region: 'us-east-1', type: 't3.micro', operatingSystem: 'Linux', tenancy: 'Shared', usd: '0.0104000000'},
	{region: 'us-east-1', type: 't3.large', operatingSystem: 'Linux', tenancy: 'Shared', usd: '0.0832000000'},
	{region: 'eu-west-1', type: 't3.large', operatingSystem: 'Linux', tenancy: 'Shared', usd: '0.0912000000'},
]);
const running: CliProcess[] = [];
let ids: Record<string, string[]>;
const regionFlags = ['--region', 'us-east-1', '--region', 'eu-west-1'];

beforeEach(async () => {
	ids = {
		devAgents: await launch(moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'}),
		devAgentWest: await launch(moto.url, {region: 'eu-west-1', count: 1, environment: 'dev', role: 'agent'}),
		devOther: await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'dev', type: 'c5.xlarge'}),
		stagingAgents: await launch(moto.url, {region: 'us-east-1', count: 2, environment: 'staging', role: 'agent', type: 'm5.large'}),
		prodMonitor: await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'production', role: 'monitor', type: 'c5.large'}),
		untagged: await launch(moto.url, {region: 'eu-west-1', count: 1, role: 'agent'}),
	};
});

afterEach(async () => {
	await Promise.all(running.splice(0).map(async cli => cli.stop('SIGKILL')));
});

function env(): NodeJS.ProcessEnv {
	const base = isolatedEnv();
	return motoEnv(proxy.url, {ENVWATCH_CONFIG_DIR: base['ENVWATCH_CONFIG_DIR']!, ENVWATCH_STATE_DIR: base['ENVWATCH_STATE_DIR']!, AWS_ENDPOINT_URL_PRICING: priceList.url});
}

async function states(): Promise<Map<string, string>> {
	return instanceStates(moto.url, ['us-east-1', 'eu-west-1']);
}

describe('envwatch against moto', () => {
	it('--once --json prints the snapshot with live figures from both regions', {tags: ['nodes']}, async () => {
		const result = await runCli(['--once', '--json', ...regionFlags, '--state-dir', tempDir()], {env: env()});
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		const snapshot = JSON.parse(result.stdout) as Json;
		expect(snapshot['source']).toBe('aws 123456789012 us-east-1,eu-west-1');
		expect(snapshot['error']).toBeNull();
		const byName = Object.fromEntries((snapshot['environments'] as Json[]).map(view => [view['name'], view]));
		// Each moto instance has an 8 GiB gp2 root volume: --once waited for them (and for eu-west-1's
		// EBS rates from the Price List), so the first run's figures include them, unmarked.
		const root = {east: (8 * 0.1) / 730, west: (8 * 0.11) / 730};
		// dev: 3 t3.large agents (one in eu-west-1, at the Price List's $0.0912) + 1 c5.xlarge = 2 x 0.0832 + 0.0912 + 0.17, and their root volumes
		expect(byName['dev']).toMatchObject({agents: {running: 3, allowed: 'all'}, stale: null, hourlyUsdEstimated: false});
		expect(byName['dev']['hourlyUsd']).toBeCloseTo(0.4276 + 3 * root.east + root.west, 4);
		expect(byName['dev']['storageHourlyUsd']).toBeCloseTo(3 * root.east + root.west, 6);
		expect(byName['staging']).toMatchObject({agents: {running: 2, allowed: 2}});
		expect(byName['staging']['hourlyUsd']).toBeCloseTo(0.192 + 2 * root.east, 4);
		expect(byName['production']).toMatchObject({monitors: 1});
		expect(byName['production']['hourlyUsd']).toBeCloseTo(0.085 + root.east, 4);
		expect((snapshot['global'] as Json)['hourlyUsd']).toBeCloseTo(0.7046 + 6 * root.east + root.west, 4);
	});

	it('--headless --json: extra dev agents make envwatch stop the dev agents and nothing else, and the audit log says so', async () => {
		const state = tempDir();
		const audit = path.join(tempDir(), 'audit.jsonl');
		const cli = new CliProcess(['--headless', '--json', '--interval', '1', ...regionFlags, '--state-dir', state, '--audit-log', audit], env());
		running.push(cli);
		// A first poll with the fleet as seeded: that is the baseline.
		await cli.waitForLine(line => line.includes('"type":"snapshot"') && line.includes('"aws 123456789012'));
		const extra = await launch(moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'});
		const action = JSON.parse(await cli.waitForLine(line => line.includes('"type":"action"'), 30_000)) as Json;
		const devAgents = [...ids['devAgents']!, ...ids['devAgentWest']!, ...extra];
		expect(action).toMatchObject({actor: 'auto', kind: 'stop', environments: ['dev'], outcome: 'executed', dryRun: false});
		expect([...action['instanceIds']].sort()).toEqual([...devAgents].sort());
		expect((action['results'] as Json[]).every(result => result['result'] === 'stopping')).toBe(true);

		const after = await states();
		for (const [name, list] of Object.entries(ids)) {
			for (const id of list) {
				expect({name, state: after.get(id)}).toEqual({name, state: name.startsWith('devAgent') ? 'stopped' : 'running'});
			}
		}

		for (const id of extra) {
			expect(after.get(id)).toBe('stopped');
		}

		// The audit log on disk has the decision with its figures and the action with every outcome.
		const entries = fs.readFileSync(audit, 'utf8').trim().split('\n').map(line => JSON.parse(line) as Json);
		const decision = entries.find(entry => entry['type'] === 'decision' && entry['kind'] === 'stop');
		expect(decision).toMatchObject({environments: ['dev'], actor: 'auto'});
		expect(decision!['figures']).toHaveProperty('increasePct');
		expect(entries.find(entry => entry['type'] === 'action')).toMatchObject({kind: 'stop', environments: ['dev'], outcome: 'executed'});
		expect(cli.stderr).toBe('');
	});

	it('--dry-run: the same breach is acted on with DryRun and nothing stops', async () => {
		const audit = path.join(tempDir(), 'audit.jsonl');
		const cli = new CliProcess(['--headless', '--json', '--interval', '1', '--dry-run', ...regionFlags, '--state-dir', tempDir(), '--audit-log', audit], env());
		running.push(cli);
		await cli.waitForLine(line => line.includes('"type":"snapshot"'));
		await launch(moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'});
		const action = JSON.parse(await cli.waitForLine(line => line.includes('"type":"action"'), 30_000)) as Json;
		expect(action).toMatchObject({kind: 'stop', environments: ['dev'], outcome: 'dry-run', dryRun: true});
		expect((action['results'] as Json[]).every(result => result['result'] === 'permitted')).toBe(true);
		expect([...(await states()).values()].every(state => state === 'running')).toBe(true);
	});

	it('two --once runs seconds apart over an unchanged fleet whose agents have EBS volumes, live prices arriving between them, decide nothing', async () => {
		// A 1 TB gp3 data volume on each of dev's agents (about $0.11/h apiece), besides their root volumes.
		for (const [region, list] of [['us-east-1', ids['devAgents']!], ['eu-west-1', ids['devAgentWest']!]] as const) {
			const client = ec2(moto.url, region);
			const listed = await client.send(new DescribeInstancesCommand({InstanceIds: [...list]}));
			for (const instance of listed.Reservations!.flatMap(reservation => reservation.Instances!)) {
				const volume = await client.send(new CreateVolumeCommand({AvailabilityZone: instance.Placement!.AvailabilityZone!, Size: 1000, VolumeType: 'gp3'}));
				await client.send(new AttachVolumeCommand({InstanceId: instance.InstanceId!, VolumeId: volume.VolumeId!, Device: '/dev/sdf'}));
			}

			client.destroy();
		}

		const environment = env();
		const args = ['--once', '--json', ...regionFlags, '--state-dir', tempDir()];
		// The first run from cron: the Price List is down (the shipped table and EBS rates are used).
		priceList.reply = () => ({status: 400, body: JSON.stringify({__type: 'AccessDeniedException', message: 'not now'})});
		const first = await runCli(args, {env: environment});
		expect(first.code, first.stdout + first.stderr).toBe(0);
		// The next one, seconds later: the Price List answers (eu-west-1's t3.large and EBS rates are dearer).
		priceList.reply = undefined;
		const second = await runCli(args, {env: environment});
		expect(second.code, second.stdout + second.stderr).toBe(0);
		const before = JSON.parse(first.stdout) as Json;
		const after = JSON.parse(second.stdout) as Json;
		const dev = (snapshot: Json) => (snapshot['environments'] as Json[]).find(view => view['name'] === 'dev')!;
		expect(before['pricing']['error']).toContain('not now');
		expect(after['pricing']['error']).toBeNull();
		// The prices that came in raise the figure; the window does not read that as a rise.
		expect(dev(after)['hourlyUsd']).toBeGreaterThan(dev(before)['hourlyUsd'] + 0.01);
		expect(dev(after)['increasePct']).toBeCloseTo(0, 2);
		expect((after['global'] as Json)['increasePct']).toBeCloseTo(0, 2);
		expect([...before['decisions'], ...after['decisions']]).toEqual([]);
		expect([...(await states()).values()].filter(state => state !== 'running' && state !== 'stopped')).toEqual([]);
		for (const id of [...ids['devAgents']!, ...ids['devAgentWest']!]) {
			expect((await states()).get(id)).toBe('running');
		}
	});

	it('--once sweeps the regions not watched (DescribeRegions): "dev: 3 agents in us-west-2, not watched"; a sweep that cannot look says so', async () => {
		// moto's whole answer: every region it knows is enabled, over twenty to sweep.
		proxy.enabledRegions = undefined;
		await launch(moto.url, {region: 'us-west-2', count: 3, environment: 'dev', role: 'agent'});
		const result = await runCli(['--once', ...regionFlags, '--state-dir', tempDir()], {env: env()});
		expect(result.code, result.stdout + result.stderr).toBe(0);
		expect(result.stdout).toContain('UNWATCHED: dev: 3 agents in us-west-2, not watched');
		expect(result.stdout).toMatch(/Dev Environment: +ACTIVE +\S+ - 3 agents running/);

		// DescribeRegions denied: the sweep says it could not look, and --once still reports the rest.
		proxy.rule = request => (request.action === 'DescribeRegions' ? {status: 403, code: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.'} : undefined);
		const denied = await runCli(['--once', '--json', ...regionFlags, '--state-dir', tempDir()], {env: env()});
		expect(denied.code, denied.stdout + denied.stderr).toBe(0);
		const unwatched = (JSON.parse(denied.stdout) as Json)['unwatched'] as Json;
		expect(unwatched['found']).toEqual([]);
		expect(unwatched['error']).toMatch(/^the region sweep could not list the account's regions \(UnauthorizedOperation: You are not authorized to perform this operation\.\): agents in regions not watched cannot be seen$/);
		expect(denied.stderr).toContain('the region sweep could not list the account\'s regions');
	});

	it('--once where nothing answers: STALE with the reason, spend unknown (never $0), exit 1', async () => {
		const result = await runCli(['--once', '--endpoint-url', `http://127.0.0.1:${await freePort()}`, ...regionFlags, '--state-dir', tempDir()], {env: {...env(), AWS_MAX_ATTEMPTS: '1'}});
		expect(result.code).toBe(1);
		expect(result.stdout).toContain('STALE: us-east-1:');
		expect(result.stdout).toMatch(/Dev Environment: +STALE +\(\$\?\/hr\)/);
		expect(result.stdout).not.toContain('$0.00/hr');
	});

	it('doctor: a checklist, exit 0 against moto', {tags: ['nodes']}, async () => {
		const result = await runCli(['doctor', ...regionFlags], {env: env()});
		expect(result.code).toBe(0);
		expect(result.stdout).toContain('envwatch doctor: aws 123456789012 us-east-1,eu-west-1');
		expect(result.stdout).toContain('✓ credentials: account 123456789012');
		expect(result.stdout).toContain('✓ us-east-1 ec2:StopInstances permitted: DryRun on i-');
		expect(result.stdout).toContain('? live vs billed yesterday: no final bill for yesterday in the state dir yet');
		expect(result.stdout).toMatch(/\d+ ok, 0 failed, 2 could not tell/);
	});

	it('doctor: yesterday\'s live rollup against its final bill, from the state dir; over 25% fails with the likely causes', async () => {
		const environment = env();
		const state = environment['ENVWATCH_STATE_DIR']!;
		fs.mkdirSync(state, {recursive: true});
		const day = Date.UTC(2026, 10, 26);
		const hours = (usd: number) => Array.from({length: 24}, (_, hour) => [day + hour * 3_600_000, usd]);
		fs.writeFileSync(path.join(state, 'rollup.json'), JSON.stringify({version: 1, series: {dev: hours(1), staging: hours(2)}}));
		fs.writeFileSync(path.join(state, 'billing.json'), JSON.stringify({calls: 1, costUsd: 0.01, cost: {todayUsd: {}, monthToDateUsd: {}, fetchedAt: day + 30 * 3_600_000, yesterday: {date: '2026-11-26', usd: {dev: 24.75, staging: 30}}}}));
		const result = await runCli(['doctor', ...regionFlags], {env: environment});
		expect(result.stdout).toContain('✓ live vs billed yesterday: dev: 2026-11-26: live -3.0% against billed $24.75');
		expect(result.stdout).toContain('✗ live vs billed yesterday: staging: 2026-11-26: live +60% against billed $30.00; likely: savings plans');
		expect(result.code).toBe(1);
		// Doctor only looks: the state files are as they were.
		expect(fs.readdirSync(state).sort()).toEqual(['billing.json', 'rollup.json']);
	});

	it('doctor: an endpoint where nothing answers is a failed check with a fix, exit 1', async () => {
		const result = await runCli(['doctor', '--endpoint-url', `http://127.0.0.1:${await freePort()}`, ...regionFlags], {env: {...env(), AWS_MAX_ATTEMPTS: '1'}});
		expect(result.code).toBe(1);
		expect(result.stdout).toContain('✗ credentials');
		expect(result.stdout).toContain('fix: check the network path');
	});

	it('expired credentials: exit 2, one paragraph, and neither the secret key nor the token anywhere', async () => {
		// The expiry is made by the loopback fault proxy in front of moto: STS answers ExpiredToken.
		proxy.rule = request => request.action === 'GetCallerIdentity' ? {status: 403, code: 'ExpiredToken', message: 'The security token included in the request is expired'} : undefined;
		const state = tempDir();
		const secrets = {AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-K7MDENG-DO-NOT-PRINT', AWS_SESSION_TOKEN: 'FwoGZXIvYXdzE-DO-NOT-PRINT'};
		const result = await runCli(['--headless', '--json', '--state-dir', state], {env: {...env(), ...secrets}});
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('AWS rejected the credentials (ExpiredToken: expired or invalid)');
		expect(result.stderr).toContain('aws sso login');
		expect(result.stderr.trim().split('\n')).toHaveLength(1);
		const everything = [result.stdout, result.stderr, ...fs.readdirSync(state).map(name => fs.readFileSync(path.join(state, name), 'utf8'))].join('\n');
		expect(everything).not.toContain('DO-NOT-PRINT');
	});

	it('--profile that does not exist: exit 2 with the credentials paragraph, no stack trace', async () => {
		const result = await runCli(['--once', '--profile', 'nope', '--state-dir', tempDir()], {env: env()});
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('for profile "nope"');
		expect(result.stderr).toContain('aws sso login --profile nope');
		expect(result.stderr).not.toContain('secret');
		expect(result.stderr).not.toMatch(/\n\s+at /);
	});
});
