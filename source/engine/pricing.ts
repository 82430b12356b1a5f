import type {Config} from '../config/schema.js';
import {fallbackPrices} from '../config/fallback-prices.js';
import {createPriceBook, type PriceBook} from '../domain/pricing.js';

/** The book from the configuration alone: overrides over the shipped table, estimates for the rest. */
export function staticBook(config: Pick<Config, 'prices'>): PriceBook {
	return createPriceBook({overrides: config.prices, table: fallbackPrices});
}
