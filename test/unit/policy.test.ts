import {describe, expect, it} from 'vitest';
import {loadConfig} from '../../source/config/load.js';
import {aggregate} from '../../source/domain/classify.js';
import {GLOBAL, record, windowStats, type History} from '../../source/domain/history.js';
import {assess, evaluate, type EnvironmentInput, type Evaluation} from '../../source/domain/policy.js';
import type {Decision, PolicyConfig, RawInstance} from '../../source/domain/types.js';

/**
 * The graduated response, driven from tables with the shipped defaults (config/default.json):
 * dev 2% / 30 min / $5, staging 1.5% / 45 min / $10, production 0.5% / 60 min / $50 (monitor only),
 * global 1% / 60 min / $100 (emergency stop).
 */
const config = loadConfig({noStore: true}).config;
const now = Date.UTC(2026, 10, 27, 12, 0, 0);
const minute = 60_000;
const tags = {envTagKey: config.envTagKey, roleTag: config.roleTag};

type Series = {
	/** Spend at the start of the window (undefined: no history before now). */
	baseline?: number;
	current: number;
	/** How the current spend splits: the agents' part (by default all of it, over two agents). */
	agents?: number;
	agentUsd?: number;
	monitors?: number;
	/** Minutes of history before now (default: the environment's whole window). */
	historyMinutes?: number;
	stale?: string;
	stoppedByEnvwatch?: boolean;
};

/**
 * Builds one environment's input the way the engine does: instances through `aggregate`, samples
 * through `record` and `windowStats`. Agents share `agentUsd`; a monitor and non-agent instances
 * carry the rest.
 */
function environment(name: string, series: Series, policyConfig: PolicyConfig = config): EnvironmentInput {
	const policy = policyConfig.environments[name]!;
	const agents = series.agents ?? 2;
	const agentUsd = series.agentUsd ?? (agents > 0 ? series.current : 0);
	const monitors = series.monitors ?? 0;
	const tagValue = policy.tagValues[0]!;
	const prices: Record<string, number> = {};
	const instances: RawInstance[] = [];
	for (let index = 0; index < agents; index++) {
		prices[`${name}.agent`] = agentUsd / agents;
		instances.push({id: `i-${name}-agent-${index}`, region: 'us-east-1', type: `${name}.agent`, state: 'running', tags: {Environment: tagValue, Role: 'agent'}});
	}

	const rest = series.current - agentUsd;
	for (let index = 0; index < monitors; index++) {
		prices[`${name}.monitor`] = rest / monitors;
		instances.push({id: `i-${name}-monitor-${index}`, region: 'us-east-1', type: `${name}.monitor`, state: 'running', tags: {Environment: tagValue, Role: 'monitor'}});
	}

	if (monitors === 0 && rest > 1e-12) {
		prices[`${name}.app`] = rest;
		instances.push({id: `i-${name}-app`, region: 'us-east-1', type: `${name}.app`, state: 'running', tags: {Environment: tagValue}});
	}

	const spend = aggregate(instances, tags, {[name]: policy}, prices).byEnvironment.get(name)!;
	const windowMs = policy.windowMinutes * minute;
	return {
		name,
		policy,
		spend,
		window: windowStats(seriesOf(series, windowMs), windowMs, now),
		stale: series.stale,
		stoppedByEnvwatch: series.stoppedByEnvwatch ?? false,
	};
}

function seriesOf(series: Pick<Series, 'baseline' | 'current' | 'historyMinutes'>, windowMs: number) {
	const history: History = {};
	if (series.baseline !== undefined) {
		record(history, 'x', {at: now - (series.historyMinutes === undefined ? windowMs : series.historyMinutes * minute), usd: series.baseline});
	}

	record(history, 'x', {at: now, usd: series.current});
	return history['x'];
}

/** The global series: the sum of the environments' baselines and current spends. */
function globalOf(inputs: EnvironmentInput[], stale?: string, policyConfig: PolicyConfig = config) {
	const history: History = {};
	const baseline = inputs.reduce((sum, input) => sum + (input.window.baselineUsd ?? input.window.currentUsd), 0);
	const current = inputs.reduce((sum, input) => sum + input.window.currentUsd, 0);
	const windowMs = policyConfig.global.windowMinutes * minute;
	record(history, GLOBAL, {at: now - windowMs, usd: baseline});
	record(history, GLOBAL, {at: now, usd: current});
	return {policy: policyConfig.global, window: windowStats(history[GLOBAL], windowMs, now), stale};
}

/** The seed's fleet: dev $2.34/h, staging $1.85/h (agents), production $0.15/h (a monitor). */
const seed = {dev: 2.34, staging: 1.85, production: 0.15};

/** Seed inputs where each environment rose by the given percentage over its window to the seed's figure. */
function seedInputs(rise: Partial<Record<keyof typeof seed, number>>): EnvironmentInput[] {
	return (Object.keys(seed) as Array<keyof typeof seed>).map(name => {
		const current = seed[name];
		const baseline = current / (1 + (rise[name] ?? 0) / 100);
		return name === 'production'
			? environment(name, {baseline, current, agents: 0, monitors: 1})
			: environment(name, {baseline, current});
	});
}

function run(inputs: EnvironmentInput[], stale?: string): Evaluation {
	return evaluate(inputs, globalOf(inputs, stale), config);
}

const kinds = (evaluation: Evaluation) => evaluation.decisions.map(decision => decision.kind);
const find = <K extends Decision['kind']>(evaluation: Evaluation, kind: K, environment?: string) =>
	evaluation.decisions.find((decision): decision is Extract<Decision, {kind: K}> => decision.kind === kind && (environment === undefined || !('environment' in decision) || decision.environment === environment));
const statusOf = (evaluation: Evaluation, name: string) => evaluation.environments.find(result => result.name === name)!.status;

describe('the example scenarios A-E (docs/design.md)', () => {
	it('the seed figures add up to $4.34/h', () => {
		const evaluation = run(seedInputs({}));
		expect(evaluation.global.currentUsd).toBeCloseTo(4.34, 6);
		expect(evaluation.decisions).toEqual([]);
		expect(evaluation.global.status).toBe('NORMAL');
	});

	type Row = {
		name: string;
		rise: Partial<Record<keyof typeof seed, number>>;
		stops: string[];
		cascadeDeferred?: string[];
		emergency: boolean;
		alerts: string[];
		warns: string[];
		statuses: Record<string, string>;
		projectedUsd?: number;
	};
	const rows: Row[] = [
		{name: 'A: dev +3%', rise: {dev: 3}, stops: ['dev'], emergency: false, alerts: [], warns: [], statuses: {dev: 'BREACH', staging: 'LIMITED', production: 'MONITOR'}, projectedUsd: 2.0},
		{name: 'B: staging +2%, dev +1.6%', rise: {staging: 2, dev: 1.6}, stops: ['staging'], emergency: false, alerts: [], warns: ['dev'], statuses: {dev: 'WARN', staging: 'BREACH', production: 'MONITOR'}, projectedUsd: 2.49},
		{name: 'C: dev +1.9%, staging +1.4%, production +0.4%', rise: {dev: 1.9, staging: 1.4, production: 0.4}, stops: [], emergency: true, alerts: [], warns: ['dev', 'staging', 'production'], statuses: {dev: 'WARN', staging: 'WARN', production: 'WARN'}},
		{name: 'D: dev +3% and staging +2%', rise: {dev: 3, staging: 2}, stops: ['dev'], cascadeDeferred: ['staging'], emergency: false, alerts: [], warns: [], statuses: {dev: 'BREACH', staging: 'BREACH', production: 'MONITOR'}, projectedUsd: 2.0},
		{name: 'E: production +1%', rise: {production: 1}, stops: [], emergency: false, alerts: ['production'], warns: [], statuses: {dev: 'ACTIVE', staging: 'LIMITED', production: 'BREACH'}},
	];

	it.each(rows)('$name', row => {
		const inputs = seedInputs(row.rise);
		const evaluation = run(inputs);
		const stops = evaluation.decisions.filter(decision => decision.kind === 'stop');
		expect(stops.map(stop => stop.kind === 'stop' && stop.environment)).toEqual(row.stops);
		for (const stop of stops) {
			if (stop.kind !== 'stop') {
				continue;
			}

			// Exactly that environment's agents, and what stopping them saves.
			const input = inputs.find(item => item.name === stop.environment)!;
			expect(stop.agentIds).toEqual(input.spend.agentIds.map(agent => agent.id));
			expect(stop.savesUsdPerHour).toBeCloseTo(input.spend.agentHourlyUsd, 9);
			expect(stop.cascade).toBe(row.cascadeDeferred !== undefined);
			expect(stop.deferred).toEqual(row.cascadeDeferred);
		}

		expect(kinds(evaluation).includes('emergency')).toBe(row.emergency);
		expect(evaluation.decisions.filter(decision => decision.kind === 'alert').map(decision => decision.kind === 'alert' && decision.environment)).toEqual(row.alerts);
		expect(evaluation.decisions.filter(decision => decision.kind === 'warn').map(decision => decision.kind === 'warn' && decision.environment)).toEqual(row.warns);
		for (const [name, status] of Object.entries(row.statuses)) {
			expect(statusOf(evaluation, name), name).toBe(status);
		}

		if (row.projectedUsd !== undefined) {
			expect(evaluation.global.projectedUsd).toBeCloseTo(row.projectedUsd, 2);
		}
	});

	it('A: the total alone rose past the global 1%, yet stopping dev brings it back: no emergency', () => {
		const evaluation = run(seedInputs({dev: 3}));
		expect(evaluation.global.assessment.level).toBe('breach');
		expect(evaluation.global.projectedUsd).toBeLessThan(evaluation.global.currentUsd);
		expect(kinds(evaluation)).toEqual(['stop']);
	});

	it('C: the emergency stops every agent of every monitored environment, and supersedes single stops', () => {
		const inputs = seedInputs({dev: 1.9, staging: 1.4, production: 0.4});
		const evaluation = run(inputs);
		expect(evaluation.global.assessment.level).toBe('breach');
		expect(evaluation.global.currentUsd).toBeCloseTo(4.34, 6);
		const emergency = find(evaluation, 'emergency')!;
		expect(emergency.agentIds.sort()).toEqual(['i-dev-agent-0', 'i-dev-agent-1', 'i-staging-agent-0', 'i-staging-agent-1']);
		expect(emergency.environments).toEqual(['dev', 'staging']);
		expect(emergency.savesUsdPerHour).toBeCloseTo(4.19, 6);
		expect(emergency.reason).toMatch(/global \+1\.6% > 1\.0%/);
		expect(evaluation.environments.every(result => result.assessment.level !== 'breach')).toBe(true);
	});

	it('D: the cascade stops dev now; after dev is stopped and its history reset, the next evaluation stops staging', () => {
		const first = run(seedInputs({dev: 3, staging: 2}));
		expect(find(first, 'stop')).toMatchObject({environment: 'dev', cascade: true, deferred: ['staging']});
		expect(find(first, 'stop')!.reason).toMatch(/cascade/);
		expect(kinds(first)).not.toContain('emergency');

		// Next poll: dev's agents are gone and its history restarted (one sample, no baseline yet);
		// staging is re-measured over its own window and still over 1.5%.
		const staging = seed.staging;
		const second = [
			environment('dev', {current: 0, agents: 0, stoppedByEnvwatch: true}),
			environment('staging', {baseline: staging / 1.02, current: staging}),
			environment('production', {baseline: 0.15, current: 0.15, agents: 0, monitors: 1}),
		];
		// The global series was not reset: its baseline is still the pre-spike total.
		const global = globalOf(seedInputs({dev: 3, staging: 2}));
		const globalHistory: History = {};
		record(globalHistory, GLOBAL, {at: now - 60 * minute, usd: global.window.baselineUsd!});
		record(globalHistory, GLOBAL, {at: now, usd: staging + 0.15});
		const evaluation = evaluate(second, {policy: config.global, window: windowStats(globalHistory[GLOBAL], 60 * minute, now), stale: undefined}, config);
		expect(find(evaluation, 'stop')).toMatchObject({environment: 'staging', cascade: false, agentIds: ['i-staging-agent-0', 'i-staging-agent-1']});
		expect(statusOf(evaluation, 'dev')).toBe('STOPPED');
		expect(kinds(evaluation)).not.toContain('emergency');
	});

	it('D: the next evaluation does not stop staging once it is back within its threshold', () => {
		const second = [
			environment('dev', {current: 0, agents: 0, stoppedByEnvwatch: true}),
			environment('staging', {baseline: 1.85, current: 1.85}),
			environment('production', {baseline: 0.15, current: 0.15, agents: 0, monitors: 1}),
		];
		const evaluation = run(second);
		expect(kinds(evaluation)).toEqual([]);
	});

	it('E: production is alerted on with its figures, never stopped, even with agents running in it', () => {
		const inputs = seedInputs({});
		inputs[2] = environment('production', {baseline: 0.15 / 1.01, current: 0.15, agents: 1, agentUsd: 0.05, monitors: 1});
		const evaluation = run(inputs);
		// The agent there is a policy violation of its own, reported beside the alert; nothing stops.
		expect(kinds(evaluation).sort()).toEqual(['alert', 'violation']);
		expect(find(evaluation, 'violation', 'production')!.agentIds).toEqual(['i-production-agent-0']);
		expect(find(evaluation, 'alert')!.reason).toMatch(/production \+1\.0% > 0\.5% over 60m/);
		expect(find(evaluation, 'alert')!.reason).toMatch(/monitor only/);
	});
});

describe('assess: breach and warn', () => {
	const limits = {thresholdPct: 2, windowMinutes: 30, maxHourlyUsd: 5};
	const tuning = {warnRatio: 0.75, minIncreaseUsdPerHour: 0};
	const windowOf = (baseline: number, current: number) => windowStats(seriesOf({baseline, current}, 30 * minute), 30 * minute, now);

	it.each([
		// [baseline, current, expected level by increase]
		[2, 2.04, 'warn'], // exactly +2%: at the threshold is not a breach
		[2.34, 2.3868, 'warn'], // exactly +2% of the seed's dev figure
		[1, 1.02, 'warn'],
		[2, 2.0401, 'breach'],
		[2, 2.03, 'warn'], // exactly 75% of the threshold warns
		[2, 2.0299, 'ok'],
		[2, 1.5, 'ok'], // a fall is never a spike
		[2, 2, 'ok'],
	] as const)('from $%s to $%s/h against a 2 percent threshold: %s', (baseline, current, level) => {
		expect(assess(current, windowOf(baseline, current), limits, tuning).byIncrease).toBe(level);
	});

	it.each([
		[5, 'warn'], // exactly at the cap is not a breach
		[5.01, 'breach'],
		[3.75, 'warn'], // 75% of the cap
		[3.74, 'ok'],
	] as const)('a flat $%s/h against a $5/h cap: %s', (usd, level) => {
		const result = assess(usd, windowOf(usd, usd), limits, tuning);
		expect(result.byCap).toBe(level);
		expect(result.byIncrease).toBe('ok');
		expect(result.level).toBe(level);
	});

	it('a zero baseline gives no increase: only the cap applies', () => {
		const fromNothing = windowOf(0, 4);
		expect(fromNothing.increasePct).toBeUndefined();
		expect(assess(4, fromNothing, limits, tuning)).toMatchObject({byIncrease: 'ok', byCap: 'warn', level: 'warn'});
		expect(assess(6, windowOf(0, 6), limits, tuning)).toMatchObject({byIncrease: 'ok', byCap: 'breach', level: 'breach'});
		expect(assess(1, windowOf(0, 1), limits, tuning).level).toBe('ok');
	});

	it('minIncreaseUsdPerHour: a rise smaller than it is neither a breach nor a warning, however large in percent', () => {
		const small = windowOf(0.1, 0.2); // +100%, but only $0.10/h
		expect(assess(0.2, small, limits, {...tuning, minIncreaseUsdPerHour: 0.5}).level).toBe('ok');
		expect(assess(0.2, small, limits, {...tuning, minIncreaseUsdPerHour: 0.1}).level).toBe('breach'); // a rise of exactly the minimum counts
		expect(assess(0.2, small, limits, {...tuning, minIncreaseUsdPerHour: 0}).level).toBe('breach');
	});

	it('gives its reasons with the figures', () => {
		const result = assess(6, windowOf(2, 6), limits, tuning);
		expect(result.reasons).toEqual(['+200% > 2.0% over 30m ($2.00 -> $6.00/h)', '$6.00/h > cap $5.00/h']);
	});
});

describe('evaluate: the edges', () => {
	it('an environment over its hourly cap is stopped, with no increase at all', () => {
		const inputs = seedInputs({});
		inputs[1] = environment('staging', {baseline: 10.5, current: 10.5});
		const evaluation = run(inputs);
		expect(find(evaluation, 'stop')).toMatchObject({environment: 'staging', cascade: false});
		expect(find(evaluation, 'stop')!.reason).toMatch(/\$10\.50\/h > cap \$10\.00\/h/);
	});

	it('zero baseline: starting agents from nothing is not a spike, but the cap still applies', () => {
		const fromNothing = [environment('dev', {baseline: 0, current: 4}), environment('staging', {baseline: 1.85, current: 1.85}), environment('production', {baseline: 0.15, current: 0.15, agents: 0, monitors: 1})];
		// The global total has a baseline of its own (and here rises 200%): keep it out of this case.
		const lenient = {...config, global: {...config.global, thresholdPct: 1000}};
		const evaluation = evaluate(fromNothing, globalOf(fromNothing, undefined, lenient), lenient);
		expect(fromNothing[0]!.window.increasePct).toBeUndefined();
		expect(find(evaluation, 'stop')).toBeUndefined();
		expect(statusOf(evaluation, 'dev')).toBe('WARN'); // $4 is 80% of the $5 cap
		const overCap = [environment('dev', {baseline: 0, current: 5.5}), ...fromNothing.slice(1)];
		expect(find(evaluate(overCap, globalOf(overCap, undefined, lenient), lenient), 'stop')).toMatchObject({environment: 'dev'});
	});

	it('exactly at the threshold is not a breach (dev from $2.00 to $2.04/h is exactly +2%)', () => {
		const inputs = [environment('dev', {baseline: 2, current: 2.04}), environment('staging', {baseline: 1.85, current: 1.85})];
		const evaluation = evaluate(inputs, {...globalOf(inputs), policy: {...config.global, thresholdPct: 5}}, config);
		expect(statusOf(evaluation, 'dev')).toBe('WARN');
		expect(kinds(evaluation)).toEqual(['warn']);
	});

	it('stale data: no automatic action, STALE, and the global total is stale too', () => {
		const inputs = seedInputs({dev: 3, staging: 2});
		inputs[0] = {...inputs[0]!, stale: 'us-east-1: RequestLimitExceeded'};
		const evaluation = run(inputs);
		expect(statusOf(evaluation, 'dev')).toBe('STALE');
		expect(evaluation.global.status).toBe('STALE');
		// staging is fresh and breaching: it is still stopped; dev is not, and no emergency on a stale total.
		expect(evaluation.decisions.map(decision => decision.kind === 'stop' ? decision.environment : decision.kind)).toEqual(['staging']);

		const allStale = seedInputs({dev: 30, staging: 30, production: 30}).map(input => ({...input, stale: 'timeout'}));
		const none = evaluate(allStale, globalOf(allStale, 'timeout'), config);
		expect(none.decisions).toEqual([]);
		expect(none.environments.map(result => result.status)).toEqual(['STALE', 'STALE', 'STALE']);
		expect(none.global.status).toBe('STALE');
	});

	it('a breaching environment with no agents left to stop is held, not stopped', () => {
		const inputs = seedInputs({});
		// dev's non-agent spend rose 4% (from $0.50 to $0.52/h); the total only 0.8%.
		inputs[0] = environment('dev', {baseline: 0.5, current: 0.52, agents: 0});
		const evaluation = run(inputs);
		expect(kinds(evaluation)).not.toContain('stop');
		expect(kinds(evaluation)).not.toContain('emergency');
		expect(find(evaluation, 'hold', 'dev')!.reason).toMatch(/no agents left to stop/);
		expect(statusOf(evaluation, 'dev')).toBe('BREACH');
	});

	it('warming up: a window not yet spanned is still evaluated against its oldest sample', () => {
		const inputs = seedInputs({});
		inputs[0] = environment('dev', {baseline: 2.34 / 1.03, current: 2.34, historyMinutes: 5});
		expect(inputs[0].window.warmingUp).toBe(true);
		expect(inputs[0].window.increasePct).toBeCloseTo(3, 9);
		const evaluation = run(inputs);
		expect(find(evaluation, 'stop')).toMatchObject({environment: 'dev'});
	});

	it('an emergency never touches a monitor-only environment: its rogue agent is a violation, not a target; monitors never are', () => {
		const inputs = seedInputs({dev: 1.9, staging: 1.4});
		inputs[2] = environment('production', {baseline: 0.15 / 1.004, current: 0.15, agents: 1, agentUsd: 0.05, monitors: 1});
		const evaluation = run(inputs);
		const emergency = find(evaluation, 'emergency')!;
		expect(emergency.agentIds).not.toContain('i-production-agent-0');
		expect(emergency.environments).toEqual(['dev', 'staging']);
		expect(emergency.agentIds.filter(id => id.includes('monitor'))).toEqual([]);
		expect(emergency.agentIds).toHaveLength(4);
		expect(find(evaluation, 'violation', 'production')!.agentIds).toEqual(['i-production-agent-0']);
	});

	it('a global breach with agents only in monitor-only environments is an alert, not an emergency', () => {
		const inputs = [
			environment('dev', {baseline: 1, current: 1, agents: 0}),
			environment('production', {baseline: 1, current: 1.5, agents: 1, agentUsd: 0.5, monitors: 1}),
		];
		const evaluation = run(inputs);
		expect(kinds(evaluation)).not.toContain('emergency');
		expect(find(evaluation, 'alert', 'global')).toBeDefined();
	});

	it('a reason shows enough digits to see the change: $0.145 -> $0.150/h, not $0.15 -> $0.15/h', () => {
		const evaluation = run([environment('production', {baseline: 0.1452, current: 0.1452 * 1.035, agents: 0, monitors: 1})]);
		expect(find(evaluation, 'alert', 'production')!.reason).toMatch(/\+3\.5% > 0\.5% over 60m \(\$0\.145 -> \$0\.150\/h\)/);
	});

	it('the hourly cap is judged on the spend listed now, even when the window is frozen on an old sample', () => {
		const input = environment('dev', {baseline: 0.2, current: 0.2});
		// The listing says $6/h (over the $5 cap), the window still says $0.20/h.
		const frozen = {...input, spend: {...input.spend, hourlyUsd: 6, agentHourlyUsd: 6}};
		const evaluation = evaluate([frozen], globalOf([input]), config);
		expect(find(evaluation, 'stop', 'dev')!.reason).toMatch(/\$6\.00\/h > cap \$5\.00\/h/);
	});

	it('a tripped breaker with agents running again is a re-spawn: stopped again whatever the window says', () => {
		const inputs = [environment('dev', {current: 0.5, agents: 2, stoppedByEnvwatch: true}), environment('staging', {baseline: 1.85, current: 1.85})];
		const evaluation = run(inputs);
		expect(find(evaluation, 'respawn', 'dev')).toMatchObject({agentIds: ['i-dev-agent-0', 'i-dev-agent-1']});
		expect(statusOf(evaluation, 'dev')).toBe('BREACH');
		expect(kinds(evaluation)).not.toContain('stop');
	});

	it('a tripped breaker with no agents reads STOPPED; a monitor-only environment keeps its MONITOR word', () => {
		const inputs = [
			environment('dev', {current: 0, agents: 0, stoppedByEnvwatch: true}),
			environment('production', {baseline: 0.15, current: 0.15, agents: 0, monitors: 1, stoppedByEnvwatch: true}),
		];
		const evaluation = run(inputs);
		expect(statusOf(evaluation, 'dev')).toBe('STOPPED');
		expect(statusOf(evaluation, 'production')).toBe('MONITOR');
	});

	it('the global limit set to alert is alerted on, with no emergency', () => {
		const alertOnly = {...config, global: {...config.global, onBreach: 'alert' as const}};
		const inputs = seedInputs({dev: 1.9, staging: 1.4, production: 0.4});
		const evaluation = evaluate(inputs, globalOf(inputs, undefined, alertOnly), alertOnly);
		expect(kinds(evaluation)).not.toContain('emergency');
		expect(find(evaluation, 'alert', 'global')!.reason).toMatch(/^global/);
	});

	it('the emergency is judged on the total projected after the stop: still over means every agent', () => {
		// dev +3% is stopped, but staging's own rise keeps the projected total over the global cap.
		const tight = {...config, global: {...config.global, maxHourlyUsd: 2}};
		const inputs = [environment('dev', {baseline: 1, current: 1.1}, tight), environment('staging', {baseline: 2.5, current: 2.5}, tight)];
		const evaluation = evaluate(inputs, globalOf(inputs, undefined, tight), tight);
		expect(evaluation.global.projectedUsd).toBeCloseTo(2.5, 9);
		expect(kinds(evaluation)).toEqual(['emergency']);
		expect(find(evaluation, 'emergency')!.agentIds).toHaveLength(4);
	});

	it('minIncreaseUsdPerHour gates a breach by increase in evaluate too', () => {
		const gated = {...config, minIncreaseUsdPerHour: 0.25};
		const inputs = [environment('dev', {baseline: 2.34 / 1.03, current: 2.34}, gated)];
		expect(find(evaluate(inputs, globalOf(inputs, undefined, gated), gated), 'stop')).toBeUndefined();
		expect(find(evaluate(inputs, globalOf(inputs), config), 'stop')).toMatchObject({environment: 'dev'});
	});

	it('warns at 75% of a limit, and a recovered environment is back to its policy word', () => {
		const inputs = seedInputs({dev: 1.5});
		const evaluation = run(inputs);
		expect(find(evaluation, 'warn', 'dev')!.reason).toMatch(/near 2\.0%/);
		expect(statusOf(evaluation, 'dev')).toBe('WARN');
		expect(statusOf(run(seedInputs({dev: 1.4})), 'dev')).toBe('ACTIVE');
	});
});

describe('an environment paused by a person (--pause-env, P)', () => {
	// Here each environment's series spans the global window with the same rise (the engine works it
	// out from the history: test/engine/pause-env.test.ts).
	const pausing = (names: string[], inputs: EnvironmentInput[]) => inputs.map(input => ({...input, paused: names.includes(input.name), ...(names.includes(input.name) ? {globalRiseUsd: input.window.increaseUsd} : {})}));

	it('its breach is still BREACH and alerted on, but it is not stopped', () => {
		const evaluation = run(pausing(['dev'], seedInputs({dev: 3})));
		expect(statusOf(evaluation, 'dev')).toBe('BREACH');
		expect(kinds(evaluation)).not.toContain('stop');
		expect(find(evaluation, 'alert', 'dev')!.reason).toMatch(/^dev \+3\.0% > 2\.0% .*\(paused: alert, no automatic stop\)$/);
	});

	it('the cascade passes it by: the other breaching environment is stopped now, with no cascade deferral', () => {
		const evaluation = run(pausing(['dev'], seedInputs({dev: 3, staging: 2})));
		expect(find(evaluation, 'stop')).toMatchObject({environment: 'staging', cascade: false});
		expect(find(evaluation, 'stop')!.deferred).toBeUndefined();
		expect(find(evaluation, 'alert', 'dev')).toBeDefined();
	});

	it('its own rise alone never sets off an emergency against the others: the global breach is an alert', () => {
		// Unpaused, A stops dev and the total comes back; paused, dev's +3% would keep the total over
		// 1% and the emergency would stop staging's agents for dev's deliberate load.
		const evaluation = run(pausing(['dev'], seedInputs({dev: 3})));
		expect(evaluation.global.status).toBe('BREACH');
		expect(kinds(evaluation)).not.toContain('emergency');
		expect(find(evaluation, 'alert', 'global')!.reason).toMatch(/without the rise of paused dev \(\$0\.07\/h\): alert, no emergency$/);
	});

	it('an emergency the others still call for (C) stops them and leaves it alone', () => {
		const evaluation = run(pausing(['staging'], seedInputs({dev: 1.9, staging: 1.4, production: 0.4})));
		const emergency = find(evaluation, 'emergency')!;
		expect(emergency.environments).toEqual(['dev']);
		expect(emergency.agentIds.sort()).toEqual(['i-dev-agent-0', 'i-dev-agent-1']);
		expect(emergency.reason).toMatch(/\(paused: staging not stopped\)$/);
	});

	it('agents back after a stop while the breaker holds are alerted on, not stopped again', () => {
		const inputs = pausing(['dev'], [environment('dev', {current: 2.34, stoppedByEnvwatch: true}), ...seedInputs({}).slice(1)]);
		const evaluation = run(inputs);
		expect(kinds(evaluation)).not.toContain('respawn');
		expect(find(evaluation, 'alert', 'dev')!.reason).toMatch(/^re-spawn: 2 agents running in dev .*\(paused: alert, no automatic stop\)$/);
		expect(statusOf(evaluation, 'dev')).toBe('BREACH');
	});
});
