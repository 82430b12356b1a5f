import {type Decision, type EnvironmentView, type InstanceRow} from '../domain/index.js';
import type {AuditEntry} from './state/audit.js';
import {bool, count, dayUsd, field, list, monthUsd, name, nullable, number, oneOf, optional, record, refuse, text, time, usd, yes, type Check} from './snapshot-fields.js';

// The rows of a snapshot from outside, checked field by field (snapshot-check.ts puts them together).

/** Names, reasons, types and IDs a row or an entry may list: far more than any fleet gives, few enough to draw. */
export const maxListed = 10_000;

/** Instance IDs one list may hold (a row's running agents, an action's targets). */
export const maxIds = 200_000;

/** The longest window the configuration allows (windowMinutes), and so a trend's samples at one poll a second. */
const maxWindowMinutes = 1440;
const maxTrend = maxWindowMinutes * 60 + 2;

const levels = ['ok', 'warn', 'breach'] as const;
const statuses = ['ACTIVE', 'LIMITED', 'MONITOR', 'WARN', 'BREACH', 'STOPPED', 'STALE', 'NORMAL'] as const;
const instanceStates = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'] as const;
const names = list(name, maxListed);
const texts = list(text(), maxListed);
const ids = list(name, maxIds);
const note = nullable(text());

/** What one row may cost in a view: `rowUsd` for an environment, the sum's bound for the total. */
export type RowBounds = {now: number; rowUsd: Check<number>};

/** One environment (or the total) as a view shows it. */
export function environmentView(value: unknown, where: string, bounds: RowBounds): EnvironmentView {
	const row = record(value, where);
	const at = (key: string) => field(where, key);
	const money = bounds.rowUsd;
	const agents = record(row['agents'], at('agents'));
	const policy = record(row['policy'], at('policy'));
	const allowed = agents['allowed'] === 'all' || agents['allowed'] === 'monitor-only' ? agents['allowed'] : count()(agents['allowed'], at('agents.allowed'));
	return {
		name: name(row['name'], at('name')),
		status: oneOf(statuses)(row['status'], at('status')),
		hourlyUsd: money(row['hourlyUsd'], at('hourlyUsd')),
		baselineUsd: nullable(money)(row['baselineUsd'], at('baselineUsd')),
		// Spend never falls below $0, so never more than 100% below its baseline.
		increasePct: nullable(number(-100, Number.MAX_VALUE, 'a percentage of at least -100'))(row['increasePct'], at('increasePct')),
		thresholdPct: number(Number.MIN_VALUE, Number.MAX_VALUE, 'a percentage above 0')(row['thresholdPct'], at('thresholdPct')),
		windowMinutes: number(1, maxWindowMinutes, `minutes from 1 to ${maxWindowMinutes}`)(row['windowMinutes'], at('windowMinutes')),
		maxHourlyUsd: number(Number.MIN_VALUE, Number.MAX_VALUE, 'a cap in $/h above 0')(row['maxHourlyUsd'], at('maxHourlyUsd')),
		warmingUp: bool(row['warmingUp'], at('warmingUp')),
		...optional(row, 'fullAt', where, nullable(time(bounds.now, maxWindowMinutes * 60_000))),
		level: oneOf(levels)(row['level'], at('level')),
		...optional(row, 'byIncrease', where, oneOf(levels)),
		...optional(row, 'byCap', where, oneOf(levels)),
		reasons: texts(row['reasons'], at('reasons')),
		agents: {running: count()(agents['running'], at('agents.running')), allowed},
		monitors: count()(row['monitors'], at('monitors')),
		unpriced: count()(row['unpriced'], at('unpriced')),
		unpricedTypes: texts(row['unpricedTypes'], at('unpricedTypes')),
		estimated: count()(row['estimated'], at('estimated')),
		estimatedTypes: texts(row['estimatedTypes'], at('estimatedTypes')),
		priority: count()(row['priority'], at('priority')),
		policy: {agents: oneOf(['all', 'limited', 'monitor-only', 'global'] as const)(policy['agents'], at('policy.agents')), onBreach: oneOf(['stop', 'alert', 'emergency-stop'] as const)(policy['onBreach'], at('policy.onBreach'))},
		stale: note(row['stale'], at('stale')),
		trend: list(money, maxTrend)(row['trend'], at('trend')),
		...optional(row, 'billed', where, nullable(billed)),
		violation: note(row['violation'], at('violation')),
		...optional(row, 'instances', where, list((item, place) => instanceRow(item, place, bounds.now), maxIds)),
		...optional(row, 'instancesWithheld', where, count()),
		...optional(row, 'agentIds', where, ids),
		...optional(row, 'agentHourlyUsd', where, money),
		...optional(row, 'storageHourlyUsd', where, nullable(money)),
		...optional(row, 'paused', where, bool),
		...optional(row, 'breaker', where, nullable((item, place) => breaker(item, place, bounds.now))),
		...optional(row, 'launch', where, nullable(launch)),
		...optional(row, 'learning', where, note),
		...optional(row, 'unlisted', where, yes),
		...optional(row, 'account', where, name),
		...optional(row, 'splitOf', where, name),
	};
}

function billed(value: unknown, where: string): NonNullable<EnvironmentView['billed']> {
	const item = record(value, where);
	const yesterday = item['yesterday'] === undefined ? undefined : record(item['yesterday'], field(where, 'yesterday'));
	const at = (key: string) => field(field(where, 'yesterday'), key);
	return {
		todayUsd: dayUsd(item['todayUsd'], field(where, 'todayUsd')),
		monthToDateUsd: monthUsd(item['monthToDateUsd'], field(where, 'monthToDateUsd')),
		...(yesterday ? {
			yesterday: {
				date: typeof yesterday['date'] === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(yesterday['date']) ? yesterday['date'] : refuse(at('date'), yesterday['date'], 'a date YYYY-MM-DD'),
				liveUsd: dayUsd(yesterday['liveUsd'], at('liveUsd')),
				billedUsd: dayUsd(yesterday['billedUsd'], at('billedUsd')),
				pct: nullable(number(-100, Number.MAX_VALUE, 'a percentage of at least -100'))(yesterday['pct'], at('pct')),
				hours: count(24)(yesterday['hours'], at('hours')),
				causes: texts(yesterday['causes'], at('causes')),
			},
		} : {}),
	};
}

function breaker(value: unknown, where: string, now: number): NonNullable<EnvironmentView['breaker']> {
	const item = record(value, where);
	return {trippedAt: time(now)(item['trippedAt'], field(where, 'trippedAt')), actor: text(300)(item['actor'], field(where, 'actor')), reason: text()(item['reason'], field(where, 'reason'))};
}

function launch(value: unknown, where: string): NonNullable<EnvironmentView['launch']> {
	const item = record(value, where);
	return {count: count()(item['count'], field(where, 'count')), instanceType: nullable(name)(item['instanceType'], field(where, 'instanceType')), usdPerHourEach: nullable(usd())(item['usdPerHourEach'], field(where, 'usdPerHourEach'))};
}

/** One instance of the detail view. */
function instanceRow(value: unknown, where: string, now: number): InstanceRow {
	const row = record(value, where);
	const at = (key: string) => field(where, key);
	const short = nullable(text(300));
	return {
		id: name(row['id'], at('id')),
		name: short(row['name'], at('name')),
		type: name(row['type'], at('type')),
		region: name(row['region'], at('region')),
		zone: short(row['zone'], at('zone')),
		lifecycle: short(row['lifecycle'], at('lifecycle')),
		state: oneOf(instanceStates)(row['state'], at('state')),
		launchedAt: nullable(time(now))(row['launchedAt'], at('launchedAt')),
		launchedBy: short(row['launchedBy'], at('launchedBy')),
		role: oneOf(['agent', 'monitor', 'other'] as const)(row['role'], at('role')),
		usdPerHour: nullable(usd())(row['usdPerHour'], at('usdPerHour')),
		...optional(row, 'estimated', where, yes),
		...optional(row, 'account', where, name),
		...optional(row, 'accountName', where, name),
		...optional(row, 'priceSource', where, text(100)),
		...optional(row, 'image', where, text(300)),
		...optional(row, 'storage', where, (item, place) => {
			const storage = record(item, place);
			return {usdPerHour: usd()(storage['usdPerHour'], field(place, 'usdPerHour')), ...optional(storage, 'estimated', place, yes), ...optional(storage, 'unknown', place, yes)};
		}),
		...optional(row, 'tags', where, tags),
	};
}

/** An instance's tags: EC2 allows 50 of a person's (and its own `aws:` ones); keys and values are text, escaped. */
function tags(value: unknown, where: string): Record<string, string> {
	const item = record(value, where);
	const entries = Object.entries(item);
	if (entries.length > 200) {
		return refuse(where, value, 'at most 200 tags');
	}

	const result = Object.create(null) as Record<string, string>;
	for (const [key, tag] of entries) {
		result[text(300)(key, `${where} key`)] = text(1000)(tag, `${where}[${JSON.stringify(key.slice(0, 40))}]`);
	}

	return result;
}

/** A decision of the poll (the pending action's, or the poll's list). */
export function decision(value: unknown, where: string, money: Check<number>): Decision {
	const item = record(value, where);
	const at = (key: string) => field(where, key);
	const kind = oneOf(['stop', 'emergency', 'alert', 'warn', 'hold', 'violation', 'respawn'] as const)(item['kind'], at('kind'));
	const reason = text()(item['reason'], at('reason'));
	if (kind === 'emergency') {
		return {kind, environments: names(item['environments'], at('environments')), reason, agentIds: ids(item['agentIds'], at('agentIds')), savesUsdPerHour: money(item['savesUsdPerHour'], at('savesUsdPerHour'))};
	}

	const environment = name(item['environment'], at('environment'));
	switch (kind) {
		case 'stop': {
			return {kind, environment, cascade: bool(item['cascade'], at('cascade')), reason, agentIds: ids(item['agentIds'], at('agentIds')), savesUsdPerHour: money(item['savesUsdPerHour'], at('savesUsdPerHour')), ...optional(item, 'deferred', where, names)};
		}

		case 'respawn': {
			return {kind, environment, reason, agentIds: ids(item['agentIds'], at('agentIds')), savesUsdPerHour: money(item['savesUsdPerHour'], at('savesUsdPerHour'))};
		}

		case 'violation': {
			return {kind, environment, reason, agentIds: ids(item['agentIds'], at('agentIds'))};
		}

		default: {
			return {kind, environment, reason};
		}
	}
}

const figure: Check<number | string | null> = (value, where) => (value === null ? null : typeof value === 'number' && Number.isFinite(value) ? value : text(1000)(value, where));

/** An audit entry of the events pane: its kind is any word (a newer server's kinds are shown as they come). */
export function auditEntry(value: unknown, where: string, now: number): AuditEntry {
	const item = record(value, where);
	const at = (key: string) => field(where, key);
	const when = item['at'];
	if (typeof when !== 'string' || when.length > 40 || !Number.isFinite(Date.parse(when))) {
		return refuse(at('at'), when, 'an ISO time');
	}

	time(now)(Date.parse(when), at('at'));
	return {
		at: when,
		seq: count()(item['seq'], at('seq')),
		type: oneOf(['decision', 'action', 'progress', 'notify'] as const)(item['type'], at('type')),
		actor: text(300)(item['actor'], at('actor')),
		kind: name(item['kind'], at('kind')) as AuditEntry['kind'],
		environments: names(item['environments'], at('environments')),
		reason: text()(item['reason'], at('reason')),
		instanceIds: ids(item['instanceIds'], at('instanceIds')),
		dryRun: item['dryRun'] === undefined ? false : bool(item['dryRun'], at('dryRun')),
		...optional(item, 'via', where, oneOf(['socket'] as const)),
		...optional(item, 'outcome', where, text()),
		...optional(item, 'lostFrom', where, count()),
		...optional(item, 'figures', where, (figures, place) => {
			const entries = Object.entries(record(figures, place));
			return entries.length > 100 ? refuse(place, figures, 'at most 100 figures') : Object.fromEntries(entries.map(([key, raw]) => [text(100)(key, `${place} key`), figure(raw, `${place}.${key.slice(0, 40)}`)]));
		}),
		...optional(item, 'peer', where, (peer, place) => {
			const who = record(peer, place);
			return {uid: nullable(count())(who['uid'], field(place, 'uid')), by: text(300)(who['by'], field(place, 'by')), ...optional(who, 'user', place, text(300)), ...optional(who, 'pid', place, count())};
		}),
		...optional(item, 'results', where, list((result, place) => {
			const outcome = record(result, place);
			return {
				id: name(outcome['id'], field(place, 'id')),
				region: name(outcome['region'], field(place, 'region')),
				result: name(outcome['result'], field(place, 'result')) as NonNullable<AuditEntry['results']>[number]['result'],
				...optional(outcome, 'account', place, name),
				...optional(outcome, 'accountName', place, name),
				...optional(outcome, 'previousState', place, oneOf(instanceStates)),
				...optional(outcome, 'currentState', place, oneOf(instanceStates)),
				...optional(outcome, 'message', place, text()),
			};
		}, maxIds)),
	};
}
