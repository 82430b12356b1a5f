// Core benchmarks (issue 2): one poll's aggregation + policy over 10,000 instances, and the memory
// of the sample history for the longest window at a 1 s interval.
import {aggregate, evaluate, fallbackPrices, GLOBAL, prune, record, windowStats} from '../../dist/domain/index.js';
import {readJsonFile} from '../../dist/config/index.js';
import {defaultConfigPath} from '../../dist/config/load.js';
import {StateStore} from '../../dist/engine/index.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const config = readJsonFile(defaultConfigPath, 'defaults');
const types = Object.keys(fallbackPrices);
const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2'];
const values = ['dev', 'development', 'staging', 'stage', 'production', 'prod'];

function fleet(count) {
	const instances = [];
	for (let index = 0; index < count; index++) {
		instances.push({
			id: `i-${index.toString(16).padStart(17, '0')}`,
			region: regions[index % regions.length],
			type: types[index % types.length],
			state: index % 10 === 0 ? 'stopped' : 'running',
			tags: {Environment: values[index % values.length], Role: index % 3 === 0 ? 'monitor' : 'agent', Name: `bench-${index}`},
		});
	}

	return instances;
}

const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function pollOnce(instances, history, now) {
	const {byEnvironment} = aggregate(instances, config, config.environments, fallbackPrices);
	let total = 0;
	const inputs = [];
	for (const [name, policy] of Object.entries(config.environments)) {
		const spend = byEnvironment.get(name);
		total += spend.hourlyUsd;
		record(history, name, {at: now, usd: spend.hourlyUsd});
		inputs.push({name, policy, spend, window: windowStats(history[name], policy.windowMinutes * 60_000, now), stale: undefined, stoppedByEnvwatch: false});
	}

	record(history, GLOBAL, {at: now, usd: total});
	const global = {policy: config.global, window: windowStats(history[GLOBAL], config.global.windowMinutes * 60_000, now), stale: undefined};
	return evaluate(inputs, global, config);
}

export async function run() {
	const lines = [];
	const instances = fleet(10_000);
	const history = {};
	const start = Date.UTC(2026, 0, 1);
	// Warm up the JIT, then measure with a full hour of history behind each poll.
	for (let second = 0; second < 3600; second++) {
		const now = start + second * 1000;
		for (const [name] of Object.entries(config.environments)) {
			record(history, name, {at: now, usd: 2 + (second % 7) / 100});
		}

		record(history, GLOBAL, {at: now, usd: 6});
	}

	for (let index = 0; index < 20; index++) {
		pollOnce(instances, history, start + 3_600_000 + index * 1000);
	}

	const times = [];
	for (let index = 0; index < 200; index++) {
		const t0 = process.hrtime.bigint();
		pollOnce(instances, history, start + 3_700_000 + index * 1000);
		times.push(Number(process.hrtime.bigint() - t0) / 1e6);
	}

	lines.push(`evaluate one poll, 10,000 instances, 3 environments, 4 regions: median ${median(times).toFixed(2)} ms, p95 ${[...times].sort((a, b) => a - b)[189].toFixed(2)} ms (200 runs; target < 5 ms)`);

	// Memory: the longest window (60 min) at 1 s, for 3 environments + global, after pruning.
	globalThis.gc?.();
	const before = process.memoryUsage().heapUsed;
	const kept = {};
	for (let second = 0; second < 3600 + 600; second++) {
		const now = start + second * 1000;
		for (const key of ['dev', 'staging', 'production', GLOBAL]) {
			record(kept, key, {at: now, usd: 1 + second / 1e4});
		}

		if (second % 60 === 0) {
			prune(kept, now, 3_600_000 + 2000);
		}
	}

	prune(kept, start + 4200 * 1000, 3_600_000 + 2000);
	globalThis.gc?.();
	const after = process.memoryUsage().heapUsed;
	const samples = Object.values(kept).reduce((sum, series) => sum + series.length, 0);
	lines.push(`sample history, 60 min window at 1 s, 4 series: ${samples} samples, ${((after - before) / 1024 / 1024).toFixed(2)} MB heap${globalThis.gc ? '' : ' (run with --expose-gc for a stable figure)'} (target < 10 MB)`);

	// Persisting that history after each poll: a line appended to samples.log, samples.json
	// rewritten (renamed into place) only to compact. 1500 more polls at 1 s after the first save.
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-bench-'));
	const state = new StateStore(dir);
	const json = path.join(dir, 'samples.json');
	const log = path.join(dir, 'samples.log');
	const size = file => (fs.existsSync(file) ? fs.statSync(file).size : 0);
	state.saveHistory(kept);
	const saves = [];
	const written = [];
	let compactions = 0;
	for (let index = 1; index <= 1500; index++) {
		const now = start + (4200 + index) * 1000;
		for (const key of ['dev', 'staging', 'production', GLOBAL]) {
			record(kept, key, {at: now, usd: 1 + index / 1e4});
		}

		prune(kept, now, 3_600_000 + 2000);
		const jsonBefore = fs.statSync(json).mtimeMs;
		const logBefore = size(log);
		const t0 = process.hrtime.bigint();
		state.saveHistory(kept);
		saves.push(Number(process.hrtime.bigint() - t0) / 1e6);
		if (fs.statSync(json).mtimeMs === jsonBefore) {
			written.push(size(log) - logBefore);
		} else {
			compactions++;
			written.push(size(json) + size(log));
		}
	}

	const bytes = size(json);
	const t0 = process.hrtime.bigint();
	new StateStore(dir).loadHistory();
	const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
	fs.rmSync(dir, {recursive: true, force: true});
	const appended = written.filter(n => n < 4096);
	lines.push(`persist that history after each poll (1500 polls at 1 s): median ${median(saves).toFixed(2)} ms, ${median(appended)} B appended a poll, ${compactions} compactions of ${(bytes / 1024).toFixed(0)} KiB, ${(written.reduce((sum, n) => sum + n, 0) / written.length / 1024).toFixed(2)} KiB written a poll on average; load at start ${loadMs.toFixed(1)} ms`);
	return lines;
}
