import type {Config} from '../config/index.js';
import {checkAgainstBill, emptySpend, evaluate, unknownVolumes, liveDay, seriesOf, windowStats, type EnvironmentInput, type EnvironmentView, type Evaluation, type History, type Rollup, type Sample, type Spend, type WindowStats} from '../domain/index.js';
import type {BilledCost} from '../providers/index.js';
import type {AuditEntry} from './state/audit.js';
import type {PricingView} from './pricing.js';
import type {SweepView} from './sweep.js';
import type {Snapshot} from './snapshot.js';
import type {Breaker, LastStop} from './state/validate.js';
import type {AccountState, AccountView} from './accounts.js';

/** What one poll evaluated: the inputs per environment, the global window, and the policy's verdict. */
export type Evaluated = {evaluation: Evaluation; inputs: EnvironmentInput[]; globalWindow: WindowStats};

/** Evaluates the policy at `at` over the windows in `history` (pure). `stale`: why the data is not fresh. */
export function evaluateAt(args: {config: Config; monitored: string[]; globalKey: string; history: History; spend: ReadonlyMap<string, Spend>; breakers: ReadonlyMap<string, Breaker>; at: number; stale: string | undefined; paused?: ReadonlySet<string>; learning?: ReadonlyMap<string, string> | undefined; staleRows?: ReadonlyMap<string, string>}): Evaluated {
	const {config, monitored, history, spend, at, stale} = args;
	const globalMs = config.global.windowMinutes * 60_000;
	const globalSeries = windowStats(seriesOf(history, args.globalKey), globalMs, at);
	const inputs: EnvironmentInput[] = monitored.map(name => {
		const paused = args.paused?.has(name) ?? false;
		return {
			name,
			policy: config.environments[name]!,
			spend: spend.get(name) ?? emptySpend(),
			window: ranNothing(windowStats(seriesOf(history, name), config.environments[name]!.windowMinutes * 60_000, at), spend.get(name)?.storageHourlyUsd ?? 0),
			// With accounts, a row is stale when an account it covers failed (the reason names it).
			stale: args.staleRows ? args.staleRows.get(name) : stale,
			stoppedByEnvwatch: args.breakers.has(name),
			paused,
			...(paused ? {globalRiseUsd: riseSince(seriesOf(history, name), globalSeries.baselineAt)} : {}),
			...(args.learning?.has(name) ? {learning: args.learning.get(name)} : {}),
		};
	});
	const globalWindow = ranNothing(globalSeries, inputs.reduce((sum, input) => sum + input.spend.storageHourlyUsd, 0));
	const evaluation = evaluate(inputs, {policy: config.global, window: globalWindow, stale}, config);
	return {evaluation, inputs, globalWindow};
}

/**
 * How much a series rose since `from` (the global window's baseline): its latest sample less its
 * sample at that time, from $0 too. Undefined when it has no sample then (its window restarted
 * since, say, after envwatch stopped it): not known, so not taken to be zero.
 */
function riseSince(series: readonly Sample[] | undefined, from: number | undefined): number | undefined {
	if (from === undefined || !series) {
		return undefined;
	}

	let base: Sample | undefined;
	for (const sample of series) {
		if (sample.at > from) {
			break;
		}

		base = sample;
	}

	const current = series.at(-1);
	return base && current ? current.usd - base.usd : undefined;
}

/**
 * A window whose baseline is no more than what the volumes cost now ran nothing a window ago (say,
 * every agent stopped): as with a $0 baseline, no increase is measured and only the cap applies;
 * a first agent after a stop is not a +2,500% spike over its stopped instances' disks.
 */
function ranNothing(window: WindowStats, storageUsd: number): WindowStats {
	// Samples are stored to the micro-dollar: a little slack.
	if (window.baselineUsd === undefined || window.baselineUsd > storageUsd + 1e-5) {
		return window;
	}

	return {...window, increasePct: undefined, increaseUsd: undefined};
}

/** What a poll published from: the evaluation, and the figures that are not part of it. */
export type Published = Evaluated & {
	at: number;
	error: string | null;
	unknown: Snapshot['unknown'];
	/** With accounts: each account's state this poll, and why the organization's list could not be asked again (null: it could). */
	accounts?: AccountState[];
	accountsProblem?: string | null;
	/** Stale rows whose figures were never listed (their account failed from the start): unknown, never $0. */
	unlisted?: ReadonlySet<string>;
};

/** The engine's state a snapshot shows besides the evaluation. */
export type EngineView = {
	config: Config;
	source: string;
	polls: number;
	lastSuccessAt: number | null;
	mode: {paused: boolean; dryRun: boolean; readOnly: boolean};
	/** Environments whose automatic actions a person paused (read now: a toggle shows before the next poll). */
	pausedEnvironments?: ReadonlySet<string>;
	/** The agents this poll's action stopped, per environment (the next poll confirms it). */
	acted: ReadonlyMap<string, readonly string[]>;
	breakers: ReadonlyMap<string, Breaker>;
	billing: {cost: BilledCost | undefined; calls: number; costUsd: number; error: string | null; enabled: boolean; unattributed?: Snapshot['billing']['unattributed']};
	/** What a start would launch, per environment. */
	launch: ReadonlyMap<string, EnvironmentView['launch']>;
	events: AuditEntry[];
	pending: Snapshot['pending'];
	recordError: string | null;
	lastStop: LastStop | undefined;
	/** The hourly rollup of live spend (yesterday's is checked against its bill). */
	rollup: Rollup;
	/** Live prices: the calls made and the last failure. */
	pricing: PricingView;
	/** The sweep of the regions not watched; null without one. */
	unwatched?: SweepView | null;
	/** The spend chart's ranges (samples.ts). */
	history?: Snapshot['history'];
};

/**
 * What the bill says of one environment (the sum over its tag values; a value the bill does not
 * have is $0 of it), and yesterday's live figure (the hourly rollup under `key`) checked against
 * yesterday's final bill, once there is one. `estimated`: the live figure includes estimates (~).
 */
export function billedCost(cost: BilledCost, tagValues: readonly string[], rollup: Rollup, key: string, estimated: boolean): NonNullable<EnvironmentView['billed']> {
	const check = cost.yesterday ? billedYesterday(cost.yesterday, tagValues, rollup, key, estimated) : undefined;
	return {
		todayUsd: billedSum(cost.todayUsd, tagValues),
		monthToDateUsd: billedSum(cost.monthToDateUsd, tagValues),
		...(check ? {yesterday: check} : {}),
	};
}

/** Yesterday's live figure against its final bill; undefined when the bill's date is not a day. */
export function billedYesterday(yesterday: NonNullable<BilledCost['yesterday']>, tagValues: readonly string[], rollup: Rollup, key: string, estimated: boolean): NonNullable<NonNullable<EnvironmentView['billed']>['yesterday']> | undefined {
	const dayStart = Date.parse(`${yesterday.date}T00:00:00Z`);
	return Number.isFinite(dayStart) ? {date: yesterday.date, ...checkAgainstBill(liveDay(rollup, key, dayStart), billedSum(yesterday.usd, tagValues), estimated)} : undefined;
}

/** An environment's dollars in a bill's table: the sum over its tag values (a value it lacks is $0 of it). */
function billedSum(table: Record<string, number>, tagValues: readonly string[]): number {
	// The tables' keys come from the billing source: `constructor` is a tag value like any other.
	return tagValues.reduce((total, value) => total + (Object.hasOwn(table, value) ? table[value]! : 0), 0);
}

/**
 * When the last still-filling window will be full (epoch ms): null when none is filling, or when one
 * has no sample yet (how long it will take is not known).
 */
function warmUntil(views: readonly EnvironmentView[]): number | null {
	const filling = views.filter(view => view.warmingUp);
	if (filling.length === 0 || filling.some(view => typeof view.fullAt !== 'number')) {
		return null;
	}

	return Math.max(...filling.map(view => view.fullAt!));
}

/** The last stop's first instance IDs go in each snapshot (the undo confirmation names a few and counts the rest). */
const lastStopIdsSent = 20;

/**
 * The figures right after this poll's action: the agents it stopped no longer count in their
 * environment's spend and agents, nor in the global total, and the policy judges the result again
 * (with the breakers as the action left them). Without it, the poll that acted would show STOPPED
 * beside the spend it had just stopped, and the global total still in BREACH with no agent left
 * to page about, until the next poll. A stopped environment's window restarted with the stop (a
 * stop is no trend), so it has no increase to show yet. Unchanged when nothing was stopped or the
 * data is stale.
 */
export function afterAction(published: Published, engine: Pick<EngineView, 'acted' | 'breakers' | 'config'>): Published {
	const {acted, config} = engine;
	// With accounts, some rows may be fresh while another account's are stale: theirs are projected.
	if (acted.size === 0 || (published.error !== null && published.inputs.every(input => input.stale))) {
		return published;
	}

	const inputs = published.inputs.map((input): EnvironmentInput => {
		const ids = new Set(acted.get(input.name) ?? []);
		const after = {...input, stoppedByEnvwatch: engine.breakers.has(input.name)};
		if (ids.size === 0 || input.stale) {
			return after;
		}

		const windowMs = input.policy.windowMinutes * 60_000;
		return {
			...after,
			spend: withoutAgents(input.spend, ids),
			window: {...input.window, baselineUsd: undefined, baselineAt: undefined, increasePct: undefined, increaseUsd: undefined, warmingUp: true, fullAt: published.at + windowMs, samples: []},
		};
	});
	const currentUsd = inputs.reduce((sum, input) => sum + input.spend.hourlyUsd, 0);
	const {baselineUsd} = published.globalWindow;
	const globalWindow: WindowStats = {
		...published.globalWindow,
		currentUsd,
		increaseUsd: baselineUsd === undefined ? undefined : currentUsd - baselineUsd,
		increasePct: baselineUsd ? ((currentUsd - baselineUsd) / baselineUsd) * 100 : undefined,
	};
	const evaluation = evaluate(inputs, {policy: config.global, window: globalWindow, stale: published.error ?? undefined}, config);
	return {...published, inputs, globalWindow, evaluation};
}

/**
 * `spend` without the agents `ids`: their price comes off the spend and the agents' cost (an agent
 * with no known price was counted as unpriced, not in dollars), and their rows read `stopping`.
 */
function withoutAgents(spend: Spend, ids: ReadonlySet<string>): Spend {
	let usd = 0;
	let removed = 0;
	let unpriced = 0;
	let estimated = 0;
	const instances = spend.instances?.map(row => {
		if (!ids.has(row.id) || row.role !== 'agent' || (row.state !== 'pending' && row.state !== 'running')) {
			return row;
		}

		removed++;
		if (row.usdPerHour === null) {
			unpriced++;
		} else {
			usd += row.usdPerHour;
			estimated += row.estimated ? 1 : 0;
		}

		const {estimated: _estimated, priceSource: _priceSource, ...rest} = row;
		return {...rest, state: 'stopping' as const, usdPerHour: 0};
	});
	const left = spend.agentIds.filter(agent => !ids.has(agent.id));
	// Agents listed but without a row (none, as the spend is built) are counted off without a price: their dollars are not known here.
	removed = Math.max(removed, spend.agentIds.length - left.length);
	const counts = {unpriced: Math.max(0, spend.unpriced - unpriced), estimated: Math.max(0, spend.estimated - estimated)};
	return {
		...spend,
		hourlyUsd: Math.max(0, spend.hourlyUsd - usd),
		agentHourlyUsd: Math.max(0, spend.agentHourlyUsd - usd),
		agentsRunning: Math.max(0, spend.agentsRunning - removed),
		instancesRunning: Math.max(0, spend.instancesRunning - removed),
		...counts,
		unpricedTypes: counts.unpriced === 0 ? [] : spend.unpricedTypes,
		estimatedTypes: counts.estimated === 0 ? [] : spend.estimatedTypes,
		agentIds: left,
		...(instances ? {instances} : {}),
	};
}

/** Where the poll found a breach (fresh data over a limit), before its action: the figures show what the action left. */
function breachesFound(polled: Published): Pick<Snapshot, 'breachFound' | 'breachFoundIn'> {
	const {evaluation, inputs, error} = polled;
	const found = inputs.filter((input, index) => evaluation.environments[index]?.assessment.level === 'breach' && !input.stale).map(input => input.name);
	if (evaluation.global.assessment.level === 'breach' && error === null) {
		found.push('global');
	}

	return {breachFound: found.length > 0, breachFoundIn: found};
}

/** The snapshot the views show (pure): the poll's figures, as its action left them (`afterAction`). */
export function project(polled: Published, engine: EngineView): Snapshot {
	const published = afterAction(polled, engine);
	const {evaluation, inputs, globalWindow, at, error, unknown} = published;
	const {config, billing} = engine;
	const billedFor = (name: string) => {
		const cost = billing.cost && rowCost(billing.cost, config.environments[name]?.account, published.accounts);
		return cost ? billedCost(cost, config.environments[name]?.tagValues ?? [], engine.rollup, name, (inputs.find(input => input.name === name)?.spend.estimated ?? 0) > 0) : null;
	};

	const environments: EnvironmentView[] = inputs.map((input, index) => {
		const result = evaluation.environments[index]!;
		const policy = input.policy;
		const running = input.spend.agentsRunning;
		return {
			name: input.name,
			status: result.status,
			hourlyUsd: input.spend.hourlyUsd,
			baselineUsd: input.window.baselineUsd ?? null,
			increasePct: input.window.increasePct ?? null,
			thresholdPct: policy.thresholdPct,
			windowMinutes: policy.windowMinutes,
			maxHourlyUsd: policy.maxHourlyUsd,
			warmingUp: input.window.warmingUp,
			fullAt: input.window.warmingUp ? input.window.fullAt ?? null : null,
			level: result.assessment.level,
			byIncrease: result.assessment.byIncrease,
			byCap: result.assessment.byCap,
			reasons: result.assessment.reasons,
			agents: {running, allowed: policy.agents === 'monitor-only' ? 'monitor-only' : policy.maxAgents ?? 'all'},
			breaker: engine.breakers.get(input.name) ?? null,
			monitors: input.spend.monitorsRunning,
			unpriced: input.spend.unpriced,
			unpricedTypes: input.spend.unpricedTypes,
			estimated: input.spend.estimated,
			estimatedTypes: input.spend.estimatedTypes,
			// Volumes not known yet are an unknown amount, not $0.
			storageHourlyUsd: input.spend.estimatedTypes.includes(unknownVolumes) ? null : input.spend.storageHourlyUsd,
			priority: policy.priority,
			policy: {agents: policy.agents, onBreach: policy.onBreach},
			stale: input.stale ?? null,
			trend: input.window.samples.map(sample => sample.usd),
			billed: billedFor(input.name),
			violation: evaluation.decisions.find(decision => decision.kind === 'violation' && decision.environment === input.name)?.reason ?? null,
			launch: engine.launch.get(input.name) ?? null,
			instances: input.spend.instances ?? [],
			agentIds: input.spend.agentIds.map(agent => agent.id),
			agentHourlyUsd: input.spend.agentHourlyUsd,
			paused: engine.pausedEnvironments?.has(input.name) ?? false,
			...(input.learning ? {learning: input.learning} : {}),
			...(input.policy.account === undefined ? {} : {account: input.policy.account, splitOf: config.environments[input.name]?.splitOf ?? input.name}),
			...(published.unlisted?.has(input.name) ? {unlisted: true as const} : {}),
		};
	});
	const agentsRunning = environments.reduce((sum, view) => sum + view.agents.running, 0);
	const global: EnvironmentView = {
		name: 'global',
		status: evaluation.global.status,
		hourlyUsd: globalWindow.currentUsd,
		baselineUsd: globalWindow.baselineUsd ?? null,
		increasePct: globalWindow.increasePct ?? null,
		thresholdPct: config.global.thresholdPct,
		windowMinutes: config.global.windowMinutes,
		maxHourlyUsd: config.global.maxHourlyUsd,
		warmingUp: globalWindow.warmingUp,
		fullAt: globalWindow.warmingUp ? globalWindow.fullAt ?? null : null,
		level: evaluation.global.assessment.level,
		byIncrease: evaluation.global.assessment.byIncrease,
		byCap: evaluation.global.assessment.byCap,
		reasons: evaluation.global.assessment.reasons,
		agents: {running: agentsRunning, allowed: 'all'},
		monitors: inputs.reduce((sum, input) => sum + input.spend.monitorsRunning, 0),
		unpriced: inputs.reduce((sum, input) => sum + input.spend.unpriced, 0),
		unpricedTypes: [...new Set(inputs.flatMap(input => input.spend.unpricedTypes))].sort(),
		estimated: inputs.reduce((sum, input) => sum + input.spend.estimated, 0),
		estimatedTypes: [...new Set(inputs.flatMap(input => input.spend.estimatedTypes))].sort(),
		storageHourlyUsd: inputs.some(input => input.spend.estimatedTypes.includes(unknownVolumes)) ? null : inputs.reduce((sum, input) => sum + input.spend.storageHourlyUsd, 0),
		priority: 0,
		policy: {agents: 'global', onBreach: config.global.onBreach},
		stale: error,
		trend: globalWindow.samples.map(sample => sample.usd),
		violation: null,
		agentIds: environments.flatMap(view => view.agentIds ?? []),
		agentHourlyUsd: inputs.reduce((sum, input) => sum + input.spend.agentHourlyUsd, 0),
		billed: billing.cost ? environments.reduce((sum, view) => ({todayUsd: sum.todayUsd + (view.billed?.todayUsd ?? 0), monthToDateUsd: sum.monthToDateUsd + (view.billed?.monthToDateUsd ?? 0)}), {todayUsd: 0, monthToDateUsd: 0}) : null,
		...(published.unlisted && published.unlisted.size > 0 ? {unlisted: true as const} : {}),
	};
	const last = engine.lastStop;
	return {
		at,
		source: engine.source,
		regions: config.regions,
		pollIntervalSeconds: config.pollIntervalSeconds,
		polls: engine.polls,
		lastSuccessAt: engine.lastSuccessAt,
		error,
		mode: {...engine.mode, warmingUp: environments.some(view => view.warmingUp) || global.warmingUp, warmUntil: warmUntil([...environments, global]), action: config.action},
		environments,
		global,
		unknown,
		// What this poll decided (and acted on), not what the policy says of the result.
		decisions: polled.evaluation.decisions,
		...breachesFound(polled),
		events: engine.events,
		billing: {fetchedAt: billing.cost?.fetchedAt ?? null, calls: billing.calls, costUsd: billing.costUsd, error: billing.error, enabled: billing.enabled, unattributed: billing.unattributed ?? null},
		pending: engine.pending,
		recordError: engine.recordError,
		lastStop: last ? {at: last.at, environments: last.environments, count: last.targets.length, ids: last.targets.slice(0, lastStopIdsSent).map(target => target.id), usdPerHour: last.usdPerHour ?? null} : null,
		pricing: engine.pricing,
		unwatched: engine.unwatched ?? null,
		...(published.accounts ? {accounts: accountViews(published.accounts), accountsProblem: published.accountsProblem ?? null} : {}),
		configured: Object.keys(config.environments),
		...(engine.history ? {history: engine.history} : {}),
	};
}

/**
 * Each account: who it is, whether its share was listed, and its share of the monitored
 * environments (instances and agents running, their $/h; null while stale: unknown, never 0).
 */
export function accountViews(accounts: readonly AccountState[]): AccountView[] {
	return accounts.map(account => ({...account, status: account.stale === null ? 'OK' : 'STALE', ...(account.stale === null ? {} : {instances: null, agents: null, hourlyUsd: null})}));
}

/**
 * The bill a row is judged by: an environment that spans accounts, the whole bill; a row split by
 * account, its account's share (nothing billed there is $0 of it). Undefined when the bill was not
 * fetched by account (fetched before accounts were configured): not known.
 */
function rowCost(cost: BilledCost, account: string | undefined, accounts: readonly AccountState[] | undefined): BilledCost | undefined {
	if (account === undefined) {
		return cost;
	}

	const id = accounts?.find(candidate => candidate.name === account)?.id;
	if (!cost.byAccount || !id) {
		return undefined;
	}

	const share = Object.hasOwn(cost.byAccount, id) ? cost.byAccount[id]! : {todayUsd: {}, monthToDateUsd: {}};
	const yesterday = cost.yesterday ? {date: cost.yesterday.date, usd: share.yesterdayUsd ?? {}} : undefined;
	return {todayUsd: share.todayUsd, monthToDateUsd: share.monthToDateUsd, fetchedAt: cost.fetchedAt, ...(yesterday ? {yesterday} : {})};
}
