// What one poll costs from a cold start, as the Lambda backstop runs one every minute (issue 22):
// `envwatch --once --read-only` over 10,000 running (and 1,000 stopped) instances in 4 regions
// against the loopback stub of aws-stub.mjs (moto's answer shape), and one invocation of the
// Lambda handler over the same fleet (dist/lambda/lambda.js, the bundle the zip holds), each in a
// fresh process: wall time, CPU (user + system) and peak RSS by GNU time, median and range of 5.
// The handler keeps its lease and state in DynamoDB: moto_server answers those calls
// (AWS_ENDPOINT_URL_DYNAMODB), the stub everything else; its configuration sets caps no poll
// reaches, so it decides and records but stops nothing (the stub answers no StopInstances).
// Run: `npm run build && node test/bench/backstop.mjs [runs]` (part of `npm run bench`, about a minute).
// Each is run on this Node and again on Node 22, the Lambda runtime the template names, when one is at
// hand: ENVWATCH_BENCH_NODE=/path/to/node, else the Node 22 `npm run test:nodes` installs.
import {execFileSync, spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {CreateTableCommand, DynamoDBClient} from '@aws-sdk/client-dynamodb';
import {startStub} from './aws-stub.mjs';
import {startMoto} from './moto-server.js';

// The pinned SDK warns on stderr about Node 20 (this process's own DynamoDB client).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2'];
const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = `${root}dist/bin/cli.js`;
const lambda = `${root}dist/lambda/lambda.js`;
/** The Node 22 `npm run test:nodes` keeps (scripts/test-nodes.mjs), or ENVWATCH_BENCH_NODE. */
const otherNode = process.env.ENVWATCH_BENCH_NODE ?? path.join(process.env.ENVWATCH_NODE_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'envwatch-test-nodes'), 'node-22', 'node_modules', '.bin', 'node');

function baseEnv(dir) {
	const env = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (!key.startsWith('AWS_') && !key.startsWith('ENVWATCH_')) {
			env[key] = value;
		}
	}

	return {
		...env,
		AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true',
		AWS_CONFIG_FILE: path.join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'), XDG_CONFIG_HOME: path.join(dir, 'xdg'),
		AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
	};
}

/** One process under GNU time: wall, peak RSS, CPU. */
async function timed(args, env) {
	const child = spawn('/usr/bin/time', ['-f', '%e %M %U %S', ...args], {env, stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	child.stderr.on('data', chunk => {
		stderr += chunk;
	});
	const status = await new Promise(resolve => child.on('exit', resolve));
	const last = stderr.trim().split('\n').at(-1);
	const [wall, kb, user, system] = last.split(' ').map(Number);
	if (!Number.isFinite(wall)) {
		throw new Error(`${args.join(' ')}: ${stderr.slice(-500)}`);
	}

	return {wall, rss: kb * 1024, cpu: user + system, status, stderr};
}

const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const range = (values, digits = 2) => `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`;
const mb = bytes => (bytes / 1024 / 1024).toFixed(0);

function line(what, results) {
	const walls = results.map(result => result.wall);
	const cpus = results.map(result => result.cpu);
	const rss = results.map(result => result.rss);
	return `${what}: CPU median ${median(cpus).toFixed(2)} s (${range(cpus)}), wall median ${median(walls).toFixed(2)} s (${range(walls)}), peak RSS median ${mb(median(rss))} MB (${mb(Math.min(...rss))}-${mb(Math.max(...rss))}) (exit ${[...new Set(results.map(result => result.status))].join(',')}; ${results.length} runs)`;
}

async function onceRuns(node, url, runs) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-bench-'));
	fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({regions, costExplorer: {enabled: false}}));
	const results = [];
	try {
		for (let index = 0; index < runs; index++) {
			results.push(await timed([node, cli, '--once', '--read-only', '--config', path.join(dir, 'config.json'), '--endpoint-url', url, '--state-dir', path.join(dir, `state-${index}`)], baseEnv(dir)));
		}
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}

	return results;
}

let tables = 0;

async function handlerRuns(node, url, moto, runs) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-bench-'));
	const dynamo = new DynamoDBClient({region: 'us-east-1', endpoint: moto.url, credentials: {accessKeyId: 'AKIDTEST', secretAccessKey: 'secret'}});
	const results = [];
	const wide = {thresholdPct: 1000, maxHourlyUsd: 100_000};
	try {
		for (let index = 0; index < runs; index++) {
			// A fresh table each run: every invocation starts from an empty state, as the first one would.
			const table = `bench-${++tables}`;
			await dynamo.send(new CreateTableCommand({
				TableName: table,
				BillingMode: 'PAY_PER_REQUEST',
				AttributeDefinitions: [{AttributeName: 'pk', AttributeType: 'S'}, {AttributeName: 'sk', AttributeType: 'S'}],
				KeySchema: [{AttributeName: 'pk', KeyType: 'HASH'}, {AttributeName: 'sk', KeyType: 'RANGE'}],
			}));
			const config = {regions, costExplorer: {enabled: false}, environments: {dev: wide, staging: wide, production: wide}, global: wide, coordination: {dynamodb: {table}}};
			const script = `const {handler} = await import(${JSON.stringify(lambda)}); const result = await handler({}, {getRemainingTimeInMillis: () => 50000, functionName: 'bench'}); if (result.outcome !== 'polled') throw new Error(JSON.stringify(result));`;
			results.push(await timed([node, '--input-type=module', '-e', script], {
				...baseEnv(dir),
				TMPDIR: dir,
				AWS_ENDPOINT_URL: url,
				AWS_ENDPOINT_URL_DYNAMODB: moto.url,
				ENVWATCH_CONFIG_JSON: JSON.stringify(config),
			}));
		}
	} finally {
		dynamo.destroy();
		fs.rmSync(dir, {recursive: true, force: true});
	}

	return results;
}

export async function run() {
	const runs = Number(process.argv.find(word => /^\d+$/.test(word)) ?? 5);
	if (!fs.existsSync('/usr/bin/time')) {
		return ['skipped: GNU time (/usr/bin/time) is not installed'];
	}

	const stub = await startStub();
	const moto = await startMoto();
	try {
		const lines = [];
		for (const node of fs.existsSync(otherNode) ? [process.execPath, otherNode] : [process.execPath]) {
			const version = execFileSync(node, ['--version'], {encoding: 'utf8'}).trim();
			lines.push(
				line(`Node ${version}: --once --read-only, 10,000 running + 1,000 stopped instances in ${regions.length} regions (stub), cold`, await onceRuns(node, stub.url, runs)),
				line(`Node ${version}: the Lambda handler, one invocation over the same fleet (lease and state in DynamoDB, moto), cold`, await handlerRuns(node, stub.url, moto, runs)),
			);
		}

		return lines;
	} finally {
		stub.close();
		moto.stop();
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	for (const result of await run()) {
		console.log(result);
	}
}
