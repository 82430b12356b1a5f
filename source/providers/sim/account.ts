import {tagOf, type InstanceState, type OnDemandQuery, type RawInstance, type Volume} from '../../domain/index.js';
import type {ActOptions, BillingSource, BilledCost, PriceSource, SpotPrice, Fleet, FleetListing, FleetQuery, InstanceOutcome, LaunchOutcome, LaunchRequest, Target} from '../types.js';
import {scenarios, type Launch, type ScenarioName} from './scenarios.js';

export type SimOptions = {
	scenario: ScenarioName;
	/** The clock, injected so tests are deterministic. */
	now: () => number;
	envTagKey: string;
	roleTag: {key: string; agent: string; monitor: string};
	/** Tag value used for each simulated environment (its first configured tag value). */
	tagValueOf: (environment: string) => string;
	prices: Readonly<Record<string, number>>;
	/** Seconds a stopping instance takes to reach stopped (and pending to running). */
	transitionSeconds?: number;
};

/** The simulated account's regions (its dev agents span two): what `--demo` watches. */
export const simRegions = ['us-east-1', 'us-west-2'];

/** The regions enabled in the simulated account: a third one, not watched by `--demo`, where the `unwatched` scenario starts agents. */
export const simEnabledRegions = [...simRegions, 'eu-west-1'];

/** The AMI every simulated instance runs (the dashboard's describe shows it). */
const simImage = 'ami-0e5e1d0c0ffee0001';

type SimInstance = RawInstance & {changedAt: number};

/** The base fleet, close to the example in docs/design.md: dev $2.34/h, staging $1.84/h, production $0.15/h. */
const baseFleet: Launch[] = [
	{environment: 'dev', role: 'agent', type: 'g4dn.xlarge', count: 2, region: 'us-east-1', name: 'dev-agent'},
	{environment: 'dev', role: 'agent', type: 'g4dn.xlarge', count: 2, region: 'us-west-2', name: 'dev-agent'},
	{environment: 'dev', role: 'other', type: 'c5.xlarge', count: 1, region: 'us-east-1', name: 'dev-build-cache'},
	{environment: 'dev', role: 'other', type: 't3.medium', count: 1, region: 'us-east-1', name: 'dev-bastion'},
	{environment: 'dev', role: 'other', type: 't3.micro', count: 2, region: 'us-east-1', name: 'dev-dns'},
	{environment: 'staging', role: 'agent', type: 'm5.4xlarge', count: 2, region: 'us-east-1', name: 'staging-agent'},
	{environment: 'staging', role: 'other', type: 'm5.large', count: 3, region: 'us-east-1', name: 'staging-app'},
	{environment: 'staging', role: 'other', type: 't3.small', count: 1, region: 'us-east-1', name: 'staging-jump'},
	{environment: 'production', role: 'monitor', type: 'c5.large', count: 1, region: 'us-east-1', name: 'prod-monitor'},
	{environment: 'production', role: 'other', type: 't3.medium', count: 1, region: 'us-east-1', name: 'prod-api'},
	{environment: 'production', role: 'other', type: 't3.small', count: 1, region: 'us-east-1', name: 'prod-worker'},
	{environment: undefined, role: 'other', type: 't3.small', count: 2, region: 'us-east-1', name: 'untagged'},
];

/**
 * The embedded simulated account behind `--demo`: a fleet and a billing source in one, driven by a
 * time-scripted scenario against an injected clock. Stops and starts change the fleet.
 */
export class SimAccount implements Fleet, BillingSource, PriceSource {
	readonly startedAt: number;
	private readonly instances = new Map<string, SimInstance>();
	private nextId = 1;
	private applied = 0;
	private readonly events;
	private readonly transitionMs: number;
	private readonly volumeList: Volume[] = [];
	private regionsFailure: string | undefined;

	constructor(private readonly options: SimOptions) {
		this.startedAt = options.now();
		this.transitionMs = (options.transitionSeconds ?? 2) * 1000;
		this.events = [...scenarios[options.scenario].events].sort((a, b) => a.atSeconds - b.atSeconds);
		for (const launch of baseFleet) {
			this.spawn(launch, this.startedAt - 86_400_000, 'running');
		}
	}

	/** Adds instances as the scenario (or a test) would: tagged as `launch` says; returns their IDs. */
	spawn(launch: Launch, at = this.options.now(), state: InstanceState = 'pending'): string[] {
		const ids: string[] = [];
		for (let index = 0; index < launch.count; index++) {
			const id = `i-${(0x0_5e_ed_00_00_00 + this.nextId++).toString(16).padStart(17, '0')}`;
			const tags: Record<string, string> = {Name: launch.name};
			if (launch.environment) {
				tags[this.options.envTagKey] = this.options.tagValueOf(launch.environment);
			}

			if (launch.role !== 'other') {
				tags[this.options.roleTag.key] = launch.role === 'agent' ? this.options.roleTag.agent : this.options.roleTag.monitor;
			}

			this.instances.set(id, {
				id, region: launch.region, type: launch.type, state, tags, launchedAt: at, changedAt: at, imageId: simImage,
				...(launch.lifecycle ? {lifecycle: launch.lifecycle} : {}),
				...(launch.platformDetails ? {platformDetails: launch.platformDetails} : {}),
				...(launch.lifecycle || launch.platformDetails || launch.volumes ? {availabilityZone: `${launch.region}a`, tenancy: 'default'} : {}),
			});
			for (const [index, volume] of (launch.volumes ?? []).entries()) {
				this.volumeList.push({id: `vol-${id.slice(2)}${index}`, region: launch.region, instanceId: id, ...volume});
			}

			ids.push(id);
		}

		return ids;
	}

	/** Applies scenario events due by now, and finishes state transitions. */
	private advance(): void {
		const now = this.options.now();
		while (this.applied < this.events.length && this.startedAt + this.events[this.applied]!.atSeconds * 1000 <= now) {
			for (const launch of this.events[this.applied]!.launch) {
				this.spawn(launch, now);
			}

			this.applied++;
		}

		for (const instance of this.instances.values()) {
			if (now - instance.changedAt < this.transitionMs) {
				continue;
			}

			if (instance.state === 'stopping') {
				this.set(instance, 'stopped', now);
			} else if (instance.state === 'pending') {
				this.set(instance, 'running', now);
			} else if (instance.state === 'shutting-down') {
				this.set(instance, 'terminated', now);
			}
		}
	}

	private set(instance: SimInstance, state: InstanceState, at: number): void {
		instance.state = state;
		instance.changedAt = at;
	}

	async list(query: FleetQuery): Promise<FleetListing> {
		this.advance();
		const values = query.envTagValues ? new Set(query.envTagValues) : undefined;
		const states = new Set(query.states);
		const regions = query.regions ? new Set(query.regions) : undefined;
		const ids = query.instanceIds ? new Set(query.instanceIds) : undefined;
		const instances: RawInstance[] = [];
		for (const instance of this.instances.values()) {
			const value = Object.hasOwn(instance.tags, query.envTagKey) ? instance.tags[query.envTagKey] : undefined;
			if (value === undefined || (values && !values.has(value)) || !states.has(instance.state)
				|| (regions && !regions.has(instance.region)) || (ids && !ids.has(instance.id))
				|| (query.role && tagOf(instance.tags, query.role.key) !== query.role.value)) {
				continue;
			}

			const {changedAt: _changedAt, ...raw} = instance;
			instances.push({...raw, tags: {...raw.tags}});
		}

		return {instances, errors: [], calls: 1};
	}

	async stop(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]> {
		return this.act(targets, options, 'stop');
	}

	async start(targets: Target[], options: ActOptions): Promise<InstanceOutcome[]> {
		return this.act(targets, options, 'start');
	}

	/**
	 * One batch per region, in the order the targets name them: each batch is re-checked with
	 * `options.recheck` right before it is acted on, and reported to `options.onBatch` after.
	 */
	private async act(targets: Target[], options: ActOptions, verb: 'stop' | 'start'): Promise<InstanceOutcome[]> {
		this.advance();
		const batches = new Map<string, Target[]>();
		for (const target of targets) {
			const batch = batches.get(target.region) ?? [];
			if (!batch.some(item => item.id === target.id)) {
				batch.push(target);
			}

			batches.set(target.region, batch);
		}

		const outcomes = new Map<string, InstanceOutcome>();
		for (const [region, batch] of batches) {
			let inScope: ReadonlySet<string> | undefined;
			let failure: string | undefined;
			if (options.recheck) {
				try {
					inScope = await options.recheck(batch);
				} catch (error) {
					failure = `not acted on: could not re-check this batch's scope (${error instanceof Error ? error.message : String(error)})`;
				}
			}

			const now = this.options.now();
			const done = batch.map(({id}): InstanceOutcome => failure !== undefined
				? {id, region, result: 'error', message: failure}
				: inScope && !inScope.has(id)
					? {id, region, result: 'out-of-scope', message: 'left scope before its batch (retagged or gone)'}
					: this.actOne(id, region, options, verb, now));
			options.onBatch?.(done);
			for (const outcome of done) {
				outcomes.set(`${region} ${outcome.id}`, outcome);
			}
		}

		return targets.map(({id, region}) => outcomes.get(`${region} ${id}`)!);
	}

	private actOne(id: string, region: string, options: ActOptions, verb: 'stop' | 'start', now: number): InstanceOutcome {
		const instance = this.instances.get(id);
		if (!instance || instance.region !== region || instance.state === 'terminated') {
			return {id, region, result: 'not-found', message: `no instance ${id} in ${region}`};
		}

		const previousState = instance.state;
		if (options.dryRun) {
			return {id, region, result: 'permitted', previousState, currentState: previousState, message: 'DryRun: request would have succeeded'};
		}

		if (verb === 'start') {
			if (previousState === 'running' || previousState === 'pending') {
				return {id, region, result: 'already-running', previousState, currentState: previousState};
			}

			this.set(instance, 'pending', now);
			return {id, region, result: 'starting', previousState, currentState: 'pending'};
		}

		if (options.terminate) {
			this.set(instance, 'shutting-down', now);
			return {id, region, result: 'terminating', previousState, currentState: 'shutting-down'};
		}

		if (previousState === 'stopped' || previousState === 'stopping') {
			return {id, region, result: 'already-stopped', previousState, currentState: previousState};
		}

		this.set(instance, 'stopping', now);
		return {id, region, result: 'stopping', previousState, currentState: 'stopping'};
	}

	/** Launches from a simulated launch template (`sim-<environment>-agent` or `lt-0sim<environment>`). */
	async launch(request: LaunchRequest): Promise<LaunchOutcome> {
		this.advance();
		const type = request.instanceType ?? simTemplateType(request.template);
		if (!type) {
			return {result: 'error', instances: [], message: `InvalidLaunchTemplate.NotFound: no simulated launch template ${request.template.id ?? request.template.name} (there are ${Object.keys(simTemplates).map(name => `sim-${name}-agent`).join(', ')})`};
		}

		if (request.dryRun) {
			return {result: 'permitted', instances: [], message: 'DryRun: request would have succeeded'};
		}

		const now = this.options.now();
		const instances = Array.from({length: request.count}, () => {
			const id = `i-${(0x0_5e_ed_00_00_00 + this.nextId++).toString(16).padStart(17, '0')}`;
			this.instances.set(id, {id, region: request.region, type, state: 'pending', tags: {Name: 'agent', ...request.tags}, launchedAt: now, changedAt: now, imageId: simImage});
			return {id, region: request.region, type};
		});
		return {result: 'launched', instances};
	}

	/** The simulated account's EBS volumes attached to these instances. */
	async volumes(region: string, instanceIds: string[]): Promise<{volumes: Volume[]; calls: number}> {
		const ids = new Set(instanceIds);
		return {volumes: this.volumeList.filter(volume => volume.region === region && ids.has(volume.instanceId)), calls: 1};
	}

	/** The simulated Price List: its recorded on-demand prices by region and OS (Linux: the shipped table). */
	async onDemand(query: OnDemandQuery): Promise<{usd: number | null; requests: number}> {
		const key = `${query.region} ${query.type} ${query.operatingSystem} ${query.tenancy}`;
		if (Object.hasOwn(simOnDemand, key)) {
			return {usd: simOnDemand[key]!, requests: 1};
		}

		const linux = query.operatingSystem === 'Linux' && query.tenancy === 'Shared' && query.preInstalledSw === 'NA' && Object.hasOwn(this.options.prices, query.type);
		return {usd: linux ? this.options.prices[query.type]! : null, requests: 1};
	}

	/** The simulated spot market: m5.large at about a third of on-demand in every AZ. */
	async spot(region: string, types: string[], products: string[]): Promise<{prices: SpotPrice[]; requests: number}> {
		const prices = types.flatMap(type => (Object.hasOwn(simSpot, type) ? products.map(product => ({availabilityZone: `${region}a`, type, product, usd: simSpot[type]!})) : []));
		return {prices, requests: 1};
	}

	async templateInstanceType(_region: string, template: LaunchRequest['template']): Promise<string | undefined> {
		return simTemplateType(template);
	}

	/** Billed cost as Cost Explorer would report it: today since UTC midnight, and month to date. */
	async fetch(now: number): Promise<{cost: BilledCost; requests: number}> {
		this.advance();
		const day = new Date(now);
		const midnight = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
		const hoursToday = (now - midnight) / 3_600_000;
		const todayUsd: Record<string, number> = {};
		const monthToDateUsd: Record<string, number> = {};
		const byValue = new Map<string, number>();
		for (const instance of this.instances.values()) {
			const value = tagOf(instance.tags, this.options.envTagKey) ?? '';
			if (instance.state === 'running' || instance.state === 'pending') {
				byValue.set(value, (byValue.get(value) ?? 0) + (this.options.prices[instance.type] ?? 0));
			}
		}

		for (const [value, hourly] of byValue) {
			const key = value === '' ? 'untagged' : value;
			// Billing data lags: Cost Explorer's today is hours behind, like the real one.
			todayUsd[key] = round(hourly * Math.max(0, hoursToday - 3));
			monthToDateUsd[key] = round(todayUsd[key] + hourly * 24 * (day.getUTCDate() - 1));
		}

		return {cost: {todayUsd, monthToDateUsd, fetchedAt: now}, requests: 1};
	}

	/** The regions enabled in the simulated account (EC2 DescribeRegions); `failRegions` makes it fail, as a sweep that cannot look. */
	enabledRegions(): string[] {
		if (this.regionsFailure) {
			throw new Error(this.regionsFailure);
		}

		return [...simEnabledRegions];
	}

	/** Makes `enabledRegions` fail with this message (undefined: answer again). */
	failRegions(message: string | undefined): void {
		this.regionsFailure = message;
	}

	/** Every simulated instance, for tests and the orchestrator. */
	snapshot(): RawInstance[] {
		this.advance();
		return [...this.instances.values()].map(({changedAt: _changedAt, ...raw}) => ({...raw, tags: {...raw.tags}}));
	}
}

/** Recorded Price List answers the simulated account gives beyond the shipped (Linux) table. */
const simOnDemand: Record<string, number> = {'us-east-1 m5.large Windows Shared': 0.188, 'us-west-2 m5.large Linux Shared': 0.096};
const simSpot: Record<string, number> = {'m5.large': 0.0351};

/** The simulated account's launch templates: one per environment, by its instance type. */
const simTemplates: Record<string, string> = {dev: 't3.large', staging: 'm5.large', production: 't3.micro'};

function simTemplateType(template: LaunchRequest['template']): string | undefined {
	const match = /^sim-([a-z]+)-agent$/.exec(template.name ?? '') ?? /^lt-0sim([a-z]+)$/.exec(template.id ?? '');
	// The name comes from the configuration: `constructor` must not find Object's.
	return match && Object.hasOwn(simTemplates, match[1]!) ? simTemplates[match[1]!] : undefined;
}

function round(usd: number): number {
	return Math.round(usd * 100) / 100;
}
