import {billCheckLine, duration, money, pct, plural, signedPct, unknownVolumes, warmingText, type EnvironmentView} from '../domain/index.js';
import {toJson, unwatchedText, type AuditEntry, type Snapshot, type SnapshotStore} from '../engine/index.js';

const title = (name: string) => `${name.slice(0, 1).toUpperCase()}${name.slice(1)}`;

function agentsText(view: EnvironmentView, neverFresh: boolean): string {
	if (neverFresh) {
		return 'agents unknown (no data yet)';
	}

	if (view.stale) {
		return 'agents unknown (last poll failed)';
	}

	if (view.policy.agents === 'monitor-only') {
		const rogue = view.agents.running > 0 ? `, ${plural(view.agents.running, 'agent')} (not allowed)` : '';
		return `${plural(view.monitors, 'monitor')} only${rogue}`;
	}

	const cap = typeof view.agents.allowed === 'number' ? ` of ${view.agents.allowed}` : '';
	return `${view.agents.running}${cap} agent${view.agents.running === 1 && cap === '' ? '' : 's'} running`;
}

function increaseText(view: EnvironmentView): string {
	if (view.stale) {
		return `no fresh data (${view.stale})`;
	}

	if (view.increasePct === null) {
		return view.baselineUsd === null ? 'no baseline yet' : 'no increase measurable (baseline $0)';
	}

	return `${pct(view.increasePct)} increase`;
}

function verdict(view: EnvironmentView, at: number): string {
	if (view.stale) {
		return 'STALE: no automatic action until fresh data';
	}

	// Each limit in its own words: a breach of the cap alone is no increase over the threshold. An
	// older server's snapshot has no levels per limit: they are read from its figures.
	const capOver = view.hourlyUsd > view.maxHourlyUsd + 1e-9;
	const byCap = view.byCap ?? (capOver ? 'breach' : 'ok');
	const byIncrease = view.byIncrease ?? (view.level === 'ok' || (capOver && !(view.increasePct !== null && view.increasePct > view.thresholdPct)) ? 'ok' : view.level);
	const threshold = `${byIncrease === 'breach' ? 'OVER' : byIncrease === 'warn' ? 'near' : 'under'} ${pct(view.thresholdPct)} threshold`;
	// How long until the window is full, where that is known (never a made-up figure).
	const left = typeof view.fullAt === 'number' && view.fullAt > at ? ` full in ${duration(view.fullAt - at)}` : '';
	const warming = view.warmingUp && !view.stale ? `, warming up: ${view.windowMinutes}m window${left}` : '';
	const cap = byCap === 'ok' ? '' : `; ${money(view.hourlyUsd)}/hr ${byCap === 'breach' ? 'OVER' : 'near'} cap ${money(view.maxHourlyUsd)}/hr`;
	const mark = view.level === 'breach' ? 'BREACH' : view.level === 'warn' ? 'WARN' : 'OK';
	return `(${threshold}${warming})${cap} ${mark}`;
}

/**
 * `, ~ 2 at an estimate (no price known for zz9.xlarge; EBS volumes not known yet, counted as $0)`:
 * what the `~` of a figure stands for, instance types and volumes apart.
 */
function estimateText(view: EnvironmentView): string {
	if (view.estimated === 0) {
		return '';
	}

	const types = view.estimatedTypes.filter(type => type !== unknownVolumes && type !== 'EBS volume');
	const parts = [
		...(types.length > 0 ? [`no price known for ${types.join(', ')}`] : []),
		...(view.estimatedTypes.includes('EBS volume') ? ['EBS volumes of a type with no known rate'] : []),
		...(view.estimatedTypes.includes(unknownVolumes) ? [`${unknownVolumes}, counted as $0`] : []),
	];
	return `, ~ ${view.estimated} at an estimate (${parts.join('; ')})`;
}

/** The classic status-report wording (ENVIRONMENT STATUS DASHBOARD), for `--once` and anyone reading cron mail. */
export function formatDashboard(snapshot: Snapshot): string {
	// Before any fresh data the spend is unknown, never $0.
	const spend = (usd: number, view?: EnvironmentView) => (snapshot.lastSuccessAt === null || view?.unlisted ? '$?' : money(usd));
	const rows = snapshot.environments.map(view => [`${title(view.name)} Environment:`, view.status, `(${(view.estimated > 0 || view.learning) && snapshot.lastSuccessAt !== null && !view.unlisted ? '~' : ''}${spend(view.hourlyUsd, view)}/hr) - ${agentsText(view, snapshot.lastSuccessAt === null)}${estimateText(view)}${view.unpriced > 0 ? ` + ${view.unpriced} unpriced (${view.unpricedTypes.join(', ')})` : ''}${view.paused ? '; PAUSED: no automatic stop' : ''}${view.learning ? `; ~ ${view.learning}: no automatic stop on its increase (the hourly cap still applies)` : ''}`]);
	// The total holds every estimate of its environments: marked like them.
	const totalMark = (snapshot.global.estimated > 0 || snapshot.environments.some(view => view.learning)) && snapshot.lastSuccessAt !== null && !snapshot.global.unlisted ? '~' : '';
	rows.push(['Global Status:', snapshot.global.status, `(${totalMark}${spend(snapshot.global.hourlyUsd, snapshot.global)}/hr total)`]);
	const width = Math.max(...rows.map(row => row[0]!.length)) + 1;
	const lines = [
		'ENVIRONMENT STATUS DASHBOARD',
		'============================',
		`Source: ${snapshot.source}  at ${new Date(snapshot.at).toISOString()}${snapshot.mode.readOnly ? '  READ-ONLY' : ''}${snapshot.mode.dryRun ? '  DRY-RUN' : ''}`,
		...(snapshot.error ? [`STALE: ${snapshot.error}`] : []),
		...(snapshot.recordError ? [`NOT RECORDED: ${snapshot.recordError} (envwatch still acts)`] : []),
		...(snapshot.pricing?.error ? [`PRICES: ${snapshot.pricing.error}`] : []),
		...sweptLine(snapshot),
		...unwatchedLines(snapshot).map(line => `UNWATCHED: ${line}`),
		// Billed cost that could not be fetched (a cap reached, an answer not believed): said, never shown as part of a bill.
		...(snapshot.billing.enabled && snapshot.billing.error ? [`BILLING: ${snapshot.billing.error}`] : []),
		...rows.map(([label, status, rest]) => `${label!.padEnd(width)}${status!.padEnd(9)}${rest}`),
		...accountLines(snapshot),
		'',
		'COST ALERTS:',
		...[...snapshot.environments, snapshot.global].map(view => `- ${title(view.name)}: ${increaseText(view)} ${verdict(view, snapshot.at)}`),
	];
	const check = billCheckLine(snapshot.environments);
	if (check) {
		lines.push(`- ${check.text.charAt(0).toUpperCase()}${check.text.slice(1)}${check.mismatch ? ' (over 25%: do not trust the live figure blindly)' : ''}`);
		for (const view of snapshot.environments) {
			const yesterday = view.billed?.yesterday;
			if (yesterday && yesterday.causes.length > 0) {
				lines.push(`  ${view.name} on ${yesterday.date}: live ${money(yesterday.liveUsd)}, billed ${money(yesterday.billedUsd)}; likely: ${yesterday.causes.join('; ')}`);
			}
		}
	}

	const other = snapshot.billing.unattributed;
	if (snapshot.billing.enabled && other) {
		lines.push(`- Billed to no configured environment: ${money(other.todayUsd)} today, ${money(other.monthToDateUsd)} month to date (${other.groups.join(', ')})`);
	}

	if (snapshot.unknown.instances > 0) {
		lines.push(`- Unknown environment tag values (${snapshot.unknown.tagValues.join(', ')}): ${plural(snapshot.unknown.instances, 'instance')}, ${money(snapshot.unknown.hourlyUsd)}/hr, not guarded`);
	}

	const actions = snapshot.decisions.filter(decision => decision.kind !== 'warn');
	if (actions.length > 0) {
		lines.push('', 'DECISIONS:', ...actions.map(decision => `- ${decision.kind.toUpperCase()}: ${decision.reason}`));
	}

	return lines.join('\n');
}

/**
 * With accounts: each account, how it is reached, and its share, or why it could not be listed
 * (shown, never skipped: its rows are STALE).
 */
export function accountLines(snapshot: Snapshot): string[] {
	if (!snapshot.accounts) {
		return [];
	}

	return ['', 'ACCOUNTS:', ...snapshot.accounts.map(account => {
		const who = `${account.name} (${account.id ?? 'ID not known yet'}, ${account.via === 'self' ? 'envwatch\'s own credentials' : `${account.via} ${account.through ?? ''}`})`;
		return account.stale === null
			? `- ${who}: OK, ${plural(account.instances ?? 0, 'instance')} running (${plural(account.agents ?? 0, 'agent')}), ${money(account.hourlyUsd ?? 0)}/hr`
			: `- ${who}: STALE: ${account.stale}`;
	}), ...(snapshot.accountsProblem ? [`- organization: ${snapshot.accountsProblem}`] : [])];
}

/**
 * What the sweep of the regions not watched found (`dev: 3 agents in us-west-2, not watched`), or
 * why it did not look everywhere: never silence where it could not look.
 */
export function unwatchedLines(snapshot: Snapshot): string[] {
	const sweep = snapshot.unwatched;
	if (!sweep) {
		return [];
	}

	const lines = sweep.found.map(found => unwatchedText(found));
	if (sweep.error) {
		lines.push(sweep.error);
	} else if (sweep.at === null) {
		lines.push(sweep.running ? 'the sweep of the regions not watched had not finished: they were not looked in' : 'the regions not watched were not looked in yet');
	}

	return lines;
}

/** How old the sweep shown is, when an earlier run made it (a sweep runs at most every 10 minutes across processes). */
function sweptLine(snapshot: Snapshot): string[] {
	const sweep = snapshot.unwatched;
	if (!sweep?.reused || sweep.at === null) {
		return [];
	}

	const regions = sweep.regions.length > 0 ? ` (${sweep.regions.join(', ')})` : '';
	return [`SWEPT: ${plural(sweep.regions.length, 'region')} not watched${regions}, ${duration(snapshot.at - sweep.at)} ago by an earlier run (a sweep runs at most every 10 minutes)`];
}

/** `warming-up 12m` (how long until the last filling window is full), `warming-up` when not known. */
function warmingFlag(snapshot: Snapshot): string {
	return warmingText(snapshot.mode.warmingUp, snapshot.mode.warmUntil, snapshot.at)?.replace('warming up', 'warming-up') ?? '';
}

/** One line per poll: every environment's status, spend and increase against its threshold. */
export function formatPollLine(snapshot: Snapshot): string {
	const part = (view: EnvironmentView) => {
		const increase = view.increasePct === null ? '--' : signedPct(view.increasePct);
		// Stale or never fetched: the agent count is unknown (`?a`), never 0; spend before any data is `$?`.
		const agents = view.policy.agents === 'global' ? '' : ` ${snapshot.lastSuccessAt === null || view.stale ? '?' : view.agents.running}a${view.breaker ? ' HELD' : ''}${view.paused ? ' PAUSED' : ''}`;
		return `${view.name} ${view.status} ${snapshot.lastSuccessAt === null ? '$?' : `${view.estimated > 0 || view.learning ? '~' : ''}${money(view.hourlyUsd)}`}/h ${increase}/${pct(view.thresholdPct)}${agents}`;
	};

	const flags = [snapshot.mode.paused ? 'PAUSED' : '', snapshot.mode.dryRun ? 'DRY-RUN' : '', snapshot.mode.readOnly ? 'READ-ONLY' : '', warmingFlag(snapshot)].filter(Boolean).join(' ');
	// A failure to record is never quiet: the guard still acts, and cron mail should say so.
	const unrecorded = snapshot.recordError ? ` NOT RECORDED: ${snapshot.recordError}` : '';
	// Agents in regions not watched (or a sweep that could not look); not while the first sweep runs.
	const unwatched = snapshot.unwatched && (snapshot.unwatched.at !== null || snapshot.unwatched.error) ? unwatchedLines(snapshot) : [];
	return `${new Date(snapshot.at).toISOString()} poll ${[...snapshot.environments, snapshot.global].map(view => part(view)).join(' | ')}${flags ? ` [${flags}]` : ''}${snapshot.error ? ` STALE: ${snapshot.error}` : ''}${unrecorded}${unwatched.length > 0 ? ` UNWATCHED: ${unwatched.join('; ')}` : ''}`;
}

export function formatEventLine(entry: AuditEntry): string {
	const who = entry.actor === 'auto' ? 'auto' : `by ${entry.actor}`;
	const kind = entry.type === 'action' ? `ACTION ${entry.kind}` : entry.kind.toUpperCase();
	const dry = entry.dryRun && (entry.kind === 'stop' || entry.kind === 'cascade' || entry.kind === 'emergency' || entry.kind === 'undo') ? ' [dry-run]' : '';
	const outcome = entry.type === 'action' && entry.outcome ? ` -> ${entry.outcome}` : '';
	return `${entry.at} ${kind} ${who}${dry}: ${entry.reason}${outcome}`;
}

/**
 * The headless view: subscribes to the store and writes one line per poll and per decision or
 * action (NDJSON with `json`). Returns the unsubscribe function.
 */
export function printHeadless(store: SnapshotStore, write: (line: string) => void, json: boolean): () => void {
	let lastSeq = 0;
	// A poll is told by its count and time: after a hand-over another engine counts from 1 again.
	let lastPoll = '';
	return store.subscribe(() => {
		const snapshot = store.getSnapshot();
		if (!snapshot) {
			return;
		}

		// The poll first, then what it decided and did: the order in which they happened.
		if (`${snapshot.polls}@${snapshot.at}` !== lastPoll) {
			lastPoll = `${snapshot.polls}@${snapshot.at}`;
			write(json ? JSON.stringify(toJson(snapshot)) : formatPollLine(snapshot));
		}

		const fresh = snapshot.events.filter(entry => entry.seq > lastSeq).reverse();
		for (const entry of fresh) {
			write(json ? JSON.stringify(entry) : formatEventLine(entry));
			lastSeq = Math.max(lastSeq, entry.seq);
		}
	});
}
