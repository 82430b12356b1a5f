import type {Config} from '../config/schema.js';
import {fallbackPrices} from '../config/fallback-prices.js';
import {createPriceBook, onDemandKey, onDemandQueryOf, operatingSystemOf, overrideOf, spotKey, type OnDemandQuery, type PriceBook} from '../domain/pricing.js';
import type {PriceSource} from '../providers/types.js';
import type {PriceCache, StateStore} from './state.js';

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
	private built: {version: number; at: number; book: PriceBook} | undefined;
	/** Regions running spot instances, with their types and products, as the current book met them. */
	private readonly spotWanted = new Map<string, {types: Set<string>; products: Set<string>}>();
	private dirty = false;
	private calls = 0;
	private error: string | null = null;
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
	) {
		this.ttlMs = options.ttlMs ?? 7 * 24 * 3_600_000;
		this.spotRefreshMs = options.spotRefreshMs ?? 10 * 60_000;
		this.retryMs = options.retryMs ?? 5 * 60_000;
		this.concurrency = options.concurrency ?? 2;
		if (source) {
			const cache = state.loadPrices();
			for (const [key, usd, at] of cache?.onDemand ?? []) {
				this.onDemand.set(key, {usd, at});
			}

			for (const [key, usd, at] of cache?.spot ?? []) {
				this.spot.set(key, {usd, at});
			}
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
		if (this.built?.version !== this.version || now - this.built.at >= recheckMs || now < this.built.at) {
			this.spotWanted.clear();
			this.built = {
				version: this.version,
				at: now,
				book: createPriceBook({
					overrides: this.config.prices,
					table: fallbackPrices,
					onDemand: new Map([...this.onDemand].map(([key, entry]) => [key, entry.usd])),
					spot: new Map([...this.spot].map(([key, entry]) => [key, entry.usd])),
				}, this.source ? instance => this.want(instance) : undefined),
			};
		}

		return this.built.book;
	}

	view(): PricingView {
		return {calls: this.calls, error: this.error, queued: this.queue.length + this.running.size};
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
			this.error = null;
			this.changed();
		} catch (error) {
			this.calls += attempts(error);
			this.failedAt.set(key, this.clock());
			this.error = `Price List: ${messageOf(error)}; the shipped table and estimates are used meanwhile`;
		} finally {
			this.queued.delete(key);
		}
	}

	private async refreshSpot(region: string, types: string[], products: string[], now: number): Promise<void> {
		try {
			const {prices, requests} = await this.source!.spot(region, types, products, now);
			this.calls += requests;
			const at = this.clock();
			for (const price of prices) {
				this.spot.set(spotKey(region, price.availabilityZone, price.type, price.product), {usd: price.usd, at});
			}

			this.changed();
		} catch (error) {
			this.calls += attempts(error);
			// Tried again sooner than the refresh interval.
			this.spotAt.set(region, now - this.spotRefreshMs + this.retryMs);
			this.error = `spot prices in ${region}: ${messageOf(error)}; spot instances are priced at their on-demand bound (~) meanwhile`;
		}
	}

	private changed(): void {
		this.version++;
		this.dirty = true;
	}

	private save(): void {
		if (!this.dirty) {
			return;
		}

		this.dirty = false;
		// Spot prices older than a day are of no use after a restart.
		const now = this.clock();
		const cache: PriceCache = {
			version: 1,
			onDemand: [...this.onDemand].map(([key, entry]) => [key, entry.usd, entry.at]),
			spot: [...this.spot].filter(([, entry]) => now - entry.at < 86_400_000).map(([key, entry]) => [key, entry.usd, entry.at]),
		};
		this.state.savePrices(cache);
	}
}

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

function attempts(error: unknown): number {
	const value = (error as {$metadata?: {attempts?: number}} | undefined)?.$metadata?.attempts;
	return typeof value === 'number' && value > 0 ? value : 1;
}
