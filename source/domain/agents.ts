import type {PriceBook, Priced} from './pricing.js';
import {byText, money, plural} from './format.js';
import type {EnvironmentPolicy, Spend} from './types.js';

/** The most agents an environment may run: undefined for no cap, 0 for monitor-only. */
export function agentCap(policy: Pick<EnvironmentPolicy, 'agents' | 'maxAgents'>): number | undefined {
	if (policy.agents === 'monitor-only') {
		return 0;
	}

	return policy.maxAgents;
}

export type StartCheck = {ok: true} | {ok: false; reason: string};

/**
 * Whether `count` more agents fit an environment's agent policy (monitor-only, maxAgents) with
 * `running` running: the part of the start check a dashboard can make from a snapshot.
 */
export function checkAgents(name: string, policy: Pick<EnvironmentPolicy, 'agents' | 'maxAgents'>, running: number, count: number): StartCheck {
	if (!Number.isInteger(count) || count < 1) {
		return {ok: false, reason: `--count ${count}: expected a whole number of agents, 1 or more`};
	}

	if (policy.agents === 'monitor-only') {
		return {ok: false, reason: `${name} is monitor only: no agents are ever started there`};
	}

	const cap = agentCap(policy);
	if (cap !== undefined && running + count > cap) {
		return {ok: false, reason: `${name} allows at most ${plural(cap, 'agent')} (${policy.agents}): ${running} running + ${count} requested = ${running + count}${cap > running ? `; at most ${cap - running} more` : ''}`};
	}

	return {ok: true};
}

export function noLaunchTemplate(name: string): string {
	return `${name} has no launch template: set environments.${name}.launchTemplate to {"id": "lt-..."} or {"name": "..."}`;
}

/**
 * Whether `count` more agents may start in an environment, within its agent policy and with a
 * launch template. The engine's command service makes this check before every start.
 */
export function checkStart(name: string, policy: EnvironmentPolicy, running: number, count: number): StartCheck {
	const agents = checkAgents(name, policy, running, count);
	if (!agents.ok) {
		return agents;
	}

	if (!policy.launchTemplate) {
		return {ok: false, reason: noLaunchTemplate(name)};
	}

	return {ok: true};
}

/** What a start adds and what it would be added to: the environment's and the total's $/h now, and their caps. */
export type StartCost = {
	/** The price of one agent of the template's type (undefined: no price known at all). */
	each: Priced | undefined;
	/** The template's instance type, where known (unknown: priced at the highest price known). */
	type: string | undefined;
	count: number;
	environment: {usd: number; cap: number};
	global: {usd: number; cap: number};
};

/**
 * Admission in dollars: a start whose added $/h (one agent's price, live, from the table or the
 * conservative estimate, times the count) would take the environment past its hourly cap, or the
 * total past the global cap, is refused before anything is launched. Exactly at a cap is within
 * it, as for a breach. A price that cannot be known, or a sum that is not a finite number, is
 * refused too: unknown is never $0.
 */
export function checkStartCost(name: string, cost: StartCost): StartCheck {
	const {each, count} = cost;
	const type = cost.type ?? 'an unknown instance type';
	if (!each) {
		return {ok: false, reason: `no price is known for ${type}: a start whose cost cannot be told is not admitted`};
	}

	const added = each.usd * count;
	const mark = each.source === 'estimate' ? '~' : '';
	if (!Number.isFinite(added)) {
		return {ok: false, reason: `${plural(count, 'agent')} at ${mark}${money(each.usd)}/h each cannot be added up: nothing started`};
	}

	const note = cost.type === undefined ? ': the highest price known' : each.source === 'estimate' ? `, an estimate: no price known for ${type}` : '';
	const what = `${mark}${money(added)}/h for ${count} ${cost.type ?? `agent${count === 1 ? '' : 's'} of a type the launch template does not name`} (${mark}$${each.usd.toFixed(4)}/h each${note})`;
	// The cap first: a status line cut at the terminal's width still says what was passed.
	const over = (usd: number, cap: number, whose: string) => (usd + added > cap + 1e-9 ? `over ${whose} hourly cap of ${money(cap)}/h: ${money(usd)}/h now + ${what} = ${mark}${money(usd + added)}/h` : undefined);
	const reason = over(cost.environment.usd, cost.environment.cap, `${name}'s`) ?? over(cost.global.usd, cost.global.cap, 'the global');
	return reason ? {ok: false, reason} : {ok: true};
}

export type Violation = {environment: string; reason: string; /** The agents that break the policy, newest first. */ agentIds: string[]};

/**
 * Agents the environment's policy does not allow: any agent in a monitor-only environment, and the
 * newest agents beyond the cap of a limited one.
 */
export function findViolation(name: string, policy: EnvironmentPolicy, spend: Spend): Violation | undefined {
	const cap = agentCap(policy);
	if (cap === undefined || spend.agentsRunning <= cap) {
		return undefined;
	}

	const newest = [...spend.agentIds].sort((a, b) => (b.launchedAt ?? 0) - (a.launchedAt ?? 0) || byText(b.id, a.id));
	const excess = newest.slice(0, spend.agentsRunning - cap);
	const reason = policy.agents === 'monitor-only'
		? `${name} is monitor only, yet ${spend.agentsRunning} agent${spend.agentsRunning === 1 ? ' runs' : 's run'} there (rogue)`
		: `${name} runs ${plural(spend.agentsRunning, 'agent')}, over its cap of ${cap}`;
	return {environment: name, reason, agentIds: excess.map(agent => agent.id)};
}

export function launchCost(book: PriceBook, region: string, type: string | undefined, count: number): string {
	const priced = type === undefined ? undefined : book.price({region, type});
	return priced === undefined ? `unpriced (${type ?? 'unknown type'})` : `${priced.source === 'estimate' ? '~' : ''}${money(priced.usd * count)}/h${priced.source === 'estimate' ? ` (an estimate: no price known for ${type})` : ''}`;
}

/**
 * What some agents cost running, for an action's summary: `$2.19/h`, `~$2.19/h` when a price is
 * an estimate, `$2.19/h + 1 agent unpriced`, or `an unpriced amount (2 agents)`: an agent without
 * a price is said, never counted as $0.
 */
export function hourlyOf(prices: ReadonlyArray<Priced | undefined>): string {
	const known = prices.filter((priced): priced is Priced => priced !== undefined);
	const unpriced = prices.length - known.length;
	if (known.length === 0 && unpriced > 0) {
		return `an unpriced amount (${plural(unpriced, 'agent')})`;
	}

	const usd = `${known.some(priced => priced.source === 'estimate') ? '~' : ''}${money(known.reduce((sum, priced) => sum + priced.usd, 0))}/h`;
	return unpriced === 0 ? usd : `${usd} + ${plural(unpriced, 'agent')} unpriced`;
}
