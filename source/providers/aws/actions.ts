import {StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand, type EC2Client, type InstanceStateChange} from '@aws-sdk/client-ec2';
import type {InstanceState} from '../../domain/index.js';
import type {ActOptions, InstanceOutcome, Target} from '../types.js';
import {attemptsOf, describeError, errorCode} from './clients.js';
import type {AwsFleetOptions, FleetStats} from './fleet-options.js';
import {knownStates} from './instances.js';
import {backoffMs, type TokenBucket, type Timer} from './rate.js';

/** Errors that reject a whole call because of some of its instances: split and try the rest. */
export const perInstanceCodes = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed', 'IncorrectInstanceState', 'UnsupportedOperation', 'OperationNotPermitted']);
export const throttleCodes = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException']);

export type Verb = 'stop' | 'start' | 'terminate';

/** What the actions need of the fleet: its options and counters, its clients and rate buckets. */
export type ActionParts = {options: AwsFleetOptions; stats: FleetStats; timer: Timer; client: (region: string) => EC2Client; bucket: (region: string, verb: Verb) => TokenBucket};

/** Stop, start and terminate in batches per region, rate-limited, with each instance's outcome. */
export class Ec2Actions {
	private readonly options: AwsFleetOptions;
	private readonly stats: FleetStats;
	private readonly timer: Timer;

	constructor(private readonly parts: ActionParts) {
		this.options = parts.options;
		this.stats = parts.stats;
		this.timer = parts.timer;
	}

	async act(targets: Target[], options: ActOptions, verb: Verb): Promise<InstanceOutcome[]> {
		const byRegion = new Map<string, string[]>();
		for (const {id, region} of targets) {
			const ids = byRegion.get(region) ?? [];
			if (!ids.includes(id)) {
				ids.push(id);
			}

			byRegion.set(region, ids);
		}

		const perRegion = await Promise.all([...byRegion].map(async ([region, ids]) => this.actRegion(region, ids, options, verb)));
		const outcomes = new Map(perRegion.flat().map(outcome => [`${outcome.region} ${outcome.id}`, outcome]));
		// One outcome per target, in the caller's order.
		return targets.map(({id, region}) => outcomes.get(`${region} ${id}`) ?? {id, region, result: 'error', message: 'no outcome recorded'});
	}

	private async actRegion(region: string, ids: string[], options: ActOptions, verb: Verb): Promise<InstanceOutcome[]> {
		const bucket = this.bucket(region, verb);
		const maxBatch = Math.min(1000, this.options.maxBatch ?? 1000);
		const queue = [...ids];
		const outcomes: InstanceOutcome[] = [];
		while (queue.length > 0) {
			// A dry run changes nothing, so it takes nothing from the resource bucket.
			const size = options.dryRun ? Math.min(queue.length, maxBatch) : bucket.nextBatch(queue.length, maxBatch);
			const batch = queue.splice(0, size);
			const done = await this.checkedBatch(region, batch, options, verb, bucket);
			options.onBatch?.(done);
			outcomes.push(...done);
		}

		return outcomes;
	}

	/**
	 * One batch: wait for its tokens, then re-check its scope (the caller's `recheck`) right before
	 * the call, so an instance retagged or gone while earlier batches ran is left alone.
	 */
	private async checkedBatch(region: string, batch: string[], options: ActOptions, verb: Verb, bucket: TokenBucket): Promise<InstanceOutcome[]> {
		if (!options.dryRun) {
			await bucket.take(batch.length);
		}

		if (!options.recheck) {
			return this.runBatch(region, batch, options.dryRun, verb, bucket, true);
		}

		let inScope: ReadonlySet<string>;
		try {
			inScope = await options.recheck(batch.map(id => ({id, region})));
		} catch (error) {
			if (!options.dryRun) {
				bucket.refund(batch.length);
			}

			const message = `not acted on: could not re-check this batch's scope (${error instanceof Error ? error.message : String(error)})`;
			return batch.map(id => ({id, region, result: 'error', message}));
		}

		const kept = batch.filter(id => inScope.has(id));
		const left: InstanceOutcome[] = batch.filter(id => !inScope.has(id)).map(id => ({id, region, result: 'out-of-scope', message: 'left scope before its batch (retagged or gone)'}));
		if (!options.dryRun && left.length > 0) {
			bucket.refund(left.length);
		}

		const acted = kept.length > 0 ? await this.runBatch(region, kept, options.dryRun, verb, bucket, true) : [];
		const byId = new Map([...acted, ...left].map(outcome => [outcome.id, outcome]));
		return batch.map(id => byId.get(id)!);
	}

	/** One call for a batch; a per-instance rejection splits the batch so the rest still goes through. */
	private async runBatch(region: string, batch: string[], dryRun: boolean, verb: Verb, bucket: TokenBucket, taken = false): Promise<InstanceOutcome[]> {
		if (!dryRun && !taken) {
			await bucket.take(batch.length);
		}

		try {
			const changes = await this.send(region, batch, dryRun, verb);
			const byId = new Map(changes.map(change => [change.InstanceId, change]));
			return batch.map(id => outcomeOf(id, region, verb, byId.get(id)));
		} catch (error) {
			const code = errorCode(error);
			if (code === 'DryRunOperation') {
				return batch.map(id => ({id, region, result: 'permitted', message: `DryRun: ec2:${action(verb)} would have succeeded`}));
			}

			const status = (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode ?? 0;
			if (!dryRun && status >= 400 && status < 500) {
				// EC2 rejected the call as a whole (a 4xx): it acted on nothing. After a 5xx or a
				// timeout it may have, so those tokens stay spent.
				bucket.refund(batch.length);
			}

			if (code === 'UnauthorizedOperation') {
				return batch.map(id => ({id, region, result: 'unauthorized', message: `missing permission ec2:${action(verb)} for this instance (UnauthorizedOperation)`}));
			}

			if (code && perInstanceCodes.has(code)) {
				const named = new Set((error instanceof Error ? error.message : '').match(/i-[0-9a-f]{8,17}/g) ?? []);
				const culprits = batch.filter(id => named.has(id));
				const result = code.startsWith('InvalidInstanceID') ? 'not-found' : 'error';
				const message = describeError(error);
				if (culprits.length > 0 || batch.length === 1) {
					const bad = culprits.length > 0 ? culprits : batch;
					const rest = batch.filter(id => !bad.includes(id));
					const done: InstanceOutcome[] = bad.map(id => ({id, region, result, message}));
					return rest.length > 0 ? [...done, ...await this.runBatch(region, rest, dryRun, verb, bucket)] : done;
				}

				// The message named no instance: bisect.
				const half = Math.ceil(batch.length / 2);
				const first = await this.runBatch(region, batch.slice(0, half), dryRun, verb, bucket);
				return [...first, ...await this.runBatch(region, batch.slice(half), dryRun, verb, bucket)];
			}

			const message = describeError(error);
			return batch.map(id => ({id, region, result: 'error', message}));
		}
	}

	/** The API call, tried again with backoff and jitter while EC2 still throttles after the SDK's own retries. */
	private async send(region: string, ids: string[], dryRun: boolean, verb: Verb): Promise<InstanceStateChange[]> {
		const retries = this.options.throttleRetries ?? 6;
		for (let attempt = 0; ; attempt++) {
			try {
				const input = {InstanceIds: ids, DryRun: dryRun};
				if (verb === 'start') {
					const response = await this.client(region).send(new StartInstancesCommand(input));
					this.stats.actCalls += attemptsOf(response);
					return response.StartingInstances ?? [];
				}

				if (verb === 'terminate') {
					const response = await this.client(region).send(new TerminateInstancesCommand(input));
					this.stats.actCalls += attemptsOf(response);
					return response.TerminatingInstances ?? [];
				}

				const response = await this.client(region).send(new StopInstancesCommand(input));
				this.stats.actCalls += attemptsOf(response);
				return response.StoppingInstances ?? [];
			} catch (error) {
				this.stats.actCalls += attemptsOf(error);
				const code = errorCode(error);
				if (!code || !throttleCodes.has(code) || attempt >= retries) {
					throw error;
				}

				this.stats.throttled++;
				await this.timer.sleep(backoffMs(attempt, this.options.backoffBaseMs ?? 1000, this.options.backoffCapMs ?? 20_000, this.options.random));
			}
		}
	}

	private client(region: string): EC2Client {
		return this.parts.client(region);
	}

	private bucket(region: string, verb: Verb): TokenBucket {
		return this.parts.bucket(region, verb);
	}
}

function action(verb: Verb): string {
	return verb === 'start' ? 'StartInstances' : verb === 'terminate' ? 'TerminateInstances' : 'StopInstances';
}

function stateOf(name: string | undefined): InstanceState | undefined {
	return name && knownStates.has(name as InstanceState) ? name as InstanceState : undefined;
}

function outcomeOf(id: string, region: string, verb: Verb, change: InstanceStateChange | undefined): InstanceOutcome {
	if (!change) {
		return {id, region, result: 'error', message: `EC2 did not report ${id} in its ${action(verb)} answer`};
	}

	const previousState = stateOf(change.PreviousState?.Name);
	const currentState = stateOf(change.CurrentState?.Name);
	if (!currentState) {
		// The answer names the instance but not where it went: not a success.
		return {id, region, result: 'error', message: `EC2's ${action(verb)} answer for ${id} has no known current state`};
	}

	const states = {...(previousState ? {previousState} : {}), ...(currentState ? {currentState} : {})};
	if (verb === 'start') {
		return {id, region, result: previousState === 'running' || previousState === 'pending' ? 'already-running' : 'starting', ...states};
	}

	if (verb === 'terminate') {
		return {id, region, result: 'terminating', ...states};
	}

	if (previousState === 'stopped' || previousState === 'stopping') {
		return {id, region, result: 'already-stopped', ...states};
	}

	return {id, region, result: currentState === 'stopped' ? 'stopped' : 'stopping', ...states};
}
