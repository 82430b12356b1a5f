import {chartRanges, rangeSpans, type EnvironmentView} from '../domain/index.js';
import {pollInterval} from '../config/index.js';
import type {AccountView} from './accounts.js';
import {wireInstancesMax, type Snapshot, type SpendHistoryView} from './snapshot.js';
import {bool, count, dayUsd, field, list, maxRowUsdPerHour, monthUsd, name, nullable, number, oneOf, optional, record, refuse, SnapshotRefusal, text, time, usd, yes, type Check} from './snapshot-fields.js';
import {auditEntry, decision, environmentView, maxIds, maxListed} from './snapshot-rows.js';
import type {SweepView} from './sweep.js';

// A snapshot from outside (another process's engine: a `serve` socket peer, the leader's figures in
// the coordination table) is checked field by field before anything of it is shown or judged: a
// field of the wrong type, money that is not a finite, non-negative amount a fleet could spend, a
// count that is not a whole number, a name with control characters, a list past its bound or a
// time in the future is refused, naming the field. Fields this envwatch does not know (a newer
// one's) are left out, never a reason to refuse.

/** The most rows (environments, or environments by account) a snapshot may hold; also the most a `:guard` may name. */
export const maxSnapshotRows = 1000;

/** Audit entries in the events pane (the engine keeps 50). */
const maxEvents = 1000;

const names = list(name, maxListed);
const texts = list(text(), maxListed);
const note = nullable(text());

/**
 * The snapshot `value` as this envwatch reads it, or why it cannot be shown (a string naming the
 * field, what it was and what would be right). `now`: this host's clock (a time ahead of it by more
 * than the skew is refused). `attachedTo` and `leader` are the receiver's to set, never taken from it.
 */
export function checkSnapshot(value: unknown, now: number): Snapshot | string {
	try {
		return snapshotOf(value, now);
	} catch (error) {
		if (error instanceof SnapshotRefusal) {
			return error.message;
		}

		throw error;
	}
}

function snapshotOf(value: unknown, now: number): Snapshot {
	const top = record(value, 'the snapshot');
	const rows = list((item, where) => environmentView(item, where, {now, rowUsd: usd()}), maxSnapshotRows)(top['environments'], 'environments');
	const listed = rows.reduce((sum, row) => sum + (row.instances?.length ?? 0), 0);
	if (listed > wireInstancesMax) {
		refuse('environments[].instances', listed, `at most ${wireInstancesMax} instance rows in all (what a server sends)`);
	}

	// The total (and what spans the rows: an account's share, a stop's savings) is a sum of rows.
	const sum = usd(maxRowUsdPerHour * Math.max(1, rows.length));
	const soon = time(now, 24 * 3_600_000);
	const mode = record(top['mode'], 'mode');
	return {
		at: time(now)(top['at'], 'at'),
		source: text(200)(top['source'], 'source'),
		regions: names(top['regions'], 'regions'),
		pollIntervalSeconds: number(pollInterval.min, pollInterval.max, `seconds from ${pollInterval.min} to ${pollInterval.max}`)(top['pollIntervalSeconds'], 'pollIntervalSeconds'),
		polls: count()(top['polls'], 'polls'),
		lastSuccessAt: nullable(time(now))(top['lastSuccessAt'], 'lastSuccessAt'),
		error: note(top['error'], 'error'),
		mode: {
			paused: bool(mode['paused'], 'mode.paused'),
			dryRun: bool(mode['dryRun'], 'mode.dryRun'),
			readOnly: bool(mode['readOnly'], 'mode.readOnly'),
			warmingUp: bool(mode['warmingUp'], 'mode.warmingUp'),
			...optional(mode, 'warmUntil', 'mode', nullable(soon)),
			action: oneOf(['stop', 'terminate'] as const)(mode['action'], 'mode.action'),
		},
		environments: rows,
		global: environmentView(top['global'], 'global', {now, rowUsd: sum}),
		unknown: unknownOf(top['unknown'], sum),
		decisions: list((item, where) => decision(item, where, sum), maxSnapshotRows * 4)(top['decisions'], 'decisions'),
		...optional(top, 'breachFound', '', bool),
		...optional(top, 'breachFoundIn', '', names),
		events: list((item, where) => auditEntry(item, where, now), maxEvents)(top['events'], 'events'),
		billing: billingOf(top['billing'], now),
		pending: nullable((item, where) => {
			const pending = record(item, where);
			return {decision: decision(pending['decision'], field(where, 'decision'), sum), dueAt: soon(pending['dueAt'], field(where, 'dueAt'))};
		})(top['pending'], 'pending'),
		...optional(top, 'refused', '', text()),
		...optional(top, 'recordError', '', note),
		...optional(top, 'notifyError', '', note),
		lastStop: nullable((item, where) => lastStopOf(item, where, now, sum))(top['lastStop'], 'lastStop'),
		...optional(top, 'pricing', '', (item, where) => {
			const pricing = record(item, where);
			return {calls: count()(pricing['calls'], field(where, 'calls')), error: note(pricing['error'], field(where, 'error')), queued: count()(pricing['queued'], field(where, 'queued'))};
		}),
		...optional(top, 'unwatched', '', nullable((item, where) => sweepOf(item, where, now))),
		...optional(top, 'accounts', '', list((item, where) => accountOf(item, where, sum), maxListed)),
		...optional(top, 'accountsProblem', '', note),
		...optional(top, 'configured', '', names),
		...optional(top, 'history', '', (item, where) => historyOf(item, where, now, sum)),
	};
}

function unknownOf(value: unknown, money: Check<number>): Snapshot['unknown'] {
	const unknown = record(value, 'unknown');
	return {instances: count()(unknown['instances'], 'unknown.instances'), hourlyUsd: money(unknown['hourlyUsd'], 'unknown.hourlyUsd'), tagValues: texts(unknown['tagValues'], 'unknown.tagValues')};
}

function billingOf(value: unknown, now: number): Snapshot['billing'] {
	const billing = record(value, 'billing');
	return {
		fetchedAt: nullable(time(now))(billing['fetchedAt'], 'billing.fetchedAt'),
		calls: count()(billing['calls'], 'billing.calls'),
		costUsd: usd(maxRowUsdPerHour, '')(billing['costUsd'], 'billing.costUsd'),
		error: note(billing['error'], 'billing.error'),
		enabled: bool(billing['enabled'], 'billing.enabled'),
		...optional(billing, 'unattributed', 'billing', nullable((item, where) => {
			const other = record(item, where);
			return {todayUsd: dayUsd(other['todayUsd'], field(where, 'todayUsd')), monthToDateUsd: monthUsd(other['monthToDateUsd'], field(where, 'monthToDateUsd')), groups: texts(other['groups'], field(where, 'groups'))};
		})),
	};
}

function lastStopOf(value: unknown, where: string, now: number, money: Check<number>): NonNullable<Snapshot['lastStop']> {
	const stop = record(value, where);
	return {
		at: time(now)(stop['at'], field(where, 'at')),
		environments: names(stop['environments'], field(where, 'environments')),
		count: count()(stop['count'], field(where, 'count')),
		...optional(stop, 'ids', where, list(name, maxIds)),
		...optional(stop, 'usdPerHour', where, nullable(money)),
	};
}

function sweepOf(value: unknown, where: string, now: number): SweepView {
	const sweep = record(value, where);
	return {
		at: nullable(time(now))(sweep['at'], field(where, 'at')),
		regions: names(sweep['regions'], field(where, 'regions')),
		found: list((item, place) => {
			const found = record(item, place);
			return {environment: name(found['environment'], field(place, 'environment')), region: name(found['region'], field(place, 'region')), agents: count()(found['agents'], field(place, 'agents')), instances: count()(found['instances'], field(place, 'instances'))};
		}, maxListed)(sweep['found'], field(where, 'found')),
		error: note(sweep['error'], field(where, 'error')),
		running: bool(sweep['running'], field(where, 'running')),
		...optional(sweep, 'reused', where, yes),
	};
}

function accountOf(value: unknown, where: string, money: Check<number>): AccountView {
	const account = record(value, where);
	const at = (key: string) => field(where, key);
	return {
		name: name(account['name'], at('name')),
		id: nullable(name)(account['id'], at('id')),
		via: oneOf(['self', 'profile', 'role'] as const)(account['via'], at('via')),
		...optional(account, 'through', where, text(2048)),
		regions: names(account['regions'], at('regions')),
		status: oneOf(['OK', 'STALE'] as const)(account['status'], at('status')),
		stale: note(account['stale'], at('stale')),
		instances: nullable(count())(account['instances'], at('instances')),
		agents: nullable(count())(account['agents'], at('agents')),
		hourlyUsd: nullable(money)(account['hourlyUsd'], at('hourlyUsd')),
	};
}

/** The spend chart's ranges: each range's buckets at most its span over its step (and one either side). */
function historyOf(value: unknown, where: string, now: number, money: Check<number>): SpendHistoryView {
	const history = record(value, where);
	const ranges = record(history['ranges'], field(where, 'ranges'));
	const result = {} as SpendHistoryView['ranges'];
	for (const range of chartRanges) {
		const place = field(where, `ranges.${range}`);
		const item = record(ranges[range], place);
		const series = record(item['series'], field(place, 'series'));
		const keys = Object.keys(series);
		if (keys.length > maxSnapshotRows + 1) {
			refuse(field(place, 'series'), series, `at most ${maxSnapshotRows + 1} series`);
		}

		const buckets = list(nullable(money), Math.ceil(rangeSpans[range].spanMs / rangeSpans[range].stepMs) + 2);
		const checked = Object.create(null) as Record<string, Array<number | null>>;
		for (const key of keys) {
			checked[name(key, `${field(place, 'series')} key`)] = buckets(series[key], `${field(place, 'series')}[${JSON.stringify(key.slice(0, 40))}]`);
		}

		result[range] = {stepMs: number(1, rangeSpans['7d'].spanMs, 'a bucket width in ms')(item['stepMs'], field(place, 'stepMs')), series: checked};
	}

	return {at: time(now)(history['at'], field(where, 'at')), ranges: result};
}

/**
 * What a view shows once a snapshot from outside was refused (`refused`: whose, and why): the last
 * good one (`last`) marked old (every row STALE with the reason, no decision, no breach, no action
 * pending), or, with none, no figures at all (no rows; the total unknown, never $0). `refused` is the
 * reason, `error` the same and what is shown instead: the status line, `--once` and the headless line say it.
 */
export function refusedSnapshot(last: Snapshot | undefined, refused: string, now: number): Snapshot {
	const error = `${refused}; ${last ? 'the last good figures are shown, marked old' : 'no figures shown'}`;
	const stale = (view: EnvironmentView): EnvironmentView => ({...view, status: 'STALE', stale: refused});
	if (last) {
		return {...last, error, refused, environments: last.environments.map(view => stale(view)), global: stale(last.global), decisions: [], breachFound: false, breachFoundIn: [], pending: null};
	}

	const nothing: EnvironmentView = {
		name: 'global', status: 'STALE', hourlyUsd: 0, baselineUsd: null, increasePct: null, thresholdPct: 1, windowMinutes: 1, maxHourlyUsd: 1, warmingUp: false, level: 'ok', reasons: [],
		agents: {running: 0, allowed: 'all'}, monitors: 0, unpriced: 0, unpricedTypes: [], estimated: 0, estimatedTypes: [], priority: 0, policy: {agents: 'global', onBreach: 'alert'},
		stale: refused, trend: [], violation: null, unlisted: true,
	};
	return {
		at: now, source: 'figures refused', regions: [], pollIntervalSeconds: 15, polls: 0, lastSuccessAt: null, error, refused,
		mode: {paused: false, dryRun: false, readOnly: false, warmingUp: false, action: 'stop'},
		environments: [], global: nothing, unknown: {instances: 0, hourlyUsd: 0, tagValues: []}, decisions: [], breachFound: false, breachFoundIn: [], events: [],
		billing: {fetchedAt: null, calls: 0, costUsd: 0, error: null, enabled: false}, pending: null, lastStop: null,
	};
}
