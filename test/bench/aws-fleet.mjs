// AWS benchmarks against moto_server (issue 4), on the built code in dist/:
//   1. one poll of 10,000 instances in 4 regions: wall time and API calls;
//   2. stopping 2,000 agents in one region under the StopInstances bucket: time against the floor.
// Run: `npm run build && node test/bench/aws-fleet.mjs [poll|stop] [--fast]` (or `npm run bench aws`:
// both, about 4 minutes on 2 cores, most of it moto seeding and answering).
// --fast scales the bucket's refill to 200/s (floor 5 s instead of 50 s); the default is EC2's real
// 1000 burst / 20 per second. Each region is served by its own moto_server process behind a small
// loopback router (as each AWS region is its own endpoint), so regions are listed truly in parallel.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {EC2Client, RunInstancesCommand} from '@aws-sdk/client-ec2';
import {loadConfig} from '../../dist/config/index.js';
import {AuditLog, Monitor, SnapshotStore, StateStore} from '../../dist/engine/index.js';
import {AwsFleet} from '../../dist/providers/aws/fleet.js';
import {startMoto as startSharedMoto} from './moto-server.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const credentials = {accessKeyId: 'AKIDTEST', secretAccessKey: 'secret'};
const stops = [];

/** A moto_server, stopped with the others by stopAll(). */
async function startMoto() {
	const moto = await startSharedMoto();
	stops.push(moto.stop);
	return moto.url;
}

function stopAll() {
	for (const stop of stops) {
		stop();
	}
}

/** Forwards each request to the moto of the region it was signed for. */
async function startRouter(byRegion) {
	const server = http.createServer((request, response) => {
		const region = /Credential=[^/]+\/\d+\/([^/]+)\//.exec(String(request.headers.authorization ?? ''))?.[1];
		const target = byRegion[region] ?? Object.values(byRegion)[0];
		const forward = http.request(new URL(request.url, target), {method: request.method, headers: request.headers}, answer => {
			response.writeHead(answer.statusCode, answer.headers);
			answer.pipe(response);
		});
		forward.on('error', error => {
			response.writeHead(502);
			response.end(String(error));
		});
		request.pipe(forward);
	});
	await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
	return {url: `http://127.0.0.1:${server.address().port}`, close: () => server.close()};
}

async function seed(url, region, count, {environment, role, perReservation = 100, type = 't3.large'}) {
	const client = new EC2Client({region, endpoint: url, credentials});
	const calls = [];
	for (let left = count; left > 0; left -= perReservation) {
		const n = Math.min(perReservation, left);
		calls.push(() => client.send(new RunInstancesCommand({
			ImageId: 'ami-12c6146b', MinCount: n, MaxCount: n, InstanceType: type,
			TagSpecifications: [{ResourceType: 'instance', Tags: [{Key: 'Environment', Value: environment}, {Key: 'Role', Value: role}]}],
		})));
	}

	for (const call of calls) {
		await call();
	}

	client.destroy();
}

function tempDir() {
	return fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-bench-'));
}

async function pollBench() {
	const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2'];
	const motos = await Promise.all(regions.map(() => startMoto()));
	const router = await startRouter(Object.fromEntries(regions.map((region, index) => [region, motos[index]])));
	const environments = ['dev', 'staging', 'production', 'qa'];
	const seedStart = Date.now();
	// 2,500 instances a region: agents and monitors over four tag values (qa is "unknown").
	await Promise.all(regions.map(async region => {
		for (const [index, environment] of environments.entries()) {
			await seed(router.url, region, 625, {environment, role: index % 2 === 0 ? 'agent' : 'monitor'});
		}
	}));
	const seedSeconds = (Date.now() - seedStart) / 1000;

	const {config} = loadConfig({noStore: true, flags: {regions, costExplorer: {enabled: false, refreshMinutes: 60}}});
	// moto pages DescribeInstances by reservation (AWS by instance): 10 reservations of 100 per
	// page is AWS's 1000 instances a page, so the call count is what AWS would see.
	// moto needs ~10 ms of its own CPU per instance per page: a generous timeout (AWS answers a
	// 1000-instance page in a second or two; envwatch's default timeout is 15 s).
	const fleet = new AwsFleet({regions, endpointUrl: router.url, credentials, pageSize: 10, requestTimeoutMs: 600_000});
	const dir = tempDir();
	const monitor = new Monitor({
		provider: {source: 'bench', fleet, billing: undefined},
		config,
		monitored: ['dev', 'staging', 'production'],
		store: new SnapshotStore(),
		state: new StateStore(dir),
		audit: new AuditLog(path.join(dir, 'audit.log')),
		clock: Date.now,
		options: {dryRun: false, readOnly: true, actor: 'bench'},
	});
	const before = fleet.stats.describeCalls;
	const runs = [];
	// One poll: moto takes most of two minutes to answer it, so there is no median of several.
	for (let index = 0; index < 1; index++) {
		const cpu = process.cpuUsage();
		const start = performance.now();
		const snapshot = await monitor.poll();
		const wall = performance.now() - start;
		const used = process.cpuUsage(cpu);
		const instances = snapshot.environments.reduce((sum, view) => sum + view.agents.running + view.monitors, 0) + snapshot.unknown.instances;
		runs.push({wall, cpu: (used.user + used.system) / 1000, instances, error: snapshot.error});
	}

	const calls = (fleet.stats.describeCalls - before) / runs.length;
	await monitor.stop();
	router.close();
	const median = runs[0];
	return [
		`poll of ${median.instances} instances in ${regions.length} regions (moto, one process a region): ${(median.wall / 1000).toFixed(1)} s wall, ${calls} DescribeInstances calls a poll, envwatch CPU ${(median.cpu / 1000).toFixed(2)} s${median.error ? `, ERROR ${median.error}` : ''} (seeding took ${seedSeconds.toFixed(0)} s)`,
	];
}

async function stopBench(fast) {
	const region = 'us-east-1';
	const url = await startMoto();
	await seed(url, region, 2000, {environment: 'dev', role: 'agent'});
	const bucket = fast ? {capacity: 1000, refillPerSecond: 200} : {capacity: 1000, refillPerSecond: 20};
	const fleet = new AwsFleet({regions: [region], endpointUrl: url, credentials, stopBucket: bucket, requestTimeoutMs: 600_000});
	const listing = await fleet.list({envTagKey: 'Environment', envTagValues: ['dev'], role: {key: 'Role', value: 'agent'}, states: ['running'], regions: [region]});
	const targets = listing.instances.map(instance => ({id: instance.id, region}));
	const start = performance.now();
	const outcomes = await fleet.stop(targets, {dryRun: false});
	const seconds = (performance.now() - start) / 1000;
	const floor = (targets.length - bucket.capacity) / bucket.refillPerSecond;
	const stopping = outcomes.filter(outcome => outcome.result === 'stopping').length;
	fleet.close();
	return [
		`stop ${targets.length} agents in one region, bucket ${bucket.capacity} burst / ${bucket.refillPerSecond} per s${fast ? ' (--fast: scaled refill)' : ' (EC2\'s)'}: ${seconds.toFixed(1)} s, floor ${floor.toFixed(1)} s, ratio ${(seconds / floor).toFixed(2)}, ${fleet.stats.actCalls} StopInstances calls, ${stopping}/${targets.length} stopping, ${fleet.stats.throttled} throttled`,
	];
}

export async function run() {
	const fast = process.argv.includes('--fast');
	const only = process.argv.find(word => word === 'poll' || word === 'stop');
	try {
		return [...only === 'stop' ? [] : await pollBench(), ...only === 'poll' ? [] : await stopBench(fast)];
	} finally {
		stopAll();
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	for (const line of await run()) {
		console.log(line);
	}

	setTimeout(() => process.exit(0), 100).unref();
}
