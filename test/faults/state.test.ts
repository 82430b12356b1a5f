import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {launch} from '../helpers/moto.js';
import {devCapUsd, readAudit, regionFlags, stackLine, useFaultHarness, writeSamples, type Json} from './harness.js';

// Fault matrix, state and clock faults: samples dated in the future (the clock stepped back) or
// long ago (stepped forward), damaged state files, exceptions from inside a poll.
const h = useFaultHarness();
const globalKey = '*global:dev,production,staging';
const hour = 3_600_000;

describe('fault matrix: clock steps', () => {
	it('samples dated in the future (the clock stepped back) are dropped with an audit note, and the hourly cap still fires', async () => {
		const ids = await launch(h.moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'});
		const state = h.dir();
		const audit = path.join(state, 'audit.log');
		// Written by a clock a day ahead: a baseline far above today's spend would hide any increase.
		const ahead = Date.now() + 24 * hour;
		writeSamples(state, {dev: [[ahead, 40], [ahead + 60_000, 40]], [globalKey]: [[ahead, 40], [ahead + 60_000, 40]]});
		const result = await h.run(['--once', '--config', h.config(), ...regionFlags, '--state-dir', state, '--audit-log', audit]);
		expect(result.stdout + result.stderr).not.toMatch(stackLine);
		const states = await h.states();
		expect(ids.map(id => states.get(id)), `dev (2 agents, $0.1664/h) is over its $${devCapUsd}/h cap`).toEqual(['stopped', 'stopped']);
		const entries = readAudit(audit);
		expect(entries.some(entry => (entry['kind'] === 'clock' || /future/i.test(String(entry['reason']))) && /sample/i.test(JSON.stringify(entry)))).toBe(true);
		expect(entries.find(entry => entry['type'] === 'action' && entry['kind'] === 'stop')).toMatchObject({environments: ['dev'], outcome: 'executed'});
		const stored = JSON.parse(fs.readFileSync(path.join(state, 'samples.json'), 'utf8')) as {series: Record<string, Array<[number, number]>>};
		const latest = Math.max(...Object.values(stored.series).flat().map(([at]) => at));
		expect(latest).toBeLessThan(Date.now() + 60_000);
	});

	it('samples dated long ago (the clock stepped forward) are no baseline, and the hourly cap still fires', async () => {
		const ids = await launch(h.moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'});
		const state = h.dir();
		const audit = path.join(state, 'audit.log');
		const longAgo = Date.now() - 72 * hour;
		writeSamples(state, {dev: [[longAgo, 0.01]], [globalKey]: [[longAgo, 0.01]]});
		const result = await h.run(['--once', '--json', '--config', h.config(), ...regionFlags, '--state-dir', state, '--audit-log', audit]);
		expect(result.code, result.stderr).toBe(3);
		const dev = ((JSON.parse(result.stdout) as Json)['environments'] as Json[]).find(view => view['name'] === 'dev')!;
		// No baseline inside the window: no increase is claimed from a three-day-old sample.
		expect(dev['baselineUsd'] ?? null).not.toBe(0.01);
		const states = await h.states();
		expect(ids.map(id => states.get(id))).toEqual(['stopped', 'stopped']);
		expect(readAudit(audit).find(entry => entry['type'] === 'action')).toMatchObject({kind: 'stop', environments: ['dev'], outcome: 'executed'});
	});
});

const damage: Record<string, Record<string, string>> = {
	'wrong shape': {
		'samples.json': JSON.stringify({version: 1, series: {dev: 'lots', [globalKey]: {at: 1}}}),
		'last-stop.json': JSON.stringify({at: 'yesterday', actor: 7, environments: 'dev', targets: 'i-0123456789abcdef0', dryRun: 'no'}),
		'billing.json': JSON.stringify({cost: {todayUsd: [1, 2], monthToDateUsd: 'x', fetchedAt: 'now'}, calls: 'many', costUsd: {}}),
	},
	'null fields': {
		'samples.json': JSON.stringify({version: 1, series: {dev: [[null, null]], [globalKey]: null}}),
		'last-stop.json': JSON.stringify({at: null, actor: null, environments: null, targets: null, dryRun: false}),
		'billing.json': JSON.stringify({cost: {todayUsd: null, monthToDateUsd: null, fetchedAt: null}, calls: null, costUsd: null}),
	},
	'not JSON': {
		'samples.json': '{"version":1,"series":{"dev":[[17',
		'last-stop.json': '\u0000\u0000\u0000',
		'billing.json': '<html>not json</html>',
	},
};

describe('fault matrix: damaged state files', () => {
	for (const [kind, files] of Object.entries(damage)) {
		it(`${kind} (samples.json, last-stop.json, billing.json): each moved aside as <name>.damaged-<time>, reported once, and the run goes on`, async () => {
			await launch(h.moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
			const state = h.dir();
			for (const [name, content] of Object.entries(files)) {
				fs.writeFileSync(path.join(state, name), content);
			}

			const cli = h.spawn(['--headless', '--interval', '1', '--config', h.config({}, true), ...regionFlags, '--state-dir', state, '--audit-log', path.join(state, 'audit.log')]);
			// Three polls: the run goes on, with live figures.
			await cli.waitForLine(() => cli.lines().filter(line => / poll /.test(line)).length >= 3, 15_000);
			expect(cli.lines().filter(line => / poll /.test(line)).at(-1)).toMatch(/dev[^|]*\$0\.08/);
			const output = `${cli.stdout}\n${cli.stderr}`;
			expect(output).not.toMatch(stackLine);
			const left = fs.readdirSync(state);
			for (const [name, content] of Object.entries(files)) {
				const aside = left.filter(file => file.startsWith(`${name}.damaged-`));
				expect(aside, `${name} moved aside (state dir holds ${left.join(', ')})`).toHaveLength(1);
				expect(fs.readFileSync(path.join(state, aside[0]!), 'utf8')).toBe(content);
				// Reported once (on stderr, or as one line of the headless output), not on every poll.
				const reports = output.split('\n').filter(line => line.includes(name));
				expect(reports.length, `${name} reported`).toBeGreaterThan(0);
				expect(cli.stderr.split('\n').filter(line => line.includes(name)).length, `${name} reported once on stderr`).toBeLessThanOrEqual(1);
				expect(cli.lines().filter(line => line.includes(name)).length, `${name} reported once on stdout`).toBeLessThanOrEqual(1);
			}
		});
	}
});

describe('fault matrix: exceptions from inside a poll', () => {
	it('an environment named "constructor": headless keeps polling and counts its agents, never silent', async () => {
		await launch(h.moto.url, {region: 'us-east-1', count: 2, environment: 'constructor', role: 'agent'});
		const config = h.config({environments: {constructor: {priority: 4, thresholdPct: 50, windowMinutes: 30, maxHourlyUsd: 50, agents: 'all', onBreach: 'stop', tagValues: ['constructor']}}});
		const cli = h.spawn(['--headless', '--json', '--interval', '1', '--config', config, ...regionFlags, '--state-dir', h.dir()]);
		const snapshots = () => cli.lines().filter(line => line.includes('"type":"snapshot"')).map(line => JSON.parse(line) as Json);
		// Three polls, the last with the root volumes known (they are asked for in the background).
		const withVolumes = () => ((snapshots().at(-1)?.['environments'] as Json[] | undefined)?.find(item => item['name'] === 'constructor')?.['storageHourlyUsd'] ?? 0) > 0;
		await cli.waitForLine(() => (snapshots().length >= 3 && withVolumes()) || cli.stderr.length > 0, 15_000);
		expect(cli.stderr).toBe('');
		expect(cli.stdout).not.toMatch(stackLine);
		const last = snapshots().at(-1)!;
		expect(last['error']).toBeNull();
		const view = (last['environments'] as Json[]).find(item => item['name'] === 'constructor')!;
		expect(view).toMatchObject({agents: {running: 2}});
		// Two t3.large ($0.0832/h each) and their 8 GB gp2 root volumes ($0.10 a GB-month, / 730).
		expect(view['hourlyUsd']).toBeCloseTo(0.1664 + 2 * 8 * 0.1 / 730, 4);
	});

	it('a poll that throws (billing.json of the wrong shape): headless prints the error and keeps polling', async () => {
		await launch(h.moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
		const state = h.dir();
		fs.writeFileSync(path.join(state, 'billing.json'), JSON.stringify({cost: {todayUsd: 'lots', monthToDateUsd: 7, fetchedAt: Date.now()}, calls: 1, costUsd: 0.01}));
		const cli = h.spawn(['--headless', '--interval', '1', '--config', h.config({}, true), ...regionFlags, '--state-dir', state]);
		await cli.waitForLine(() => cli.lines().filter(line => / poll /.test(line)).length >= 3, 15_000);
		expect(`${cli.stdout}\n${cli.stderr}`).toMatch(/billing\.json/);
		expect(`${cli.stdout}\n${cli.stderr}`).not.toMatch(stackLine);
	});
});
