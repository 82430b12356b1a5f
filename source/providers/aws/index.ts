import type {Config} from '../../config/schema.js';
import type {Provider} from '../types.js';
import {CostExplorerBilling} from './billing.js';
import type {AwsConnection} from './clients.js';
import {callerIdentity} from './identity.js';
import {AwsFleet, type AwsFleetOptions} from './fleet.js';
import {AwsPrices} from './pricing.js';

export {AwsFleet, type AwsFleetOptions, type FleetStats} from './fleet.js';
export {AwsPrices, onDemandPriceOf, type AwsPricesOptions} from './pricing.js';
export {CostExplorerBilling, parseCostResults, period, tagValueOf} from './billing.js';
export {credentialsUsageError, describeError, isCredentialError, type AwsConnection} from './clients.js';
export {callerIdentity, type CallerIdentity} from './identity.js';
export {runDoctor, formatDoctor, type DoctorCheck, type DoctorReport} from './doctor.js';

/** What the CLI passes: `--profile`, `--region` (already merged into config.regions), `--endpoint-url`. */
export type AwsProviderOptions = AwsConnection & Omit<AwsFleetOptions, keyof AwsConnection | 'regions'> & {
	/** Where the Price List Query API is reached; else `endpointUrl`, else AWS (us-east-1). */
	pricingEndpointUrl?: string;
};

/**
 * The real account. Credentials are checked once up front (missing or expired: UsageError, exit 2);
 * any other failure to reach STS is not fatal: the fleet's regions then go STALE and recover by
 * themselves when AWS answers again.
 */
export async function createAwsProvider(config: Config, options: AwsProviderOptions = {}): Promise<Provider> {
	const regions = config.regions;
	let account: string;
	try {
		account = (await callerIdentity(options, regions[0] ?? 'us-east-1')).account;
	} catch (error) {
		if (error instanceof Error && error.name === 'UsageError') {
			throw error;
		}

		// The header stays short: the polls' STALE reasons say what is wrong with the network.
		account = '(account unknown)';
	}

	const fleet = new AwsFleet({...options, regions});
	const prices = new AwsPrices({...options, ec2: region => fleet.client(region)});
	const billing = config.costExplorer.enabled ? new CostExplorerBilling(options, config.envTagKey) : undefined;
	return {
		source: `aws ${account} ${regions.join(',')}`,
		fleet,
		billing,
		prices,
		close() {
			prices.close();
			fleet.close();
			billing?.close();
		},
	};
}
