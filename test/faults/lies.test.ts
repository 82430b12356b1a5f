import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {launch} from '../helpers/moto.js';
import {productDocument, usePriceList} from '../helpers/price-list.js';
import {lies, readAudit, regionFlags, useFaultHarness, type Json} from './harness.js';

// Fault matrix, lies: the proxy answers well-formed XML and JSON whose values AWS cannot give (a
// price above on demand or near nothing, a volume past EBS's limits, a date in 2099), pages that
// never end or come again, and a page held past the poll's time budget. Each row runs the built CLI
// as cron would (`--once`, twice where the first run's answers would be cached) and checks what a
// person relies on: the figure envwatch acts on, what it says, and what moto says was stopped.
const h = useFaultHarness();
// moto has no Price List: a loopback one answers t3.large (Linux, shared) at its real price.
const priceList = usePriceList([
	{region: 'us-east-1', type: 't3.large', operatingSystem: 'Linux', tenancy: 'Shared', usd: '0.0832000000'},
	{region: 'eu-west-1', type: 't3.large', operatingSystem: 'Linux', tenancy: 'Shared', usd: '0.0912000000'},
]);
/** moto gives each instance an 8 GiB gp2 root volume: $0.10 a GB-month in us-east-1. */
const rootVolume = 8 * 0.1 / 730;

/**
 * `--once` as cron runs it, on `state`. The thresholds are out of reach (a root volume's cost learnt
 * between two runs is not what these rows are about): dev's cap ($0.10/h) is what a lie would trip.
 */
function cron(state: string, billing = false, extra: Json = {}): {args: string[]; env: Record<string, string>; audit: string} {
	const audit = path.join(state, 'audit.log');
	const calm: Json = {global: {thresholdPct: 50}, environments: {dev: {thresholdPct: 50}}};
	return {args: ['--once', '--config', h.config({...calm, ...extra}, billing), ...regionFlags, '--state-dir', state, '--audit-log', audit], env: {AWS_ENDPOINT_URL_PRICING: priceList.url}, audit};
}

function dev(stdout: string): Json {
	return ((JSON.parse(stdout) as Json)['environments'] as Json[]).find(view => view['name'] === 'dev')!;
}

const stops = (audit: string) => readAudit(audit).filter(entry => entry['type'] === 'action' && ['stop', 'cascade', 'emergency'].includes(entry['kind'] as string));

describe('fault matrix: prices and volumes that cannot be true', () => {
	it('a spot price of $1,000,000,000/h (above on demand): rejected, the agent counted at its on-demand bound (~), said in PRICES and pricing.error; nothing stopped', async () => {
		const [id] = await launch(h.moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent', spot: true});
		h.proxy.rule = request => (request.action === 'DescribeSpotPriceHistory' ? lies.spotPrice('1000000000.000000') : undefined);
		const {args, env, audit} = cron(h.dir());
		const first = await h.run(args, env);
		expect(first.stdout).toMatch(/^PRICES: .*DescribeSpotPriceHistory.*t3\.large.*\$1000000000\/h.*rejected/m);
		// The second run would read a believed price from the cache.
		const second = await h.run([...args, '--json'], env);
		expect(second.code, second.stdout + second.stderr).toBe(0);
		expect(dev(second.stdout)).toMatchObject({hourlyUsdEstimated: true});
		expect(dev(second.stdout)['hourlyUsd']).toBeCloseTo(0.0832 + rootVolume, 4);
		expect(String((JSON.parse(second.stdout) as Json)['pricing']['error'])).toMatch(/\$1000000000\/h.*rejected/);
		expect(stops(audit)).toEqual([]);
		expect((await h.states()).get(id!)).toBe('running');
	});

	it('a spot price of $0.00001/h (under a tenth of on demand) hides no runaway: 20 spot agents are counted at their on-demand bound and stopped', async () => {
		await launch(h.moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent', spot: true});
		h.proxy.rule = request => (request.action === 'DescribeSpotPriceHistory' ? lies.spotPrice('0.000010') : undefined);
		const {args, env, audit} = cron(h.dir());
		const first = await h.run(args, env);
		expect(first.code, first.stdout + first.stderr).toBe(0);
		expect(first.stdout).toMatch(/^PRICES: .*\$0\.00001\/h.*rejected/m);
		const ids = await launch(h.moto.url, {region: 'us-east-1', count: 19, environment: 'dev', role: 'agent', spot: true});
		const second = await h.run(args, env);
		expect(second.code, second.stdout + second.stderr).toBe(3);
		// Decided on the on-demand bound (20 x $0.0832/h and their volumes), then shown as the stop left it.
		expect(second.stdout).toMatch(/^- STOP: dev .*-> \$1\.\d\d\/h\); \$1\.\d\d\/h > cap \$0\.10\/h$/m);
		expect(second.stdout).toMatch(/^Dev Environment: +STOPPED/m);
		const states = await h.states();
		expect(ids.map(item => states.get(item))).toEqual(ids.map(() => 'stopped'));
		expect(stops(audit).length).toBeGreaterThan(0);
	});

	it('a Price List price of $1,000,000,000/h for t3.large: rejected and said, never cached; the shipped table counts; nothing stopped', async () => {
		const [id] = await launch(h.moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
		priceList.reply = filters => (filters['instanceType'] === 't3.large'
			? {status: 200, body: JSON.stringify({FormatVersion: 'aws_v1', PriceList: [productDocument({region: filters['regionCode']!, type: 't3.large', operatingSystem: 'Linux', tenancy: 'Shared', usd: '1000000000.0000000000'})]})}
			: undefined);
		const {args, env, audit} = cron(h.dir());
		const first = await h.run(args, env);
		expect(first.stdout).toMatch(/^PRICES: .*GetProducts.*\$1000000000\/h.*t3\.large.*rejected/m);
		// Nothing of it was cached: the next run counts the shipped table (its poll comes before the
		// Price List answers; the engine tests prove the figure is marked ~ once the answer is refused).
		const second = await h.run([...args, '--json'], env);
		expect(second.code, second.stdout + second.stderr).toBe(0);
		expect(dev(second.stdout)['hourlyUsd']).toBeCloseTo(0.0832 + rootVolume, 4);
		expect(String((JSON.parse(second.stdout) as Json)['pricing']['error'])).toMatch(/\$1000000000\/h.*rejected/);
		expect(stops(audit)).toEqual([]);
		expect((await h.states()).get(id!)).toBe('running');
	});

	it('a volume of 10^15 GiB (past EBS\'s 64 TiB): rejected, counted as unknown (~) with the reason; no false emergency', async () => {
		const [id] = await launch(h.moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
		h.proxy.rule = request => (request.action === 'DescribeVolumes' ? lies.volumeSize('1000000000000000') : undefined);
		const {args, env, audit} = cron(h.dir());
		const first = await h.run(args, env);
		expect(first.stdout).toMatch(/^PRICES: .*DescribeVolumes.*1000000000000000 GiB.*64 TiB/m);
		const second = await h.run([...args, '--json'], env);
		expect(second.code, second.stdout + second.stderr).toBe(0);
		expect(dev(second.stdout)).toMatchObject({hourlyUsdEstimated: true});
		expect(dev(second.stdout)['hourlyUsd']).toBeLessThan(0.1);
		expect(stops(audit)).toEqual([]);
		expect((await h.states()).get(id!)).toBe('running');
	});

	it('a spot price dated 2099 does not beat the price in effect: the answer is rejected and said; the agent counted at its on-demand bound (~)', async () => {
		await launch(h.moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent', spot: true});
		h.proxy.rule = request => (request.action === 'DescribeSpotPriceHistory' ? lies.futureSpot('0.030000', '0.080000') : undefined);
		const {args, env} = cron(h.dir());
		const first = await h.run(args, env);
		expect(first.stdout).toMatch(/^PRICES: .*DescribeSpotPriceHistory.*dated 2099-01-01.*future/m);
		const second = await h.run([...args, '--json'], env);
		expect(second.code, second.stdout + second.stderr).toBe(0);
		expect(dev(second.stdout)).toMatchObject({hourlyUsdEstimated: true});
		// Neither 2099's $0.08 nor a figure under it: the on-demand bound.
		expect(dev(second.stdout)['hourlyUsd']).toBeCloseTo(0.0832 + rootVolume, 4);
	});
});

describe('fault matrix: prices that change between two one-shot runs', () => {
	it('the spot price answered changes between --once runs over an unchanged fleet ($0.03, $0.06, $0.03): each figure follows it, nothing is decided, nothing stopped', async () => {
		const ids = await launch(h.moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent', spot: true});
		let usd = '0.030000';
		h.proxy.rule = request => (request.action === 'DescribeSpotPriceHistory' ? lies.spotPrice(usd) : undefined);
		// The thresholds as shipped (dev 2%, global 1%): a price change read as a rise would stop dev.
		const state = h.dir();
		const audit = path.join(state, 'audit.log');
		const args = ['--once', '--json', '--config', h.config({environments: {dev: {maxHourlyUsd: 100}}}), ...regionFlags, '--state-dir', state, '--audit-log', audit];
		const figures: number[] = [];
		for (const price of ['0.030000', '0.060000', '0.030000']) {
			usd = price;
			const run = await h.run(args, {AWS_ENDPOINT_URL_PRICING: priceList.url});
			expect(run.code, run.stdout + run.stderr).toBe(0);
			expect((JSON.parse(run.stdout) as Json)['decisions']).toEqual([]);
			figures.push(dev(run.stdout)['hourlyUsd'] as number);
		}

		// The figure follows the price it was told (a run may still count the price cached before it, never another).
		const priced = (usd: number) => 2 * usd + 2 * rootVolume;
		expect(figures[0]).toBeCloseTo(priced(0.03), 4);
		for (const figure of figures) {
			expect([priced(0.03), priced(0.06)].some(expected => Math.abs(figure - expected) < 1e-4), String(figure)).toBe(true);
		}

		expect(figures.some(figure => Math.abs(figure - priced(0.06)) < 1e-4), 'the $0.06 answer was counted').toBe(true);
		expect(stops(audit)).toEqual([]);
		const states = await h.states();
		expect(ids.map(id => states.get(id))).toEqual(ids.map(() => 'running'));
	});
});

describe('fault matrix: pages that never end or come again', () => {
	it('DescribeInstances pages that never end (a new token on every empty page): the region is STALE after the page cap, --once ends, exit 1', async () => {
		await launch(h.moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
		h.proxy.rule = request => (request.action === 'DescribeInstances' && request.region === 'us-east-1' ? lies.endlessInstances(request.n) : undefined);
		const {args, env, audit} = cron(h.dir());
		const run = await h.runBounded(args, env);
		expect(run.hung, 'envwatch never ended').toBe(false);
		expect(run.code, run.stdout + run.stderr).toBe(1);
		expect(run.stdout).toMatch(/^STALE: .*us-east-1: DescribeInstances still had more pages after 200/m);
		expect(h.proxy.seen.filter(request => request.action === 'DescribeInstances' && request.region === 'us-east-1').length).toBeLessThanOrEqual(200);
		expect(stops(audit)).toEqual([]);
	});

	for (const [kind, tokens, reason] of [
		['the same page under new tokens (token, token, end): every instance listed three times', ['t1', 't2'], /lists i-[0-9a-f]+ again \(first on page 1\)/],
		['a page token seen before', Array.from({length: 500}, () => 'same'), /page 2 carries the page token of page 1 again/],
	] as const) {
		it(`${kind}: a malformed answer, STALE for its region, never counted twice; nothing stopped, exit 1`, async () => {
			const [id] = await launch(h.moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
			h.proxy.rule = request => (request.action === 'DescribeInstances' && request.region === 'us-east-1' ? lies.repeatedPages(request.n, [...tokens]) : undefined);
			const {args, env, audit} = cron(h.dir());
			const run = await h.runBounded(args, env);
			expect(run.hung, 'envwatch never ended').toBe(false);
			expect(run.code, run.stdout + run.stderr).toBe(1);
			expect(run.stdout).toMatch(/^STALE: .*us-east-1: DescribeInstances /m);
			expect(run.stdout).toMatch(reason);
			expect(stops(audit)).toEqual([]);
			expect((await h.states()).get(id!)).toBe('running');
		});
	}

	it('a listing held past the poll\'s time budget (ENVWATCH_LIST_BUDGET_SECONDS=2): its region is STALE with that reason and the poll ends, exit 1', async () => {
		await launch(h.moto.url, {region: 'eu-west-1', count: 1, environment: 'dev', role: 'agent'});
		h.proxy.before = async request => {
			if (request.action === 'DescribeInstances' && request.region === 'eu-west-1') {
				await new Promise(resolve => setTimeout(resolve, 8000));
			}
		};
		const {args, env} = cron(h.dir());
		const run = await h.runBounded(args, {...env, ENVWATCH_LIST_BUDGET_SECONDS: '2'});
		expect(run.code, run.stdout + run.stderr).toBe(1);
		expect(run.stdout).toMatch(/^STALE: .*eu-west-1: DescribeInstances did not finish within the listing's time budget of 2 s/m);
	});

	it('DescribeVolumes pages that never end (a new token on every empty page): at most 100 pages, the volumes\' cost unknown (~, never $0) and said; --once ends, nothing stopped', async () => {
		const [id] = await launch(h.moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
		h.proxy.rule = request => (request.action === 'DescribeVolumes' && request.region === 'us-east-1' ? lies.endlessVolumes(request.n) : undefined);
		const {args, env, audit} = cron(h.dir());
		const run = await h.runBounded([...args, '--json'], env);
		expect(run.hung, 'envwatch never ended').toBe(false);
		expect(run.code, run.stdout + run.stderr).toBe(0);
		const snapshot = JSON.parse(run.stdout) as Json;
		expect(String(snapshot['pricing']['error'])).toMatch(/DescribeVolumes still had more pages after 100/);
		expect(dev(run.stdout)).toMatchObject({hourlyUsdEstimated: true, storageHourlyUsd: null, estimatedTypes: ['EBS volumes not known yet']});
		expect(h.proxy.seen.filter(request => request.action === 'DescribeVolumes').length).toBeLessThanOrEqual(100);
		expect(stops(audit)).toEqual([]);
		expect((await h.states()).get(id!)).toBe('running');
	});

	it('Cost Explorer\'s same page under new tokens (token, token, end): a malformed answer, billing shown failed with why, never $30 for $10', async () => {
		const today = new Date().toISOString().slice(0, 10);
		const page = {GroupDefinitions: [{Type: 'TAG', Key: 'Environment'}], ResultsByTime: [{TimePeriod: {Start: today, End: today}, Total: {}, Estimated: true, Groups: [{Keys: ['Environment$dev'], Metrics: {UnblendedCost: {Amount: '10', Unit: 'USD'}}}]}]};
		h.proxy.rule = request => (request.action === 'GetCostAndUsage' ? lies.repeatedCost(request.n, page, ['t1', 't2']) : undefined);
		const {args, env} = cron(h.dir(), true);
		const run = await h.runBounded([...args, '--json'], env);
		expect(run.hung, 'envwatch never ended').toBe(false);
		const snapshot = JSON.parse(run.stdout) as Json;
		// Three pages asked for and paid; none of it believed.
		expect(snapshot['billing']).toMatchObject({fetchedAt: null, calls: 3});
		expect(snapshot['billing']['error']).toMatch(new RegExp(`the result for ${today} lists group Environment\\$dev twice: an answer that repeats itself, not believed`));
		expect(dev(run.stdout)['billed']).toBeNull();
	});

	it('Cost Explorer pages that never end: at most costExplorer.maxPagesPerQuery paid pages, billing shown as failed (never partial); the daily cap stops the next run', async () => {
		h.proxy.rule = request => (request.action === 'GetCostAndUsage' ? lies.endlessCost(request.n) : undefined);
		const state = h.dir();
		const {args, env} = cron(state, true, {costExplorer: {maxUsdPerDay: 0.25}});
		const run = await h.runBounded([...args, '--json'], env);
		expect(run.hung, 'envwatch never ended').toBe(false);
		const billing = (JSON.parse(run.stdout) as Json)['billing'] as Json;
		expect(billing).toMatchObject({fetchedAt: null, calls: 20, costUsd: 0.2});
		expect(billing['error']).toMatch(/GetCostAndUsage still had more pages after 20 \(costExplorer\.maxPagesPerQuery\)/);
		const paid = () => h.proxy.seen.filter(request => request.action === 'GetCostAndUsage').length;
		expect(paid()).toBe(20);

		// The same day: $0.05 of the $0.25 is left, so the next run pays for 5 pages at most.
		const next = await h.runBounded([...args, '--json'], env);
		expect(paid()).toBe(25);
		expect(((JSON.parse(next.stdout) as Json)['billing'] as Json)['error']).toMatch(/daily cap of \$0\.25 \(costExplorer\.maxUsdPerDay\)/);
		const last = await h.runBounded([...args, '--json'], env);
		expect(paid()).toBe(25);
		expect(((JSON.parse(last.stdout) as Json)['billing'] as Json)['error']).toMatch(/daily cap of \$0\.25 \(costExplorer\.maxUsdPerDay\) reached/);
	});
});
