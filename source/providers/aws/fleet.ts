import {
	DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand, DescribeVolumesCommand, EC2Client, RunInstancesCommand, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand,
	type DescribeInstancesResult, type Filter, type Instance as Ec2Instance, type InstanceStateChange,
} from '@aws-sdk/client-ec2';
import {volumeProblem, type Volume} from '../../domain/pricing.js';
import type {InstanceState, RawInstance} from '../../domain/types.js';
import type {ActOptions, Fleet, FleetListing, FleetQuery, InstanceOutcome, LaunchOutcome, LaunchRequest, RegionError, Target} from '../types.js';
import {Budget, BudgetError, checkAnswers, firstPage, ImplausibleAnswerError, leanResultOf, MalformedAnswerError, paginate, Unique, type LeanDecoders} from './answers.js';
import {attemptsOf, clientConfig, describeError, errorCode, type AwsConnection} from './clients.js';
import {DescribeInstancesDecoder, own, type LeanInstance, type LeanPage} from './describe.js';
import {backoffMs, ec2StopBucket, realTimer, TokenBucket, type BucketOptions, type Timer} from './rate.js';
import {plural} from '../../domain/format.js';

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
};

/** Counters for the footer and the benches: HTTP attempts, the SDK's retries included. */
export type FleetStats = {describeCalls: number; actCalls: number; throttled: number};

const knownStates = new Set<InstanceState>(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated']);
/** Errors that reject a whole call because of some of its instances: split and try the rest. */
const perInstanceCodes = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed', 'IncorrectInstanceState', 'UnsupportedOperation', 'OperationNotPermitted']);
const throttleCodes = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException']);
/**
 * The most instances envwatch believes one region's listing holds (EC2's default quotas allow a few
 * thousand; the largest accounts run tens of thousands): its DescribeInstances pages are capped at
 * this many over the page size (200 pages of 1000), so pages that never end end.
 */
export const maxInstancesPerRegion = 200_000;
/** DescribeVolumes pages per 200 instances (MaxResults 500; an instance has at most 128 volumes attached). */
const maxVolumePages = 100;
/** What asking one region's volumes may take. */
const volumesBudgetMs = 120_000;

type Verb = 'stop' | 'start' | 'terminate';

/** The EC2 side of the AWS provider: filtered, paginated listing and rate-limited stop/start. */
export class AwsFleet implements Fleet {
	readonly stats: FleetStats = {describeCalls: 0, actCalls: 0, throttled: 0};
	private readonly clients = new Map<string, EC2Client>();
	private readonly buckets = new Map<string, TokenBucket>();
	private readonly timer: Timer;

	constructor(private readonly options: AwsFleetOptions) {
		this.timer = options.timer ?? realTimer;
	}

	client(region: string): EC2Client {
		let client = this.clients.get(region);
		if (!client) {
			client = new EC2Client(clientConfig(this.options, region));
			checkAnswers(client, region, 'xml', this.options.leanDecoding === false ? {} : leanDecoders(region));
			this.clients.set(region, client);
		}

		return client;
	}

	private bucket(region: string, verb: Verb): TokenBucket {
		const kind = verb === 'start' ? 'start' : 'stop';
		const key = `${kind} ${region}`;
		let bucket = this.buckets.get(key);
		if (!bucket) {
			bucket = new TokenBucket(kind === 'start' ? this.options.startBucket ?? {capacity: 1000, refillPerSecond: 2} : this.options.stopBucket ?? ec2StopBucket, this.timer);
			this.buckets.set(key, bucket);
		}

		return bucket;
	}

	async list(query: FleetQuery): Promise<FleetListing> {
		// A region named twice (`--region a --region a`) must not count its instances twice.
		const regions = [...new Set(query.regions ?? this.options.regions)];
		if (query.instanceIds?.length === 0) {
			// No IDs: nothing to list (a filter without values would match every instance).
			return {instances: [], errors: [], calls: 0};
		}

		// EC2 takes up to 200 values per filter: a longer ID list is listed in parts.
		const parts = query.instanceIds ? chunks([...new Set(query.instanceIds)], 200).map(ids => filtersFor({...query, instanceIds: ids})) : [filtersFor(query)];
		const budgetMs = this.options.listBudgetMs ?? 120_000;
		const budget = new Budget(budgetMs, `the listing's time budget of ${Math.round(budgetMs / 100) / 10} s`);
		try {
			const results = await mapLimited(regions, Math.max(1, this.options.regionConcurrency ?? 4), async region => this.listRegion(region, parts, budget));
			return {
				instances: results.flatMap(result => result.instances),
				errors: results.flatMap(result => result.error ? [result.error] : []),
				calls: results.reduce((sum, result) => sum + result.calls, 0),
			};
		} finally {
			budget.done();
		}
	}

	/**
	 * Every page of every part must be a well-formed EC2 answer, every instance in it complete and
	 * listed once: otherwise the whole region is an error (its data goes STALE), never a shorter or
	 * a longer listing. The pages are capped and share the listing's time budget.
	 */
	private async listRegion(region: string, parts: Filter[][], budget: Budget): Promise<{instances: RawInstance[]; calls: number; error?: RegionError}> {
		const instances: RawInstance[] = [];
		const pageSize = this.options.pageSize ?? 1000;
		const once = new Unique('DescribeInstances', region);
		let calls = 0;
		try {
			for (const filters of parts) {
				const pages = paginate({
					call: 'DescribeInstances',
					region,
					maxPages: Math.ceil(maxInstancesPerRegion / pageSize),
					budget,
					// Always Filters and MaxResults: an unfiltered, unpaginated DescribeInstances gets a smaller rate bucket.
					send: async (paging, options) => this.client(region).send(new DescribeInstancesCommand({Filters: filters, MaxResults: pageSize, ...paging}), options),
				});
				try {
					for await (const {output, page} of pages) {
						const lean = leanResultOf(output) as LeanPage<RawInstance | InstanceProblem> | undefined;
						for (const instance of lean ? lean.instances : instancesOf(output, region, page)) {
							if (instance instanceof InstanceProblem) {
								throw new UnusableInstanceError(`DescribeInstances page ${page}: ${instance.detail}`);
							}

							once.add(instance.id, page);
							instances.push(instance);
						}
					}
				} finally {
					calls += pages.requests;
				}
			}
		} catch (error) {
			this.stats.describeCalls += calls;
			const code = errorCode(error);
			// A region that fails mid-way reports nothing: half a region would read as a drop in spend.
			const message = error instanceof MalformedAnswerError ? `${error.detail}${attemptsOf(error) > 1 ? ` (after ${attemptsOf(error)} attempts)` : ''}` : error instanceof BudgetError ? error.detail : describeError(error);
			return {instances: [], calls, error: {region, message, ...(code ? {code} : {})}};
		}

		this.stats.describeCalls += calls;
		return {instances, calls};
	}

	async stop(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]> {
		return this.act(targets, options, options.terminate ? 'terminate' : 'stop');
	}

	async start(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]> {
		return this.act(targets, options, 'start');
	}

	private async act(targets: Target[], options: ActOptions, verb: Verb): Promise<InstanceOutcome[]> {
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

	/**
	 * RunInstances from a launch template, with the environment and agent role tags (and who
	 * launched them) on the instances and their volumes. DryRun answers `permitted`.
	 */
	async launch(request: LaunchRequest): Promise<LaunchOutcome> {
		const tags = Object.entries(request.tags).map(([Key, Value]) => ({Key, Value}));
		try {
			const response = await this.client(request.region).send(new RunInstancesCommand({
				LaunchTemplate: {...(request.template.id ? {LaunchTemplateId: request.template.id} : {LaunchTemplateName: request.template.name}), Version: request.template.version},
				MinCount: request.count,
				MaxCount: request.count,
				...(request.instanceType ? {InstanceType: request.instanceType as never} : {}),
				TagSpecifications: [{ResourceType: 'instance', Tags: tags}, {ResourceType: 'volume', Tags: tags}],
				DryRun: request.dryRun,
			}));
			const instances = (response.Instances ?? []).filter(instance => typeof instance.InstanceId === 'string' && instance.InstanceId !== '')
				.map(instance => ({id: instance.InstanceId!, region: request.region, type: instance.InstanceType ?? request.instanceType ?? '?'}));
			if (instances.length !== request.count) {
				// MinCount = MaxCount: EC2 launches all or none, so an answer listing fewer is not EC2's.
				return {result: 'error', instances, message: `RunInstances answered with ${plural(instances.length, 'instance ID')} for ${request.count} requested in ${request.region}: check the console for what was launched`};
			}

			return {result: 'launched', instances};
		} catch (error) {
			const code = errorCode(error);
			if (code === 'DryRunOperation') {
				return {result: 'permitted', instances: [], message: 'DryRun: ec2:RunInstances permitted'};
			}

			return {result: code === 'UnauthorizedOperation' ? 'unauthorized' : 'error', instances: [], message: code === 'UnauthorizedOperation' ? 'ec2:RunInstances (and ec2:CreateTags) not permitted' : describeError(error)};
		}
	}

	/**
	 * The EBS volumes attached to these instances: DescribeVolumes filtered by `attachment.instance-id`
	 * (200 IDs a call), every page followed. A volume without an ID, a type, a size or an attachment
	 * to one of them cannot be priced, one past EBS's limits (64 TiB, 256,000 IOPS) cannot be true,
	 * and one listed twice by a part is an answer that repeats itself: the whole answer is an error
	 * then, never fewer (or more) volumes.
	 */
	async volumes(region: string, instanceIds: string[]): Promise<{volumes: Volume[]; calls: number}> {
		const wanted = new Set(instanceIds);
		const volumes: Volume[] = [];
		const seen = new Set<string>();
		let calls = 0;
		const budget = new Budget(volumesBudgetMs);
		try {
			for (const ids of chunks([...wanted], 200)) {
				const once = new Unique('DescribeVolumes', region);
				const pages = paginate({
					call: 'DescribeVolumes',
					region,
					maxPages: maxVolumePages,
					budget,
					send: async (paging, options) => this.client(region).send(new DescribeVolumesCommand({Filters: [{Name: 'attachment.instance-id', Values: ids}], MaxResults: 500, ...paging}), options),
				});
				try {
					for await (const {output, page} of pages) {
						const list: unknown = output.Volumes ?? [];
						if (!Array.isArray(list)) {
							throw new MalformedAnswerError(region, `DescribeVolumes page ${page}: its volumes are not a list`);
						}

						for (const volume of output.Volumes ?? []) {
							const where = `DescribeVolumes page ${page}: volume ${volume.VolumeId ?? '(no ID)'}`;
							const attached = (volume.Attachments ?? []).map(attachment => attachment.InstanceId).find(id => typeof id === 'string' && wanted.has(id));
							if (typeof volume.VolumeId !== 'string' || typeof volume.VolumeType !== 'string' || typeof volume.Size !== 'number' || !Number.isFinite(volume.Size) || !attached) {
								throw new MalformedAnswerError(region, `${where} lacks an ID, a type, a size or an attachment to a listed instance: its cost is unknown`);
							}

							once.add(volume.VolumeId, page);
							const described = {
								id: volume.VolumeId, region, type: volume.VolumeType, sizeGb: volume.Size, instanceId: attached,
								...(typeof volume.Iops === 'number' && Number.isFinite(volume.Iops) ? {iops: volume.Iops} : {}),
								...(typeof volume.Throughput === 'number' && Number.isFinite(volume.Throughput) ? {throughputMbps: volume.Throughput} : {}),
							};
							const problem = volumeProblem(described);
							if (problem !== undefined) {
								throw new ImplausibleAnswerError(region, `${where} has ${problem}: not believed`);
							}

							if (seen.has(volume.VolumeId)) {
								// Attached to instances of two parts (multi-attach): counted once.
								continue;
							}

							seen.add(volume.VolumeId);
							volumes.push(described);
						}
					}
				} finally {
					calls += pages.requests;
				}
			}
		} finally {
			budget.done();
		}

		return {volumes, calls};
	}

	/** The instance type a launch template version would launch, to show its cost before starting. */
	async templateInstanceType(region: string, template: LaunchRequest['template']): Promise<string | undefined> {
		// One version asked for: its first page says all.
		const response = await firstPage(async options => this.client(region).send(new DescribeLaunchTemplateVersionsCommand({
			...(template.id ? {LaunchTemplateId: template.id} : {LaunchTemplateName: template.name}),
			Versions: [template.version],
		}), options));
		const version = response.LaunchTemplateVersions?.[0];
		if (!version) {
			throw new Error(`DescribeLaunchTemplateVersions in ${region} answered without the requested version ${template.version} of ${template.id ?? template.name}`);
		}

		// A template may leave the type to the launch: undefined then, not a guess.
		const type = version.LaunchTemplateData?.InstanceType;
		return typeof type === 'string' && String(type) !== '' ? type : undefined;
	}

	close(): void {
		for (const client of this.clients.values()) {
			client.destroy();
		}

		this.clients.clear();
	}
}

/** Server-side filters for a query: never an unfiltered listing. */
export function filtersFor(query: FleetQuery): Filter[] {
	const filters: Filter[] = query.envTagValues
		? [{Name: `tag:${query.envTagKey}`, Values: caseVariants(query.envTagValues)}]
		: [{Name: 'tag-key', Values: [query.envTagKey]}];
	if (query.role) {
		filters.push({Name: `tag:${query.role.key}`, Values: [query.role.value]});
	}

	filters.push({Name: 'instance-state-name', Values: [...query.states]});
	if (query.instanceIds) {
		filters.push({Name: 'instance-id', Values: [...query.instanceIds]});
	}

	return filters;
}

function chunks<T>(list: T[], size: number): T[][] {
	const parts: T[][] = [];
	for (let index = 0; index < list.length; index += size) {
		parts.push(list.slice(index, index + size));
	}

	return parts;
}

/**
 * envwatch matches environment tag values without regard to case (`Dev` counts for dev), but EC2's
 * tag filters are exact: send the usual spellings of each value so the enforcer's re-list finds
 * what the monitor counted. (A value spelt `dEv` is counted but not stopped: the safe side.)
 */
function caseVariants(values: readonly string[]): string[] {
	const variants = values.flatMap(value => [value, value.toLowerCase(), value.toUpperCase(), value.charAt(0).toUpperCase() + value.slice(1).toLowerCase()]);
	return [...new Set(variants)];
}

/**
 * The instances of one DescribeInstances page. An instance without an ID, a type or a known state
 * cannot be priced or acted on: skipping it would undercount, so the page (and its region) errs.
 */
export function instancesOf(page: DescribeInstancesResult, region: string, pageNumber = 1): RawInstance[] {
	const instances: RawInstance[] = [];
	const reservations = page.Reservations ?? [];
	if (!Array.isArray(reservations)) {
		throw new Error(`DescribeInstances page ${pageNumber}: its reservations are not a list`);
	}

	for (const reservation of reservations) {
		for (const instance of reservation.Instances ?? []) {
			instances.push(toRaw(instance, region, pageNumber));
		}
	}

	return instances;
}

function toRaw(instance: Ec2Instance, region: string, pageNumber: number): RawInstance {
	const launch = instance.LaunchTime;
	// The SDK's strings may be cuts of the whole answer's text: copies keep none of it alive.
	const copy = (text: string | undefined): string | undefined => (typeof text === 'string' ? own(text) : text);
	const lean: LeanInstance = {
		id: copy(instance.InstanceId),
		type: copy(instance.InstanceType),
		state: copy(instance.State?.Name),
		lifecycle: copy(instance.InstanceLifecycle),
		platformDetails: copy(instance.PlatformDetails),
		platform: copy(instance.Platform),
		availabilityZone: copy(instance.Placement?.AvailabilityZone),
		tenancy: copy(instance.Placement?.Tenancy),
		launchTime: launch instanceof Date && Number.isFinite(launch.getTime()) ? launch.toISOString() : undefined,
		tags: (instance.Tags ?? []).flatMap(tag => (tag.Key === undefined ? [] : [[own(tag.Key), copy(tag.Value)] as [string, string | undefined]])),
	};
	const problem = problemOf(lean);
	if (problem !== undefined) {
		throw new UnusableInstanceError(`DescribeInstances page ${pageNumber}: ${problem}`);
	}

	return rawOf(lean, region);
}

/**
 * The lean decoders of a region's client: each instance is checked and made a RawInstance as soon
 * as it is read (a problem is kept in its place and fails the page in listRegion, which knows the
 * page's number). The SDK then parses an empty DescribeInstances result.
 */
function leanDecoders(region: string): LeanDecoders {
	return {
		DescribeInstances: {
			start: () => new DescribeInstancesDecoder(instance => {
				const problem = problemOf(instance);
				return problem === undefined ? rawOf(instance, region) : new InstanceProblem(problem);
			}),
			empty: '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"></DescribeInstancesResponse>',
		},
	};
}

/** A page holds an instance that cannot be priced or acted on (found after its call returned). */
class UnusableInstanceError extends Error {}

/** An instance that cannot be listed, in its page's place: what is wrong with it. */
class InstanceProblem {
	constructor(readonly detail: string) {}
}

/**
 * What makes a decoded instance (by the lean decoder or the SDK) unusable, if anything: without an
 * ID, a type or a known state it cannot be priced or acted on, and skipping it would undercount, so
 * its page (and its region) errs.
 */
function problemOf(instance: LeanInstance): string | undefined {
	const where = (): string => `instance ${instance.id === undefined ? '(no ID)' : own(instance.id).slice(0, 40)}`;
	const {state} = instance;
	if (typeof instance.id !== 'string' || !/^i-[0-9a-f]+$/.test(instance.id)) {
		return `${where()} has no valid instance ID: expected i- and hex digits`;
	}

	if (typeof instance.type !== 'string' || instance.type === '') {
		return `${where()} has no instance type: its cost is unknown`;
	}

	if (!state || !knownStates.has(state as InstanceState)) {
		return `${where()} has ${state ? `an unknown state "${String(state).slice(0, 40)}"` : 'no state'}: expected one of ${[...knownStates].join(', ')}`;
	}

	return undefined;
}

/**
 * A checked instance (problemOf found nothing) as envwatch keeps it. Its strings are used as they
 * are: the decoders hand over copies that hold nothing of the answer's text, shared where a value
 * repeats.
 */
function rawOf(instance: LeanInstance, region: string): RawInstance {
	const tags: Record<string, string> = {};
	for (const [key, value] of instance.tags) {
		// Defined, not assigned: a tag key such as __proto__ is a key like any other.
		Object.defineProperty(tags, key, {value: value ?? '', enumerable: true, writable: true, configurable: true});
	}

	const launchedAt = instance.launchTime === undefined ? Number.NaN : Date.parse(instance.launchTime);
	return {
		id: instance.id!,
		region,
		type: instance.type!,
		state: instance.state as InstanceState,
		tags,
		...(Number.isFinite(launchedAt) ? {launchedAt} : {}),
		// What it is billed as: spot or on demand, the OS, where and on whose hardware. Absent or odd
		// values are left out (the price book then estimates), never guessed.
		lifecycle: instance.lifecycle === 'spot' ? 'spot' : 'on-demand',
		...(instance.platformDetails ? {platformDetails: instance.platformDetails} : String(instance.platform ?? '').toLowerCase() === 'windows' ? {platformDetails: 'Windows'} : {}),
		...(instance.availabilityZone ? {availabilityZone: instance.availabilityZone} : {}),
		...(instance.tenancy ? {tenancy: instance.tenancy} : {}),
	};
}

/** Runs `work` over `items`, at most `limit` at a time, results in the items' order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
	const results: R[] = Array.from({length: items.length});
	let next = 0;
	const worker = async (): Promise<void> => {
		while (next < items.length) {
			const index = next++;
			results[index] = await work(items[index]!);
		}
	};

	await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker));
	return results;
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

