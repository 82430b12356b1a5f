import type {ChartRange, Decision, EnvironmentView} from '../domain/index.js';
import type {AuditEntry} from './state/audit.js';
import type {SweepView} from './sweep.js';
import type {AccountView} from './accounts.js';

/**
 * Everything a view needs, as plain immutable data. Times are epoch ms; `toJson` turns them into
 * ISO strings for the headless NDJSON and `--once --json`.
 */
export type Snapshot = {
	at: number;
	source: string;
	regions: string[];
	pollIntervalSeconds: number;
	polls: number;
	/** When the last poll that returned fresh data finished; null before the first. */
	lastSuccessAt: number | null;
	/** The last poll's failure, when it failed. */
	error: string | null;
	/**
	 * `warmUntil`: while warming up, when the last still-filling window will be full (epoch ms); null
	 * when that is not known (a window has no sample yet) or nothing is filling. Absent from an older server.
	 */
	mode: {paused: boolean; dryRun: boolean; readOnly: boolean; warmingUp: boolean; warmUntil?: number | null; action: 'stop' | 'terminate'};
	environments: EnvironmentView[];
	global: EnvironmentView;
	/** Tagged instances whose environment tag value no environment claims. */
	unknown: {instances: number; hourlyUsd: number; tagValues: string[]};
	/** This poll's decisions (before pause, read-only and grace are applied). */
	decisions: Decision[];
	/**
	 * This poll found a breach (fresh data over a limit), whatever its action then did: the figures
	 * above show the action's result, so a breach stopped at once is no longer BREACH in them.
	 * `--once` exits 3 on it. Absent from an older server's snapshot (its figures then tell).
	 */
	breachFound?: boolean;
	/**
	 * Where this poll found a breach: the environments' names, and `global` for the total (a name no
	 * environment may have). `--once` through a server judges the environments it names (`-e`) and the
	 * total on it. Absent from an older server's snapshot.
	 */
	breachFoundIn?: string[];
	/** Latest audit entries, newest first. */
	events: AuditEntry[];
	billing: {
		fetchedAt: number | null;
		calls: number;
		costUsd: number;
		error: string | null;
		enabled: boolean;
		/**
		 * Billed cost no configured environment claims (untagged, other tag values, groups of another
		 * tag key), today and month to date, with those groups; null when there is none. Absent from
		 * an older server's snapshot.
		 */
		unattributed?: {todayUsd: number; monthToDateUsd: number; groups: string[]} | null;
	};
	/** An automatic action waiting out its grace period; `x` cancels it. */
	pending: {decision: Decision; dueAt: number} | null;
	/**
	 * A failure to record (the audit log or the state dir could not be written): the guard goes on
	 * acting, and says so here until a write succeeds again. null or absent: everything recorded.
	 */
	recordError?: string | null;
	/** Notification targets whose deliveries are being given up (added for the views by source/notify/status.ts). */
	notifyError?: string | null;
	/**
	 * Set by a receiver of another process's figures (a dashboard attached to `serve`, a standby) that
	 * refused its latest snapshot: whose figures, the field and why. The figures are then the last good
	 * ones, every row STALE (or none at all), and `error` says the same.
	 */
	refused?: string;
	/** Set by a dashboard attached to `envwatch serve`: whose engine these figures come from. */
	attachedTo?: {pid: number; host: string};
	/**
	 * Set while this process (or the server a dashboard is attached to) stands by: another host's
	 * engine holds the coordination table's lease, and these are its figures (from the table).
	 */
	leader?: {pid: number; host: string; mode: string};
	/**
	 * What `u` would start again: `ids`, the first of its instances (`count` in all); `usdPerHour`, what they add back (their
	 * compute when stopped), null when not known. Both absent from an older server's snapshot.
	 */
	lastStop: {at: number; environments: string[]; count: number; ids?: string[]; usdPerHour?: number | null} | null;
	/**
	 * Live prices: Price List and spot calls made, answers still coming (`queued`), and the last
	 * failure (the shipped table and estimates are used meanwhile; the data is not stale for it).
	 */
	pricing?: {calls: number; error: string | null; queued: number};
	/**
	 * The sweep of the regions enabled for the account that this run does not watch: agents of a
	 * monitored environment found there, or why it could not look. null (or absent, from an older
	 * server): no sweep (the provider cannot tell its regions).
	 */
	unwatched?: SweepView | null;
	/**
	 * With `accounts`: every account watched, how it is reached, whether its share was listed this
	 * poll (`status` STALE and why), and its share of the monitored environments. Absent with one account.
	 */
	accounts?: AccountView[];
	/**
	 * With an organization: why its accounts could not be listed again (those listed before are
	 * still watched; one that joined since is not known yet); null when the last listing worked.
	 */
	accountsProblem?: string | null;
	/**
	 * Every configured environment's name (the guarded ones are `environments`): what `:guard` may
	 * name. Absent from an older server.
	 */
	configured?: string[];
	/** Spend over the chart's ranges (`t`), not restarted by envwatch's own actions. Absent from an older server. */
	history?: SpendHistoryView;
};

/**
 * The spend chart's ranges at `at`, per key (each guarded environment, and `global` for their
 * total), oldest first: 1h and 6h each bucket's highest $/h from the polls, 24h and 7d each whole
 * UTC hour's dollars (its average $/h) from the hourly rollup, ending with the last whole hour.
 * null: no fresh poll in that bucket (not watched, or stale), never $0.
 */
export type SpendHistoryView = {
	at: number;
	ranges: Record<ChartRange, {stepMs: number; series: Record<string, Array<number | null>>}>;
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toJson(snapshot: Snapshot): Record<string, unknown> {
	return {
		type: 'snapshot',
		at: iso(snapshot.at),
		source: snapshot.source,
		regions: snapshot.regions,
		lastSuccessAt: iso(snapshot.lastSuccessAt),
		error: snapshot.error,
		mode: {...snapshot.mode, warmUntil: iso(snapshot.mode.warmUntil ?? null)},
		environments: snapshot.environments.map(view => viewJson(view, snapshot.lastSuccessAt === null)),
		global: viewJson(snapshot.global, snapshot.lastSuccessAt === null),
		unknown: snapshot.unknown,
		decisions: snapshot.decisions,
		billing: {...snapshot.billing, fetchedAt: iso(snapshot.billing.fetchedAt)},
		pending: snapshot.pending ? {...snapshot.pending, dueAt: iso(snapshot.pending.dueAt)} : null,
		recordError: snapshot.recordError ?? null,
		pricing: snapshot.pricing ?? null,
		unwatched: snapshot.unwatched ? {...snapshot.unwatched, at: iso(snapshot.unwatched.at)} : null,
		...(snapshot.accounts ? {accounts: snapshot.accounts.map(account => ({...account, hourlyUsd: account.hourlyUsd === null ? null : round(account.hourlyUsd)})), accountsProblem: snapshot.accountsProblem ?? null} : {}),
	};
}

/** `neverFresh`: no poll has returned data yet, so the spend is unknown (null), never $0. */
function viewJson(view: EnvironmentView, neverFresh: boolean): Record<string, unknown> {
	// The instance list is the dashboard's (it would make every NDJSON line as long as the fleet).
	const {trend: _trend, level: _level, agentIds: _agentIds, agentHourlyUsd: _agentHourlyUsd, instances: _instances, ...rest} = view;
	return {
		...rest,
		hourlyUsd: neverFresh || view.unlisted ? null : round(view.hourlyUsd),
		// `~`: hourlyUsd includes a conservative estimate for instances no source prices (estimatedTypes),
		// or figures still being learnt when `--once` stopped waiting (`learning` says why).
		hourlyUsdEstimated: view.estimated > 0 || Boolean(view.learning),
		learning: view.learning ?? null,
		// Unknown is null, never 0: before any fresh data, and while this view's data is stale.
		agents: neverFresh || view.stale ? {running: null, allowed: view.agents.allowed} : view.agents,
		baselineUsd: view.baselineUsd === null ? null : round(view.baselineUsd),
		increasePct: view.increasePct === null ? null : Math.round(view.increasePct * 100) / 100,
		// While warming up: when the window will be full.
		fullAt: iso(typeof view.fullAt === 'number' ? view.fullAt : null),
	};
}

function round(usd: number): number {
	return Math.round(usd * 10_000) / 10_000;
}

/** At most this many instance rows in all go over the serve socket (its lines are bounded to 1 MiB). */
export const wireInstancesMax = 2000;

/**
 * At most this many characters of tags in all go over the socket with the rows (an instance may
 * carry 50 tags of up to 384 characters): past it the rows go without their tags, and the
 * describe says they were not sent.
 */
export const wireTagCharsMax = 300_000;

/** The snapshot with its rows' tags, while they stay within `maxChars`; else the rows without them. */
function withinTagBound(snapshot: Snapshot, maxChars: number): Snapshot {
	let chars = 0;
	for (const view of snapshot.environments) {
		for (const row of view.instances ?? []) {
			for (const key in row.tags) {
				if (Object.hasOwn(row.tags, key)) {
					chars += key.length + row.tags[key]!.length + 6;
				}
			}
		}
	}

	if (chars <= maxChars) {
		return snapshot;
	}

	return {
		...snapshot,
		environments: snapshot.environments.map(view => (view.instances ? {...view, instances: view.instances.map(({tags: _tags, ...row}) => row)} : view)),
	};
}

/**
 * The snapshot as the serve socket sends it: with more than `wireInstancesMax` instances in all,
 * the instance lists (about 230 bytes a row) are left out and each environment says how many it
 * had (`instancesWithheld`), so the line stays under the socket's bound and the detail view can
 * say why it has no list.
 */
export function wireSnapshot(snapshot: Snapshot, max = wireInstancesMax, maxTagChars = wireTagCharsMax): Snapshot {
	const total = snapshot.environments.reduce((sum, view) => sum + (view.instances?.length ?? 0), 0);
	if (total <= max) {
		return withinTagBound(snapshot, maxTagChars);
	}

	return {
		...snapshot,
		environments: snapshot.environments.map(view => {
			const {instances, ...rest} = view;
			return {...rest, instancesWithheld: instances?.length ?? 0};
		}),
	};
}

/**
 * A breach the poll found counts even when its stop already ended it (the figures show the
 * action's result); with `names` (a server's `--once -e`), only those environments' and the
 * total's. A snapshot that does not say (an older server's) is judged by its figures.
 */
export function breachFound(snapshot: Snapshot, names?: readonly string[]): boolean {
	if (snapshot.breachFoundIn) {
		return snapshot.breachFoundIn.some(name => name === 'global' || !names || names.includes(name));
	}

	return (names ? undefined : snapshot.breachFound) ?? [...snapshot.environments, snapshot.global].some(view => view.level === 'breach' && !view.stale);
}
