import fs from 'node:fs';
import path from 'node:path';
import {CreateLaunchTemplateCommand, DescribeInstancesCommand, DescribeVolumesCommand, type Instance} from '@aws-sdk/client-ec2';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {CliProcess, isolatedEnv, runCli, tempDir} from '../helpers/cli.js';
import {ec2, launch, motoEnv, useFaultProxy, useMoto} from '../helpers/moto.js';

// The orchestrator through the built CLI, against moto_server: a real launch template, real
// RunInstances with TagSpecifications, then the monitor catching an out-of-band launch.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const moto = useMoto();
// The CLI reaches moto through the fault proxy, for an account with only the watched region enabled:
// the monitor's sweep of the regions not watched, which no test here is about, lists nothing (see onlyRegions).
const proxy = useFaultProxy(moto, {enabledRegions: ['us-east-1']});
const running: CliProcess[] = [];
let configFile: string;

beforeEach(async () => {
	const client = ec2(moto.url, 'us-east-1');
	await client.send(new CreateLaunchTemplateCommand({LaunchTemplateName: 'dev-agents', LaunchTemplateData: {ImageId: 'ami-12c6146b', InstanceType: 't3.large'}}));
	client.destroy();
	// The seeded fleet: one dev agent and a production monitor.
	await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
	await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'production', role: 'monitor', type: 'c5.large'});
	configFile = path.join(tempDir(), 'team.json');
	fs.writeFileSync(configFile, JSON.stringify({regions: ['us-east-1'], costExplorer: {enabled: false, refreshMinutes: 60}, environments: {dev: {launchTemplate: {name: 'dev-agents'}}}}));
});

afterEach(async () => {
	await Promise.all(running.splice(0).map(async cli => cli.stop('SIGKILL')));
});

function env(url = proxy.url): NodeJS.ProcessEnv {
	const base = isolatedEnv();
	return motoEnv(url, {ENVWATCH_CONFIG_DIR: base['ENVWATCH_CONFIG_DIR']!, ENVWATCH_STATE_DIR: base['ENVWATCH_STATE_DIR']!});
}

async function instances(): Promise<Instance[]> {
	const client = ec2(moto.url, 'us-east-1');
	const answer = await client.send(new DescribeInstancesCommand({MaxResults: 1000}));
	client.destroy();
	return answer.Reservations?.flatMap(reservation => reservation.Instances ?? []) ?? [];
}

const tag = (instance: Instance, key: string) => instance.Tags?.find(item => item.Key === key)?.Value;

describe('orchestrator against moto', () => {
	it('start dev --count 4 launches from the template with its tags; a rogue launch after it makes envwatch stop dev\'s agents', async () => {
		const state = tempDir();
		const started = await runCli(['start', '--environments', 'dev', '--count', '4', '--yes', '--config', configFile, '--state-dir', state], {env: env()});
		expect(started.stderr).toBe('');
		expect(started.code).toBe(0);
		expect(started.stdout).toContain('started 4 t3.large agents in dev (adds $0.33/h); window re-baselined');
		const launched = (await instances()).filter(instance => tag(instance, 'envwatch:launched-by'));
		expect(launched).toHaveLength(4);
		for (const instance of launched) {
			expect({type: instance.InstanceType, env: tag(instance, 'Environment'), role: tag(instance, 'Role')}).toEqual({type: 't3.large', env: 'dev', role: 'agent'});
		}

		// The volumes carry the same tags (TagSpecifications for ResourceType volume).
		const client = ec2(moto.url, 'us-east-1');
		const volumes = await client.send(new DescribeVolumesCommand({Filters: [{Name: 'tag:envwatch:launched-by', Values: [tag(launched[0]!, 'envwatch:launched-by')!]}]}));
		client.destroy();
		expect(volumes.Volumes?.length).toBeGreaterThanOrEqual(4);

		// The monitor, on the same state: the planned start is the baseline, not a spike.
		const cli = new CliProcess(['--headless', '--json', '--interval', '1', '--config', configFile, '--state-dir', state], env());
		running.push(cli);
		const first = JSON.parse(await cli.waitForLine(line => line.includes('"type":"snapshot"'), 30_000)) as Json;
		expect(first['environments'][0]).toMatchObject({name: 'dev', status: 'ACTIVE', agents: {running: 5}});
		expect(first['decisions']).toEqual([]);
		const rogue = await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
		const action = JSON.parse(await cli.waitForLine(line => line.includes('"type":"action"'), 30_000)) as Json;
		expect(action).toMatchObject({actor: 'auto', kind: 'stop', environments: ['dev'], outcome: 'executed'});
		expect(action['instanceIds']).toHaveLength(6);
		expect(action['instanceIds']).toContain(rogue[0]);
		const after = await instances();
		const monitor = after.find(instance => tag(instance, 'Role') === 'monitor')!;
		expect(monitor.State?.Name).toBe('running');
		expect(after.filter(instance => tag(instance, 'Role') === 'agent').every(instance => instance.State?.Name === 'stopped')).toBe(true);
	});

	it('start production is refused with the reason, and nothing is launched', async () => {
		const before = (await instances()).length;
		const result = await runCli(['start', '--environments', 'production', '--yes', '--config', configFile, '--state-dir', tempDir()], {env: env()});
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('production is monitor only: no agents are ever started there');
		expect(await instances()).toHaveLength(before);
	});

	it('start when the running agents cannot be counted afresh is refused in the engine\'s words, exit 1, nothing launched', async () => {
		const before = (await instances()).length;
		// The first listing (the poll) answers; the recount before the start does not.
		proxy.rule = request => (request.action === 'DescribeInstances' && request.n >= 2 ? {status: 403, code: 'UnauthorizedOperation', message: 'not allowed to recount'} : undefined);
		const result = await runCli(['start', '--environments', 'dev', '--count', '1', '--yes', '--config', configFile, '--state-dir', tempDir()], {env: env(proxy.url)});
		expect(result.code).toBe(1);
		expect(result.stderr).toContain('envwatch: start 1 agent in dev refused: cannot count dev\'s running agents (');
		expect(result.stderr).toContain('nothing started');
		expect(await instances()).toHaveLength(before);
	});

	it('start --dry-run checks the permission with DryRun and launches nothing', async () => {
		const before = (await instances()).length;
		const result = await runCli(['start', '--environments', 'dev', '--count', '2', '--yes', '--dry-run', '--config', configFile, '--state-dir', tempDir()], {env: env()});
		expect(result.code).toBe(0);
		expect(result.stdout).toContain('[dry run] start 2 agents in dev: permitted');
		expect(await instances()).toHaveLength(before);
	});
});
