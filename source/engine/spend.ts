import type {Config} from '../config/schema.js';
import {aggregate} from '../domain/classify.js';
import type {PriceBook} from '../domain/pricing.js';
import {BILLED_STATES, type InstanceState, type Spend} from '../domain/types.js';
import type {Provider} from '../providers/types.js';
import {messageOf} from './record.js';
import type {Pricing} from './pricing.js';
import type {Samples} from './samples.js';

export type SpendReading = {
	spend: Map<string, Spend>;
	unknown: {instances: number; hourlyUsd: number; tagValues: string[]};
	/** Why this reading cannot be trusted (a region failed, the listing threw); undefined when fresh. */
	staleReason: string | undefined;
};

/**
 * One listing of the fleet, priced into spend per environment. Only what costs money is listed:
 * pending and running instances, and stopped ones where the provider prices volumes (their disks
 * still cost); nothing else reads this listing (stop, start and undo list their own targets). When
 * the price book changes, the windows are restated: a price change is no spend change.
 */
export class SpendReader {
	/** The book the last fresh reading priced with. */
	private lastBook: PriceBook | undefined;

	constructor(private readonly deps: {config: Config; provider: Provider; pricing: Pricing; samples: Samples}) {}

	async read(): Promise<SpendReading> {
		const {config, provider, pricing, samples} = this.deps;
		try {
			const states: InstanceState[] = provider.fleet.volumes ? [...BILLED_STATES, 'stopping', 'stopped'] : [...BILLED_STATES];
			const listing = await provider.fleet.list({envTagKey: config.envTagKey, states, regions: config.regions});
			const fresh = listing.errors.length === 0;
			const book = pricing.book();
			const result = aggregate(listing.instances, config, config.environments, book);
			if (fresh) {
				pricing.noteListing(listing.instances);
			}

			pricing.fetchDue();
			if (fresh && this.lastBook && this.lastBook !== book) {
				samples.restate(aggregate(listing.instances, config, config.environments, this.lastBook).byEnvironment, result.byEnvironment);
			}

			if (fresh) {
				this.lastBook = book;
			}

			return {
				spend: result.byEnvironment,
				unknown: {instances: result.unknown.instancesRunning, hourlyUsd: result.unknown.hourlyUsd, tagValues: result.unknown.tagValues},
				staleReason: fresh ? undefined : listing.errors.map(error => `${error.region}: ${error.message}`).join('; '),
			};
		} catch (error) {
			return {spend: new Map(), unknown: {instances: 0, hourlyUsd: 0, tagValues: []}, staleReason: messageOf(error)};
		}
	}
}
