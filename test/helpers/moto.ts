import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import {DescribeInstancesCommand, EC2Client, RunInstancesCommand, type _InstanceType, type Tag} from '@aws-sdk/client-ec2';
import {afterAll, beforeAll, beforeEach} from 'vitest';

/**
 * A real implementation of the AWS APIs for tests: `moto_server` (moto 5.2) on a free loopback
 * port, started and stopped by the test file that needs it. When moto_server is missing the
 * suite fails with a clear message; it never skips.
 */
export type Moto = {
	url: string;
	port: number;
	/** `POST /moto-api/reset`: every service back to empty. */
	reset(): Promise<void>;
	stop(): Promise<void>;
};

// The pinned SDK warns on stderr about Node 20; tests do not need to hear it.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

export const testCredentials = {accessKeyId: 'AKIDTEST', secretAccessKey: 'secret'};

/** Environment for a child process pointed at moto: dummy keys, no profile files, no instance metadata. */
export function motoEnv(url: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		// No AWS_* from the machine or from this process (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED
		// included: the CLI must keep the SDK's Node-version warning off stderr by itself).
		if (!key.startsWith('AWS_')) {
			env[key] = value;
		}
	}

	return {
		...env,
		AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
		AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
		AWS_ENDPOINT_URL: url,
		AWS_REGION: 'us-east-1',
		AWS_CONFIG_FILE: '/nonexistent/aws-config',
		AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
		// Never let the SDK try the instance metadata service from a test.
		AWS_EC2_METADATA_DISABLED: 'true',
		...extra,
	};
}

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const {port} = server.address() as net.AddressInfo;
			server.close(() => {
				resolve(port);
			});
		});
	});
}

function motoBinary(): string {
	const found = spawnSync('sh', ['-c', 'command -v moto_server'], {encoding: 'utf8'});
	const binary = found.stdout.trim();
	if (found.status !== 0 || !binary) {
		throw new Error('moto_server is not on PATH: the AWS integration and end-to-end tests need it (pip install "moto[server]==5.2.*"). They fail rather than skip, so a green run always means they ran.');
	}

	return binary;
}

export async function startMoto(): Promise<Moto> {
	const binary = motoBinary();
	const port = await freePort();
	const url = `http://127.0.0.1:${port}`;
	const child: ChildProcess = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], {stdio: ['ignore', 'ignore', 'pipe'], detached: true});
	let stderr = '';
	child.stderr?.on('data', (chunk: Buffer) => {
		stderr = (stderr + chunk.toString()).slice(-2000);
	});
	let exited = false;
	child.once('exit', () => {
		exited = true;
	});
	const deadline = Date.now() + 30_000;
	for (;;) {
		if (exited) {
			throw new Error(`moto_server exited before answering on ${url}: ${stderr}`);
		}

		try {
			const response = await fetch(`${url}/moto-api/reset`, {method: 'POST'});
			if (response.ok) {
				break;
			}
		} catch {
			// Not listening yet.
		}

		if (Date.now() > deadline) {
			kill(child);
			throw new Error(`moto_server did not answer on ${url} within 30 s: ${stderr}`);
		}

		await new Promise(resolve => {
			setTimeout(resolve, 100);
		});
	}

	return {
		url,
		port,
		async reset() {
			const response = await fetch(`${url}/moto-api/reset`, {method: 'POST'});
			if (!response.ok) {
				throw new Error(`moto reset failed: ${response.status}`);
			}
		},
		async stop() {
			if (exited) {
				return;
			}

			const gone = new Promise(resolve => child.once('exit', resolve));
			kill(child);
			await Promise.race([gone, new Promise(resolve => {
				setTimeout(resolve, 5000);
			})]);
		},
	};
}

/** Ends moto_server and whatever its shim started: its own process group, by its id. */
function kill(child: ChildProcess): void {
	if (child.pid === undefined) {
		return;
	}

	try {
		process.kill(-child.pid, 'SIGTERM');
	} catch {
		child.kill('SIGTERM');
	}
}

export function ec2(url: string, region: string): EC2Client {
	return new EC2Client({region, endpoint: url, credentials: testCredentials, maxAttempts: 1});
}

/** Every instance's state in moto's `regions`, by ID (read straight from moto, not through envwatch). */
export async function instanceStates(url: string, regions: readonly string[]): Promise<Map<string, string>> {
	const result = new Map<string, string>();
	for (const region of regions) {
		const client = ec2(url, region);
		const answer = await client.send(new DescribeInstancesCommand({MaxResults: 1000}));
		for (const instance of answer.Reservations?.flatMap(reservation => reservation.Instances ?? []) ?? []) {
			result.set(instance.InstanceId!, instance.State!.Name!);
		}

		client.destroy();
	}

	return result;
}

export type Launch = {
	region: string;
	count: number;
	environment?: string;
	role?: string;
	type?: string;
	name?: string;
	/** Instances per RunInstances call (moto pages DescribeInstances by reservation). @default count */
	perReservation?: number;
	/** The image: Linux (`ami-760aaa0f`, Amazon Linux) by default; moto's `ami-12c6146b` is Windows. */
	image?: string;
	/** Launched as spot instances (moto marks them `instanceLifecycle: spot`). */
	spot?: boolean;
};

/** moto's Amazon Linux image (the default) and its Windows Server one. */
export const linuxImage = 'ami-760aaa0f';
export const windowsImage = 'ami-12c6146b';

/** Runs instances in moto with the given tags; returns their IDs. */
export async function launch(url: string, spec: Launch, keys = {env: 'Environment', role: 'Role'}): Promise<string[]> {
	const client = ec2(url, spec.region);
	const tags: Tag[] = [{Key: 'Name', Value: spec.name ?? `${spec.environment ?? 'untagged'}-${spec.role ?? 'other'}`}];
	if (spec.environment !== undefined) {
		tags.push({Key: keys.env, Value: spec.environment});
	}

	if (spec.role !== undefined) {
		tags.push({Key: keys.role, Value: spec.role});
	}

	const per = spec.perReservation ?? spec.count;
	const calls: Array<Promise<string[]>> = [];
	for (let left = spec.count; left > 0; left -= per) {
		const count = Math.min(per, left);
		calls.push(client.send(new RunInstancesCommand({
			ImageId: spec.image ?? linuxImage,
			...(spec.spot ? {InstanceMarketOptions: {MarketType: 'spot' as const}} : {}),
			MinCount: count,
			MaxCount: count,
			InstanceType: (spec.type ?? 't3.large') as _InstanceType,
			TagSpecifications: [{ResourceType: 'instance', Tags: tags}],
		})).then(result => (result.Instances ?? []).map(instance => instance.InstanceId!)));
	}

	const ids: string[] = [];
	// A few calls at a time: moto_server is threaded, but its EC2 backend takes a lock.
	for (let index = 0; index < calls.length; index += 8) {
		for (const batch of await Promise.all(calls.slice(index, index + 8))) {
			ids.push(...batch);
		}
	}

	client.destroy();
	return ids;
}

/** Queues Cost Explorer answers in moto (`POST /moto-api/static/ce/cost-and-usage-results`), taken in request order. */
export async function seedCostAndUsage(url: string, results: unknown[]): Promise<void> {
	const response = await fetch(`${url}/moto-api/static/ce/cost-and-usage-results`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({results})});
	if (response.status !== 201) {
		throw new Error(`seeding Cost Explorer results failed: ${response.status} ${await response.text()}`);
	}
}

export type Fault = {status: number; code: string; message?: string};
/** An answer of the proxy's own instead of moto's: any status, body and content type (an HTML page with 200, an empty body). */
export type Reply = {reply: {status: number; body: string; contentType?: string}};
/** Forward to moto, then cut its real answer off after this fraction of its bytes (a truncated 200). */
export type Truncate = {truncate: number};
/**
 * A well-formed lie: forward to moto (its request body first passed through `request`, e.g. to drop a
 * page token moto never issued), then answer with `answer` of moto's real answer (status and headers
 * kept, the length fixed): an impossible price, a token that never ends, a date in 2099.
 */
export type Rewrite = {rewrite: {request?: (body: string) => string; answer: (body: string) => string}};

export type ProxyRequest = {
	action: string;
	region: string | undefined;
	service: string | undefined;
	body: string;
	/** 1 for the first request of this action to this region since the proxy started (or was cleared), 2 for the next... */
	n: number;
};

/**
 * A loopback HTTP proxy in front of moto that injects faults: `rule` sees each request (its API
 * action and the region it was signed for) and returns a fault to answer with instead of moto,
 * or undefined to forward it. Faults are answered in EC2's XML error format (also what STS's
 * query protocol reads), or JSON for JSON-protocol services (Cost Explorer).
 */
export type FaultProxy = {
	url: string;
	seen: ProxyRequest[];
	rule: (request: ProxyRequest) => Fault | Reply | Truncate | Rewrite | undefined;
	/** Runs before a request is answered or forwarded (e.g. retag instances in moto between two batches of a stop). */
	before: (request: ProxyRequest) => Promise<void> | void;
	/**
	 * The regions the account has enabled, as DescribeRegions answers them (when `rule` gives that
	 * request nothing else): moto's answer with every other region left out, as EC2 leaves out the
	 * regions an account has not opted in to. Undefined: moto's answer, every region it knows (over
	 * twenty). See `onlyRegions`.
	 */
	enabledRegions: readonly string[] | undefined;
	close(): Promise<void>;
};

/**
 * DescribeRegions answered as for an account with only `names` enabled (moto's answer, the other
 * regions' items left out). envwatch sweeps the enabled regions it does not watch for agents there
 * (in the background; `--once` waits for it): against moto's full list that is a listing in each of
 * its other regions, and moto makes a region's EC2 backend on first use and makes it again at every
 * reset, seconds per test. A test that watches `names` has none to sweep; the sweep itself is proved
 * in test/e2e/aws-cli.test.ts (moto's whole list) and test/engine/sweep.test.ts.
 */
export function onlyRegions(names: readonly string[]): Rewrite {
	return {rewrite: {answer: body => body.replaceAll(/<item>(?:(?!<\/item>).)*<\/item>/gs, item => {
		const name = /<regionName>([^<]*)<\/regionName>/.exec(item)?.[1];
		return name !== undefined && names.includes(name) ? item : '';
	})}};
}

export async function startFaultProxy(target: string, rule: FaultProxy['rule'] = () => undefined): Promise<FaultProxy> {
	const seen: ProxyRequest[] = [];
	const proxy: FaultProxy = {url: '', seen, rule, before: () => undefined, enabledRegions: undefined, close: async () => undefined};
	const server = http.createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', async () => {
			const body = Buffer.concat(chunks);
			const text = body.toString('utf8');
			const scope = /Credential=[^/]+\/\d+\/([^/]+)\/([^/]+)\//.exec(String(request.headers.authorization ?? ''));
			const amzTarget = String(request.headers['x-amz-target'] ?? '');
			const action = new URLSearchParams(text).get('Action') ?? (amzTarget.split('.').at(-1) || 'unknown');
			const n = seen.filter(item => item.action === action && item.region === scope?.[1]).length + 1;
			const info: ProxyRequest = {action, region: scope?.[1], service: scope?.[2], body: text, n};
			seen.push(info);
			await proxy.before(info);
			const fault = proxy.rule(info) ?? (action === 'DescribeRegions' && proxy.enabledRegions ? onlyRegions(proxy.enabledRegions) : undefined);
			if (fault && 'reply' in fault) {
				response.writeHead(fault.reply.status, {'content-type': fault.reply.contentType ?? 'text/html'});
				response.end(fault.reply.body);
				return;
			}

			const truncate = fault && 'truncate' in fault ? fault.truncate : undefined;
			const rewrite = fault && 'rewrite' in fault ? fault.rewrite : undefined;
			if (fault && !('truncate' in fault) && !('rewrite' in fault)) {
				const json = amzTarget !== '';
				response.writeHead(fault.status, {'content-type': json ? 'application/x-amz-json-1.1' : 'text/xml'});
				response.end(json
					? JSON.stringify({__type: fault.code, message: fault.message ?? fault.code})
					: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${fault.code}</Code><Message>${fault.message ?? fault.code}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>`);
				return;
			}

			const upstream = new URL(request.url ?? '/', target);
			const sent = rewrite?.request ? Buffer.from(rewrite.request(text), 'utf8') : body;
			const headers = rewrite?.request ? {...request.headers, 'content-length': String(sent.length)} : request.headers;
			const forward = http.request(upstream, {method: request.method, headers}, answer => {
				if (truncate === undefined && rewrite === undefined) {
					response.writeHead(answer.statusCode ?? 502, answer.headers);
					answer.pipe(response);
					return;
				}

				const parts: Buffer[] = [];
				answer.on('data', (chunk: Buffer) => parts.push(chunk));
				answer.on('end', () => {
					const whole = Buffer.concat(parts);
					const out = rewrite ? Buffer.from(rewrite.answer(whole.toString('utf8')), 'utf8') : whole.subarray(0, Math.floor(whole.length * truncate!));
					const {'content-length': _length, 'transfer-encoding': _encoding, ...kept} = answer.headers;
					response.writeHead(answer.statusCode ?? 502, {...kept, 'content-length': String(out.length)});
					response.end(out);
				});
			});
			forward.on('error', error => {
				response.writeHead(502);
				response.end(String(error));
			});
			forward.end(sent);
		});
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as net.AddressInfo;
	proxy.url = `http://127.0.0.1:${port}`;
	proxy.close = async () => new Promise(resolve => {
		server.closeAllConnections();
		server.close(() => {
			resolve();
		});
	});
	return proxy;
}

/** moto_server for this test file: started before all its tests, reset before each, stopped after. */
export function useMoto(): Moto {
	let server: Moto | undefined;
	beforeAll(async () => {
		server = await startMoto();
	});
	afterAll(async () => {
		await server?.stop();
	});
	beforeEach(async () => {
		await live().reset();
	});
	const live = (): Moto => {
		if (!server) {
			throw new Error('moto_server is not started yet: use it inside a test or a hook');
		}

		return server;
	};

	return {
		get url() {
			return live().url;
		},
		get port() {
			return live().port;
		},
		reset: async () => live().reset(),
		stop: async () => live().stop(),
	};
}

/**
 * The fault proxy in front of `moto` for this test file; its rule cleared before each test, and its
 * `enabledRegions` set back to `options.enabledRegions` (undefined: moto's every region).
 */
export function useFaultProxy(moto: Moto, options: {enabledRegions?: readonly string[]} = {}): FaultProxy {
	let proxy: FaultProxy | undefined;
	beforeAll(async () => {
		proxy = await startFaultProxy(moto.url);
	});
	afterAll(async () => {
		await proxy?.close();
	});
	beforeEach(() => {
		live().rule = () => undefined;
		live().before = () => undefined;
		live().enabledRegions = options.enabledRegions;
		live().seen.length = 0;
	});
	const live = (): FaultProxy => {
		if (!proxy) {
			throw new Error('the fault proxy is not started yet: use it inside a test or a hook');
		}

		return proxy;
	};

	return {
		get url() {
			return live().url;
		},
		get seen() {
			return live().seen;
		},
		get rule() {
			return live().rule;
		},
		set rule(rule) {
			live().rule = rule;
		},
		get before() {
			return live().before;
		},
		set before(before) {
			live().before = before;
		},
		get enabledRegions() {
			return live().enabledRegions;
		},
		set enabledRegions(names) {
			live().enabledRegions = names;
		},
		close: async () => live().close(),
	};
}
