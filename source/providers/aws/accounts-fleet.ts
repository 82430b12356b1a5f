import type {AccountsConfig} from '../../config/index.js';
import type {RawInstance, Volume} from '../../domain/index.js';
import type {AccountInfo, ActOptions, Fleet, FleetListing, FleetQuery, InstanceOutcome, LaunchOutcome, LaunchRequest, RegionError, Target} from '../types.js';
import {AccountHandle, isOrganization, listedPlans, organizationAccounts, organizationPlans, type AccountPlan} from './accounts.js';
import {describeError, isRejectedCode, type AwsConnection} from './clients.js';
import {errorMessage, UsageError} from '../../domain/index.js';
import {mapLimited, type AwsFleet, type AwsFleetOptions, type FleetStats} from './fleet.js';

export type AccountsFleetOptions = Omit<AwsFleetOptions, 'regions' | 'account' | keyof AwsConnection> & {
	/** The credentials envwatch runs with (and how AWS is reached): the organization is listed and roles are assumed with them. */
	connection: AwsConnection;
	accounts: AccountsConfig;
	/** The configured regions (the array itself: `regions: "all"` fills it in as envwatch starts). */
	regions: string[];
	/** The account envwatch runs as (GetCallerIdentity), watched with its own credentials in an organization. */
	self: string;
	/** Accounts listed at the same time. @default 8 */
	accountConcurrency?: number;
	/** What one account's listing may take (AssumeRole included): past it, that account alone errs. @default listBudgetMs, else 120000 */
	accountBudgetMs?: number;
	/** How often the organization's accounts are listed again, in the background. @default 600000 */
	refreshMs?: number;
	clock?: () => number;
};

/**
 * The fleets of many accounts behind one `Fleet`: listing fans out over the accounts (a few at a
 * time, each within its own time budget), a stop or start goes to each target's account (each
 * account's fleet batches by region: a batch never mixes accounts), and every instance, outcome
 * and error says which account it is of. An organization's accounts are listed again every
 * `refreshMs` in the background; a poll never waits for that.
 */
export class AccountsFleet implements Fleet {
	private handles: AccountHandle[] = [];
	private lastRefreshAt = 0;
	private refreshing: Promise<void> | undefined;
	/** The last refresh's failure (the accounts before it are still watched). */
	refreshError: string | undefined;
	/** Which account listed each instance last (volumes are asked where the instance runs). */
	private owner = new Map<string, AccountHandle>();
	private readonly clock: () => number;

	private constructor(private readonly options: AccountsFleetOptions) {
		this.clock = options.clock ?? Date.now;
	}

	/** Resolves the accounts (the organization's, listed now) and makes the composite. Fails when the organization cannot be listed. */
	static async create(options: AccountsFleetOptions): Promise<AccountsFleet> {
		const fleet = new AccountsFleet(options);
		fleet.handles = (await fleet.plans()).map(plan => fleet.handle(plan));
		fleet.lastRefreshAt = fleet.clock();
		// A profile's account is known only once asked: ask now, so two entries of one account are a
		// configuration error before anything is counted (one that does not answer yet is asked at its first listing).
		await Promise.allSettled(fleet.handles.filter(handle => handle.id === null).map(async handle => handle.ready()));
		const twins = fleet.handles.flatMap(handle => {
			const first = fleet.twinOf(handle);
			return first ? [`accounts: ${handle.name} (${handle.plan.profile ? `profile ${handle.plan.profile}` : handle.plan.role?.roleArn ?? ''}) is account ${handle.id!}, as ${first.name} is — expected each account once (its instances would be counted twice)`] : [];
		});
		if (twins.length > 0) {
			fleet.close();
			throw new UsageError(twins);
		}

		return fleet;
	}

	/** The account listed before this one that has the same ID, if any (the same account reached twice). */
	private twinOf(handle: AccountHandle): AccountHandle | undefined {
		const index = this.handles.indexOf(handle);
		return handle.id === null ? undefined : this.handles.slice(0, Math.max(0, index)).find(other => other.id === handle.id);
	}

	private async plans(): Promise<AccountPlan[]> {
		const {accounts, connection, self} = this.options;
		if (!isOrganization(accounts)) {
			return listedPlans(accounts);
		}

		const listed = await organizationAccounts(connection);
		return organizationPlans(accounts.organization, listed.accounts, self);
	}

	private handle(plan: AccountPlan): AccountHandle {
		const {connection, accounts: _accounts, regions, self: _self, accountConcurrency: _concurrency, accountBudgetMs, refreshMs: _refresh, clock: _clock, ...fleetOptions} = this.options;
		const budget = accountBudgetMs ?? fleetOptions.listBudgetMs ?? 120_000;
		return new AccountHandle(plan, connection, {...fleetOptions, listBudgetMs: budget}, regions, regions[0] ?? 'us-east-1');
	}

	/** The accounts watched now. */
	accounts(): AccountInfo[] {
		return this.handles.map(handle => handle.info());
	}

	/** Counters of every account's fleet, summed. */
	get stats(): FleetStats {
		const sum: FleetStats = {describeCalls: 0, actCalls: 0, throttled: 0};
		for (const fleet of this.handles.map(handle => handle.fleet).filter((fleet): fleet is AwsFleet => fleet !== undefined)) {
			sum.describeCalls += fleet.stats.describeCalls;
			sum.actCalls += fleet.stats.actCalls;
			sum.throttled += fleet.stats.throttled;
		}

		return sum;
	}

	/** AssumeRole calls made so far, over every account. */
	get assumeRoleCalls(): number {
		return this.handles.reduce((sum, handle) => sum + (handle.role?.calls ?? 0), 0);
	}

	/**
	 * An organization's accounts, asked again when `refreshMs` has passed, in the background: the
	 * accounts that joined get a fleet, those that left (closed, suspended, removed, excluded) lose
	 * theirs. A failure is kept in `refreshError` and the accounts stay as they were.
	 */
	private refreshDue(): void {
		const every = this.options.refreshMs ?? 600_000;
		const now = this.clock();
		if (!isOrganization(this.options.accounts) || this.refreshing || (now - this.lastRefreshAt < every && now >= this.lastRefreshAt)) {
			return;
		}

		this.lastRefreshAt = now;
		this.refreshing = this.plans().then(plans => {
			this.refreshError = undefined;
			const kept = new Map(this.handles.map(handle => [handle.plan.id ?? handle.name, handle]));
			const next = plans.map(plan => {
				const same = kept.get(plan.id ?? plan.name);
				return same && same.name === plan.name ? same : this.handle(plan);
			});
			for (const handle of this.handles.filter(handle => !next.includes(handle))) {
				handle.close();
			}

			this.handles = next;
		}, (error: unknown) => {
			this.refreshError = `the organization's accounts could not be listed again (${describeError(error)}): the accounts listed before are still watched`;
		}).finally(() => {
			this.refreshing = undefined;
		});
	}

	/** Resolves when no refresh of the organization's accounts is under way (tests, `--once`). */
	async settled(): Promise<void> {
		await this.refreshing;
	}

	async list(query: FleetQuery): Promise<FleetListing> {
		this.refreshDue();
		const wanted = query.accounts ? new Set(query.accounts) : undefined;
		const handles = this.handles.filter(handle => !wanted || wanted.has(handle.name));
		const results = await mapLimited(handles, Math.max(1, this.options.accountConcurrency ?? 8), async handle => this.listAccount(handle, query));
		// The spend's listing (every tagged instance of every account) starts the owners afresh; any
		// other listing only adds to them.
		if (!wanted && !query.instanceIds && !query.unwatched && !query.role && !query.envTagValues) {
			this.owner = new Map();
		}

		const instances: RawInstance[] = [];
		for (const [index, result] of results.entries()) {
			for (const instance of result.instances) {
				instances.push(instance);
				this.owner.set(instance.id, handles[index]!);
			}
		}

		return {
			instances,
			errors: results.flatMap(result => result.errors),
			calls: results.reduce((sum, result) => sum + result.calls, 0),
			accounts: handles.map(handle => handle.info()),
			...(this.refreshError ? {accountsProblem: this.refreshError} : {}),
		};
	}

	/** The regions a query means in one account: its own when the query names the configured ones (or none). */
	private regionsOf(handle: AccountHandle, query: FleetQuery): string[] {
		const top = this.options.regions;
		const requested = query.regions;
		if (query.unwatched) {
			// Every enabled region (those the configured regions leave out, and the configured ones) this account does not watch.
			const own = new Set(handle.regions);
			return [...new Set([...(requested ?? []), ...top])].filter(region => !own.has(region));
		}

		if (!requested || (requested.length === top.length && requested.every(region => top.includes(region)))) {
			return handle.regions;
		}

		return [...requested];
	}

	/** One account's share: its credentials first, then its regions, all within its time budget. */
	private async listAccount(handle: AccountHandle, query: FleetQuery): Promise<FleetListing> {
		const regions = this.regionsOf(handle, query);
		if (regions.length === 0) {
			return {instances: [], errors: [], calls: 0};
		}

		const account = {name: handle.name, ...(handle.id ? {id: handle.id} : {})};
		const failed = (message: string): FleetListing => ({instances: [], errors: regions.map(region => ({region, message, account})), calls: 0});
		const budgetMs = this.options.accountBudgetMs ?? this.options.listBudgetMs ?? 120_000;
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<FleetListing>(resolve => {
			timer = setTimeout(() => {
				resolve(failed(`account ${handle.name} did not answer within its time budget of ${Math.round(budgetMs / 100) / 10} s`));
			}, budgetMs);
		});
		const work = (async (): Promise<FleetListing> => {
			let listing: FleetListing | undefined;
			// A role's session AWS rejects mid-poll (expired early, revoked): assumed again, and listed again, once.
			for (let attempt = 1; attempt <= 2; attempt++) {
				let fleet: AwsFleet;
				try {
					fleet = await handle.ready();
				} catch (error) {
					return failed(errorMessage(error));
				}

				const twin = this.twinOf(handle);
				if (twin) {
					// Its instances are twin's: counting them again would double them, and skipping them silently would hide the mistake.
					return failed(`account ${handle.name} is account ${handle.id!}, as ${twin.name} is: list each account once in accounts (its instances would be counted twice)`);
				}

				listing = await fleet.list({...query, regions});
				if (!handle.role || attempt === 2 || !listing.errors.some(error => isRejectedCode(error.code))) {
					break;
				}

				handle.renew();
			}

			const id = handle.id;
			return {...listing!, errors: listing!.errors.map((error): RegionError => ({...error, account: {name: handle.name, ...(id ? {id} : {})}}))};
		})();
		try {
			return await Promise.race([work, timeout]);
		} finally {
			clearTimeout(timer);
		}
	}

	async stop(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]> {
		return this.act(targets, options, async (fleet, mine, wrapped) => fleet.stop(mine, wrapped));
	}

	async start(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]> {
		return this.act(targets, options, async (fleet, mine, wrapped) => fleet.start(mine, wrapped));
	}

	/**
	 * Each account's targets to its own fleet, all accounts at once: its batches, its re-checks (the
	 * enforcer's re-list asks that account only) and its outcomes carry the account.
	 */
	private async act(targets: Target[], options: ActOptions, run: (fleet: AwsFleet, targets: Target[], options: ActOptions) => Promise<InstanceOutcome[]>): Promise<InstanceOutcome[]> {
		const byAccount = new Map<string, Target[]>();
		for (const target of targets) {
			const list = byAccount.get(target.account ?? '') ?? [];
			list.push(target);
			byAccount.set(target.account ?? '', list);
		}

		const outcomes = new Map<string, InstanceOutcome>();
		await Promise.all([...byAccount].map(async ([name, mine]) => {
			const handle = this.handleOf(name);
			const stamp = (outcome: InstanceOutcome): InstanceOutcome => ({...outcome, ...(handle?.id ? {account: handle.id} : {}), accountName: name});
			let results: InstanceOutcome[];
			try {
				if (!handle) {
					throw new Error(name === '' ? 'the target names no account' : `account ${name} is not watched (any more)`);
				}

				const fleet = await handle.ready();
				results = await run(fleet, mine.map(({id, region}) => ({id, region})), {
					...options,
					...(options.recheck ? {recheck: async (batch: Target[]) => options.recheck!(batch.map(target => ({...target, account: name})))} : {}),
					...(options.onBatch ? {onBatch: (batch: InstanceOutcome[]) => options.onBatch!(batch.map(stamp))} : {}),
				});
			} catch (error) {
				const message = `not acted on: ${errorMessage(error)}`;
				results = mine.map(({id, region}) => ({id, region, result: 'error', message}));
				options.onBatch?.(results.map(stamp));
			}

			for (const outcome of results) {
				outcomes.set(`${name} ${outcome.region} ${outcome.id}`, stamp(outcome));
			}
		}));
		return targets.map(target => outcomes.get(`${target.account ?? ''} ${target.region} ${target.id}`) ?? {id: target.id, region: target.region, result: 'error', message: 'no outcome recorded'});
	}

	/** The watched account of this name (a target's, a launch's); with none named, the first watched. */
	private handleOf(name: string | undefined): AccountHandle | undefined {
		return name === undefined ? this.handles[0] : this.handles.find(candidate => candidate.name === name);
	}

	/** Launches in the request's account (the first watched when it names none). */
	async launch(request: LaunchRequest): Promise<LaunchOutcome> {
		const handle = this.handleOf(request.account);
		if (!handle) {
			return {result: 'error', instances: [], message: `account ${request.account ?? '(none)'} is not watched`};
		}

		try {
			return await (await handle.ready()).launch(request);
		} catch (error) {
			return {result: 'error', instances: [], message: errorMessage(error)};
		}
	}

	/** The volumes of instances, asked in the account each was listed in (an instance no listing placed is an error: its volumes are unknown). */
	async volumes(region: string, instanceIds: string[]): Promise<{volumes: Volume[]; calls: number}> {
		const byAccount = new Map<AccountHandle, string[]>();
		for (const id of instanceIds) {
			const handle = this.owner.get(id);
			if (!handle) {
				throw new Error(`instance ${id} in ${region} is in no account's last listing: its volumes are not known`);
			}

			byAccount.set(handle, [...(byAccount.get(handle) ?? []), id]);
		}

		const parts = await Promise.all([...byAccount].map(async ([handle, ids]) => (await handle.ready()).volumes(region, ids)));
		return {volumes: parts.flatMap(part => part.volumes), calls: parts.reduce((sum, part) => sum + part.calls, 0)};
	}

	async templateInstanceType(region: string, template: LaunchRequest['template'], account?: string): Promise<string | undefined> {
		const handle = this.handleOf(account);
		return handle ? (await handle.ready()).templateInstanceType(region, template) : undefined;
	}

	/** The first account's EC2 client of a region (the spot price history: the same market in every account). */
	async client(region: string) {
		const handle = this.handles.find(candidate => candidate.plan.via === 'self') ?? this.handles[0];
		return handle ? (await handle.ready()).client(region) : undefined;
	}

	close(): void {
		for (const handle of this.handles) {
			handle.close();
		}
	}
}

