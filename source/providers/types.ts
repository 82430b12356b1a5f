import type {EbsRates, InstanceState, OnDemandQuery, RawInstance, Volume} from '../domain/index.js';

/**
 * The outside world behind two small interfaces. `aws` is the real account, `sim` the embedded
 * simulated one behind `--demo`. The engine only ever talks to these.
 */

/** What to list: always a tag filter (server-side where the provider has a server). */
export type FleetQuery = {
	envTagKey: string;
	/** Exact tag values to match; undefined means any instance that carries the key at all. */
	envTagValues?: string[];
	/** Only instances whose role tag has this value. */
	role?: {key: string; value: string};
	states: InstanceState[];
	/** Regions to list; all configured ones when undefined. */
	regions?: string[];
	/** Only these instances (server-side `instance-id` filter): a batch's scope re-check. */
	instanceIds?: string[];
	/**
	 * With `accounts`: only these accounts (by name). Undefined: every account. `regions` equal to the
	 * configured ones mean each account's own regions.
	 */
	accounts?: string[];
	/**
	 * The sweep of the regions not watched: `regions` are those the configured regions leave out; a
	 * fleet whose accounts watch regions of their own lists, per account, every enabled region that
	 * account does not watch.
	 */
	unwatched?: boolean;
};

/** A region that could not be listed; with `accounts`, in which account (its ID once known). */
export type RegionError = {region: string; message: string; code?: string; account?: {name: string; id?: string}};

/** An account a multi-account fleet watches, as its listings and the snapshot name it. */
export type AccountInfo = {
	name: string;
	/** The 12-digit ID; null until known (a profile whose credentials have not answered yet). */
	id: string | null;
	/** `self`: the credentials envwatch runs with; `profile`: a named profile; `role`: a role assumed. */
	via: 'self' | 'profile' | 'role';
	/** The role ARN or the profile name. */
	through?: string;
	regions: string[];
};

export type FleetListing = {
	instances: RawInstance[];
	/** Regions that could not be listed: their environments' data is stale. */
	errors: RegionError[];
	/** API calls this listing made (pages x regions), for the bench and the footer. */
	calls: number;
	/** With `accounts`: the accounts this listing covered (each one's errors are in `errors`). */
	accounts?: AccountInfo[];
	/**
	 * With an organization: why its accounts could not be listed again (the accounts listed before
	 * are still watched, but one that joined since is not known yet). Absent when the last listing worked.
	 */
	accountsProblem?: string;
};

export type InstanceOutcome = {
	id: string;
	region: string;
	/** With `accounts`: the 12-digit ID and the name of the account the instance runs in. */
	account?: string;
	accountName?: string;
	/** `out-of-scope`: the instance left scope (retagged, gone) between the action's re-list and its batch: not acted on. */
	result: 'stopping' | 'stopped' | 'already-stopped' | 'starting' | 'already-running' | 'terminating' | 'permitted' | 'not-found' | 'unauthorized' | 'out-of-scope' | 'error';
	/** The previous and new state where the API reports them. */
	previousState?: InstanceState;
	currentState?: InstanceState;
	message?: string;
};

export type ActOptions = {
	dryRun: boolean;
	/** Terminate instead of stop (only from config `action: "terminate"`). */
	terminate?: boolean;
	/**
	 * Called right before each batch's call (after any rate-limit wait) with that batch: answers the
	 * IDs still in scope, re-listed with server-side filters. The others get `out-of-scope` and are
	 * not acted on. When it throws, the batch is not acted on (each gets `error` with the reason).
	 */
	recheck?: (batch: Target[]) => Promise<ReadonlySet<string>>;
	/** Called with each batch's outcomes as soon as that batch's call returns, so progress is recorded as it happens. */
	onBatch?: (outcomes: InstanceOutcome[]) => void;
};

/** An instance to act on: its region and, with `accounts`, its account's name (the call goes to that account). */
export type Target = {id: string; region: string; account?: string};

export type LaunchRequest = {
	region: string;
	/** With `accounts`: the account to launch in, by name (default: the first one). */
	account?: string;
	template: {id?: string; name?: string; version: string};
	count: number;
	/** Overrides the template's instance type. */
	instanceType?: string;
	/** Put on the instances and their volumes (environment, agent role, envwatch:launched-by). */
	tags: Record<string, string>;
	dryRun: boolean;
};

export type LaunchOutcome = {
	result: 'launched' | 'permitted' | 'unauthorized' | 'error';
	instances: Array<{id: string; region: string; type: string}>;
	message?: string;
};

export interface Fleet {
	list(query: FleetQuery): Promise<FleetListing>;
	stop(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]>;
	start(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]>;
	/** Launches agents from a launch template (the orchestrator). */
	launch?(request: LaunchRequest): Promise<LaunchOutcome>;
	/** The EBS volumes attached to these instances in a region (all of them, or an error: never part). */
	volumes?(region: string, instanceIds: string[]): Promise<{volumes: Volume[]; calls: number}>;
	/** The instance type a launch template would launch, for the cost shown before starting. */
	templateInstanceType?(region: string, template: LaunchRequest['template'], account?: string): Promise<string | undefined>;
}

export type BilledCost = {
	/** Per environment tag value as the source groups it (Cost Explorer: `Environment$dev` -> `dev`); `untagged` for cost without the tag. */
	todayUsd: Record<string, number>;
	monthToDateUsd: Record<string, number>;
	/** Yesterday (UTC) per tag value, once the source's figure for that whole day is final; absent until then. */
	yesterday?: {date: string; usd: Record<string, number>};
	/**
	 * With `accounts`: each linked account's share (by 12-digit ID), per tag value; the tables above
	 * are the sums over the accounts. `yesterdayUsd` once yesterday is final.
	 */
	byAccount?: Record<string, {todayUsd: Record<string, number>; monthToDateUsd: Record<string, number>; yesterdayUsd?: Record<string, number>}>;
	/** When this data was fetched from the billing source (epoch ms). */
	fetchedAt: number;
};

/** How much one fetch may pay for: `maxPages` requests at most, or it fails (never part of a bill); `capName` names the cap in that failure. */
export type BillingLimits = {maxPages: number; capName?: string};

/**
 * Raw billed cost. Every call may cost money (Cost Explorer: $0.01 a page), so the engine wraps a
 * source in a cache that refreshes it at most once per `costExplorer.refreshMinutes`, persists it,
 * counts the calls and caps them (per query and per day); a source only fetches within `limits` and
 * says how many paid requests that took (a failure: `paidRequests` on the error, when it knows).
 */
export interface BillingSource {
	fetch(now: number, limits?: BillingLimits): Promise<{cost: BilledCost; requests: number}>;
}

/** The latest spot price of a type in an Availability Zone for a product (`Linux/UNIX`, `Windows`, ...). */
export type SpotPrice = {availabilityZone: string; type: string; product: string; usd: number};

/**
 * Where prices come from (AWS: the Price List Query API and the spot price history). The engine
 * caches what it answers and asks only in the background, so a poll never waits on it.
 */
export interface PriceSource {
	/** The on-demand $/h of one (region, type, OS, tenancy); null when the source has no such product. */
	onDemand(query: OnDemandQuery): Promise<{usd: number | null; requests: number}>;
	/** The latest spot prices in a region for these types and products. */
	spot(region: string, types: string[], products: string[], now: number): Promise<{prices: SpotPrice[]; requests: number}>;
	/** A region's EBS rates (storage, provisioned IOPS and throughput); null or without it, the shipped us-east-1 table. */
	ebs?(region: string): Promise<{rates: EbsRates | null; requests: number}>;
}

export type Provider = {
	/** Shown in the header: `SIMULATED` or `aws 123456789012 us-east-1,eu-west-1`. */
	source: string;
	fleet: Fleet;
	billing: BillingSource | undefined;
	/** Live prices; without it, the configured overrides, the shipped table and estimates. */
	prices?: PriceSource;
	/**
	 * The regions enabled for the account (EC2 DescribeRegions), for `regions: "all"` and the sweep
	 * that looks for agents in regions not watched (the engine lists those through `fleet.list`).
	 * Without it there is no sweep. Rejects when they cannot be told: never an empty list.
	 */
	enabledRegions?(): Promise<string[]>;
	/**
	 * With `accounts`: the accounts watched now (an organization's change in the background; each
	 * listing says which it covered). Absent for one account.
	 */
	accounts?(): AccountInfo[];
	/** Release sockets and timers. */
	close?(): void;
};

/**
 * Publishes one message to an SNS topic (notify's `sns` targets); the notifier does the retrying.
 * Throws an Error with `retry: false` when trying again cannot help (a 4xx other than throttling).
 */
export type TopicPublisher = (topic: {topicArn: string; region: string}, subject: string, message: string, signal: AbortSignal) => Promise<void>;

/**
 * The coordination table (`coordination.dynamodb`): items with string keys `pk` and `sk` and values
 * of four kinds. It holds the single-enforcer lease, the engine's state and the audit entries (see
 * docs/design.md, "Beyond one host"); the engine reaches it only through this interface.
 */
export type TableValue = string | number | boolean | Uint8Array;
export type TableKey = {pk: string; sk: string};
export type TableItem = {pk: string; sk: string; [attribute: string]: TableValue};
/** A write's condition on one item: it is absent, or its attributes equal these values. */
export type ItemCondition = {absent: true} | {equals: Record<string, string | number | boolean>};
/** A condition on the item at `key` (another item than those a transaction writes, or one of them). */
export type TableCondition = ItemCondition & {key: TableKey};
export type TableWrite = {put: TableItem} | {delete: TableKey};
/** A conditional write's outcome: `current` is the item the condition was checked against, when the table said. */
export type TableWritten = {written: true} | {written: false; current: TableItem | undefined};

export interface CoordinationTable {
	/** Names it in messages: `DynamoDB table envwatch (eu-west-1)`. */
	readonly name: string;
	/** One item, read consistently; undefined when there is none. */
	get(key: TableKey): Promise<TableItem | undefined>;
	/** Every item of a partition (whose `sk` starts with `prefix`), read consistently, in `sk` order; every page, within a cap. */
	query(pk: string, prefix?: string): Promise<TableItem[]>;
	/** Puts one item if `when` (a condition on that item) holds. */
	put(item: TableItem, when?: ItemCondition): Promise<TableWritten>;
	/** Puts and deletes at most 99 items in one transaction, all or none, if `when` (a condition on any item) holds. */
	transact(writes: TableWrite[], when?: TableCondition): Promise<TableWritten>;
	close(): void;
}
