import {setFlagsFromString} from 'node:v8';
import type {Config} from '../../config/index.js';
import type {Provider} from '../types.js';
import {CostExplorerBilling} from './billing.js';
import {describeError, type AwsConnection} from './clients.js';
import {callerIdentity} from './identity.js';
import {AwsFleet, type AwsFleetOptions} from './fleet.js';
import {AccountsFleet} from './accounts-fleet.js';
import {isOrganization} from './accounts.js';
import {AwsPrices} from './pricing.js';

export {AwsFleet, type AwsFleetOptions, type FleetStats} from './fleet.js';
export {AwsPrices, onDemandPriceOf, type AwsPricesOptions} from './pricing.js';
export {CostExplorerBilling, parseCostResults, period, tagValueOf} from './billing.js';
export {credentialsUsageError, describeError, isCredentialError, type AwsConnection} from './clients.js';
export {callerIdentity, type CallerIdentity} from './identity.js';
export {AccountsFleet, type AccountsFleetOptions} from './accounts-fleet.js';
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
	tuneHeap();
	const regions = config.regions;
	let account: string;
	try {
		account = (await callerIdentity(options, regions[0] ?? 'us-east-1')).account;
	} catch (error) {
		// With a list of accounts reached only through their own profiles, envwatch's own credentials are not needed.
		const ownNotNeeded = Array.isArray(config.accounts) && config.accounts.every(entry => entry.profile !== undefined) && !config.costExplorer.enabled;
		if (error instanceof Error && error.name === 'UsageError' && !ownNotNeeded) {
			throw error;
		}

		// The header stays short: the polls' STALE reasons say what is wrong with the network.
		account = '(account unknown)';
	}

	if (config.accounts) {
		return accountsProvider(config, options, account);
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

/**
 * Many accounts (`accounts`): one fleet per account behind the composite; the organization listed
 * now (a failure to list it is fatal at start: there is nothing to guard without it). Live prices are
 * asked with envwatch's own credentials (the Price List and the spot market are the same for every
 * account), billed cost from its Cost Explorer grouped by linked account (the management account
 * sees every member's).
 */
async function accountsProvider(config: Config, options: AwsProviderOptions, self: string): Promise<Provider> {
	const {pricingEndpointUrl: _pricing, ...fleetOptions} = options;
	const {profile, endpointUrl, credentials, maxAttempts, requestTimeoutMs, ...rest} = fleetOptions;
	const connection = {...(profile ? {profile} : {}), ...(endpointUrl ? {endpointUrl} : {}), ...(credentials ? {credentials} : {}), ...(maxAttempts ? {maxAttempts} : {}), ...(requestTimeoutMs ? {requestTimeoutMs} : {})};
	let fleet: AccountsFleet;
	try {
		fleet = await AccountsFleet.create({...rest, connection, accounts: config.accounts!, regions: config.regions, self});
	} catch (error) {
		if (error instanceof Error && error.name === 'UsageError') {
			throw error;
		}

		throw new Error(`accounts.organization: cannot list the organization's accounts (${describeError(error)}): envwatch must run with the management account's credentials (or a delegated administrator's) allowed organizations:DescribeOrganization and organizations:ListAccounts`);
	}

	const own = new AwsFleet({...options, regions: config.regions});
	const prices = new AwsPrices({...options, ec2: region => own.client(region)});
	const billing = config.costExplorer.enabled ? new CostExplorerBilling(options, config.envTagKey, true) : undefined;
	const count = fleet.accounts().length;
	return {
		source: `aws ${count} account${count === 1 ? '' : 's'}${isOrganization(config.accounts!) ? ' (organization)' : ''} ${config.regions.join(',')}`,
		fleet,
		billing,
		prices,
		accounts: () => fleet.accounts(),
		close() {
			prices.close();
			own.close();
			fleet.close();
			billing?.close();
		},
	};
}

/**
 * Each poll of a large fleet leaves its listing (10,000 instances: a few MB) in V8's old space when
 * the next one arrives, and V8's default lets the old space grow to up to four times what is live
 * before it collects: that, not what envwatch keeps, was most of a headless watcher's memory. With
 * the old space collected once it has grown by 30% of what is live, RSS at 10,000 instances stays
 * 15-20 MB lower at the same CPU per poll (test/bench/aws-stub.mjs). A V8 flag, set by envwatch
 * itself so that `node dist/bin/cli.js` gets it: V8 reads it at each collection, so setting it once
 * the process runs works. The growth stays proportional to what is live, so a larger fleet costs
 * more collections in proportion, not a fixed cap to run into.
 */
function tuneHeap(): void {
	setFlagsFromString('--heap-growing-percent=30');
}
