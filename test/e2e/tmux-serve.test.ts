import fs from 'node:fs';
import path from 'node:path';
import {DescribeInstancesCommand} from '@aws-sdk/client-ec2';
import {describe, expect, it} from 'vitest';
import {StateStore} from '../../source/engine/state/store.js';
import {cliPath, isolatedEnv} from '../helpers/cli.js';
import {ec2, launch, motoEnv, useMoto} from '../helpers/moto.js';
import {prompt, useTerminals} from '../helpers/tmux.js';

/**
 * Two on-call engineers on one jump host, each typing `envwatch` in their own terminal (tmux at
 * 80x24) on the same state dir, against moto: the first runs the engine and serves it, the second
 * attaches; when the first is killed, the second carries on.
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const moto = useMoto();
const terminals = useTerminals();

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
