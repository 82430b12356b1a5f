import type {Config} from '../config/index.js';
import {aggregate, BILLED_STATES, environmentIndex, environmentOf, priceCounted, tagOf, type Aggregate, type InstanceState, type PriceBook, type RawInstance, type Spend} from '../domain/index.js';
import type {AccountInfo, Provider} from '../providers/index.js';
import {messageOf} from './state/record.js';
import type {Pricing} from './pricing.js';
import type {Samples} from './samples.js';
import {staleByRow, type AccountRows, type AccountState} from './accounts.js';

export type SpendReading = {
	spend: Map<string, Spend>;
	unknown: {instances: number; hourlyUsd: number; tagValues: string[]};
	/** Why this reading cannot be trusted (a region failed, the listing threw); undefined when fresh. */
	staleReason: string | undefined;
	/**
	 * Environments whose figures are still being learnt when a reading that waited for them had to
	 * stop waiting (`--once`): their prices or volumes were still on the way (why, by environment).
	 */
	learning?: Map<string, string>;
	/**
	 * With accounts, when some failed: why each row they make stale is stale (rows not in it are
	 * fresh, and recorded and judged as usual). `staleReason` then names every failed account.
	 */
	staleRows?: Map<string, string>;
	/** With accounts: each account this listing covered, and why its share failed (null: listed). */
	accounts?: AccountState[];
	/** With an organization: why its accounts could not be listed again (the accounts before are still watched). */
	accountsProblem?: string;
};

/** Each account's share of the monitored environments as this listing found it (running instances, agents, $/h), and why it failed. */
function accountShares(accounts: readonly AccountInfo[], byEnvironment: ReadonlyMap<string, Spend>, failed: ReadonlyMap<string, string> | undefined): AccountState[] {
	const shares = new Map<string, AccountState>(accounts.map(account => [account.name, {...account, stale: failed?.get(account.name) ?? null, instances: 0, agents: 0, hourlyUsd: 0}]));
	for (const spend of byEnvironment.values()) {
		for (const row of spend.instances ?? []) {
			const share = row.accountName === undefined ? undefined : shares.get(row.accountName);
			if (share && (row.state === 'running' || row.state === 'pending')) {
				share.instances++;
				share.agents += row.role === 'agent' ? 1 : 0;
				share.hourlyUsd += row.usdPerHour ?? 0;
			}
		}
	}

	return [...shares.values()];
}

/** Until when (epoch ms, the real clock) a reading may wait for the prices and volumes its figures need (`--once`). */
export type ReadOptions = {until?: number};

/**
 * One listing of the fleet, priced into spend per environment. Only what costs money is listed:
 * pending and running instances, and stopped ones where the provider prices volumes (their disks
 * still cost); nothing else reads this listing (stop, start and undo list their own targets). When
 * the price book changes, the windows are restated: a price change is no spend change. The book
 * the history was priced under survives the process (samples.ts), so a later one restates too.
 */
export class SpendReader {
	constructor(private readonly deps: {config: Config; provider: Provider; pricing: Pricing; samples: Samples; rows?: AccountRows}) {}

	async read(options: ReadOptions = {}): Promise<SpendReading> {
		const {config, provider, pricing, samples} = this.deps;
		try {
			const states: InstanceState[] = provider.fleet.volumes ? [...BILLED_STATES, 'stopping', 'stopped'] : [...BILLED_STATES];
			const listing = await provider.fleet.list({envTagKey: config.envTagKey, states, regions: config.regions});
			if (listing.accounts) {
				// Rows follow the accounts before anything is priced into them.
				this.deps.rows?.observe(listing.accounts);
			}

			const fresh = listing.errors.length === 0;
			const byRow = staleByRow(listing.errors, config.environments);
			if (listing.accounts) {
				this.deps.rows?.noteFailures(byRow?.named ?? new Map());
				this.deps.rows?.noteOrganization(listing.accountsProblem);
			}

			// Some accounts failed: the fresh rows are priced with the book their history is priced
			// under, so a price learnt meanwhile is not a spike; the history moves to a new book only
			// when every account is listed (restated then, rows and totals alike).
			let book = fresh || !byRow ? pricing.book() : samples.pricedUnder() ?? pricing.book();
			let result: Aggregate;
			let learning: Map<string, string> | undefined;
			if (fresh && options.until !== undefined) {
				// A one-shot run has no next poll to wait for: it waits (bounded) for what its figures need,
				// then prices. Here the book only learns which prices the listing needs (nothing summed).
				priceCounted(listing.instances, config.envTagKey, book);
				pricing.noteListing(listing.instances);
				pricing.fetchDue();
				({book, result, learning} = await this.settle(listing.instances, options.until));
			} else {
				result = aggregate(listing.instances, config, config.environments, book);
				if (fresh || byRow) {
					// With an account failing, what the others listed is still learnt (volumes are per instance).
					pricing.noteListing(listing.instances);
				}

				pricing.fetchDue();
			}

			if (fresh) {
				const previous = samples.pricedUnder();
				if (previous && previous !== book) {
					samples.restate(aggregate(listing.instances, config, config.environments, previous).byEnvironment, result.byEnvironment);
				}

				samples.pricedWith(book, pricing.tables());
			}

			return {
				spend: result.byEnvironment,
				unknown: {instances: result.unknown.instancesRunning, hourlyUsd: result.unknown.hourlyUsd, tagValues: result.unknown.tagValues},
				staleReason: fresh ? undefined : byRow?.reason ?? listing.errors.map(error => `${error.region}: ${error.message}`).join('; '),
				...(learning && learning.size > 0 ? {learning} : {}),
				...(byRow ? {staleRows: byRow.rows} : {}),
				...(listing.accounts ? {accounts: accountShares(listing.accounts, result.byEnvironment, byRow?.accounts)} : {}),
				...(listing.accountsProblem ? {accountsProblem: listing.accountsProblem} : {}),
			};
		} catch (error) {
			return {spend: new Map(), unknown: {instances: 0, hourlyUsd: 0, tagValues: []}, staleReason: messageOf(error)};
		}
	}

	/**
	 * Waits until the prices and volumes this listing needs are in, or `until` (epoch ms, the real
	 * clock) passes; each answer may ask for more (a spot instance's price once its type is known),
	 * so it prices again and waits again. Returns the book it ended with and, when time ran out,
	 * the environments whose figures depend on what is still on the way.
	 */
	private async settle(instances: readonly RawInstance[], until: number): Promise<{book: PriceBook; result: Aggregate; learning: Map<string, string>}> {
		const {config, pricing} = this.deps;
		for (;;) {
			const left = until - Date.now();
			// Nothing left to learn, nothing under way that could teach it, or no time left.
			if (pricing.learning().size === 0 || pricing.view().queued === 0 || left <= 0) {
				break;
			}

			let timer: NodeJS.Timeout | undefined;
			await Promise.race([pricing.settled(), new Promise<void>(resolve => {
				timer = setTimeout(resolve, left);
			})]);
			clearTimeout(timer);
			pricing.book();
			pricing.fetchDue();
		}

		const book = pricing.book();
		const result = aggregate(instances, config, config.environments, book);
		const learning = new Map<string, string>();
		const regions = pricing.learning();
		if (regions.size > 0) {
			const index = environmentIndex(config.environments);
			const where = new Map<string, Set<string>>();
			for (const instance of instances) {
				const value = tagOf(instance.tags, config.envTagKey);
				const name = value === undefined ? undefined : environmentOf(index, value, instance.account?.name);
				if (name !== undefined && regions.has(instance.region)) {
					where.set(name, (where.get(name) ?? new Set<string>()).add(instance.region));
				}
			}

			for (const [name, named] of where) {
				learning.set(name, `prices or volumes in ${[...named].sort().join(', ')} still being learnt when --once stopped waiting`);
			}
		}

		return {book, result, learning};
	}
}
