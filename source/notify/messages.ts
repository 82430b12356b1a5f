import {isAuditGap, type AuditEntry, type Snapshot} from '../engine/index.js';
import type {NotifyEvent} from '../config/index.js';
import {duration, money, moneyPair, plural} from '../domain/index.js';

/**
 * Which notification event an audit entry is, if any. A breach is the automatic decision (alert,
 * stop, emergency); what was done is the action line that closes it (stop, cascade, emergency,
 * violation, respawn, start, undo), with its outcome. A person's pause or resume of automatic
 * actions (all of them, or one environment's) is `pause`; a refused one changed nothing and is not.
 * Progress lines and notification outcomes are never events.
 */
export function eventOf(entry: AuditEntry): NotifyEvent | undefined {
	if (entry.type === 'action') {
		switch (entry.kind) {
			case 'stop':
			case 'cascade':
			case 'emergency':
			case 'violation':
			case 'respawn':
			case 'start':
			case 'undo': {
				return entry.kind;
			}

			default: {
				return undefined;
			}
		}
	}

	if (entry.type !== 'decision') {
		return undefined;
	}

	switch (entry.kind) {
		case 'alert': {
			return 'breach';
		}

		case 'stop':
		case 'cascade':
		case 'emergency': {
			return entry.actor === 'auto' ? 'breach' : undefined;
		}

		case 'violation': {
			return 'violation';
		}

		case 'error': {
			// A poll failed: the data is stale. (A gap in the audit log is an `error` too, not stale data.)
			return isAuditGap(entry) ? undefined : 'stale';
		}

		case 'accounts': {
			// One account's share could not be listed: its rows are stale.
			return entry.outcome?.startsWith('failed') ? 'stale' : undefined;
		}

		case 'recover':
		case 'reset': {
			return entry.kind;
		}

		case 'down': {
			// An engine ended (a signal, a crash, a give-up, a lost lock): nothing guards until one runs again.
			return 'down';
		}

		case 'pause':
		case 'resume': {
			return entry.outcome === 'refused' ? undefined : 'pause';
		}

		case 'unwatched': {
			return 'unwatched';
		}

		default: {
			return undefined;
		}
	}
}

/** The figures of one environment (or `global`) in the latest snapshot, for a message. */
export type ViewFigures = {
	status: string;
	hourlyUsd: number | null;
	baselineUsd: number | null;
	increasePct: number | null;
	thresholdPct: number;
	windowMinutes: number;
	maxHourlyUsd: number;
	agentsRunning: number | null;
	agentsAllowed: number | string;
	stale: string | null;
	/** hourlyUsd holds a conservative estimate or volumes not known yet (counted as $0): shown with `~`. */
	hourlyUsdEstimated?: boolean;
};

export function figuresOf(snapshot: Snapshot | undefined, environments: readonly string[]): Record<string, ViewFigures> {
	const figures: Record<string, ViewFigures> = {};
	if (!snapshot) {
		return figures;
	}

	const never = snapshot.lastSuccessAt === null;
	const names = environments.length === 0 ? ['global'] : environments;
	for (const name of names) {
		const view = name === 'global' ? snapshot.global : snapshot.environments.find(item => item.name === name);
		if (!view) {
			continue;
		}

		figures[name] = {
			status: view.status,
			hourlyUsd: never ? null : round(view.hourlyUsd),
			baselineUsd: view.baselineUsd === null ? null : round(view.baselineUsd),
			increasePct: view.increasePct === null ? null : round(view.increasePct),
			thresholdPct: view.thresholdPct,
			windowMinutes: view.windowMinutes,
			maxHourlyUsd: view.maxHourlyUsd,
			agentsRunning: never ? null : view.agents.running,
			agentsAllowed: view.agents.allowed,
			stale: view.stale,
			hourlyUsdEstimated: view.estimated > 0 || Boolean(view.learning),
		};
	}

	return figures;
}

function round(value: number): number {
	return Math.round(value * 10_000) / 10_000;
}

/** One notification: the event, the audit entry, and the figures behind it. */
export type Notice = {
	/** `heartbeat`: a heartbeat target's ping (no message: a request to its URL). */
	event: NotifyEvent | 'test' | 'heartbeat';
	entry: AuditEntry;
	/** The decision's measured figures (an action line carries none: the decision's are kept for it). */
	decisionFigures: Record<string, number | string | null> | undefined;
	/** The latest snapshot's figures per environment named by the entry (`global` when none is). */
	snapshot: Record<string, ViewFigures>;
	host: string;
	/** A resume's: how long what it resumes was paused (seconds), when this run saw the pause. */
	pausedSeconds?: number;
	/** A global resume's: the environments still paused on their own, per the latest snapshot. */
	stillPaused?: string[];
};

/** The webhook's (and SNS message's) documented JSON body: the audit entry plus the figures. */
export function webhookBody(notice: Notice): Record<string, unknown> {
	return {
		...notice.entry,
		event: notice.event,
		host: notice.host,
		...(notice.decisionFigures && !notice.entry.figures ? {figures: notice.decisionFigures} : {}),
		snapshot: notice.snapshot,
		...(notice.pausedSeconds === undefined ? {} : {pausedSeconds: notice.pausedSeconds}),
	};
}

/** Dollars as the dashboard writes them (`$1,240`), `--` where unknown. */
const moneyOr = (usd: number | string | null | undefined) => (typeof usd === 'number' ? money(usd) : '--');

/** Whether a `pause` notice resumes (else it pauses). */
function resumes(notice: Notice): boolean {
	return notice.event === 'pause' && notice.entry.kind === 'resume';
}

function subjectOf(notice: Notice): string {
	const {entry} = notice;
	const where = entry.environments.length === 0 ? 'global' : entry.environments.join(', ');
	const verb: Record<Notice['event'], string> = {
		breach: 'breach in', stop: 'stop of', cascade: 'cascade stop of', emergency: 'EMERGENCY stop of', violation: 'policy violation in',
		respawn: 'respawned agents stopped in', stale: 'data stale', recover: 'recovered:', start: 'agents started in', undo: 'undo in', reset: 'breaker reset in', test: 'test message to',
		pause: 'automatic actions paused for', down: 'guard DOWN for', heartbeat: 'heartbeat from',
		unwatched: 'agents not watched:',
	};
	const dry = entry.dryRun ? ' [dry run]' : '';
	if (notice.event === 'down') {
		return `envwatch: guard DOWN on ${notice.host}${entry.environments.length === 0 ? '' : ` (${where} unguarded)`}`;
	}

	if (notice.event === 'pause') {
		return `envwatch: automatic actions ${resumes(notice) ? 'resumed' : 'paused'} ${entry.environments.length === 0 ? 'everywhere' : `for ${where}`}${dry}`;
	}

	if (notice.event === 'unwatched') {
		// Found, gone, or the sweep could not look: each says which.
		return entry.outcome === 'cleared' ? `envwatch: agents no longer found outside the watched regions: ${where}` : entry.outcome?.startsWith('failed') ? `envwatch: region sweep failed on ${notice.host}` : `envwatch: agents not watched: ${where}`;
	}

	return notice.event === 'stale' ? `envwatch: data stale on ${notice.host}${dry}` : `envwatch: ${verb[notice.event]} ${where}${dry}`;
}

/**
 * What a pause or resume covers, in words: who did it, what is still done (polled, alerted) and
 * what no longer is (an automatic stop); a resume says how long it was paused when that is known.
 */
function pauseText(notice: Notice): string {
	const {entry} = notice;
	const named = entry.environments.join(', ');
	const global = entry.environments.length === 0;
	if (resumes(notice)) {
		const paused = notice.pausedSeconds === undefined ? '' : ` after ${duration(notice.pausedSeconds * 1000)} paused`;
		return global
			? `automatic actions resumed for every environment by ${entry.actor}${paused}: a breach is stopped automatically again${stillPausedText(notice.stillPaused)}`
			: `automatic actions resumed for ${named} by ${entry.actor}${paused}: a breach there is stopped automatically again`;
	}

	return global
		? `automatic actions paused for every environment by ${entry.actor}: all stay polled and alerted, nothing is stopped automatically anywhere (a manual stop or emergency still is) until resumed`
		: `automatic actions paused for ${named} by ${entry.actor}: ${named} stays polled and alerted, nothing stops it automatically (a manual stop or emergency still does) until resumed`;
}

/** Why the engine ended, and what that means: nothing is watched or stopped until it runs again. */
function downText(notice: Notice): string {
	const {environments} = notice.entry;
	const what = environments.length === 0 ? 'its environments' : environments.join(', ');
	return `${notice.entry.reason}. Nothing polls ${what} or stops a runaway there until envwatch runs again on ${notice.host} (or elsewhere).`;
}

/** After a global resume: which environments stay paused on their own (unknown without a snapshot: said generally). */
function stillPausedText(names: readonly string[] | undefined): string {
	if (names === undefined) {
		return ' (an environment paused on its own stays paused)';
	}

	return names.length === 0 ? '' : ` (${names.join(', ')} ${names.length === 1 ? 'stays' : 'stay'} paused on ${names.length === 1 ? 'its' : 'their'} own)`;
}

/** The subject line (SNS, Slack's first line): ASCII, one line, at most 100 characters. */
export function subject(notice: Notice): string {
	return subjectOf(notice).replaceAll(/[^\x20-\x7E]/g, '?').slice(0, 100);
}

/**
 * The human text: the environment, the figures (before -> now $/h, +% vs threshold over the window,
 * cap), what was done (agents, $/h saved) and its outcome, who did it and on which host.
 */
export function text(notice: Notice): string {
	const {entry} = notice;
	const lines = [subject(notice)];
	const decided = notice.decisionFigures ?? entry.figures;
	const names = Object.keys(notice.snapshot);
	for (const name of names) {
		const view = notice.snapshot[name]!;
		const before = typeof decided?.['baselineUsd'] === 'number' ? decided['baselineUsd'] : view.baselineUsd;
		const now = typeof decided?.['hourlyUsd'] === 'number' ? decided['hourlyUsd'] : view.hourlyUsd;
		const increase = typeof decided?.['increasePct'] === 'number' ? decided['increasePct'] : view.increasePct;
		const pct = increase === null || increase === undefined ? '--' : `${increase >= 0 ? '+' : ''}${Number(increase).toFixed(1)}%`;
		// Enough digits to see a change: `$0.150 -> $0.155`, not `$0.15 -> $0.15` for +3.5%.
		const [from, to] = typeof before === 'number' && typeof now === 'number' ? moneyPair(before, now) : [moneyOr(before), moneyOr(now)];
		lines.push(`${name}: ${from} -> ${view.hourlyUsdEstimated && typeof now === 'number' ? '~' : ''}${to}/h, ${pct} vs ${view.thresholdPct}% threshold over ${view.windowMinutes}m, cap ${moneyOr(view.maxHourlyUsd)}/h; ${view.status}${view.stale ? ` (stale: ${view.stale})` : ''}`);
	}

	const saves = decided?.['savesUsdPerHour'];
	const done = notice.event === 'down' ? downText(notice) : notice.event === 'pause' ? pauseText(notice) : entry.type === 'action'
		? `${entry.reason}${entry.outcome ? ` -> ${entry.outcome}` : ''}${entry.instanceIds.length > 0 ? ` (${plural(entry.instanceIds.length, 'agent')}${typeof saves === 'number' ? `, saves ${moneyOr(saves)}/h` : ''})` : ''}`
		: entry.reason;
	lines.push(done);
	lines.push(`by ${entry.actor} on ${notice.host} at ${entry.at}`);
	return lines.join('\n');
}

export function slackBody(notice: Notice): Record<string, unknown> {
	return {text: text(notice)};
}

/**
 * PagerDuty Events API v2: trigger on a breach, a stop or a pause, resolve on recovery, a reset or
 * a resume (a resume resolves only the pause's own incident: see `dedupKey`).
 */
export function pagerDutyAction(notice: Pick<Notice, 'event' | 'entry'>): 'trigger' | 'resolve' | undefined {
	const {event} = notice;
	switch (event) {
		case 'pause': {
			return notice.entry.kind === 'resume' ? 'resolve' : 'trigger';
		}

		case 'breach':
		case 'stop':
		case 'cascade':
		case 'emergency':
		case 'violation':
		case 'respawn':
		case 'stale':
		case 'down':
		case 'test': {
			// `down` is resolved by hand, like stale data: a start that resolved it would, in a crash
			// loop under a supervisor, open a new incident (a new page) at every turn.
			return 'trigger';
		}

		case 'recover':
		case 'reset': {
			return 'resolve';
		}

		case 'unwatched': {
			// Agents found where nobody looks, or a sweep that cannot look: an incident until they are gone.
			return notice.entry.outcome === 'cleared' ? 'resolve' : 'trigger';
		}

		default: {
			return undefined;
		}
	}
}

/**
 * One incident per environment (`global` for the total, an emergency, or stale data). A pause is
 * an incident of its own, `envwatch/paused/<environment>` (`.../global` for all automatic actions):
 * its resume must not resolve the environment's breach or stop, which is still open.
 */
export function dedupKey(notice: Notice): string {
	if (notice.event === 'test' || notice.entry.actor === 'test') {
		return 'envwatch/test';
	}

	const {environments} = notice.entry;
	const where = environments.length === 1 ? environments[0]! : environments.length === 0 ? 'global' : environments.join(',');
	if (notice.event === 'pause') {
		return `envwatch/paused/${where}`;
	}

	if (notice.event === 'down') {
		return 'envwatch/down';
	}

	if (notice.event === 'unwatched') {
		// Its own incident per environment (`global`: the sweep could not look), resolved when they are gone.
		return `envwatch/unwatched/${where}`;
	}

	return `envwatch/${notice.event === 'stale' ? 'stale' : environments.length === 1 ? environments[0]! : 'global'}`;
}

export function severityOf(notice: Notice): 'critical' | 'error' | 'warning' | 'info' {
	if (notice.event === 'emergency' || notice.event === 'down') {
		return 'critical';
	}

	if (notice.entry.type === 'action') {
		return 'error';
	}

	return notice.event === 'test' ? 'info' : 'warning';
}

export function pagerDutyBody(notice: Notice, routingKey: string): Record<string, unknown> | undefined {
	const action = pagerDutyAction(notice);
	if (!action) {
		return undefined;
	}

	const body: Record<string, unknown> = {routing_key: routingKey, event_action: action, dedup_key: dedupKey(notice)};
	if (action === 'trigger') {
		body['payload'] = {
			summary: subject(notice).slice(0, 1024),
			source: notice.host,
			severity: severityOf(notice),
			component: notice.entry.environments.join(',') || 'global',
			group: 'envwatch',
			class: notice.event,
			custom_details: webhookBody(notice),
		};
	}

	return body;
}
