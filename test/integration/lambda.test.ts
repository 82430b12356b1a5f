import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi} from 'vitest';
import type {AuditEntry} from '../../source/engine/state/audit.js';
import {readLease, TableLease} from '../../source/engine/state/lease.js';
import {handler} from '../../source/lambda.js';
import type {DynamoTable} from '../../source/providers/aws/table.js';
import {instanceStates, launch, motoEnv, testCredentials, useFaultProxy, useMoto} from '../helpers/moto.js';
import {createTable} from '../helpers/table.js';

// The Lambda handler, invoked in-process as Lambda would (an event, a context with the time left),
// against moto (DynamoDB, EC2, SSM, STS) through the real SDK clients; EC2 through the fault proxy,
// whose hook marks the moment a stop call is made.
const moto = useMoto();
// An account with only the watched region enabled: the sweep of the regions not watched lists nothing.
const proxy = useFaultProxy(moto, {enabledRegions: ['us-east-1']});
const saved = {...process.env};
let table: DynamoTable;
let lines: string[];

const config = {
	regions: ['us-east-1'],
	costExplorer: {enabled: false},
	environments: {dev: {maxHourlyUsd: 1}},
	coordination: {dynamodb: {table: 'envwatch', leaseSeconds: 2}},
};

beforeAll(() => {
	for (const key of Object.keys(process.env).filter(key => key.startsWith('AWS_') || key.startsWith('ENVWATCH_'))) {
		delete process.env[key];
	}

	Object.assign(process.env, {
		AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
		AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
		AWS_REGION: 'us-east-1',
		AWS_CONFIG_FILE: '/nonexistent/aws-config',
		AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
		AWS_EC2_METADATA_DISABLED: 'true',
		AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
	});
});

afterAll(() => {
	process.env = saved;
});

beforeEach(async () => {
	process.env['AWS_ENDPOINT_URL'] = proxy.url;
	process.env['ENVWATCH_CONFIG_JSON'] = JSON.stringify(config);
	delete process.env['ENVWATCH_CONFIG_PARAMETER'];
	delete process.env['ENVWATCH_MAX_BATCH'];
	table = await createTable(moto.url);
	lines = [];
	vi.spyOn(process.stdout, 'write').mockImplementation(chunk => {
		lines.push(...String(chunk).split('\n').filter(Boolean));
		return true;
	});
});

afterEach(() => {
	vi.restoreAllMocks();
	table.close();
});

/** A context with `left()` ms remaining (Lambda's getRemainingTimeInMillis). */
function context(left: () => number = () => 50_000) {
	return {getRemainingTimeInMillis: left, functionName: 'envwatch-backstop'};
}

function logged(): {audit: AuditEntry[]; metrics: Array<{StaleLease: number}>; snapshots: Array<Record<string, unknown>>} {
	const parsed = lines.map(line => JSON.parse(line) as Record<string, unknown>);
	return {
		audit: parsed.filter(line => typeof line['seq'] === 'number') as unknown as AuditEntry[],
		metrics: parsed.filter(line => '_aws' in line) as unknown as Array<{StaleLease: number}>,
		snapshots: parsed.filter(line => line['type'] === 'snapshot'),
	};
}

/** running, or halted (moto moves a stopping instance to stopped on its own). */
async function devStates(ids: string[]): Promise<string[]> {
	const states = await instanceStates(moto.url, ['us-east-1']);
	return ids.map(id => (['stopping', 'stopped'].includes(states.get(id)!) ? 'halted' : states.get(id)!));
}

describe('the Lambda handler', () => {
	test('two invocations around a runaway: the first records a calm poll, the second stops the runaway; config from SSM', async () => {
		const ssm = new SSMClient({region: 'us-east-1', endpoint: moto.url, credentials: testCredentials});
		await ssm.send(new PutParameterCommand({Name: '/envwatch/config', Type: 'String', Value: JSON.stringify(config)}));
		ssm.destroy();
		delete process.env['ENVWATCH_CONFIG_JSON'];
		process.env['ENVWATCH_CONFIG_PARAMETER'] = '/envwatch/config';
		const calm = await launch(moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'});
		expect(await handler({}, context())).toMatchObject({outcome: 'polled', breach: false});
		expect(logged().metrics).toEqual([expect.objectContaining({StaleLease: 0, Table: 'envwatch'})]);
		expect((await readLease(table))!).toMatchObject({mode: 'lambda', released: true, token: 1});
		const runaway = await launch(moto.url, {region: 'us-east-1', count: 14, environment: 'dev', role: 'agent'});
		lines = [];
		expect(await handler({}, context())).toMatchObject({outcome: 'polled', breach: true});
		expect(await devStates(runaway)).toEqual(Array(14).fill('halted'));
		expect(await devStates(calm)).toEqual(['halted', 'halted']);
		const {audit} = logged();
		expect(audit.find(entry => entry.type === 'action')).toMatchObject({kind: 'stop', environments: ['dev'], outcome: 'executed'});
		// Every audit entry in the function's log is in the table too, and the state (the breaker) is there for the next engine.
		const day = new Date().toISOString().slice(0, 10);
		const stored = (await table.query(`audit#${day}`)).map(item => JSON.parse(item['entry'] as string) as AuditEntry);
		expect(stored.map(entry => entry.reason)).toEqual(expect.arrayContaining(audit.map(entry => entry.reason)));
		expect((await table.query('state', 'doc#breaker.json')).length).toBe(1);
		expect((await readLease(table))!).toMatchObject({released: true, token: 2});
	});

	test('while a serve holds the lease an invocation only looks; when its heartbeats stop, an invocation past its duration takes over and stops the runaway', async () => {
		const serve = await TableLease.acquire(table, {mode: 'serve', durationMs: 2000, host: 'jump-1'});
		expect(serve.kind).toBe('taken');
		const runaway = await launch(moto.url, {region: 'us-east-1', count: 16, environment: 'dev', role: 'agent'});
		expect(await handler({}, context())).toMatchObject({outcome: 'standby', leader: expect.stringMatching(/^serve pid \d+ on jump-1/)});
		// A heartbeat between invocations: still alive.
		await (serve.kind === 'taken' && serve.lease.beat());
		expect(await handler({}, context())).toMatchObject({outcome: 'standby'});
		// Nothing recorded, nothing polled, nothing stopped: only the metric and the lease's watch.
		expect(logged().audit).toEqual([]);
		expect(logged().metrics.map(metric => metric.StaleLease)).toEqual([0, 0]);
		expect(await table.query('state')).toEqual([]);
		expect(proxy.seen.filter(request => request.service === 'ec2')).toEqual([]);
		expect(await devStates(runaway)).toEqual(Array(16).fill('running'));
		// The serve dies (no heartbeat, no release): past its 2 s duration the lease is stale.
		await new Promise(resolve => {
			setTimeout(resolve, 2100);
		});
		lines = [];
		const result = await handler({}, context());
		expect(result).toMatchObject({outcome: 'polled', breach: true, tookOver: expect.stringMatching(/has not moved for \d+s/)});
		expect(logged().metrics.map(metric => metric.StaleLease)).toEqual([1]);
		expect(logged().audit[0]).toMatchObject({kind: 'takeover', reason: expect.stringMatching(/took over the lease of DynamoDB table envwatch \(us-east-1\) from serve pid \d+ on jump-1/)});
		expect(await devStates(runaway)).toEqual(Array(16).fill('halted'));
		expect((await readLease(table))!).toMatchObject({token: 2, released: true});
	});

	test('a stop cut short by the time left is recorded as under way, and the next invocation resumes it', async () => {
		process.env['ENVWATCH_MAX_BATCH'] = '4';
		const runaway = await launch(moto.url, {region: 'us-east-1', count: 16, environment: 'dev', role: 'agent'});
		// The first stop call is made; from then on the invocation has 5 s left.
		let time = 50_000;
		proxy.before = request => {
			if (request.action === 'StopInstances') {
				time = 5000;
			}
		};

		expect(await handler({}, context(() => time))).toMatchObject({outcome: 'polled', breach: true});
		const first = logged().audit.find(entry => entry.type === 'action')!;
		expect(first.reason).toMatch(/^stopped 4\/16 agents in dev .*cut short \(5 s left of the invocation, less than its 10 s margin\): the rest is resumed by the next run/);
		const states = await devStates(runaway);
		expect(states.filter(state => state === 'halted')).toHaveLength(4);
		const left = runaway.filter((_id, index) => states[index] === 'running');
		expect((await table.query('state', 'doc#action.json')).length).toBe(1);
		// The next invocation, with time: the stop under way is found and finished.
		proxy.before = () => undefined;
		lines = [];
		await handler({}, context());
		const {audit} = logged();
		expect(audit[0]).toMatchObject({kind: 'interrupted', reason: expect.stringMatching(/a stop of dev by auto at .* was cut short: 16 of 16 agents recorded; dev stays stopped by envwatch/)});
		expect(audit.find(entry => entry.type === 'action')).toMatchObject({kind: 'respawn', outcome: 'executed'});
		expect(audit.find(entry => entry.type === 'action')!.instanceIds.sort()).toEqual(left.sort());
		expect(await devStates(runaway)).toEqual(Array(16).fill('halted'));
		expect(await table.query('state', 'doc#action.json')).toEqual([]);
	});

	test('a configuration that is missing or wrong fails the invocation, naming where it came from and what is wrong', async () => {
		delete process.env['ENVWATCH_CONFIG_JSON'];
		await expect(handler({}, context())).rejects.toThrow(/no configuration — expected ENVWATCH_CONFIG_JSON .* or ENVWATCH_CONFIG_PARAMETER/);
		process.env['ENVWATCH_CONFIG_JSON'] = '{"regions": ["us-east-1"],\n "coordination": {"dynamodb": {"table": "envwatch"}},}';
		await expect(handler({}, context())).rejects.toThrow(/ENVWATCH_CONFIG_JSON:2:\d+: malformed JSON/);
		process.env['ENVWATCH_CONFIG_JSON'] = JSON.stringify({regions: ['us-east-1']});
		await expect(handler({}, context())).rejects.toThrow(/ENVWATCH_CONFIG_JSON: coordination.dynamodb is missing/);
		process.env['ENVWATCH_CONFIG_JSON'] = JSON.stringify({...config, pollIntervalSeconds: 0});
		await expect(handler({}, context())).rejects.toThrow(/pollIntervalSeconds: .*\(from ENVWATCH_CONFIG_JSON\)/);
		delete process.env['ENVWATCH_CONFIG_JSON'];
		process.env['ENVWATCH_CONFIG_PARAMETER'] = '/envwatch/nope';
		await expect(handler({}, context())).rejects.toThrow(/ENVWATCH_CONFIG_PARAMETER \/envwatch\/nope: no such SSM parameter in us-east-1/);
		expect(await readLease(table)).toBeUndefined();
	});

	test('the zip npm run package:lambda writes runs as Lambda runs it: lambda.handler from its root, with only what the zip holds', async () => {
		const {zip, lambdaEntries} = await import('../../scripts/package-lambda.mjs');
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-zip-'));
		fs.writeFileSync(path.join(dir, 'function.zip'), zip(lambdaEntries()));
		// Read by another zip reader (Python's), with the mode each file will have.
		const listed = spawnSync('python3', ['-c', 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nz.extractall(sys.argv[2])\nfor i in z.infolist(): print(i.filename, oct(i.external_attr >> 16))', path.join(dir, 'function.zip'), path.join(dir, 'task')], {encoding: 'utf8'});
		expect(listed.stderr).toBe('');
		const entries = listed.stdout.trim().split('\n').map(row => row.split(' '));
		expect(entries.map(([name]) => name)).toEqual(expect.arrayContaining(['lambda.js', 'package.json', 'config/default.json']));
		expect(new Set(entries.map(([, mode]) => mode))).toEqual(new Set(['0o100644']));
		await launch(moto.url, {region: 'us-east-1', count: 16, environment: 'dev', role: 'agent'});
		// As the nodejs22.x runtime does: import the handler's file from the task root, call it once.
		const child = spawn(process.execPath, ['--input-type=module', '-e', 'const {handler} = await import(\'./lambda.js\'); const result = await handler({}, {getRemainingTimeInMillis: () => 50000}); console.log(JSON.stringify(result));'], {
			cwd: path.join(dir, 'task'),
			env: motoEnv(proxy.url, {ENVWATCH_CONFIG_JSON: JSON.stringify(config), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', TMPDIR: dir}),
		});
		let out = '';
		child.stdout.on('data', chunk => {
			out += chunk;
		});
		const code = await new Promise(resolve => child.on('exit', resolve));
		expect(code).toBe(0);
		expect(JSON.parse(out.trim().split('\n').at(-1)!)).toMatchObject({outcome: 'polled', breach: true});
		fs.rmSync(dir, {recursive: true, force: true});
	});
});
