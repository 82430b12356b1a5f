import type {AccountRef} from '../../domain/index.js';
import type {AwsConnection} from './clients.js';
import type {BucketOptions, Timer} from './rate.js';

/** What an AwsFleet is given: the connection, the regions, and the limits of its calls. */
export type AwsFleetOptions = AwsConnection & {
	/** Regions listed when a query names none. */
	regions: string[];
	/** DescribeInstances MaxResults (5 to 1000). @default 1000 */
	pageSize?: number;
	/** Regions listed at the same time (each holds at most one page in memory). @default 4 */
	regionConcurrency?: number;
	/**
	 * What one listing (every page of every region) may take: a region not listed by then is an
	 * error (its data goes STALE) and the listing ends. @default 120000
	 */
	listBudgetMs?: number;
	/** Decode DescribeInstances with the lean decoder (false: the SDK's own, for comparison). @default true */
	leanDecoding?: boolean;
	/** Instance IDs per Stop/Start/TerminateInstances call (EC2 takes up to 1000). @default 1000 */
	maxBatch?: number;
	/** StopInstances and TerminateInstances resource bucket per region. @default {capacity: 1000, refillPerSecond: 20} */
	stopBucket?: BucketOptions;
	/** StartInstances resource bucket per region. @default {capacity: 1000, refillPerSecond: 2} */
	startBucket?: BucketOptions;
	/** Extra tries of a Stop/Start call that EC2 still throttles after the SDK's own retries. @default 6 */
	throttleRetries?: number;
	/** Backoff base and cap for those tries (full jitter). @default 1000 and 20000 */
	backoffBaseMs?: number;
	backoffCapMs?: number;
	timer?: Timer;
	random?: () => number;
	/** With `accounts`: the account this fleet lists, put on every instance it lists. */
	account?: AccountRef;
};

/** Counters for the footer and the benches: HTTP attempts, the SDK's retries included. */
export type FleetStats = {describeCalls: number; actCalls: number; throttled: number};
