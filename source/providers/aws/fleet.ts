import {DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand, DescribeVolumesCommand, EC2Client, RunInstancesCommand, type Filter} from '@aws-sdk/client-ec2';
import {plural, type RawInstance, type Volume} from '../../domain/index.js';
import type {ActOptions, Fleet, FleetListing, FleetQuery, InstanceOutcome, LaunchOutcome, LaunchRequest, RegionError, Target} from '../types.js';
import {Budget, BudgetError, checkAnswers, firstPage, leanResultOf, MalformedAnswerError, paginate, Unique} from './answers.js';
import {attemptsOf, clientConfig, describeError, errorCode} from './clients.js';
import type {LeanPage} from './describe.js';
import {ec2StopBucket, realTimer, TokenBucket, type Timer} from './rate.js';
import type {AwsFleetOptions, FleetStats} from './fleet-options.js';
import {Ec2Actions, type Verb} from './actions.js';
export type {AwsFleetOptions, FleetStats} from './fleet-options.js';
import {filtersFor, InstanceProblem, instancesOf, leanDecoders, maxInstancesPerRegion, UnusableInstanceError} from './instances.js';
import {checkedVolume, fieldsOfSdk, volumesPerPage, type VolumeFields} from './volumes.js';


/** DescribeVolumes pages per 200 instances (MaxResults 500; an instance has at most 128 volumes attached). */
const maxVolumePages = 100;
/** What asking one region's volumes may take. */
const volumesBudgetMs = 120_000;

/** The EC2 side of the AWS provider: filtered, paginated listing and rate-limited stop/start. */
export class AwsFleet implements Fleet {
	readonly stats: FleetStats = {describeCalls: 0, actCalls: 0, throttled: 0};
	private readonly clients = new Map<string, EC2Client>();
	private readonly buckets = new Map<string, TokenBucket>();
	private readonly timer: Timer;
	private readonly actions: Ec2Actions;

	constructor(private readonly options: AwsFleetOptions) {
		this.timer = options.timer ?? realTimer;
		this.actions = new Ec2Actions({options, stats: this.stats, timer: this.timer, client: region => this.client(region), bucket: (region, verb) => this.bucket(region, verb)});
	}

	client(region: string): EC2Client {
		let client = this.clients.get(region);
		if (!client) {
			client = new EC2Client(clientConfig(this.options, region));
			checkAnswers(client, region, 'xml', this.options.leanDecoding === false ? {} : leanDecoders(region, this.options.account));
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
						for (const instance of lean ? lean.items : instancesOf(output, region, page, Date.now(), this.options.account)) {
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
		return this.actions.act(targets, options, options.terminate ? 'terminate' : 'stop');
	}

	async start(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]> {
		return this.actions.act(targets, options, 'start');
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
					send: async (paging, options) => this.client(region).send(new DescribeVolumesCommand({Filters: [{Name: 'attachment.instance-id', Values: ids}], MaxResults: volumesPerPage, ...paging}), options),
				});
				try {
					for await (const {output, page} of pages) {
						const lean = leanResultOf(output) as LeanPage<VolumeFields> | undefined;
						const list: unknown = lean ? lean.items : output.Volumes ?? [];
						if (!Array.isArray(list)) {
							throw new MalformedAnswerError(region, `DescribeVolumes page ${page}: its volumes are not a list`);
						}

						if (list.length > volumesPerPage) {
							throw new MalformedAnswerError(region, `DescribeVolumes page ${page} holds ${list.length} volumes, more than the ${volumesPerPage} asked for: not believed`);
						}

						for (const fields of lean ? lean.items : (output.Volumes ?? []).map(fieldsOfSdk)) {
							const volume = checkedVolume(fields, wanted, region, page);
							once.add(volume.id, page);
							if (seen.has(volume.id)) {
								// Attached to instances of two parts (multi-attach): counted once.
								continue;
							}

							seen.add(volume.id);
							volumes.push(volume);
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

function chunks<T>(list: T[], size: number): T[][] {
	const parts: T[][] = [];
	for (let index = 0; index < list.length; index += size) {
		parts.push(list.slice(index, index + size));
	}

	return parts;
}

/** Runs `work` over `items`, at most `limit` at a time, results in the items' order (regions here, accounts in accounts-fleet.ts). */
export async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
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
