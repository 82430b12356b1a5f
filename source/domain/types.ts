/**
 * Plain data shared by every layer. Nothing here does anything: providers produce these shapes,
 * the domain computes over them, the engine publishes them, the UI draws them.
 *
 * Times are epoch milliseconds (`number`), passed in by the caller: the domain never reads a clock.
 */

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

/** States that cost money by the hour (pending or running: docs/design.md). */
export const BILLED_STATES: readonly InstanceState[] = ['pending', 'running'];

/**
 * An AWS account envwatch watches (with `accounts` configured): its 12-digit ID and the name
 * envwatch gives it (configured, or made from the organization's name for it).
 */
export type AccountRef = {id: string; name: string};

/** An EC2 instance as a provider reports it: nothing interpreted yet. */
export type RawInstance = {
	id: string;
	region: string;
	type: string;
	state: InstanceState;
	tags: Record<string, string>;
	/** Epoch ms, where known. */
	launchedAt?: number;
	/**
	 * How it is bought: spot instances are priced from the spot market, never at on-demand. Every
	 * other market EC2 names is billed (and listed) as on-demand. Unset when the provider does not say.
	 */
	lifecycle?: 'spot' | 'on-demand';
	/** EC2's PlatformDetails (`Linux/UNIX`, `Windows`, `Red Hat Enterprise Linux`, ...): the OS it is billed for. */
	platformDetails?: string;
	/** Its availability zone, where known. */
	availabilityZone?: string;
	/** `default` (shared), `dedicated` or `host`, where known. */
	tenancy?: string;
	/** The account it runs in, with `accounts` configured (one object per account, shared); absent otherwise. */
	account?: AccountRef;
	/** The AMI it was launched from (`ami-...`), where known: the dashboard's describe shows it. */
	imageId?: string;
};

export type Role = 'agent' | 'monitor' | 'other';

/** A RawInstance placed in an environment (or the `unknown` bucket) with its role. */
export type Instance = RawInstance & {
	/** The configured environment name, or undefined when its tag value is not a configured one. */
	environment: string | undefined;
	role: Role;
};

export type AgentsPolicy = 'all' | 'limited' | 'monitor-only';
export type OnBreach = 'stop' | 'alert';

/** How agents of an environment are launched (`envwatch start`, the `a` key). */
export type LaunchTemplateRef = {
	id?: string;
	name?: string;
	/** Default `$Default`. */
	version?: string;
	instanceType?: string;
	/** Agents per start when `--count` is not given. */
	count?: number;
	/** Default: the first configured region. */
	region?: string;
};

export type EnvironmentPolicy = {
	priority: number;
	thresholdPct: number;
	windowMinutes: number;
	maxHourlyUsd: number;
	agents: AgentsPolicy;
	maxAgents?: number;
	onBreach: OnBreach;
	tagValues: string[];
	launchTemplate?: LaunchTemplateRef;
	/**
	 * A row of an environment split by account (`splitBy: "account"`): only the instances of the
	 * account of this name are its. Absent: every account's (or the one account's).
	 */
	account?: string;
};

export type GlobalPolicy = {
	thresholdPct: number;
	windowMinutes: number;
	maxHourlyUsd: number;
	onBreach: 'emergency-stop' | 'alert';
};

/** What the policy needs of the configuration. */
export type PolicyConfig = {
	environments: Record<string, EnvironmentPolicy>;
	global: GlobalPolicy;
	warnRatio: number;
	minIncreaseUsdPerHour: number;
};

/** Hourly spend of one environment, aggregated from its instances. */
export type Spend = {
	/** Sum of the $/h of the instances in pending or running (estimates included). */
	hourlyUsd: number;
	/** The part of hourlyUsd that agent-role instances cost: what a stop removes. */
	agentHourlyUsd: number;
	agentsRunning: number;
	monitorsRunning: number;
	instancesRunning: number;
	/** Billed instances no source could price at all (no price known anywhere): counted, never $0. */
	unpriced: number;
	unpricedTypes: string[];
	/**
	 * Billed instances priced at a conservative estimate (no price from any source for their type,
	 * region, OS or market): included in hourlyUsd, marked `~` wherever the figure is shown.
	 */
	estimated: number;
	estimatedTypes: string[];
	/** The part of hourlyUsd that EBS volumes cost (stopped instances' included): a stop does not save it. */
	storageHourlyUsd: number;
	/** Agent instance IDs in pending or running, by region. */
	agentIds: Array<{id: string; region: string; type: string; launchedAt?: number}>;
	/** Every listed instance of the environment, billed or not (the dashboard's detail view). */
	instances?: InstanceRow[];
};

/**
 * One instance as the dashboard's detail view lists it: plain strings and numbers only, so a
 * snapshot of 10,000 instances stays small. null: not known (never guessed).
 */
export type InstanceRow = {
	id: string;
	/** The `Name` tag. */
	name: string | null;
	type: string;
	region: string;
	zone: string | null;
	/** `spot`, `on-demand`, ... as the provider names it. */
	lifecycle: string | null;
	state: InstanceState;
	launchedAt: number | null;
	/** The `envwatch:launched-by` tag. */
	launchedBy: string | null;
	role: Role;
	/** What it costs now: 0 when not billed (stopped), null when billed at a price not known. */
	usdPerHour: number | null;
	/** Set when usdPerHour is a conservative estimate (no source prices it): shown with a `~`. */
	estimated?: true;
	/** With `accounts` configured: the 12-digit ID and the name of the account it runs in. Absent otherwise. */
	account?: string;
	accountName?: string;
	/**
	 * Where its price comes from (`price-list`, `table`, `spot`, `override`, `estimate`): the
	 * describe (`d`) says it. Absent when not billed or not priced, and from an older server.
	 */
	priceSource?: string;
	/** The AMI it was launched from, where the listing said (absent from an older server). */
	image?: string;
	/**
	 * What its EBS volumes cost, $/h (stopped or not), where the provider lists volumes: `estimated`
	 * when marked `~`, `unknown` while they are not known yet. Absent: volumes not priced here.
	 */
	storage?: {usdPerHour: number; estimated?: true; unknown?: true};
	/** Its tags, as listed (the describe shows them). Absent where they were not sent (a long fleet over the socket). */
	tags?: Readonly<Record<string, string>>;
};

export type Sample = {at: number; usd: number};

/** A window over one series: spend now against the oldest sample not older than the window. */
export type WindowStats = {
	currentUsd: number;
	baselineUsd: number | undefined;
	baselineAt: number | undefined;
	/** undefined when the baseline is 0 or missing: only the hourly cap applies then. */
	increasePct: number | undefined;
	increaseUsd: number | undefined;
	/** True until the history spans the whole window. */
	warmingUp: boolean;
	/** While warming up: when the history will span the window (epoch ms); undefined before any sample. */
	fullAt?: number | undefined;
	/** The window's samples, oldest first (for trends). */
	samples: Sample[];
};

export type Level = 'ok' | 'warn' | 'breach';

export type Assessment = {
	level: Level;
	/** Which limits are at warn or breach level, in words with figures. */
	reasons: string[];
	byIncrease: Level;
	byCap: Level;
};

export type EnvironmentStatus = 'ACTIVE' | 'LIMITED' | 'MONITOR' | 'WARN' | 'BREACH' | 'STOPPED' | 'STALE';
export type GlobalStatus = 'NORMAL' | 'WARN' | 'BREACH' | 'STALE';

export type Decision =
	| {kind: 'stop'; environment: string; cascade: boolean; reason: string; agentIds: string[]; savesUsdPerHour: number; deferred?: string[]}
	| {kind: 'emergency'; environments: string[]; reason: string; agentIds: string[]; savesUsdPerHour: number}
	| {kind: 'alert'; environment: string; reason: string}
	| {kind: 'warn'; environment: string; reason: string}
	| {kind: 'hold'; environment: string; reason: string}
	| {kind: 'violation'; environment: string; reason: string; agentIds: string[]}
	/** Agents running again in an environment whose breaker envwatch tripped: stopped again. */
	| {kind: 'respawn'; environment: string; reason: string; agentIds: string[]; savesUsdPerHour: number};

/** One monitored environment (or the global total) in a published snapshot. */
export type EnvironmentView = {
	name: string;
	status: EnvironmentStatus | GlobalStatus;
	hourlyUsd: number;
	baselineUsd: number | null;
	increasePct: number | null;
	thresholdPct: number;
	windowMinutes: number;
	maxHourlyUsd: number;
	warmingUp: boolean;
	/**
	 * While warming up: when the window will be full (epoch ms; it counts down with the clock), null
	 * before any sample. Absent from an older server's snapshot.
	 */
	fullAt?: number | null;
	level: Level;
	/**
	 * Which limit gave `level`: the increase over the window against the threshold, and the spend
	 * against the hourly cap (the policy's own verdicts). Absent from an older server's snapshot.
	 */
	byIncrease?: Level;
	byCap?: Level;
	reasons: string[];
	agents: {running: number; allowed: number | 'all' | 'monitor-only'};
	monitors: number;
	unpriced: number;
	unpricedTypes: string[];
	/** Instances priced at a conservative estimate (`~`): hourlyUsd includes them. */
	estimated: number;
	estimatedTypes: string[];
	priority: number;
	policy: {agents: AgentsPolicy | 'global'; onBreach: OnBreach | GlobalPolicy['onBreach']};
	stale: string | null;
	/** Spend over the window, oldest first, for a sparkline. */
	trend: number[];
	billed?: {
		todayUsd: number;
		monthToDateUsd: number;
		/**
		 * Yesterday's live estimate (the hourly rollup) against its final bill: `pct` (live - billed) /
		 * billed; `causes` when they differ by more than 25% or the rollup does not cover the day.
		 */
		yesterday?: {date: string; liveUsd: number; billedUsd: number; pct: number | null; hours: number; causes: string[]};
	} | null;
	/** An agent policy violation (a rogue agent in a monitor-only environment, agents over the cap). */
	violation: string | null;
	/** The environment's listed instances (the detail and by-region views); absent for the global row. */
	instances?: InstanceRow[];
	/** Set instead of `instances` where the list was too long to send (an attached dashboard): how many. */
	instancesWithheld?: number;
	/** Running agent instance IDs (for a confirmation's blast radius). */
	agentIds?: string[];
	/** What the running agents cost: the $/h a stop saves (their compute; their volumes go on costing). */
	agentHourlyUsd?: number;
	/**
	 * The part of hourlyUsd that EBS volumes cost, stopped instances' included; null while some of
	 * them are not known yet (hourlyUsd then counts them as $0, marked `~` by `estimatedTypes`).
	 */
	storageHourlyUsd?: number | null;
	/**
	 * Automatic actions are paused for this environment (`--pause-env`, `P`): breaches show and are
	 * alerted on, nothing is stopped there automatically. Absent on the global row.
	 */
	paused?: boolean;
	/**
	 * The breaker: set once envwatch (or a person through it) stopped this environment's agents.
	 * While set, agents that appear here other than through `start` or undo are stopped again.
	 * Cleared by a reset (`R`, `envwatch reset`), undo, a start, or `breaker.resetAfterMinutes`.
	 */
	breaker?: {trippedAt: number; actor: string; reason: string} | null;
	/** How a start (`a`) would launch agents here; null without a launch template. */
	launch?: {count: number; instanceType: string | null; usdPerHourEach: number | null} | null;
	/**
	 * Its figures are still being learnt (`--once` stopped waiting for a price or volume): why. Its
	 * spend is conservative and marked `~`; a breach of its increase is not acted on. Absent when not.
	 */
	learning?: string | null;
	/**
	 * With accounts: stale, and never listed yet (an account it covers failed from the start): its
	 * $/h and agents are unknown, shown as such, never as $0. Absent otherwise.
	 */
	unlisted?: true;
	/** A row of an environment split by account (`splitBy`): the account's name, and the environment it is a row of. */
	account?: string;
	splitOf?: string;
};
