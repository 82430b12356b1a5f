import fs from 'node:fs';
import path from 'node:path';
import {afterEach, expect} from 'vitest';
import {CliProcess, runCli, tempDir, type Run} from '../helpers/cli.js';
import {instanceStates, motoEnv, useFaultProxy, useMoto, type FaultProxy, type Moto, type Reply, type Rewrite} from '../helpers/moto.js';

/**
 * The fault matrix's shared setup: moto_server with the fault proxy in front of it, the BUILT CLI
 * (dist/bin/cli.js) pointed at the proxy, fresh config and state dirs per run, and readers for
 * what a user would look at afterwards: instance states in moto, the audit log, the state files.
 */
export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const regions = ['us-east-1', 'eu-west-1'];
export const regionFlags = regions.flatMap(region => ['--region', region]);

/** dev's hourly cap in the fault configs: two t3.large agents ($0.1664/h) are over it, one ($0.0832/h) is not. */
export const devCapUsd = 0.1;

export type Harness = {
	moto: Moto;
	proxy: FaultProxy;
	/** A fresh directory (inside the file's temporary root, removed after the file). */
	dir(): string;
	/** A team config file: Cost Explorer off (unless `billing`), dev's cap at devCapUsd, plus `extra` merged on top. */
	config(extra?: Json, billing?: boolean): string;
	/** The CLI's environment: dummy AWS keys, every endpoint at the proxy, its own config and state dirs. */
	env(extra?: Record<string, string>): NodeJS.ProcessEnv;
	run(args: string[], extra?: Record<string, string>): Promise<Run>;
	/**
	 * The same, but a run still going after `deadlineMs` is killed (SIGKILL) and reported with code
	 * null and `hung: true`: a lie that makes envwatch loop must fail its test, not hang the suite.
	 */
	runBounded(args: string[], extra?: Record<string, string>, deadlineMs?: number): Promise<Run & {hung: boolean}>;
	/** A long-running CLI, SIGKILLed after the test if still running. */
	spawn(args: string[], extra?: Record<string, string>): CliProcess;
	/** Instance ID -> state, straight from moto (not through the proxy). */
	states(): Promise<Map<string, string>>;
};

export function useFaultHarness(): Harness {
	const moto = useMoto();
	// The account as the matrix sees it has the two watched regions enabled: the sweep of the regions
	// not watched, which no row is about, lists nothing (see onlyRegions). A row may set
	// h.proxy.enabledRegions = undefined for moto's every region.
	const proxy = useFaultProxy(moto, {enabledRegions: regions});
	const running: CliProcess[] = [];
	afterEach(async () => {
		await Promise.all(running.splice(0).map(async cli => cli.stop('SIGKILL')));
	});

	const harness: Harness = {
		moto,
		proxy,
		dir: () => tempDir('envwatch-fault-'),
		config(extra = {}, billing = false) {
			const file = path.join(tempDir('envwatch-fault-config-'), 'envwatch.json');
			const base: Json = {costExplorer: {enabled: billing}, environments: {dev: {maxHourlyUsd: devCapUsd}}};
			fs.writeFileSync(file, JSON.stringify(merge(base, extra), null, 2));
			return file;
		},
		env: (extra = {}) => motoEnv(proxy.url, {ENVWATCH_CONFIG_DIR: tempDir('envwatch-config-'), ENVWATCH_STATE_DIR: tempDir('envwatch-state-'), ...extra}),
		run: async (args, extra) => runCli(args, {env: harness.env(extra)}),
		async runBounded(args, extra, deadlineMs = 25_000) {
			const cli = harness.spawn(args, extra);
			let timer: NodeJS.Timeout | undefined;
			const hung = await Promise.race([
				new Promise<boolean>(resolve => cli.child.once('close', () => resolve(false))),
				new Promise<boolean>(resolve => {
					timer = setTimeout(() => resolve(true), deadlineMs);
				}),
			]);
			clearTimeout(timer);
			if (hung) {
				await cli.stop('SIGKILL');
			}

			return {code: hung ? null : cli.child.exitCode, stdout: cli.stdout, stderr: cli.stderr, hung};
		},
		spawn(args, extra) {
			const cli = new CliProcess(args, harness.env(extra));
			running.push(cli);
			return cli;
		},
		states: async () => instanceStates(moto.url, regions),
	};
	return harness;
}

/**
 * The lies the proxy can tell: well-formed answers whose values AWS cannot give, or pages that never
 * end or come again. Each is a proxy rule's answer (see FaultProxy.rule); `n` is the request's
 * number for its action and region.
 */
export const lies = {
	/** DescribeSpotPriceHistory: every item at `usd` $/h. */
	spotPrice: (usd: string): Rewrite => ({rewrite: {answer: body => body.replaceAll(/<spotPrice>[^<]*<\/spotPrice>/g, `<spotPrice>${usd}</spotPrice>`)}}),
	/**
	 * DescribeSpotPriceHistory: every item at `usd`, and beside each a copy dated `future` at
	 * `futureUsd` (a price "from 2099" that must not beat the one in effect).
	 */
	futureSpot: (usd: string, futureUsd: string, future = '2099-01-01T00:00:00.000Z'): Rewrite => ({rewrite: {answer: body => body.replaceAll(/<item>(.*?)<\/item>/gs, (_whole, inner: string) => {
		const now = inner.replace(/<spotPrice>[^<]*<\/spotPrice>/, `<spotPrice>${usd}</spotPrice>`);
		const later = now.replace(/<spotPrice>[^<]*<\/spotPrice>/, `<spotPrice>${futureUsd}</spotPrice>`).replace(/<timestamp>[^<]*<\/timestamp>/, `<timestamp>${future}</timestamp>`);
		return `<item>${now}</item><item>${later}</item>`;
	})}}),
	/** DescribeVolumes: every volume `gib` GiB large. */
	volumeSize: (gib: string): Rewrite => ({rewrite: {answer: body => body.replaceAll(/<size>[^<]*<\/size>/g, `<size>${gib}</size>`)}}),
	/** DescribeInstances: an empty page with a token never seen before, every time (pages that never end). */
	endlessInstances: (n: number): Reply => ({reply: {status: 200, contentType: 'text/xml;charset=UTF-8', body: `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>lie-${n}</requestId><reservationSet/><nextToken>endless-${n}</nextToken></DescribeInstancesResponse>`}}),
	/**
	 * DescribeInstances: moto's one page, answered again and again under the tokens `tokens` (the
	 * request's page token is dropped before moto sees it): [t1, t2] gives token, token, end (every
	 * instance three times); [t1, t1] gives a token seen before.
	 */
	repeatedPages: (n: number, tokens: string[]): Rewrite => ({rewrite: {
		request: body => body.replace(/(^|&)NextToken=[^&]*/, ''),
		answer: body => (n <= tokens.length ? body.replace('</DescribeInstancesResponse>', `<nextToken>${tokens[n - 1]!}</nextToken></DescribeInstancesResponse>`) : body),
	}}),
	/** DescribeVolumes: an empty page with a token never seen before, every time (pages that never end). */
	endlessVolumes: (n: number): Reply => ({reply: {status: 200, contentType: 'text/xml;charset=UTF-8', body: `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeVolumesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>lie-${n}</requestId><volumeSet/><nextToken>endless-${n}</nextToken></DescribeVolumesResponse>`}}),
	/**
	 * GetCostAndUsage: the same page (`page`, Cost Explorer's JSON) answered again and again under the
	 * tokens `tokens`, then without one: [t1, t2] gives token, token, end (every day counted three times).
	 */
	repeatedCost: (n: number, page: Json, tokens: string[]): Reply => ({reply: {status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({...page, ...(n <= tokens.length ? {NextPageToken: tokens[n - 1]} : {})})}}),
	/** GetCostAndUsage: every answer carries a NextPageToken never seen before (paid pages that never end). */
	endlessCost: (n: number): Rewrite => ({rewrite: {answer: body => JSON.stringify({...JSON.parse(body) as Json, NextPageToken: `endless-${n}`})}}),
};

function merge(base: Json, extra: Json): Json {
	const out: Json = {...base};
	for (const [key, value] of Object.entries(extra)) {
		out[key] = value && typeof value === 'object' && !Array.isArray(value) && base[key] && typeof base[key] === 'object' ? merge(base[key] as Json, value as Json) : value;
	}

	return out;
}

/**
 * The audit log as a reader sees it: every line must be one valid JSON object and seq must rise
 * strictly from line to line (a half-written or out-of-order line fails the test). A missing log is
 * an empty one.
 */
export function readAudit(file: string): Json[] {
	if (!fs.existsSync(file)) {
		return [];
	}

	const lines = fs.readFileSync(file, 'utf8').split('\n').filter(line => line !== '');
	const entries = lines.map((line, index) => {
		try {
			return JSON.parse(line) as Json;
		} catch {
			throw new Error(`audit log ${file} line ${index + 1} is not valid JSON: ${line.slice(0, 200)}`);
		}
	});
	for (let index = 1; index < entries.length; index++) {
		expect(entries[index]!['seq'], `audit log line ${index + 1}: seq must be greater than the line before`).toBeGreaterThan(entries[index - 1]!['seq'] as number);
	}

	return entries;
}

/** Per-instance outcomes recorded in the audit log's action entries: id -> the results seen for it. */
export function outcomes(entries: Json[]): Map<string, string[]> {
	const result = new Map<string, string[]>();
	for (const entry of entries) {
		for (const item of (entry['results'] ?? []) as Json[]) {
			result.set(item['id'] as string, [...result.get(item['id'] as string) ?? [], item['result'] as string]);
		}
	}

	return result;
}

/** samples.json's sample count per series (0 for no file). */
export function sampleCounts(stateDir: string): Record<string, number> {
	const file = path.join(stateDir, 'samples.json');
	if (!fs.existsSync(file)) {
		return {};
	}

	const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as {series: Record<string, unknown[]>};
	return Object.fromEntries(Object.entries(stored.series).map(([key, samples]) => [key, samples.length]));
}

/** Writes samples.json as envwatch keeps it: version 1, series of [epoch ms, $/h] pairs. */
export function writeSamples(stateDir: string, series: Record<string, Array<[number, number]>>): void {
	fs.mkdirSync(stateDir, {recursive: true});
	fs.writeFileSync(path.join(stateDir, 'samples.json'), JSON.stringify({version: 1, series}));
}

/** Lines of a stack trace (`    at fn (file:1:2)`): never shown to a user. */
export const stackLine = /^\s+at .+[:(]/m;

export async function until(check: () => boolean | Promise<boolean>, what: string, deadlineMs = 30_000): Promise<void> {
	const deadline = Date.now() + deadlineMs;
	while (!(await check())) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, 50));
	}
}
