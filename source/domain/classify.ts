import {tableBook, type PriceBook, type Priced} from './pricing.js';
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

/**
 * Maps tag values (case-insensitively) to the environment that owns them. A row of an environment
 * split by account (`account` set) owns a value only in its account: its key is the value and the
 * account's name (see `environmentOf`).
 */
export function environmentIndex(environments: Record<string, Pick<EnvironmentPolicy, 'tagValues' | 'account'>>): Map<string, string> {
	const index = new Map<string, string>();
	for (const [name, environment] of Object.entries(environments)) {
		for (const value of environment.tagValues) {
			index.set(environment.account === undefined ? value.toLowerCase() : `${value.toLowerCase()}\u0000${environment.account}`, name);
		}
	}

	return index;
}

/** The environment (or row) an instance's tag value puts it in: its account's row first, then the value's. */
export function environmentOf(index: ReadonlyMap<string, string>, value: string, account: string | undefined): string | undefined {
	const key = value.toLowerCase();
	return (account === undefined ? undefined : index.get(`${key}\u0000${account}`)) ?? index.get(key);
}

export function classify(raw: RawInstance, tags: TagConfig, index: Map<string, string>): Instance {
	const value = tagOf(raw.tags, tags.envTagKey);
	const roleValue = tagOf(raw.tags, tags.roleTag.key);
	const role: Role = roleValue === tags.roleTag.agent ? 'agent' : roleValue === tags.roleTag.monitor ? 'monitor' : 'other';
	return {...raw, environment: value === undefined ? undefined : environmentOf(index, value, raw.account?.name), role};
}

export function emptySpend(): Spend {
	return {hourlyUsd: 0, agentHourlyUsd: 0, agentsRunning: 0, monitorsRunning: 0, instancesRunning: 0, unpriced: 0, unpricedTypes: [], estimated: 0, estimatedTypes: [], storageHourlyUsd: 0, agentIds: []};
}

export type Aggregate = {
	/** Per configured environment name (every configured one is present). */
	byEnvironment: Map<string, Spend>;
	/** Instances whose environment tag carries a value no environment claims. */
	unknown: Spend & {tagValues: string[]};
};

const billed = new Set(BILLED_STATES);

/** What `estimatedTypes` names for instances whose EBS volumes are not known yet (counted as $0, marked `~`). */
export const unknownVolumes = 'EBS volumes not known yet';

/**
 * The hourly spend of each environment: the price of its instances in pending or running, agents
 * or not, from the price book (a flat table is taken as the shipped table). An instance no source
 * prices is counted at the book's conservative estimate and marked estimated, never as $0.
 */
export function aggregate(raw: readonly RawInstance[], tags: TagConfig, environments: Record<string, Pick<EnvironmentPolicy, 'tagValues' | 'account'>>, prices: Readonly<Record<string, number>> | PriceBook): Aggregate {
	const book: PriceBook = typeof (prices as Partial<PriceBook>).price === 'function' ? prices as PriceBook : tableBook(prices as Readonly<Record<string, number>>);
	const index = environmentIndex(environments);
	const byEnvironment = new Map<string, Spend>();
	for (const name of Object.keys(environments)) {
		byEnvironment.set(name, emptySpend());
	}

	const unknown = {...emptySpend(), tagValues: [] as string[]};
	const unknownValues = new Set<string>();
	const unpricedTypes = new Map<Spend, Set<string>>();
	const estimatedTypes = new Map<Spend, Set<string>>();
	const note = (map: Map<Spend, Set<string>>, spend: Spend, type: string) => {
		let types = map.get(spend);
		if (!types) {
			types = new Set();
			map.set(spend, types);
		}

		types.add(type);
	};

	for (const instance of raw) {
		const tagValue = tagOf(instance.tags, tags.envTagKey);
		const name = tagValue === undefined ? undefined : environmentOf(index, tagValue, instance.account?.name);
		const running = billed.has(instance.state);
		const roleValue = tagOf(instance.tags, tags.roleTag.key);
		// Priced once, and only when counted (a running instance with an environment tag): the detail
		// view's row and the spend use the same figure.
		const priced = running && tagValue !== undefined ? book.price(instance) : undefined;
		// Volumes cost while their instance is stopped: only compute stops with it.
		const storage = instance.state === 'shutting-down' || instance.state === 'terminated' ? undefined : book.storage?.(instance.id);
		if (name !== undefined) {
			const rows = byEnvironment.get(name)!.instances ??= [];
			rows.push(instanceRow(instance, roleValue === tags.roleTag.agent ? 'agent' : roleValue === tags.roleTag.monitor ? 'monitor' : 'other', running, priced, storage));
		}

		if (!running && !storage) {
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

		if (storage) {
			spend.storageHourlyUsd += storage.usd;
			spend.hourlyUsd += storage.usd;
			if (storage.estimated) {
				spend.estimated++;
				note(estimatedTypes, spend, storage.unknown ? unknownVolumes : 'EBS volume');
			}
		}

		if (!running) {
			continue;
		}

		const price = priced?.usd;
		spend.instancesRunning++;
		if (price === undefined) {
			spend.unpriced++;
			note(unpricedTypes, spend, instance.type);
		} else {
			spend.hourlyUsd += price;
			if (priced!.source === 'estimate') {
				spend.estimated++;
				note(estimatedTypes, spend, instance.type);
			}
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

	for (const [spend, types] of estimatedTypes) {
		spend.estimatedTypes = [...types].sort();
	}

	unknown.tagValues = [...unknownValues].sort();
	return {byEnvironment, unknown};
}

/**
 * Prices what `aggregate` prices (an instance pending or running with an environment tag) and sums
 * nothing: a book learns from it which prices a listing needs, as it would from `aggregate`.
 */
export function priceCounted(raw: readonly RawInstance[], envTagKey: string, book: PriceBook): void {
	for (const instance of raw) {
		if (billed.has(instance.state) && tagOf(instance.tags, envTagKey) !== undefined) {
			book.price(instance);
		}
	}
}

/**
 * The detail view's row for one instance: its compute price from the book (what a stop saves; an
 * estimate is marked), 0 when not billed, null when no source prices it.
 */
function instanceRow(instance: RawInstance, role: Role, running: boolean, priced: Priced | undefined, storage: ReturnType<NonNullable<PriceBook['storage']>>): InstanceRow {
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
		usdPerHour: running ? priced?.usd ?? null : 0,
		...(priced?.source === 'estimate' ? {estimated: true} : {}),
		...(instance.account ? {account: instance.account.id, accountName: instance.account.name} : {}),
		// For the describe (`d`): references to what the listing and the book hold, no copies.
		...(running && priced ? {priceSource: priced.source} : {}),
		...(instance.imageId ? {image: instance.imageId} : {}),
		...(storage ? {storage: {usdPerHour: storage.usd, ...(storage.estimated ? {estimated: true as const} : {}), ...(storage.unknown ? {unknown: true as const} : {})}} : {}),
		tags: instance.tags,
	};
}
