import type {DescribeInstancesResult, Filter, Instance as Ec2Instance} from '@aws-sdk/client-ec2';
import type {AccountRef, InstanceState, RawInstance} from '../../domain/index.js';
import type {FleetQuery} from '../types.js';
import type {LeanDecoders} from './answers.js';
import {DescribeInstancesDecoder, DescribeVolumesDecoder, launchTimeProblem, type LeanInstance} from './describe.js';
import {fieldsOfLean, volumesPerPage} from './volumes.js';
import {own} from './xml-strings.js';

// What a DescribeInstances answer holds, checked: the listing's filters, its instances as envwatch keeps them.

/**
 * The most instances envwatch believes one region's listing holds (EC2's default quotas allow a few
 * thousand; the largest accounts run tens of thousands): its DescribeInstances pages are capped at
 * this many over the page size (200 pages of 1000), so pages that never end end, and one page
 * holding more is not read further (a page that never ends is not held in memory).
 */
export const maxInstancesPerRegion = 200_000;

export const knownStates = new Set<InstanceState>(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated']);

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

/**
 * envwatch matches environment tag values without regard to case (`Dev` counts for dev), but EC2's
 * tag filters are exact: send the usual spellings of each value so the enforcer's re-list finds
 * what the monitor counted. (A value spelt `dEv` is counted but not stopped: the safe side.)
 */
export function caseVariants(values: readonly string[]): string[] {
	const variants = values.flatMap(value => [value, value.toLowerCase(), value.toUpperCase(), value.charAt(0).toUpperCase() + value.slice(1).toLowerCase()]);
	return [...new Set(variants)];
}

/**
 * The instances of one DescribeInstances page. An instance without an ID, a type or a known state
 * cannot be priced or acted on: skipping it would undercount, so the page (and its region) errs.
 */
export function instancesOf(page: DescribeInstancesResult, region: string, pageNumber = 1, notAfter = Date.now(), account?: AccountRef): RawInstance[] {
	const instances: RawInstance[] = [];
	const reservations = page.Reservations ?? [];
	if (!Array.isArray(reservations)) {
		throw new Error(`DescribeInstances page ${pageNumber}: its reservations are not a list`);
	}

	for (const reservation of reservations) {
		for (const instance of reservation.Instances ?? []) {
			instances.push(toRaw(instance, region, pageNumber, notAfter, account));
		}
	}

	return instances;
}

export function toRaw(instance: Ec2Instance, region: string, pageNumber: number, notAfter: number, account?: AccountRef): RawInstance {
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
		imageId: copy(instance.ImageId),
		tags: (instance.Tags ?? []).flatMap(tag => (tag.Key === undefined ? [] : [[own(tag.Key), copy(tag.Value)] as [string, string | undefined]])),
	};
	const problem = problemOf(lean, notAfter);
	if (problem !== undefined) {
		throw new UnusableInstanceError(`DescribeInstances page ${pageNumber}: ${problem}`);
	}

	return rawOf(lean, region, account);
}

/**
 * The lean decoders of a region's client: each instance is checked and made a RawInstance as soon
 * as it is read (a problem is kept in its place and fails the page in listRegion, which knows the
 * page's number); each volume's fields are made numbers as they are read, checked by the caller
 * (which knows the instances asked for). The SDK then parses an empty answer of the action.
 */
export function leanDecoders(region: string, account?: AccountRef): LeanDecoders {
	return {
		DescribeInstances: {
			start: answeredAt => {
				const notAfter = latestNow(answeredAt);
				return new DescribeInstancesDecoder(instance => {
					const problem = problemOf(instance, notAfter);
					return problem === undefined ? rawOf(instance, region, account) : new InstanceProblem(problem);
				}, maxInstancesPerRegion);
			},
			empty: '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"></DescribeInstancesResponse>',
		},
		DescribeVolumes: {
			start: () => new DescribeVolumesDecoder(fieldsOfLean, volumesPerPage),
			empty: '<DescribeVolumesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"></DescribeVolumesResponse>',
		},
	};
}

/**
 * "Now" for an answer's launch times: the latest of this host's clock and AWS's (the answer's `Date`,
 * believed up to a day ahead), so a host whose clock is slow does not take new instances for ones
 * from the future.
 */
function latestNow(answeredAt: number | undefined): number {
	const now = Date.now();
	return answeredAt === undefined ? now : Math.max(now, Math.min(answeredAt, now + 86_400_000));
}

/** A page holds an instance that cannot be priced or acted on (found after its call returned). */
export class UnusableInstanceError extends Error {}

/** An instance that cannot be listed, in its page's place: what is wrong with it. */
export class InstanceProblem {
	constructor(readonly detail: string) {}
}

/**
 * What makes a decoded instance (by the lean decoder or the SDK) unusable, if anything: without an
 * ID, a type or a known state it cannot be priced or acted on, and skipping it would undercount, so
 * its page (and its region) errs.
 */
export function problemOf(instance: LeanInstance, notAfter: number): string | undefined {
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

	const launch = launchTimeProblem(instance.launchTime, notAfter);
	if (launch !== undefined) {
		return `${where()} has ${launch}: an answer that cannot be true`;
	}

	return undefined;
}

/**
 * A checked instance (problemOf found nothing) as envwatch keeps it. Its strings are used as they
 * are: the decoders hand over copies that hold nothing of the answer's text, shared where a value
 * repeats.
 */
export function rawOf(instance: LeanInstance, region: string, account?: AccountRef): RawInstance {
	const tags: Record<string, string> = {};
	for (const [key, value] of instance.tags) {
		if (key === '__proto__') {
			// Defined, not assigned: a tag key such as __proto__ is a key like any other.
			Object.defineProperty(tags, key, {value: value ?? '', enumerable: true, writable: true, configurable: true});
		} else {
			tags[key] = value ?? '';
		}
	}

	const raw: RawInstance = {id: instance.id!, region, type: instance.type!, state: instance.state as InstanceState, tags};
	const launchedAt = instance.launchTime === undefined ? Number.NaN : Date.parse(instance.launchTime);
	if (Number.isFinite(launchedAt)) {
		raw.launchedAt = launchedAt;
	}

	// What it is billed as: spot or on demand, the OS, where and on whose hardware. Absent or odd
	// values are left out (the price book then estimates), never guessed.
	raw.lifecycle = instance.lifecycle === 'spot' ? 'spot' : 'on-demand';
	if (instance.platformDetails) {
		raw.platformDetails = instance.platformDetails;
	} else if (String(instance.platform ?? '').toLowerCase() === 'windows') {
		raw.platformDetails = 'Windows';
	}

	if (instance.availabilityZone) {
		raw.availabilityZone = instance.availabilityZone;
	}

	if (instance.tenancy) {
		raw.tenancy = instance.tenancy;
	}

	if (account) {
		raw.account = account;
	}

	// Shown, never acted on: an ID not of an AMI's form is left out rather than shown as one.
	if (instance.imageId !== undefined && /^ami-[0-9a-f]{8,17}$/.test(instance.imageId)) {
		raw.imageId = instance.imageId;
	}

	return raw;
}
