// Live prices (issue 10): a steady poll of 10,000 instances of 40 types in 4 regions makes no
// pricing call (the cache answers), at most one GetProducts per (region, type, OS, tenancy) per
// cache period, and the poll takes about as long as with the shipped table alone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {loadConfig} from '../../dist/config/index.js';
import {fallbackPrices} from '../../dist/domain/index.js';
import {AuditLog, Monitor, SnapshotStore, StateStore} from '../../dist/engine/index.js';

const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2'];
const types = Object.keys(fallbackPrices).slice(0, 40);
const values = ['dev', 'staging', 'production'];

const instances = Array.from({length: 10_000}, (_, index) => ({
	id: `i-${index.toString(16).padStart(17, '0')}`,
	region: regions[index % regions.length],
	type: types[Math.floor(index / regions.length) % types.length],
	state: 'running',
	tags: {Environment: values[index % values.length], Role: 'agent'},
	lifecycle: index % 5 === 0 ? 'spot' : 'on-demand',
	platformDetails: 'Linux/UNIX',
	availabilityZone: `${regions[index % regions.length]}a`,
	tenancy: 'default',
}));

const fleet = {
	async list() {
		return {instances, errors: [], calls: 1};
	},
	async stop() {
		return [];
	},
	async start() {
		return [];
	},
};

/** A price source that answers at once and counts its calls (what GetProducts and the spot history would be). */
function countingSource() {
	const counts = {onDemand: 0, spot: 0, keys: new Set()};
	return {
		counts,
		async onDemand(query) {
			counts.onDemand++;
			counts.keys.add(`${query.region}|${query.type}|${query.operatingSystem}|${query.tenancy}`);
			return {usd: (fallbackPrices[query.type] ?? 1) * 1.1, requests: 1};
		},
		async spot(region, wanted) {
			counts.spot++;
			return {prices: wanted.map(type => ({availabilityZone: `${region}a`, type, product: 'Linux/UNIX', usd: 0.01})), requests: 1};
		},
	};
}

const median = list => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

async function timedPolls(prices) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-bench-pricing-'));
	let now = Date.UTC(2026, 10, 27, 12, 0, 0);
	const {config} = loadConfig({noStore: true, flags: {regions, costExplorer: {enabled: false, refreshMinutes: 60}, environments: {dev: {maxHourlyUsd: 1e9}, staging: {maxHourlyUsd: 1e9}, production: {maxHourlyUsd: 1e9}}, global: {maxHourlyUsd: 1e9}}});
	const monitor = new Monitor({
		provider: {source: 'bench', fleet, billing: undefined, ...(prices ? {prices} : {})},
		config, monitored: values, store: new SnapshotStore(), state: new StateStore(dir), audit: new AuditLog(path.join(dir, 'audit.jsonl')),
		clock: () => now, options: {dryRun: true, readOnly: true, actor: 'bench@host'},
	});
	await monitor.poll();
	await monitor.pricing.settled();
	const before = prices ? {...prices.counts} : undefined;
	const times = [];
	for (let index = 0; index < 60; index++) {
		now += 15_000;
		const t0 = process.hrtime.bigint();
		await monitor.poll();
		times.push(Number(process.hrtime.bigint() - t0) / 1e6);
	}

	await monitor.pricing.settled();
	await monitor.stop();
	fs.rmSync(dir, {recursive: true, force: true});
	return {times: times.slice(10), before};
}

export async function run() {
	// Once each to warm up, then measured.
	await timedPolls(undefined);
	await timedPolls(countingSource());
	const table = await timedPolls(undefined);
	const source = countingSource();
	const live = await timedPolls(source);
	const spotRefreshes = source.counts.spot - live.before.spot;
	return [
		`first poll of 10,000 instances (${types.length} types, ${regions.length} regions, 1 in 5 spot): ${live.before.onDemand} GetProducts for ${source.counts.keys.size} (region, type, OS, tenancy), ${live.before.spot} spot refreshes`,
		`60 steady polls after that (15 min): ${source.counts.onDemand - live.before.onDemand} GetProducts, ${spotRefreshes} spot refreshes (at most one per region per 10 min: ${regions.length} regions)`,
		`steady poll: median ${median(live.times).toFixed(2)} ms with live prices, ${median(table.times).toFixed(2)} ms with the shipped table alone`,
	];
}
