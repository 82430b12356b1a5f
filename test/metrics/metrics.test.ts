import {spawnSync} from 'node:child_process';
import {afterEach, describe, expect, it} from 'vitest';
import type {AuditEntry} from '../../source/engine/state/audit.js';
import type {Snapshot} from '../../source/engine/snapshot.js';
import {attachMetrics} from '../../source/metrics/attach.js';
import {Metrics} from '../../source/metrics/metrics.js';
import {serveMetrics, type MetricsServer} from '../../source/metrics/server.js';
import {useSimHarnesses, type SimHarness} from '../helpers/sim.js';

const {start, pollsBeforeSpike} = useSimHarnesses();
let servers: MetricsServer[] = [];
afterEach(async () => {
	for (const server of servers) {
		await server.close();
	}

	servers = [];
});

async function serve(sim: SimHarness): Promise<MetricsServer> {
	const {metrics} = attachMetrics({store: sim.store, audit: sim.audit, fleet: sim.fleet});
	const server = await serveMetrics(metrics, sim.store.getSnapshot, {host: '127.0.0.1', port: 0}, sim.clock.now);
	servers.push(server);
	return server;
}

/**
 * prom-client's own process defaults that promtool's lint flags (gauges named `_total`): they are
 * prom-client's names, not envwatch's, and are exported as prom-client names them.
 */
const promClientLint = new Set(['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'].map(name => `${name} non-counter metrics should not have "_total" suffix`));

/** Prometheus's own checker: the exposition must parse, and envwatch's series pass its lint. */
function promtool(text: string): void {
	const check = spawnSync('promtool', ['check', 'metrics'], {input: text, encoding: 'utf8'});
	if (check.error) {
		throw new Error(`promtool is not installed (Debian: apt-get install prometheus; .ci/run installs it): ${check.error.message}`);
	}

	const problems = `${check.stdout}${check.stderr}`.split('\n').map(line => line.trim()).filter(line => line !== '' && !promClientLint.has(line));
	expect(problems).toEqual([]);
	// 3: lint problems only (the ones above); a parse error is 1.
	expect([0, 3]).toContain(check.status);
}

/** The exposition as `name{labels}` -> value (labels in the order written). */
function parse(text: string): Map<string, number> {
	const series = new Map<string, number>();
	for (const line of text.split('\n')) {
		if (line === '' || line.startsWith('#')) {
			continue;
		}

		const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
		expect(match, line).not.toBeNull();
		series.set(match![1]!, Number(match![2]));
	}

	return series;
}

async function scrape(server: MetricsServer): Promise<Map<string, number>> {
	const response = await fetch(`${server.url}/metrics`);
	expect(response.status).toBe(200);
	expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
	const text = await response.text();
	promtool(text);
	return parse(text);
}

function expectFigures(series: Map<string, number>, snapshot: Snapshot): void {
	for (const view of [...snapshot.environments, snapshot.global]) {
		const environment = view === snapshot.global ? 'global' : view.name;
		const at = (name: string) => series.get(`${name}{environment="${environment}"}`);
		expect(at('envwatch_hourly_cost_usd')).toBeCloseTo(view.hourlyUsd, 9);
		expect(at('envwatch_agents_running')).toBe(view.agents.running);
		expect(at('envwatch_threshold_percent')).toBe(view.thresholdPct);
		expect(at('envwatch_max_hourly_usd')).toBe(view.maxHourlyUsd);
		expect(at('envwatch_baseline_cost_usd')).toBe(view.baselineUsd ?? undefined);
		expect(at('envwatch_increase_percent')).toBe(view.increasePct ?? undefined);
		expect(series.get(`envwatch_status{environment="${environment}",status="${view.status}"}`)).toBe(1);
		const others = [...series].filter(([key, value]) => key.startsWith(`envwatch_status{environment="${environment}",`) && value === 1);
		expect(others).toHaveLength(1);
	}
}

describe('a figure that is not all known', () => {
	it('envwatch_hourly_cost_estimated is 1 where the $/h holds an estimate or volumes not known yet (counted as $0, marked ~), 0 where it does not', async () => {
		const sim = start({scenario: 'calm'});
		const snapshot = await sim.poll();
		const dev = {...snapshot.environments[0]!, estimated: 2, estimatedTypes: ['EBS volumes not known yet']};
		const metrics = new Metrics({defaults: false});
		metrics.update({...snapshot, environments: [dev, ...snapshot.environments.slice(1)], global: {...snapshot.global, estimated: 2}});
		const series = parse(await metrics.registry.metrics());
		expect(series.get(`envwatch_hourly_cost_estimated{environment="${dev.name}"}`)).toBe(1);
		expect(series.get(`envwatch_hourly_cost_estimated{environment="${snapshot.environments[1]!.name}"}`)).toBe(0);
		expect(series.get('envwatch_hourly_cost_estimated{environment="global"}')).toBe(1);
	});
});

describe('/metrics', () => {
	it('reflects the dashboard\'s figures, passes promtool, and counts the stop, its instances and the poll durations', async () => {
		const sim = start({scenario: 'dev-spike'});
		const server = await serve(sim);
		await pollsBeforeSpike(sim);
		await sim.poll();
		const snapshot = await sim.poll();
		const series = await scrape(server);
		expectFigures(series, snapshot);
		expect(series.get('envwatch_status{environment="dev",status="STOPPED"}')).toBe(1);
		expect(series.get('envwatch_status{environment="global",status="NORMAL"}')).toBe(1);
		expect(series.get('envwatch_agents_allowed{environment="production"}')).toBe(0);
		expect(series.has('envwatch_agents_allowed{environment="dev"}')).toBe(false);
		expect(series.get('envwatch_actions_total{environment="dev",kind="stop",actor="auto"}')).toBe(1);
		expect(series.get('envwatch_instances_stopped_total{environment="dev"}')).toBe(5);
		expect(series.get('envwatch_last_successful_poll_timestamp_seconds')).toBe(snapshot.lastSuccessAt! / 1000);
		expect(series.get('envwatch_poll_duration_seconds_count')).toBe(4);
		expect(series.get('envwatch_cost_explorer_requests_total')).toBe(0);
		// The process defaults are there too.
		expect(series.has('process_cpu_user_seconds_total')).toBe(true);
	});

	it('the snapshot of the poll that acted already shows the result: an emergency\'s environments STOPPED at their remaining spend, the global total without them, NORMAL (never BREACH beside 0 agents)', async () => {
		const sim = start({scenario: 'global-spike'});
		const server = await serve(sim);
		await pollsBeforeSpike(sim);
		const before = sim.store.getSnapshot()!;
		const acted = await sim.poll();
		expect(sim.auditLines().filter(entry => entry.type === 'action').map(entry => [entry.kind, entry.outcome])).toEqual([['emergency', 'executed']]);
		const series = await scrape(server);
		expectFigures(series, acted);
		for (const name of ['dev', 'staging']) {
			const view = acted.environments.find(item => item.name === name)!;
			expect(view, name).toMatchObject({status: 'STOPPED', agents: {running: 0}, agentHourlyUsd: 0, agentIds: []});
			// What runs on (its other instances, its volumes) is what it costs now.
			const others = view.instances!.filter(row => row.role !== 'agent' && row.usdPerHour !== null).reduce((sum, row) => sum + row.usdPerHour!, 0);
			expect(view.hourlyUsd, name).toBeCloseTo(others + view.storageHourlyUsd!, 9);
		}

		const production = acted.environments.find(item => item.name === 'production')!;
		expect(acted.global.hourlyUsd).toBeCloseTo(acted.environments.reduce((sum, view) => sum + view.hourlyUsd, 0), 9);
		expect(acted.global.hourlyUsd).toBeLessThan(before.global.hourlyUsd / 2);
		expect(acted.global.agents.running).toBe(production.agents.running);
		expect(series.get('envwatch_status{environment="global",status="NORMAL"}')).toBe(1);
		expect(series.get('envwatch_status{environment="global",status="BREACH"}')).toBe(0);
		// The decision stays what the poll decided (the emergency), with the figures it acted on.
		expect(acted.decisions.filter(decision => decision.kind !== 'violation' && decision.kind !== 'warn').map(decision => decision.kind)).toEqual(['emergency']);
		// The next poll lists the fleet afresh and agrees.
		const next = await sim.poll();
		for (const view of [...next.environments, next.global]) {
			const shown = [...acted.environments, acted.global].find(item => item.name === view.name)!;
			expect([shown.status, shown.agents.running], view.name).toEqual([view.status, view.agents.running]);
			expect(shown.hourlyUsd, view.name).toBeCloseTo(view.hourlyUsd, 9);
		}
	});

	it('envwatch_automatic_paused: 1 for an environment paused (--pause-env, P) and for global while p holds every one, 0 otherwise', async () => {
		const sim = start({scenario: 'calm', options: {pausedEnvironments: ['dev']}});
		const server = await serve(sim);
		await sim.poll();
		const paused = async () => {
			const series = await scrape(server);
			return Object.fromEntries(['dev', 'staging', 'production', 'global'].map(environment => [environment, series.get(`envwatch_automatic_paused{environment="${environment}"}`)]));
		};

		expect(await paused()).toEqual({dev: 1, staging: 0, production: 0, global: 0});
		// A command shows at once (the snapshot is published again), not at the next poll.
		await sim.monitor.command({kind: 'pause-env', environment: 'staging'});
		await sim.monitor.command({kind: 'pause'});
		expect(await paused()).toEqual({dev: 1, staging: 1, production: 0, global: 1});
		await sim.monitor.command({kind: 'resume'});
		await sim.monitor.command({kind: 'resume-env', environment: 'dev'});
		expect(await paused()).toEqual({dev: 0, staging: 1, production: 0, global: 0});
	});

	it('envwatch_automatic_paused is absent, not 0, for a view that does not say (a snapshot from another process)', async () => {
		const sim = start({scenario: 'calm', options: {pausedEnvironments: ['dev']}});
		const snapshot = await sim.poll();
		const metrics = new Metrics({defaults: false});
		const {paused: _dropped, ...dev} = snapshot.environments.find(view => view.name === 'dev')!;
		metrics.update({...snapshot, environments: snapshot.environments.map(view => (view.name === 'dev' ? dev : view))});
		const series = parse(await metrics.registry.metrics());
		expect(series.has('envwatch_automatic_paused{environment="dev"}')).toBe(false);
		expect(series.get('envwatch_automatic_paused{environment="staging"}')).toBe(0);
	});

	it('stale data is absent, never 0; /healthz turns 503 with the reason, and 200 again when a poll succeeds', async () => {
		const sim = start({scenario: 'dev-spike'});
		const server = await serve(sim);
		const before = await fetch(`${server.url}/healthz`);
		expect(before.status).toBe(503);
		expect(await before.text()).toBe('stale: no poll has finished yet\n');

		const fresh = await sim.poll();
		expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
		expect(parse(await (await fetch(`${server.url}/metrics`)).text()).get('envwatch_hourly_cost_usd{environment="dev"}')).toBeCloseTo(fresh.environments[0]!.hourlyUsd, 9);

		sim.fleet.onList = () => {
			throw new Error('connect ETIMEDOUT ec2.us-east-1.amazonaws.com');
		};

		const stale = await sim.poll();
		expect(stale.environments.every(view => view.stale !== null)).toBe(true);
		const series = await scrape(server);
		for (const name of ['envwatch_hourly_cost_usd', 'envwatch_agents_running', 'envwatch_baseline_cost_usd', 'envwatch_increase_percent']) {
			expect([...series.keys()].filter(key => key.startsWith(`${name}{`))).toEqual([]);
		}

		for (const environment of ['dev', 'staging', 'production']) {
			expect(series.get(`envwatch_status{environment="${environment}",status="STALE"}`)).toBe(1);
			// What is configured is still known.
			expect(series.get(`envwatch_max_hourly_usd{environment="${environment}"}`)).toBe(sim.config.environments[environment]!.maxHourlyUsd);
		}

		expect(series.get('envwatch_last_successful_poll_timestamp_seconds')).toBe(fresh.lastSuccessAt! / 1000);
		const health = await fetch(`${server.url}/healthz`);
		expect(health.status).toBe(503);
		expect(await health.text()).toMatch(/^stale: the last poll failed: .*ETIMEDOUT/);

		sim.fleet.onList = undefined;
		const again = await sim.poll();
		expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
		expectFigures(await scrape(server), again);
	});

	it('/healthz is 503 once the last successful poll is older than four intervals, even without a failed poll', async () => {
		const sim = start({scenario: 'dev-spike'});
		const server = await serve(sim);
		await sim.poll(0);
		expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
		sim.clock.advance((4 * sim.config.pollIntervalSeconds + 31) * 1000);
		const health = await fetch(`${server.url}/healthz`);
		expect(health.status).toBe(503);
		expect(await health.text()).toBe(`stale: the last successful poll was ${4 * sim.config.pollIntervalSeconds + 31}s ago (polls every ${sim.config.pollIntervalSeconds}s)\n`);
	});
});

describe('the agent -> environment lookup (for a stop across environments)', () => {
	it('holds the agents of the last two snapshots, not every agent ever seen, and still attributes a multi-environment stop', async () => {
		const sim = start({scenario: 'calm'});
		const polled = await sim.poll();
		const metrics = new Metrics({defaults: false});
		/** The polled snapshot with `count` agents of its own in dev and staging (instances churning). */
		const churned = (round: number, count: number): Snapshot => ({
			...polled,
			environments: polled.environments.map(view => view.name === 'dev' || view.name === 'staging' ? {...view, agentIds: Array.from({length: count}, (_, index) => `i-${view.name}-${round}-${index}`)} : view),
		});
		for (let round = 0; round < 50; round++) {
			metrics.update(churned(round, 100));
		}

		// 50 polls of 200 new agents each: the two latest polls' 400, not 10,000.
		expect(metrics.trackedAgents).toBe(400);
		const stop = (ids: string[]): AuditEntry => ({at: '2026-11-27T09:00:00.000Z', seq: 1, type: 'action', actor: 'auto', kind: 'emergency', environments: ['dev', 'staging'], reason: 'r', instanceIds: ids, dryRun: false, outcome: 'executed', results: ids.map(id => ({id, result: 'stopping'}))} as AuditEntry);
		// Recorded after the next snapshot (which no longer lists them) was published: still found.
		metrics.update(churned(50, 0));
		metrics.record(stop(['i-dev-49-0', 'i-dev-49-1', 'i-staging-49-0']));
		const text = await metrics.registry.metrics();
		expect(text).toContain('envwatch_instances_stopped_total{environment="dev"} 2');
		expect(text).toContain('envwatch_instances_stopped_total{environment="staging"} 1');
		expect(text).not.toContain('envwatch_instances_stopped_total{environment="global"}');
	});

	it('a stale environment keeps its last listed agents until it is listed again', async () => {
		const sim = start({scenario: 'calm'});
		const polled = await sim.poll();
		const metrics = new Metrics({defaults: false});
		const dev = (agentIds: string[], stale: string | null): Snapshot => ({...polled, environments: polled.environments.map(view => view.name === 'dev' ? {...view, agentIds, stale} : {...view, agentIds: []})});
		metrics.update(dev(['i-1', 'i-2'], null));
		for (let round = 0; round < 5; round++) {
			metrics.update(dev([], 'us-east-1: connect ETIMEDOUT'));
		}

		expect(metrics.trackedAgents).toBe(2);
		metrics.update(dev(['i-3'], null));
		metrics.update(dev(['i-3'], null));
		expect(metrics.trackedAgents).toBe(1);
	});
});
