import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {launch} from '../helpers/moto.js';
import type {Reply, Truncate} from '../helpers/moto.js';
import {readAudit, regionFlags, sampleCounts, useFaultHarness, writeSamples, type Json} from './harness.js';

// Fault matrix, listing faults: what DescribeInstances answers with, and what envwatch promises then.
const h = useFaultHarness();
/** dev's cap out of reach: these rows are about listing, not about the cap. */
const calmDev = {environments: {dev: {maxHourlyUsd: 50}}};

const answers: Record<string, Reply | Truncate> = {
	'an HTML page with 200': {reply: {status: 200, body: '<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html'}},
	'an empty 200': {reply: {status: 200, body: '', contentType: 'text/xml'}},
	'a truncated 200': {truncate: 0.5},
};

describe('fault matrix: bad 200 answers to DescribeInstances', () => {
	for (const [kind, answer] of Object.entries(answers)) {
		for (const scope of ['region', 'page'] as const) {
			const where = scope === 'region' ? 'every answer from eu-west-1 (one of two regions)' : 'page 2 of 3 in us-east-1 (ENVWATCH_PAGE_SIZE=5)';
			it(`${kind} for ${where}: --once exits 1, prints STALE naming the region, never $0, and samples.json gains no sample`, async () => {
				// us-east-1: 12 dev agents, one per reservation (moto pages by reservation): 3 pages of 5; eu-west-1: 2.
				await launch(h.moto.url, {region: 'us-east-1', count: 12, environment: 'dev', role: 'agent', perReservation: 1});
				await launch(h.moto.url, {region: 'eu-west-1', count: 2, environment: 'dev', role: 'agent'});
				const state = h.dir();
				const config = h.config(calmDev);
				const args = ['--once', '--config', config, ...regionFlags, '--state-dir', state, '--audit-log', path.join(state, 'audit.log')];
				const good = await h.run([...args, '--json'], {ENVWATCH_PAGE_SIZE: '5'});
				expect(good.stderr).toBe('');
				expect(good.code).toBe(0);
				const dev = ((JSON.parse(good.stdout) as Json)['environments'] as Json[]).find(view => view['name'] === 'dev')!;
				// 14 t3.large agents, each with moto's 8 GiB gp2 root volume (--once waited for them).
				expect(dev['hourlyUsd']).toBeCloseTo(14 * (0.0832 + (8 * 0.1) / 730), 3);
				const pages = h.proxy.seen.filter(request => request.action === 'DescribeInstances' && request.region === 'us-east-1').length;
				expect(pages).toBeGreaterThanOrEqual(3);
				const before = sampleCounts(state);

				const region = scope === 'region' ? 'eu-west-1' : 'us-east-1';
				h.proxy.rule = request => {
					if (request.action !== 'DescribeInstances' || request.region !== region) {
						return undefined;
					}

					// Page 2 of the faulted run (and any retry of it); page 1 answers as usual.
					return scope === 'region' || request.n >= pages + 2 ? answer : undefined;
				};
				const faulted = await h.run(args, {ENVWATCH_PAGE_SIZE: '5'});
				expect(faulted.code, faulted.stdout + faulted.stderr).toBe(1);
				expect(faulted.stdout).toMatch(new RegExp(`STALE: .*${region}`));
				expect(faulted.stdout).toMatch(/Dev Environment: +STALE/);
				expect(faulted.stdout).not.toMatch(/\$0\.00/);
				expect(faulted.stdout + faulted.stderr).not.toMatch(/^\s+at .+[:(]/m);
				expect(sampleCounts(state)).toEqual(before);
				expect(readAudit(path.join(state, 'audit.log')).filter(entry => entry['type'] === 'action')).toEqual([]);
			});
		}
	}
});

describe('fault matrix: a region down for longer than a window, then back', () => {
	it('no action while it fails; the first good poll is not read as a spike: nothing is stopped', async () => {
		const ids = [
			...await launch(h.moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'}),
			...await launch(h.moto.url, {region: 'eu-west-1', count: 2, environment: 'dev', role: 'agent'}),
		];
		const state = h.dir();
		// The last good poll was 61 minutes ago (older than dev's 30 and global's 60 minute windows), at a lower spend.
		const longAgo = Date.now() - 61 * 60_000;
		writeSamples(state, {'dev': [[longAgo, 0.0832]], '*global:dev,production,staging': [[longAgo, 0.0832]]});
		const audit = path.join(state, 'audit.log');
		h.proxy.rule = request => request.action === 'DescribeInstances' && request.region === 'eu-west-1' ? {status: 503, code: 'Unavailable', message: 'eu-west-1 is down'} : undefined;
		const cli = h.spawn(['--headless', '--json', '--interval', '1', '--config', h.config(calmDev), ...regionFlags, '--state-dir', state, '--audit-log', audit]);
		const snapshots = () => cli.lines().filter(line => line.includes('"type":"snapshot"')).map(line => JSON.parse(line) as Json);
		await cli.waitForLine(() => snapshots().filter(snapshot => snapshot['error']).length >= 2, 25_000);
		expect(snapshots().every(snapshot => snapshot['error'] && String(snapshot['error']).includes('eu-west-1'))).toBe(true);
		expect(cli.lines().filter(line => line.includes('"type":"action"'))).toEqual([]);

		h.proxy.rule = () => undefined;
		await cli.waitForLine(() => snapshots().filter(snapshot => !snapshot['error']).length >= 2, 25_000);
		const fresh = snapshots().filter(snapshot => !snapshot['error']);
		const dev = (fresh[0]!['environments'] as Json[]).find(view => view['name'] === 'dev')!;
		expect(dev['hourlyUsd']).toBeCloseTo(4 * 0.0832, 6);
		expect(dev['level']).not.toBe('breach');
		expect(cli.lines().filter(line => line.includes('"type":"action"'))).toEqual([]);
		const states = await h.states();
		expect(ids.map(id => states.get(id))).toEqual(ids.map(() => 'running'));
		expect(readAudit(audit).filter(entry => ['stop', 'cascade', 'emergency'].includes(entry['kind'] as string))).toEqual([]);
	}, 60_000);
});

describe('fault matrix: the page-size and batch-size knobs', () => {
	for (const [name, value] of [['ENVWATCH_PAGE_SIZE', '3'], ['ENVWATCH_PAGE_SIZE', 'lots'], ['ENVWATCH_MAX_BATCH', '0'], ['ENVWATCH_MAX_BATCH', '2.5']] as const) {
		it(`${name}=${value}: refused with exit 2 naming the variable and the allowed range; nothing listed or stopped`, async () => {
			await launch(h.moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'});
			const result = await h.run(['--once', '--config', h.config(), ...regionFlags, '--state-dir', h.dir()], {[name]: value});
			expect(result.code).toBe(2);
			expect(result.stderr).toContain(`${name}="${value}"`);
			expect(result.stderr).toMatch(/expected a whole number from \d+ to 1000/);
			expect(h.proxy.seen.filter(request => request.action !== 'GetCallerIdentity')).toEqual([]);
		});
	}
});
