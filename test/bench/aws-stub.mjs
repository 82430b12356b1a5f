// One poll of 10,000 instances in 4 regions, the API answering at once (issue 12). moto takes
// minutes to answer a poll of that size, which measures moto, so a loopback stub answers
// DescribeInstances with pages of the shape moto 5.2 answers (every element moto sends for an
// instance, tags with XML entities included), 1000 instances a page, honouring the
// instance-state-name filter and NextToken. 10,000 instances run; 1,000 more are stopped (listed only
// when asked for).
// envwatch runs in a child process (the built Monitor + AwsFleet from dist/), so its RSS and CPU
// are its own: RSS after each poll, peak RSS, CPU and wall per poll (median of the polls after the
// first). Headless CPU at the default 15 s interval is the CPU per poll over 15 s.
// Run: `npm run build && node test/bench/aws-stub.mjs [polls]` (default 5; part of `npm run bench`).
import {spawn} from 'node:child_process';
import {Buffer} from 'node:buffer';
import http from 'node:http';
import {performance} from 'node:perf_hooks';
import {fileURLToPath, URLSearchParams} from 'node:url';

const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2'];
// 2,500 billed (running) and 250 stopped instances a region.
const perRegion = 2750;
const pageSize = 1000;
const environments = ['dev', 'staging', 'production', 'qa'];
const types = ['t3.large', 'm5.large', 'c5.xlarge', 't3.medium'];

function hex(n, width) {
	return n.toString(16).padStart(width, '0');
}

function instanceXml(region, index) {
	const id = `i-${hex(regions.indexOf(region), 2)}${hex(index, 15)}`;
	const state = index % 11 === 10 ? ['80', 'stopped'] : ['16', 'running'];
	const ip = `10.${index % 250}.${(index >> 8) % 250}.${index % 200}`;
	const pub = `54.${index % 250}.${(index >> 8) % 250}.${index % 200}`;
	const environment = environments[index % environments.length];
	const role = index % 8 === 1 ? 'monitor' : 'agent';
	const spot = index % 5 === 0 ? '<instanceLifecycle>spot</instanceLifecycle>' : '';
	return `<item><architecture>x86_64</architecture><blockDeviceMapping><item><deviceName>/dev/sda1</deviceName><ebs><attachTime>2026-11-27T11:23:11.000Z</attachTime><deleteOnTermination>true</deleteOnTermination><status>attached</status><volumeId>vol-${hex(index, 17)}</volumeId></ebs></item></blockDeviceMapping><clientToken>8afb320b-5a1f-4445-9fec-${hex(index, 12)}</clientToken><ebsOptimized>false</ebsOptimized><hypervisor>xen</hypervisor>${spot}<networkInterfaceSet><item><association><ipOwnerId>123456789012</ipOwnerId><publicDnsName>ip-${pub.replaceAll('.', '-')}.ec2.internal</publicDnsName><publicIp>${pub}</publicIp></association><attachment><attachTime>2026-11-27T11:23:11.000Z</attachTime><attachmentId>eni-attach-${hex(index, 17)}</attachmentId><deleteOnTermination>false</deleteOnTermination><deviceIndex>0</deviceIndex><status>attached</status><networkCardIndex>0</networkCardIndex></attachment><description>Primary network interface</description><groupSet><item><groupId>sg-e41fead9587bebecf</groupId><groupName>default</groupName></item></groupSet><ipv6AddressesSet/><macAddress>02:00:00:3a:${hex(index % 256, 2)}:3b</macAddress><networkInterfaceId>eni-${hex(index, 17)}</networkInterfaceId><ownerId>123456789012</ownerId><privateDnsName>ip-${ip.replaceAll('.', '-')}.ec2.internal</privateDnsName><privateIpAddress>${ip}</privateIpAddress><privateIpAddressesSet><item><association><ipOwnerId>123456789012</ipOwnerId><publicDnsName>ip-${pub.replaceAll('.', '-')}.ec2.internal</publicDnsName><publicIp>${pub}</publicIp></association><primary>true</primary><privateIpAddress>${ip}</privateIpAddress></item></privateIpAddressesSet><sourceDestCheck>true</sourceDestCheck><status>in-use</status><subnetId>subnet-9e0ca76978e26ace7</subnetId><vpcId>vpc-fb94e4a86453bf1cd</vpcId><interfaceType>interface</interfaceType></item></networkInterfaceSet><rootDeviceName>/dev/sda1</rootDeviceName><rootDeviceType>ebs</rootDeviceType><groupSet/><sourceDestCheck>true</sourceDestCheck><sriovNetSupport>simple</sriovNetSupport><stateReason><code/><message/></stateReason><tagSet><item><key>Environment</key><value>${environment}</value></item><item><key>Role</key><value>${role}</value></item><item><key>Name</key><value>agent &amp; worker &lt;${index}&gt;</value></item></tagSet><virtualizationType>hvm</virtualizationType><hibernationOptions/><metadataOptions><state>applied</state><httpTokens>optional</httpTokens><httpPutResponseHopLimit>1</httpPutResponseHopLimit><httpEndpoint>enabled</httpEndpoint><httpProtocolIpv6>disabled</httpProtocolIpv6><instanceMetadataTags>disabled</instanceMetadataTags></metadataOptions><instanceId>${id}</instanceId><imageId>ami-12c6146b</imageId><instanceState><code>${state[0]}</code><name>${state[1]}</name></instanceState><privateDnsName>ip-${ip.replaceAll('.', '-')}.ec2.internal</privateDnsName><dnsName>ec2-${pub.replaceAll('.', '-')}.compute-1.amazonaws.com</dnsName><reason/><amiLaunchIndex>0</amiLaunchIndex><productCodes/><instanceType>${types[index % types.length]}</instanceType><launchTime>2026-11-27T11:23:11.000Z</launchTime><placement><groupName/><tenancy>default</tenancy><availabilityZone>${region}a</availabilityZone></placement><platformDetails>Linux/UNIX</platformDetails><monitoring><state>disabled</state></monitoring><subnetId>subnet-9e0ca76978e26ace7</subnetId><vpcId>vpc-fb94e4a86453bf1cd</vpcId><privateIpAddress>${ip}</privateIpAddress><ipAddress>${pub}</ipAddress></item>`;
}

/** Pages per region and state filter, built once: the stub answers from memory at once. */
const pages = new Map();
function pagesOf(region, states) {
	const key = `${region} ${[...states].sort().join(',')}`;
	let list = pages.get(key);
	if (!list) {
		const items = [];
		for (let index = 0; index < perRegion; index++) {
			const xml = instanceXml(region, index);
			const state = index % 11 === 10 ? 'stopped' : 'running';
			if (states.size === 0 || states.has(state)) {
				items.push(xml);
			}
		}

		list = [];
		for (let start = 0; start < items.length || start === 0; start += pageSize) {
			const next = start + pageSize < items.length ? `<nextToken>page-${list.length + 1}</nextToken>` : '';
			// Reservations of 100 instances, as a fleet launched in batches would have.
			let body = '';
			for (let r = start; r < Math.min(start + pageSize, items.length); r += 100) {
				body += `<item><reservationId>r-${hex(r, 17)}</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet>${items.slice(r, Math.min(r + 100, start + pageSize, items.length)).join('')}</instancesSet></item>`;
			}

			list.push(Buffer.from(`<?xml version="1.0" encoding="utf-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15"><requestId>request-id</requestId><reservationSet>${body}</reservationSet>${next}</DescribeInstancesResponse>`));
			if (items.length === 0) {
				break;
			}
		}

		pages.set(key, list);
	}

	return list;
}

async function startStub() {
	const server = http.createServer((request, response) => {
		const chunks = [];
		request.on('data', chunk => chunks.push(chunk));
		request.on('end', () => {
			const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
			const region = /Credential=[^/]+\/\d+\/([^/]+)\//.exec(String(request.headers.authorization ?? ''))?.[1] ?? 'us-east-1';
			if (form.get('Action') !== 'DescribeInstances') {
				response.writeHead(400, {'content-type': 'text/xml'});
				response.end(`<Response><Errors><Error><Code>InvalidAction</Code><Message>stub answers DescribeInstances only</Message></Error></Errors><RequestID>x</RequestID></Response>`);
				return;
			}

			const states = new Set();
			for (const [key, value] of form) {
				const filter = /^Filter\.(\d+)\.Name$/.exec(key);
				if (filter && value === 'instance-state-name') {
					for (let n = 1; form.has(`Filter.${filter[1]}.Value.${n}`); n++) {
						states.add(form.get(`Filter.${filter[1]}.Value.${n}`));
					}
				}
			}

			const list = pagesOf(region, states);
			const token = form.get('NextToken');
			const page = token ? Number(token.replace('page-', '')) : 0;
			response.writeHead(200, {'content-type': 'text/xml;charset=UTF-8', 'content-length': list[page].length});
			response.end(list[page]);
		});
	});
	await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
	return {url: `http://127.0.0.1:${server.address().port}`, close: () => server.close()};
}

/** The child: envwatch's Monitor and AwsFleet from dist/, polling the stub. */
async function child(url, polls) {
	process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
	const fs = await import('node:fs');
	const os = await import('node:os');
	const path = await import('node:path');
	const {loadConfig} = await import('../../dist/config/load.js');
	const {AuditLog} = await import('../../dist/engine/audit.js');
	const {Monitor} = await import('../../dist/engine/monitor.js');
	const {StateStore} = await import('../../dist/engine/state.js');
	const {SnapshotStore} = await import('../../dist/engine/store.js');
	const {AwsFleet} = await import('../../dist/providers/aws/fleet.js');
	const {config} = loadConfig({noStore: true, flags: {regions, costExplorer: {enabled: false, refreshMinutes: 60}}});
	const fleet = new AwsFleet({regions, endpointUrl: url, credentials: {accessKeyId: 'AKIDTEST', secretAccessKey: 'secret'}});
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-bench-'));
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
	const runs = [];
	for (let index = 0; index < polls; index++) {
		const cpu = process.cpuUsage();
		const start = performance.now();
		const calls = fleet.stats.describeCalls;
		const snapshot = await monitor.poll();
		const wall = performance.now() - start;
		const used = process.cpuUsage(cpu);
		const instances = snapshot.environments.reduce((sum, view) => sum + view.agents.running + view.monitors, 0) + snapshot.unknown.instances;
		runs.push({wall, cpu: (used.user + used.system) / 1000, rss: process.memoryUsage().rss, instances, calls: fleet.stats.describeCalls - calls, error: snapshot.error});
	}

	await monitor.stop();
	fs.rmSync(dir, {recursive: true, force: true});
	process.stdout.write(JSON.stringify({runs, peak: process.resourceUsage().maxRSS * 1024}));
	process.exit(0);
}

const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mb = bytes => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

export async function run() {
	const polls = Number(process.argv.find(word => /^\d+$/.test(word)) ?? 5);
	const stub = await startStub();
	try {
		for (const region of regions) {
			pagesOf(region, new Set(['pending', 'running']));
			pagesOf(region, new Set(['pending', 'running', 'stopping', 'stopped']));
		}

		const output = await new Promise((resolve, reject) => {
			const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', stub.url, String(polls)], {stdio: ['ignore', 'pipe', 'inherit']});
			let text = '';
			proc.stdout.on('data', chunk => {
				text += chunk;
			});
			proc.on('error', reject);
			proc.on('exit', code => (code === 0 ? resolve(text) : reject(new Error(`bench child exited ${code}`))));
		});
		const {runs, peak} = JSON.parse(output);
		const steady = runs.slice(1);
		const cpu = median(steady.map(r => r.cpu));
		const first = runs[0];
		return [
			`poll of ${first.instances} billed instances in ${regions.length} regions (stub answering at once, ${runs[0].calls} DescribeInstances calls a poll${first.error ? `, ERROR ${first.error}` : ''}): CPU per poll median ${(cpu / 1000).toFixed(2)} s (first ${(first.cpu / 1000).toFixed(2)} s), wall median ${(median(steady.map(r => r.wall)) / 1000).toFixed(2)} s, RSS after poll ${runs.map(r => mb(r.rss)).join(' / ')}, peak ${mb(peak)}; headless at 15 s: ${(cpu / 15_000 * 100).toFixed(1)}% of a core`,
		];
	} finally {
		stub.close();
	}
}

if (process.argv[2] === '--child') {
	await child(process.argv[3], Number(process.argv[4]));
} else if (import.meta.url === `file://${process.argv[1]}`) {
	for (const line of await run()) {
		console.log(line);
	}
}
