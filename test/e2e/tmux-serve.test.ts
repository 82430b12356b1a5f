import fs from 'node:fs';
import path from 'node:path';
import {DescribeInstancesCommand} from '@aws-sdk/client-ec2';
import {afterEach, describe, expect, it} from 'vitest';
import {StateStore} from '../../source/engine/state/store.js';
import {CliProcess, cliPath, isolatedEnv} from '../helpers/cli.js';
import {ec2, instanceStates, launch, motoEnv, useFaultProxy, useMoto} from '../helpers/moto.js';
import {createTable} from '../helpers/table.js';
import {prompt, useTerminals} from '../helpers/tmux.js';

/**
 * Two on-call engineers on one jump host, each typing `envwatch` in their own terminal (tmux at
 * 80x24) on the same state dir, against moto: the first runs the engine and serves it, the second
 * attaches; when the first is killed, the second carries on.
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const moto = useMoto();
// For the hosts of one coordination table: an account with only the watched region enabled (no sweep of the others).
const proxy = useFaultProxy(moto, {enabledRegions: ['us-east-1']});
const terminals = useTerminals();
const serving: CliProcess[] = [];

afterEach(async () => {
	for (const cli of serving.splice(0)) {
		await cli.stop('SIGKILL');
	}
});

function readAudit(file: string): Json[] {
	return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(line => JSON.parse(line) as Json) : [];
}

/** The persisted sample history (samples.json plus the samples.log appended since), as the next start reads it. */
function readSamples(state: string): Record<string, Array<[number, number]>> {
	return Object.fromEntries(Object.entries(new StateStore(state).loadHistory()).map(([key, samples]) => [key, samples.map(sample => [sample.at, sample.usd] as [number, number])]));
}

function row(screen: string, name: string): string {
	return screen.split('\n').find(line => new RegExp(`^\\W*${name} `).test(line.trim())) ?? '';
}

describe('two dashboards on one state dir', () => {
	it('the second attaches: same figures, its s y stops dev once (via socket), both show STOPPED; kill -9 the first and the second takes over from the persisted state', async () => {
		const dir = terminals.dir();
		const base = isolatedEnv();
		terminals.removeAfter(base['ENVWATCH_CONFIG_DIR']!, base['ENVWATCH_STATE_DIR']!);
		const state = path.join(dir, 'state');
		const audit = path.join(dir, 'audit.log');
		const devAgents = await launch(moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'});
		await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'staging', role: 'agent', type: 'm5.large'});
		const env: Record<string, string> = {};
		for (const [key, value] of Object.entries(motoEnv(moto.url, {ENVWATCH_CONFIG_DIR: base['ENVWATCH_CONFIG_DIR']!, ENVWATCH_STATE_DIR: base['ENVWATCH_STATE_DIR']!}))) {
			if (value !== undefined && (key.startsWith('AWS_') || key.startsWith('ENVWATCH_'))) {
				env[key] = value;
			}
		}

		const intervalSeconds = 10;
		const command = `node ${cliPath} --region us-east-1 --interval ${intervalSeconds} --state-dir ${state} --audit-log ${audit}`;
		const first = await terminals.open(80, 24, {cwd: dir, env});
		const second = await terminals.open(80, 24, {cwd: dir, env});

		first.run(command);
		let one = await first.waitFor(/dev +ACTIVE/);
		expect(one).not.toContain('attached to');
		second.run(command);
		const firstPid = first.foregroundPid()!;
		let two = await second.waitFor(`attached to serve pid ${firstPid}`);
		two = await second.waitFor(/dev +ACTIVE/);
		one = first.capture();
		// The same figures: one engine, one poll, two views.
		const figures = (screen: string, name: string) => /\$[\d.]+\/\$[\d.]+/.exec(row(screen, name))?.[0];
		expect(figures(two, 'dev')).toBeDefined();
		expect(figures(two, 'dev')).toBe(figures(one, 'dev'));
		expect(figures(two, 'staging')).toBe(figures(one, 'staging'));

		// s then y in the second: the server stops dev, once.
		second.type('s');
		await second.waitFor('Stop dev\'s agents?');
		second.type('y');
		await second.waitFor(/stopped 2\/2 agents in dev/);
		await second.waitFor(/dev +STOPPED/);
		await first.waitFor(/dev +STOPPED/);
		const stops = readAudit(audit).filter(entry => entry.type === 'action' && entry.kind === 'stop');
		expect(stops).toHaveLength(1);
		expect(stops[0]).toMatchObject({environments: ['dev'], outcome: 'executed', via: 'socket'});
		expect(stops[0]!['actor']).toMatch(/.+@.+/);
		const client = ec2(moto.url, 'us-east-1');
		const answer = await client.send(new DescribeInstancesCommand({InstanceIds: devAgents}));
		client.destroy();
		expect(answer.Reservations!.flatMap(reservation => reservation.Instances!).every(instance => ['stopping', 'stopped'].includes(instance.State!.Name!))).toBe(true);

		// kill -9 the engine-running dashboard: the second takes the engine over within two intervals.
		const history = readSamples(state);
		const stagingFirst = history['staging']![0]!;
		const killedAt = Date.now();
		process.kill(firstPid, 'SIGKILL');
		two = await second.waitFor('took over the engine', 2 * intervalSeconds * 1000);
		const takeover = readAudit(audit).find(entry => entry.kind === 'takeover');
		expect(takeover?.['reason']).toContain(`from dashboard pid ${firstPid}`);
		expect(Date.parse(takeover!['at'] as string) - killedAt).toBeLessThan(2 * intervalSeconds * 1000);
		await second.waitFor(screen => !screen.includes('attached to') && /staging +\S+/.test(screen));
		// Its first poll carries on the windows: staging's history is kept (not restarted), no spike is read.
		await new Promise<void>(resolve => {
			const check = () => (readSamples(state)['staging']!.length > history['staging']!.length ? resolve() : setTimeout(check, 100));
			check();
		});
		expect(readSamples(state)['staging']![0]).toEqual(stagingFirst);
		const after = readAudit(audit).slice(readAudit(audit).findIndex(entry => entry.kind === 'takeover'));
		expect(after.filter(entry => ['alert', 'warn', 'stop', 'emergency', 'cascade'].includes(entry.kind as string))).toEqual([]);
		expect(fs.readFileSync(path.join(state, 'envwatch.lock'), 'utf8')).toContain(`"pid":${second.foregroundPid()}`);

		// The second quits: the engine it took over stops with it, lock and socket removed.
		second.type('q');
		await second.waitFor(screen => screen.trimEnd().endsWith(prompt.trimEnd()));
		expect(fs.existsSync(path.join(state, 'envwatch.lock'))).toBe(false);
		expect(fs.existsSync(path.join(state, 'envwatch.sock'))).toBe(false);
	}, 120_000);
});

/** The instances an engine's executed stops acted on, from its audit log. */
const stoppedBy = (file: string) => readAudit(file).filter(entry => entry['type'] === 'action' && entry['outcome'] === 'executed' && ['stop', 'respawn'].includes(entry['kind'] as string)).flatMap(entry => entry['instanceIds'] as string[]);

async function until(predicate: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!(await predicate())) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}; the servers said:\n${serving.map(cli => cli.stderr).join('\n---\n')}`);
		}

		await new Promise(resolve => setTimeout(resolve, 100));
	}
}

describe('dashboards beside another host\'s engine (coordination.dynamodb)', () => {
	it('a plain dashboard stands by (the leader\'s figures, STANDBY, s refused, acts on nothing); one attached to a standby serve says the same, and after kill -9 of the leader shows its serve now enforcing and stopping a runaway', async () => {
		(await createTable(moto.url)).close();
		const dir = terminals.dir();
		const base = isolatedEnv();
		terminals.removeAfter(base['ENVWATCH_CONFIG_DIR']!, base['ENVWATCH_STATE_DIR']!);
		const config = path.join(dir, 'config.json');
		fs.writeFileSync(config, JSON.stringify({regions: ['us-east-1'], pollIntervalSeconds: 1, costExplorer: {enabled: false}, environments: {dev: {maxHourlyUsd: 1}}, coordination: {dynamodb: {table: 'envwatch', leaseSeconds: 2}}}));
		const env = motoEnv(proxy.url, {ENVWATCH_CONFIG_DIR: base['ENVWATCH_CONFIG_DIR']!, ENVWATCH_STATE_DIR: base['ENVWATCH_STATE_DIR']!});
		// Each "host": a state dir and an audit log of its own.
		const hostDir = (name: string) => ({state: path.join(dir, name, 'state'), audit: path.join(dir, name, 'audit.log')});
		const [a, b, c] = [hostDir('a'), hostDir('b'), hostDir('c')];
		const serveOn = (host: {state: string; audit: string}) => {
			const cli = new CliProcess(['serve', '--config', config, '--state-dir', host.state, '--audit-log', host.audit], env);
			serving.push(cli);
			return cli;
		};

		const leader = serveOn(a);
		await leader.waitForLine(line => line.includes(' poll '), 30_000);
		const standby = serveOn(b);
		await until(() => standby.stderr.includes('standby: the engine runs on'), 'b to stand by');
		const terminalEnv = Object.fromEntries(Object.entries(env).filter(([key, value]) => value !== undefined && (key.startsWith('AWS_') || key.startsWith('ENVWATCH_')))) as Record<string, string>;
		const term = await terminals.open(80, 24, {cwd: dir, env: terminalEnv});
		const leaderSays = new RegExp(`STANDBY figures of serve pid ${leader.child.pid} \\(`);

		// A plain dashboard on a host with no serve: it stands by, showing the leader's figures, whose they are.
		term.run(`node ${cliPath} --config ${config} --state-dir ${c.state} --audit-log ${c.audit}`);
		await term.waitFor(screen => leaderSays.test(screen) && /dev +ACTIVE/.test(screen));
		term.type('s');
		await term.waitFor('Stop dev\'s agents?');
		term.type('y');
		await term.waitFor(new RegExp(`refused: this is a standby; the engine runs on \\S+ \\(serve pid ${leader.child.pid}\\): act there`));
		// A runaway: the leader stops it; neither standby (the serve, the dashboard) acts beside it.
		const first = await launch(moto.url, {region: 'us-east-1', count: 12, environment: 'dev', role: 'agent'});
		await until(() => first.every(id => stoppedBy(a.audit).includes(id)), 'the leader to stop the first runaway');
		await term.waitFor(/dev +STOPPED/);
		expect(readAudit(c.audit).filter(entry => entry['type'] === 'action')).toEqual([]);
		expect(readAudit(b.audit).filter(entry => entry['type'] === 'action')).toEqual([]);
		term.type('q');
		await term.waitFor(screen => screen.trimEnd().endsWith(prompt.trimEnd()));

		// A dashboard attached to the standby serve's socket: the leader's figures, marked STANDBY; s refused naming the leader.
		term.run(`node ${cliPath} --config ${config} --state-dir ${b.state}`);
		await term.waitFor(leaderSays);
		term.type('s');
		await term.waitFor('Stop dev\'s agents?');
		term.type('y');
		await term.waitFor(new RegExp(`refused: this is a standby; the engine runs on \\S+ \\(serve pid ${leader.child.pid}\\)`));

		// kill -9 the leader: within the lease the standby serve takes over; the dashboard shows it enforcing.
		await leader.stop('SIGKILL');
		const taken = await term.waitFor(screen => !screen.includes('STANDBY') && screen.includes(`attached to serve pid ${standby.child.pid}`) && /takeover .*took over the lease/.test(screen));
		expect(taken).toMatch(/dev +STOPPED/);
		const second = await launch(moto.url, {region: 'us-east-1', count: 12, environment: 'dev', role: 'agent'});
		await until(() => second.every(id => stoppedBy(b.audit).includes(id)), 'b to stop the second runaway');
		// Its agents started in dev, held stopped since the first: the new engine's re-spawn rule stops them.
		await term.waitFor(/respawn dev: .*-> stopped 12\/12/);
		const states = await instanceStates(moto.url, ['us-east-1']);
		expect(second.every(id => ['stopping', 'stopped'].includes(states.get(id)!))).toBe(true);
		term.type('q');
		await term.waitFor(screen => screen.trimEnd().endsWith(prompt.trimEnd()));
	}, 150_000);
});
