import type {Config} from '../config/index.js';
import {createPriceBook, fallbackEbsRates, fallbackPrices, onDemandKey, onDemandQueryOf, operatingSystemOf, overrideOf, spotKey, volumeHourlyUsd, type EbsRates, type OnDemandQuery, type PriceBook, type PriceTables, type RawInstance, type Volume} from '../domain/index.js';
import type {Fleet, PriceSource} from '../providers/index.js';
import type {StateStore} from './state/store.js';
import {pricesCache, restorePrices, type CachedTables} from './price-cache.js';
import {attempts, implausible, reasonOf} from './answer-errors.js';

/** The book from the configuration alone: overrides over the shipped table, estimates for the rest. */
export function staticBook(config: Pick<Config, 'prices'>): PriceBook {
	return createPriceBook({overrides: config.prices, table: fallbackPrices});
}

export type PricingOptions = {
	/** How long a Price List answer is used before it is asked again. @default a week */
	ttlMs?: number;
	/** How often a region's spot prices are refreshed, at most. @default 10 minutes */
	spotRefreshMs?: number;
	/** How long after a failed Price List call that query is tried again. @default 5 minutes */
	retryMs?: number;
	/** Price List calls under way at once. @default 2 */
	concurrency?: number;
};

/** What the snapshot says about prices: the calls made and the last failure (the fallback is in use then). */
export type PricingView = {calls: number; error: string | null; queued: number};

/** How often the book is rebuilt even without a new answer, so expired cache entries are asked again. */
const recheckMs = 3_600_000;

/**
 * Live prices behind the price book: the Price List's on-demand prices per (region, type, OS,
 * tenancy) that the fleet runs, cached in the state dir for `ttlMs`, and the latest spot prices per
 * region, refreshed at most every `spotRefreshMs`. Everything is fetched in the background: a poll
 * takes the book as it is (the shipped table and estimates until an answer is in) and never waits.
 * A failure is reported in the view and tried again later; it never makes the data stale.
 */
export class Pricing {
	private readonly onDemand = new Map<string, {usd: number | null; at: number}>();
	private readonly spot = new Map<string, {usd: number; at: number}>();
	private readonly failedAt = new Map<string, number>();
	private readonly spotAt = new Map<string, number>();
	private readonly queue: OnDemandQuery[] = [];
	private readonly queued = new Set<string>();
	private readonly running = new Set<Promise<void>>();
	private version = 0;
	private built: {version: number; at: number; recheckAt: number; book: PriceBook; tables: PriceTables} | undefined;
	/** When a failed or refused question is due again: a book built before then is looked at again then. */
	private retryAt = Number.POSITIVE_INFINITY;
	/** Regions running spot instances, with their types and products, as the current book met them. */
	private readonly spotWanted = new Map<string, {types: Set<string>; products: Set<string>}>();
	/** EBS $/h per instance, by region, and which instances' volumes were asked for and when. */
	private readonly storage = new Map<string, Map<string, {usd: number; estimated: boolean}>>();
	private readonly volumesAsked = new Map<string, {ids: Set<string>; at: number}>();
	/** The volumes last listed by region (and the instances asked for), so they are priced again when their region's EBS rates arrive. */
	private readonly volumes = new Map<string, {volumes: Volume[]; ids: readonly string[]}>();
	/** Regions whose volumes are being asked for, with the instances asked (their storage is learnt when it answers). */
	private readonly volumesInFlight = new Map<string, readonly string[]>();
	/** Regions whose spot prices are being asked for. */
	private readonly spotInFlight = new Set<string>();
	/** EBS rates by region from the Price List (the shipped us-east-1 table until they arrive), and the regions asked or failed. */
	private readonly ebs = new Map<string, {rates: EbsRates | null; at: number}>();
	private readonly ebsAsked = new Set<string>();
	private readonly ebsFailedAt = new Map<string, number>();
	private readonly ebsErrors = new Map<string, string>();
	/** Price List answers refused as impossible (by onDemandKey, with why): their instances are marked `~`. */
	private readonly rejected = new Map<string, string>();
	/** Regions whose volumes or EBS rates were refused as impossible: their volumes' cost is marked `~`. */
	private readonly storageDoubted = new Set<string>();
	private dirty = false;
	private calls = 0;
	/**
	 * What failed, by job (the Price List, volumes or spot prices of a region): each job clears only its
	 * own when it next succeeds, so a success elsewhere never hides a failure still in force.
	 */
	private readonly errors = new Map<string, string>();
	private readonly ttlMs: number;
	private readonly spotRefreshMs: number;
	private readonly retryMs: number;
	private readonly concurrency: number;

	constructor(
		private readonly config: Pick<Config, 'prices'>,
		private readonly source: PriceSource | undefined,
		private readonly state: StateStore,
		private readonly clock: () => number,
		options: PricingOptions = {},
		/** The provider's DescribeVolumes; without it volumes are not priced. */
		private readonly volumesOf?: Fleet['volumes'],
	) {
		this.ttlMs = options.ttlMs ?? 7 * 24 * 3_600_000;
		this.spotRefreshMs = options.spotRefreshMs ?? 10 * 60_000;
		this.retryMs = options.retryMs ?? 5 * 60_000;
		this.concurrency = options.concurrency ?? 2;
		// The state dir is untrusted too: a cached price that cannot be true is dropped (asked again), and said.
		const doubted = restorePrices(source || volumesOf ? state.loadPrices() : undefined, this.cachedTables(), {prices: Boolean(source), volumes: Boolean(volumesOf)});
		if (doubted) {
			this.errors.set('cache', doubted);
		}
	}

	/**
	 * The current book: the same object until an answer changes a price (or `recheckMs` passed, so
	 * cached answers that expired are noticed). The first time the book prices a kind of instance
	 * (region, type, OS, tenancy, market), what it needs is noted for `fetchDue`; a steady poll of
	 * a fleet it has seen costs nothing more than the shipped table would.
	 */
	book(): PriceBook {
		const now = this.clock();
		if (this.built?.version !== this.version || now >= this.built.recheckAt || now < this.built.at) {
			this.spotWanted.clear();
			const tables: PriceTables = {
				overrides: this.config.prices,
				table: fallbackPrices,
				onDemand: new Map([...this.onDemand].map(([key, entry]) => [key, entry.usd])),
				spot: new Map([...this.spot].map(([key, entry]) => [key, entry.usd])),
				storage: new Map([...this.storage.values()].flatMap(byInstance => [...byInstance])),
				rejected: new Map(this.rejected),
			};
			const book = createPriceBook(tables, this.source ? instance => this.want(instance) : undefined);
			if (this.volumesOf) {
				// Volumes are priced here: an instance whose volumes are not known yet costs an unknown
				// amount for them, counted as $0 and marked (`~`), never an unmarked $0.
				const known = book.storage!;
				book.storage = id => known(id) ?? unknownStorage;
			}

			this.built = {version: this.version, at: now, recheckAt: Math.min(now + recheckMs, this.retryAt > now ? this.retryAt : Number.POSITIVE_INFINITY), book, tables};
		}

		return this.built.book;
	}

	/** The tables the current book was made from (the samples keep them, to restate their history in a later process). */
	tables(): PriceTables {
		this.book();
		return this.built!.tables;
	}

	/**
	 * Regions where a figure is still being learnt: a Price List price, spot prices, EBS rates or
	 * the volumes of instances asked for for the first time, under way or queued. Refreshing a figure
	 * already known is not learning it.
	 */
	learning(): Set<string> {
		const regions = new Set<string>();
		for (const key of this.queued) {
			if (!this.onDemand.has(key)) {
				regions.add(key.slice(0, key.indexOf('|')));
			}
		}

		for (const region of this.spotInFlight) {
			if (![...this.spot.keys()].some(key => key.startsWith(`${region}|`))) {
				regions.add(region);
			}
		}

		for (const region of this.ebsAsked) {
			if (!this.ebs.has(region)) {
				regions.add(region);
			}
		}

		for (const [region, ids] of this.volumesInFlight) {
			const known = this.storage.get(region);
			if (ids.some(id => !known?.has(id))) {
				regions.add(region);
			}
		}

		return regions;
	}

	/** Writes what was learnt so far (a run that ends before every answer is in keeps what did come). */
	flush(): void {
		this.save();
	}

	/**
	 * The calls made, what is still coming, and what went wrong: each failing job, and each price the
	 * current book did not believe (its instances are counted at the conservative figure, marked `~`).
	 */
	view(): PricingView {
		const doubted = new Set([...this.rejected.values(), ...this.built?.book.rejections?.() ?? []]);
		return {calls: this.calls, error: [...this.errors.values(), ...this.ebsErrors.values(), ...doubted].join('; ') || null, queued: this.queue.length + this.running.size};
	}

	/** What one kind of instance needs: its on-demand price if not cached (or expired, or failed long enough ago), its region's spot prices. */
	private want(instance: Parameters<PriceBook['price']>[0]): void {
		if (overrideOf(this.config.prices, instance.region, instance.type) !== undefined) {
			return;
		}

		const now = this.clock();
		if (instance.lifecycle === 'spot') {
			const product = operatingSystemOf(instance.platformDetails)?.spotProduct;
			if (product) {
				const wanted = this.spotWanted.get(instance.region) ?? {types: new Set<string>(), products: new Set<string>()};
				wanted.types.add(instance.type);
				wanted.products.add(product);
				this.spotWanted.set(instance.region, wanted);
			}
		}

		const query = onDemandQueryOf(instance);
		if (!query) {
			return;
		}

		const key = onDemandKey(query);
		const cached = this.onDemand.get(key);
		const failed = this.failedAt.get(key);
		if (this.queued.has(key) || (cached && now - cached.at < this.ttlMs && now >= cached.at) || (failed !== undefined && now - failed < this.retryMs && now >= failed)) {
			return;
		}

		this.queued.add(key);
		this.queue.push(query);
	}

	/**
	 * Starts in the background what is due: the Price List queries noted by the book, and the spot
	 * prices of regions running spot instances, at most every `spotRefreshMs`. Never waits.
	 */
	fetchDue(): void {
		if (!this.source) {
			return;
		}

		const now = this.clock();
		for (const [region, wanted] of this.spotWanted) {
			const last = this.spotAt.get(region);
			if (last === undefined || now - last >= this.spotRefreshMs || now < last) {
				this.spotAt.set(region, now);
				this.track(this.refreshSpot(region, [...wanted.types].sort(), [...wanted.products].sort(), now));
			}
		}

		this.pump();
	}

	/**
	 * The volumes of a listing's instances (stopped ones too: their volumes cost), per region, asked
	 * again in the background when an instance appears whose volumes were not asked for, or every
	 * `spotRefreshMs` (volumes are created, resized and attached without the instance changing).
	 */
	noteListing(instances: readonly RawInstance[]): void {
		if (!this.volumesOf) {
			return;
		}

		const now = this.clock();
		const byRegion = new Map<string, string[]>();
		for (const instance of instances) {
			if (instance.state !== 'terminated' && instance.state !== 'shutting-down') {
				const ids = byRegion.get(instance.region) ?? [];
				ids.push(instance.id);
				byRegion.set(instance.region, ids);
			}
		}

		for (const [region, ids] of byRegion) {
			const asked = this.volumesAsked.get(region);
			if (asked && now - asked.at < this.spotRefreshMs && now >= asked.at && ids.every(id => asked.ids.has(id))) {
				continue;
			}

			this.volumesAsked.set(region, {ids: new Set(ids), at: now});
			this.track(this.refreshVolumes(region, ids, now));
		}

		for (const region of byRegion.keys()) {
			this.wantEbs(region, now);
		}
	}

	/** A region's EBS rates are asked once per `ttlMs` (one set of calls at a time; after a failure, again in `retryMs`). */
	private wantEbs(region: string, now: number): void {
		if (!this.source?.ebs || this.ebsAsked.has(region)) {
			return;
		}

		const cached = this.ebs.get(region);
		const failed = this.ebsFailedAt.get(region);
		if ((cached && now - cached.at < this.ttlMs && now >= cached.at) || (failed !== undefined && now - failed < this.retryMs && now >= failed)) {
			return;
		}

		this.ebsAsked.add(region);
		this.track(this.fetchEbs(region));
	}

	private async fetchEbs(region: string): Promise<void> {
		try {
			const {rates, requests} = await this.source!.ebs!(region);
			this.calls += requests;
			this.ebs.set(region, {rates, at: this.clock()});
			this.ebsFailedAt.delete(region);
			this.ebsErrors.delete(region);
			this.storageDoubted.delete(`ebs ${region}`);
			const volumes = this.volumes.get(region);
			if (volumes) {
				this.priceVolumes(region, volumes.volumes, volumes.ids);
			}

			// The book changes (a new version): windows are restated, a rate change is no spend spike.
			this.changed();
		} catch (error) {
			this.calls += attempts(error);
			this.ebsFailedAt.set(region, this.clock());
			// Kept until this region's rates come (an on-demand answer that comes meanwhile does not clear it).
			this.ebsErrors.set(region, `EBS rates in ${region}: ${reasonOf(error)}; the shipped us-east-1 rates are used meanwhile${implausible(error) ? ', marked ~' : ''}`);
			if (implausible(error)) {
				// Rates that cannot be true: the region's volumes are counted at the shipped rates, marked.
				this.doubtStorage(`ebs ${region}`, region);
			}
		} finally {
			this.ebsAsked.delete(region);
		}
	}

	/** The region's EBS rates: the Price List's once they arrived, else the shipped us-east-1 table. */
	private ebsRates(region: string): EbsRates {
		return this.ebs.get(region)?.rates ?? fallbackEbsRates;
	}

	/** Prices a region's volumes by instance; an instance asked for that has none costs $0 for them (known, not unknown). */
	private priceVolumes(region: string, volumes: readonly Volume[], ids: readonly string[]): void {
		const rates = this.ebsRates(region);
		const doubted = this.storageDoubted.has(`ebs ${region}`);
		const byInstance = new Map<string, {usd: number; estimated: boolean}>(ids.map(id => [id, {usd: 0, estimated: doubted}]));
		for (const volume of volumes) {
			const priced = volumeHourlyUsd(volume, rates);
			const sum = byInstance.get(volume.instanceId) ?? {usd: 0, estimated: doubted};
			byInstance.set(volume.instanceId, {usd: sum.usd + priced.usd, estimated: sum.estimated || priced.source === 'estimate'});
		}

		this.storage.set(region, byInstance);
	}

	/**
	 * An answer about a region's volumes or their rates was refused as impossible: what its volumes
	 * cost is not known, so each listed instance's figure is marked `~` (the last known cost kept;
	 * none known: nothing added, marked, never a figure that cannot be true).
	 */
	private doubtStorage(why: string, region: string): void {
		this.storageDoubted.add(why);
		const byInstance = this.storage.get(region) ?? new Map<string, {usd: number; estimated: boolean}>();
		for (const [id, entry] of byInstance) {
			byInstance.set(id, {...entry, estimated: true});
		}

		for (const id of this.volumesAsked.get(region)?.ids ?? []) {
			if (!byInstance.has(id)) {
				byInstance.set(id, {usd: 0, estimated: true});
			}
		}

		this.storage.set(region, byInstance);
		this.changed();
	}

	private async refreshVolumes(region: string, ids: string[], now: number): Promise<void> {
		this.volumesInFlight.set(region, ids);
		try {
			const {volumes, calls} = await this.volumesOf!(region, ids);
			this.calls += calls;
			this.volumes.set(region, {volumes, ids});
			this.storageDoubted.delete(`volumes ${region}`);
			this.priceVolumes(region, volumes, ids);
			this.errors.delete(`volumes ${region}`);
			this.changed();
		} catch (error) {
			this.calls += attempts(error);
			// Asked again after `retryMs` (an instance not asked about yet: at once), not at every poll:
			// with many accounts that is a call per account and region. The volumes known so far stay counted.
			this.volumesAsked.set(region, {ids: new Set(ids), at: now - this.spotRefreshMs + this.retryMs});
			this.errors.set(`volumes ${region}`, `volumes in ${region}: ${reasonOf(error)}; their last known cost is counted meanwhile${implausible(error) ? ', marked ~' : ''}`);
			if (implausible(error)) {
				this.doubtStorage(`volumes ${region}`, region);
			}
		} finally {
			this.volumesInFlight.delete(region);
		}
	}

	/** Resolves once nothing is queued or under way (tests, `--once`). */
	async settled(): Promise<void> {
		while (this.running.size > 0) {
			await Promise.all([...this.running]);
		}
	}

	private track(work: Promise<void>): void {
		const tracked = work.finally(() => {
			this.running.delete(tracked);
			this.pump();
			if (this.running.size === 0) {
				this.save();
			}
		});
		this.running.add(tracked);
	}

	private pump(): void {
		while (this.queue.length > 0 && this.running.size < this.concurrency) {
			const query = this.queue.shift()!;
			this.track(this.fetchOnDemand(query));
		}
	}

	private async fetchOnDemand(query: OnDemandQuery): Promise<void> {
		const key = onDemandKey(query);
		try {
			const {usd, requests} = await this.source!.onDemand(query);
			this.calls += requests;
			this.onDemand.set(key, {usd, at: this.clock()});
			this.failedAt.delete(key);
			this.errors.delete('price list');
			this.errors.delete('cache');
			this.rejected.delete(key);
			this.changed();
		} catch (error) {
			this.calls += attempts(error);
			this.failedAt.set(key, this.clock());
			this.recheckAfterRetry();
			if (implausible(error)) {
				// Not believed: what the book would use without it counts, marked `~`, with this reason.
				this.rejected.set(key, `Price List: ${reasonOf(error)}; counted at the shipped table or an estimate (~) meanwhile`);
				this.changed();
			} else {
				this.errors.set('price list', `Price List: ${reasonOf(error)}; the shipped table and estimates are used meanwhile`);
			}
		} finally {
			this.queued.delete(key);
		}
	}

	private async refreshSpot(region: string, types: string[], products: string[], now: number): Promise<void> {
		this.spotInFlight.add(region);
		try {
			const {prices, requests} = await this.source!.spot(region, types, products, now);
			this.calls += requests;
			const at = this.clock();
			for (const price of prices) {
				this.spot.set(spotKey(region, price.availabilityZone, price.type, price.product), {usd: price.usd, at});
			}

			this.errors.delete(`spot ${region}`);
			this.changed();
		} catch (error) {
			this.calls += attempts(error);
			// Tried again sooner than the refresh interval.
			this.spotAt.set(region, now - this.spotRefreshMs + this.retryMs);
			this.errors.set(`spot ${region}`, `spot prices in ${region}: ${reasonOf(error)}; spot instances are priced at their on-demand bound (~) meanwhile`);
		} finally {
			this.spotInFlight.delete(region);
		}
	}

	/** After a failure, the book is looked at again in `retryMs` (not only hourly), so the query is tried again then. */
	private recheckAfterRetry(): void {
		this.retryAt = this.clock() + this.retryMs;
		if (this.built) {
			this.built.recheckAt = Math.min(this.built.recheckAt, this.clock() + this.retryMs);
		}
	}

	private changed(): void {
		this.version++;
		this.dirty = true;
	}

	/** What prices.json keeps. */
	private cachedTables(): CachedTables {
		return {onDemand: this.onDemand, spot: this.spot, storage: this.storage, ebs: this.ebs};
	}

	private save(): void {
		if (!this.dirty) {
			return;
		}

		this.dirty = false;
		this.state.savePrices(pricesCache(this.cachedTables(), this.clock()));
	}
}

/** The storage of an instance whose volumes are not known yet: an unknown amount, counted as $0 and marked. */
const unknownStorage = {usd: 0, estimated: true, unknown: true} as const;
