import {findViolation} from './agents.js';
import {byText, money, moneyPair, pct, plural} from './format.js';
import type {Assessment, Decision, EnvironmentPolicy, EnvironmentStatus, GlobalPolicy, GlobalStatus, Level, Spend, WindowStats} from './types.js';

export type Limits = {thresholdPct: number; windowMinutes: number; maxHourlyUsd: number};
export type Tuning = {warnRatio: number; minIncreaseUsdPerHour: number};

const rank: Record<Level, number> = {ok: 0, warn: 1, breach: 2};

/**
 * Figures are sums and ratios of binary floating-point prices: $2.00 -> $2.04/h computes as
 * +2.0000000000000018%. Limits are compared with this much slack, so exactly at a limit is at it.
 */
const slack = 1e-9;
const exceeds = (value: number, limit: number) => value > limit + slack;
const reaches = (value: number, limit: number) => value >= limit - slack;
const worst = (a: Level, b: Level): Level => (rank[a] >= rank[b] ? a : b);

/**
 * Breach: the increase over the window exceeds the threshold (exactly at it is not a breach) and
 * the rise is at least minIncreaseUsdPerHour, or the spend exceeds the hourly cap.
 * Warn: at warnRatio (75%) of either.
 */
export function assess(currentUsd: number, window: Pick<WindowStats, 'baselineUsd' | 'increasePct' | 'increaseUsd'>, limits: Limits, tuning: Tuning): Assessment {
	const reasons: string[] = [];
	let byIncrease: Level = 'ok';
	const {increasePct, increaseUsd, baselineUsd} = window;
	if (increasePct !== undefined && increaseUsd !== undefined && reaches(increaseUsd, tuning.minIncreaseUsdPerHour) && exceeds(increaseUsd, 0)) {
		if (exceeds(increasePct, limits.thresholdPct)) {
			byIncrease = 'breach';
		} else if (reaches(increasePct, limits.thresholdPct * tuning.warnRatio)) {
			byIncrease = 'warn';
		}

		if (byIncrease !== 'ok') {
			// Enough digits to see the change: a +3.5% rise on $0.15/h is $0.150 -> $0.155/h, not $0.15 -> $0.15/h.
			const [from, to] = moneyPair(baselineUsd ?? 0, currentUsd);
			reasons.push(`+${pct(increasePct)} ${byIncrease === 'breach' ? '>' : 'near'} ${pct(limits.thresholdPct)} over ${limits.windowMinutes}m (${from} -> ${to}/h)`);
		}
	}

	let byCap: Level = 'ok';
	if (exceeds(currentUsd, limits.maxHourlyUsd)) {
		byCap = 'breach';
	} else if (reaches(currentUsd, limits.maxHourlyUsd * tuning.warnRatio)) {
		byCap = 'warn';
	}

	if (byCap !== 'ok') {
		reasons.push(`${money(currentUsd)}/h ${byCap === 'breach' ? '>' : 'near'} cap ${money(limits.maxHourlyUsd)}/h`);
	}

	return {level: worst(byIncrease, byCap), reasons, byIncrease, byCap};
}

export type EnvironmentInput = {
	name: string;
	policy: EnvironmentPolicy;
	spend: Spend;
	window: WindowStats;
	/** Why this environment's data cannot be trusted now; undefined when fresh. */
	stale: string | undefined;
	/**
	 * The breaker is tripped: envwatch stopped this environment's agents and it stays held until a
	 * person resets it. Agents running here now are a re-spawn.
	 */
	stoppedByEnvwatch: boolean;
	/**
	 * Automatic actions are paused for this environment (a person's `--pause-env` or `P`): it is
	 * measured, shown and alerted on as ever, but no automatic stop, cascade step, re-spawn stop,
	 * violation stop or automatic emergency touches it.
	 */
	paused?: boolean;
	/**
	 * For a paused environment: how much its $/h rose over the global window (its own current
	 * sample less its own sample at that window's start, whatever it ran then); undefined when it
	 * has no sample there. The global rule is judged without it.
	 */
	globalRiseUsd?: number | undefined;
	/**
	 * Its figures are still being learnt (a price or volume on the way when a one-shot run stopped
	 * waiting), and why: a breach of its increase is alerted on, never acted on (the figure may
	 * move when the answer comes); a breach of its hourly cap is still acted on (figures that are
	 * not known yet are conservative ones).
	 */
	learning?: string | undefined;
};

export type GlobalInput = {policy: GlobalPolicy; window: WindowStats; stale: string | undefined};

export type EnvironmentResult = {name: string; assessment: Assessment; status: EnvironmentStatus};

export type Evaluation = {
	environments: EnvironmentResult[];
	global: {assessment: Assessment; status: GlobalStatus; currentUsd: number; projectedUsd: number};
	decisions: Decision[];
};

const policyWord: Record<EnvironmentPolicy['agents'], EnvironmentStatus> = {all: 'ACTIVE', limited: 'LIMITED', 'monitor-only': 'MONITOR'};

function statusOf(input: EnvironmentInput, level: Level): EnvironmentStatus {
	if (input.stale) {
		return 'STALE';
	}

	if (level === 'breach') {
		return 'BREACH';
	}

	if (level === 'warn') {
		return 'WARN';
	}

	if (input.stoppedByEnvwatch && input.spend.agentsRunning > 0 && input.policy.onBreach === 'stop') {
		// Agents came back while the breaker holds: a re-spawn, stopped again this poll.
		return 'BREACH';
	}

	// A monitor-only environment keeps its monitor running whatever was stopped there: its word says
	// what runs, not what envwatch did to its rogue agents.
	if (input.stoppedByEnvwatch && input.spend.agentsRunning === 0 && input.policy.agents !== 'monitor-only') {
		return 'STOPPED';
	}

	return policyWord[input.policy.agents];
}

/**
 * One evaluation of the graduated response (docs/design.md):
 * 1. breaching environments that stop and run agents: one is stopped; with several, only the
 *    lowest priority now (cascade), the rest re-measured next poll. Alert-only ones are alerted on.
 * 2. the global total projected after those stops: still over its limit means emergency, every
 *    agent in every monitored environment.
 * 3. warnings at warnRatio of a limit; agent policy violations (rogue agents, over the cap).
 * Stale environments get no automatic action, and make the global total stale too. Paused ones
 * (input.paused) are alerted on instead of stopped: the cascade and the emergency pass them by.
 */
export function evaluate(environments: readonly EnvironmentInput[], global: GlobalInput, tuning: Tuning): Evaluation {
	const {results, decisions, stoppable, respawnSavings} = environmentDecisions(environments, tuning);
	const first = cascadeStop(stoppable, results, decisions);
	const savings = respawnSavings + (first?.spend.agentHourlyUsd ?? 0);
	const {globalStale, globalAssessment, currentUsd, projectedUsd} = globalDecision(environments, global, tuning, {decisions, savings, first});
	warningsAndViolations(environments, results, decisions, globalStale ? undefined : globalAssessment);
	const globalStatus: GlobalStatus = globalStale ? 'STALE' : globalAssessment.level === 'breach' ? 'BREACH' : globalAssessment.level === 'warn' ? 'WARN' : 'NORMAL';
	return {environments: results, global: {assessment: globalAssessment, status: globalStatus, currentUsd, projectedUsd}, decisions};
}

/**
 * Step 1 for each environment: its assessment and status; a re-spawn where the breaker holds; an
 * alert or hold where a breach is not stopped; the breaching environments that may be stopped.
 */
function environmentDecisions(environments: readonly EnvironmentInput[], tuning: Tuning): {results: EnvironmentResult[]; decisions: Decision[]; stoppable: EnvironmentInput[]; respawnSavings: number} {
	const results: EnvironmentResult[] = [];
	const decisions: Decision[] = [];
	const stoppable: EnvironmentInput[] = [];
	let respawnSavings = 0;
	for (const input of environments) {
		// The cap is measured on the spend as listed now, never on the window: a window frozen by a
		// clock step must not blind the cap.
		const assessment = assess(input.spend.hourlyUsd, input.window, input.policy, tuning);
		results.push({name: input.name, assessment, status: statusOf(input, assessment.level)});
		if (input.stale) {
			continue;
		}

		if (input.stoppedByEnvwatch && input.spend.agentsRunning > 0 && input.policy.onBreach === 'stop') {
			// The breaker holds: whatever the figures say (the window restarted at the stop, so a
			// re-spawn from $0 is no spike), agents that came back are stopped again, unless paused.
			const count = input.spend.agentsRunning;
			if (input.paused) {
				decisions.push({kind: 'alert', environment: input.name, reason: `re-spawn: ${plural(count, 'agent')} running in ${input.name} after envwatch stopped it (paused: alert, no automatic stop)`});
				continue;
			}

			respawnSavings += input.spend.agentHourlyUsd;
			decisions.push({
				kind: 'respawn',
				environment: input.name,
				reason: `re-spawn: ${plural(count, 'agent')} running in ${input.name} after envwatch stopped it (breaker tripped; reset it to let agents run)`,
				agentIds: input.spend.agentIds.map(agent => agent.id),
				savesUsdPerHour: input.spend.agentHourlyUsd,
			});
			continue;
		}

		if (assessment.level !== 'breach') {
			continue;
		}

		const reason = `${input.name} ${assessment.reasons.join('; ')}`;
		if (input.policy.onBreach === 'alert') {
			decisions.push({kind: 'alert', environment: input.name, reason: `${reason} (monitor only: alert, no stop)`});
		} else if (input.paused) {
			// Paused by a person: alerted on, never stopped automatically; the cascade passes it by.
			decisions.push({kind: 'alert', environment: input.name, reason: `${reason} (paused: alert, no automatic stop)`});
		} else if (input.learning && assessment.byCap !== 'breach') {
			decisions.push({kind: 'alert', environment: input.name, reason: `${reason} (${input.learning}: alert, no automatic stop; the hourly cap still applies)`});
		} else if (input.spend.agentsRunning === 0) {
			decisions.push({kind: 'hold', environment: input.name, reason: `${reason}; no agents left to stop`});
		} else {
			stoppable.push(input);
		}
	}

	return {results, decisions, stoppable, respawnSavings};
}

/** The cascade: of the stoppable environments, only the lowest priority is stopped now (the rest next poll). */
function cascadeStop(stoppable: EnvironmentInput[], results: readonly EnvironmentResult[], decisions: Decision[]): EnvironmentInput | undefined {
	stoppable.sort((a, b) => a.policy.priority - b.policy.priority || byText(a.name, b.name));
	const [first, ...deferred] = stoppable;
	if (first) {
		const assessment = results.find(result => result.name === first.name)!.assessment;
		decisions.push({
			kind: 'stop',
			environment: first.name,
			cascade: deferred.length > 0,
			reason: `${first.name} ${assessment.reasons.join('; ')}${deferred.length > 0 ? `; cascade: lowest priority of ${stoppable.map(s => s.name).join(', ')}, the rest re-measured next poll` : ''}`,
			agentIds: first.spend.agentIds.map(agent => agent.id),
			savesUsdPerHour: first.spend.agentHourlyUsd,
			...(deferred.length > 0 ? {deferred: deferred.map(d => d.name)} : {}),
		});
	}

	return first;
}

/**
 * Step 2: the global total projected after this poll's stops (`savings`); over its limit, an
 * emergency stop of every agent in scope (or an alert when paused rises or learning explain it).
 */
function globalDecision(environments: readonly EnvironmentInput[], global: GlobalInput, tuning: Tuning, step: {decisions: Decision[]; savings: number; first: EnvironmentInput | undefined}): {globalStale: string | undefined; globalAssessment: Assessment; currentUsd: number; projectedUsd: number} {
	const {decisions, savings, first} = step;
	const globalStale = global.stale ?? environments.find(input => input.stale)?.name;
	// The total as listed now (the sum over the monitored environments), not the window's last sample.
	const currentUsd = environments.reduce((sum, input) => sum + input.spend.hourlyUsd, 0);
	const projectedUsd = Math.max(0, currentUsd - savings);
	const globalLimits = global.policy;
	const globalAssessment = assess(currentUsd, global.window, globalLimits, tuning);
	const windowAt = (usd: number) => ({
		baselineUsd: global.window.baselineUsd,
		increaseUsd: global.window.baselineUsd === undefined ? undefined : usd - global.window.baselineUsd,
		increasePct: global.window.baselineUsd ? ((usd - global.window.baselineUsd) / global.window.baselineUsd) * 100 : undefined,
	});
	const projected = assess(projectedUsd, windowAt(projectedUsd), globalLimits, tuning);
	// A paused environment's rise is a person's deliberate choice (a load test): the emergency is
	// judged without its rise since the global window's baseline, so it never stops the other
	// environments for that rise alone. A rise that cannot be measured is not taken away (unknown is
	// not zero).
	const paused = environments.filter(input => input.paused);
	const pausedRise = paused.reduce((sum, input) => sum + Math.max(0, input.globalRiseUsd ?? 0), 0);
	const guardedUsd = Math.max(0, projectedUsd - pausedRise);
	const guarded = pausedRise > 0 ? assess(guardedUsd, windowAt(guardedUsd), globalLimits, tuning) : projected;
	if (!globalStale && projected.level === 'breach') {
		const reason = `global ${projected.reasons.join('; ')}${savings > 0 ? ` after stopping ${first!.name}` : ''}`;
		// An emergency never touches a monitor-only (`onBreach: alert`) environment: rogue agents there
		// are a violation, stopped only under policy.stopViolations. An automatic one passes paused
		// environments by too (a person's emergency stop still includes them).
		const stoppable = environments.filter(input => input.policy.onBreach === 'stop' && input.spend.agentsRunning > 0);
		const inScope = stoppable.filter(input => !input.paused);
		const pausedNames = stoppable.filter(input => input.paused).map(input => input.name);
		const pausedNote = pausedNames.length > 0 ? ` (paused: ${pausedNames.join(', ')} not stopped)` : '';
		const learning = environments.filter(input => input.learning);
		if (guarded.level !== 'breach') {
			decisions.push({kind: 'alert', environment: 'global', reason: `${reason}; within its limits without the rise of paused ${paused.map(input => input.name).join(', ')} (${money(pausedRise)}/h): alert, no emergency`});
		} else if (learning.length > 0 && guarded.byCap !== 'breach') {
			// An increase measured while figures are still being learnt is no ground for an emergency; the global cap is.
			decisions.push({kind: 'alert', environment: 'global', reason: `${reason}; figures of ${learning.map(input => input.name).join(', ')} still being learnt: alert, no emergency (the global cap still applies)`});
		} else if (global.policy.onBreach === 'emergency-stop' && inScope.length > 0) {
			// The emergency supersedes single stops and re-spawn stops: it stops every agent in scope, theirs included.
			for (let index = decisions.length - 1; index >= 0; index--) {
				if (decisions[index]!.kind === 'stop' || decisions[index]!.kind === 'respawn') {
					decisions.splice(index, 1);
				}
			}

			decisions.push({
				kind: 'emergency',
				environments: inScope.map(input => input.name),
				reason: `${reason}: emergency stop of every agent in ${inScope.map(input => input.name).join(', ')}${pausedNote}`,
				agentIds: inScope.flatMap(input => input.spend.agentIds.map(agent => agent.id)),
				savesUsdPerHour: inScope.reduce((sum, input) => sum + input.spend.agentHourlyUsd, 0),
			});
		} else {
			decisions.push({kind: 'alert', environment: 'global', reason: `${reason}${global.policy.onBreach === 'emergency-stop' ? pausedNote : ''}`});
		}
	}

	return {globalStale, globalAssessment, currentUsd, projectedUsd};
}

/** Step 3: agent policy violations, then warnings at warnRatio of a limit (`globalAssessment` undefined: global stale). */
function warningsAndViolations(environments: readonly EnvironmentInput[], results: readonly EnvironmentResult[], decisions: Decision[], globalAssessment: Assessment | undefined): void {
	for (const input of environments) {
		const violation = input.stale ? undefined : findViolation(input.name, input.policy, input.spend);
		if (violation) {
			decisions.push({kind: 'violation', environment: input.name, reason: violation.reason, agentIds: violation.agentIds});
		}
	}

	for (const result of results) {
		const input = environments.find(environment => environment.name === result.name)!;
		if (!input.stale && result.assessment.level === 'warn') {
			decisions.push({kind: 'warn', environment: result.name, reason: `${result.name} ${result.assessment.reasons.join('; ')}`});
		}
	}

	if (globalAssessment?.level === 'warn') {
		decisions.push({kind: 'warn', environment: 'global', reason: `global ${globalAssessment.reasons.join('; ')}`});
	}

}
