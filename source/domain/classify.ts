import {BILLED_STATES, type EnvironmentPolicy, type Instance, type InstanceRow, type RawInstance, type Role, type Spend} from './types.js';

/**
 * An instance's tag value, or undefined: tag keys come from the outside (the instance, the config),
 * so a key such as `constructor` must never find an inherited member.
 */
export function tagOf(tags: Readonly<Record<string, string>>, key: string): string | undefined {
	return Object.hasOwn(tags, key) ? tags[key] : undefined;
}

export type TagConfig = {
	envTagKey: string;
	roleTag: {key: string; agent: string; monitor: string};
};

/** Maps tag values (case-insensitively) to the environment that owns them. */
export function environmentIndex(environments: Record<string, Pick<EnvironmentPolicy, 'tagValues'>>): Map<string, string> {
	const index = new Map<string, string>();
	for (const [name, environment] of Object.entries(environments)) {
		for (const value of environment.tagValues) {
			index.set(value.toLowerCase(), name);
		}
	}

	return index;
}

export function classify(raw: RawInstance, tags: TagConfig, index: Map<string, string>): Instance {
	const value = tagOf(raw.tags, tags.envTagKey);
	const roleValue = tagOf(raw.tags, tags.roleTag.key);
	const role: Role = roleValue === tags.roleTag.agent ? 'agent' : roleValue === tags.roleTag.monitor ? 'monitor' : 'other';
	return {...raw, environment: value === undefined ? undefined : index.get(value.toLowerCase()), role};
}

export function emptySpend(): Spend {
	return {hourlyUsd: 0, agentHourlyUsd: 0, agentsRunning: 0, monitorsRunning: 0, instancesRunning: 0, unpriced: 0, unpricedTypes: [], agentIds: []};
}

export type Aggregate = {
	/** Per configured environment name (every configured one is present). */
	byEnvironment: Map<string, Spend>;
	/** Instances whose environment tag carries a value no environment claims. */
	unknown: Spend & {tagValues: string[]};
};

const billed = new Set(BILLED_STATES);

/**
 * The hourly spend of each environment: the on-demand price of its instances in pending or
 * running, agents or not. A type with no price is counted as unpriced, never as $0.
 */
export function aggregate(raw: readonly RawInstance[], tags: TagConfig, environments: Record<string, Pick<EnvironmentPolicy, 'tagValues'>>, prices: Readonly<Record<string, number>>): Aggregate {
	const index = environmentIndex(environments);
	const byEnvironment = new Map<string, Spend>();
	for (const name of Object.keys(environments)) {
		byEnvironment.set(name, emptySpend());
	}

	const unknown = {...emptySpend(), tagValues: [] as string[]};
	const unknownValues = new Set<string>();
	const unpricedTypes = new Map<Spend, Set<string>>();
	for (const instance of raw) {
		const tagValue = tagOf(instance.tags, tags.envTagKey);
		const name = tagValue === undefined ? undefined : index.get(tagValue.toLowerCase());
		if (name !== undefined) {
			const rows = byEnvironment.get(name)!.instances ??= [];
			rows.push(instanceRow(instance, tags, prices));
		}

		if (!billed.has(instance.state)) {
			continue;
		}

		let spend: Spend;
		if (name === undefined) {
			if (tagValue === undefined) {
				continue;
			}

			unknownValues.add(tagValue);
			spend = unknown;
		} else {
			spend = byEnvironment.get(name)!;
		}

		const roleValue = tagOf(instance.tags, tags.roleTag.key);
		const price = prices[instance.type];
		spend.instancesRunning++;
		if (price === undefined) {
			spend.unpriced++;
			let types = unpricedTypes.get(spend);
			if (!types) {
				types = new Set();
				unpricedTypes.set(spend, types);
			}

			types.add(instance.type);
		} else {
			spend.hourlyUsd += price;
		}

		if (roleValue === tags.roleTag.agent) {
			spend.agentsRunning++;
			spend.agentHourlyUsd += price ?? 0;
			spend.agentIds.push({id: instance.id, region: instance.region, type: instance.type, ...(instance.launchedAt === undefined ? {} : {launchedAt: instance.launchedAt})});
		} else if (roleValue === tags.roleTag.monitor) {
			spend.monitorsRunning++;
		}
	}

	for (const [spend, types] of unpricedTypes) {
		spend.unpricedTypes = [...types].sort();
	}

	unknown.tagValues = [...unknownValues].sort();
	return {byEnvironment, unknown};
}

/** The detail view's row for one instance. */
export function instanceRow(instance: RawInstance, tags: TagConfig, prices: Readonly<Record<string, number>>): InstanceRow {
	const roleValue = tagOf(instance.tags, tags.roleTag.key);
	const role: Role = roleValue === tags.roleTag.agent ? 'agent' : roleValue === tags.roleTag.monitor ? 'monitor' : 'other';
	const price = Object.hasOwn(prices, instance.type) ? prices[instance.type] : undefined;
	return {
		id: instance.id,
		name: tagOf(instance.tags, 'Name') ?? null,
		type: instance.type,
		region: instance.region,
		zone: instance.availabilityZone ?? null,
		lifecycle: instance.lifecycle ?? null,
		state: instance.state,
		launchedAt: instance.launchedAt ?? null,
		launchedBy: tagOf(instance.tags, 'envwatch:launched-by') ?? null,
		role,
		usdPerHour: billed.has(instance.state) ? price ?? null : 0,
	};
}
