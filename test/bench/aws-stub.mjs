// One poll of 10,000 instances in 4 regions, the API answering at once (issue 12). moto takes
// minutes to answer a poll of that size, which measures moto, so a loopback stub answers
// DescribeInstances with pages of the shape moto 5.2 answers (every element moto sends for an
// instance, tags with XML entities included), 1000 instances a page, honouring the
// instance-state-name filter and NextToken. 10,000 instances run; 1,000 more are stopped (listed only
// when asked for). DescribeVolumes is answered too (each instance's root volume), as EC2 would: a stub
// that refused it measured a failed call per account and region at every poll (the engine asked a
// region's volumes again at each poll after a failure), not what a poll costs.
// envwatch is the built CLI (dist/bin/cli.js, --headless --json --read-only) in its own process:
// /proc gives its RSS, peak RSS and CPU as each poll's snapshot line comes out. CPU per poll is the
// CPU between two snapshots at a 1 s interval (polls back to back); the default 15 s interval is
// measured over two whole intervals. `--once` is timed against a small fleet (GNU time for its peak).
// Run: `npm run build && node test/bench/aws-stub.mjs [polls]` (default 6; part of `npm run bench`,
// about 80 s). `node test/bench/aws-stub.mjs --serve [instances a region]` runs the stub alone.
// Many accounts (issue 21): the stub also answers STS AssumeRole, minting a key that names the
// account (ASIA + its 12 digits), and answers DescribeInstances with that account's instances: the
// same 10,000 running + 1,000 stopped over 50 accounts x 4 regions (50 + 5 in each), with
// `accounts` listing the 50 roles, against the same fleet in one account.
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {Buffer} from 'node:buffer';
import http from 'node:http';
import {performance} from 'node:perf_hooks';
import {fileURLToPath, URLSearchParams} from 'node:url';

const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2'];
// 2,500 billed (running) and 250 stopped instances a region.
const billedPerRegion = 2500;
const pageSize = 1000;
const environments = ['dev', 'staging', 'production', 'qa'];
const types = ['t3.large', 'm5.large', 'c5.xlarge', 't3.medium'];

function hex(n, width) {
	return n.toString(16).padStart(width, '0');
}

/** `account`: 0 for the account of the test keys; 1 to 50 the accounts of the many-accounts run (their IDs in the instance IDs). */
function instanceXml(region, index, account = 0) {
	const id = `i-${hex(regions.indexOf(region), 2)}${hex(account * 1_000_000 + index, 15)}`;
	const state = index % 11 === 10 ? ['80', 'stopped'] : ['16', 'running'];
	const ip = `10.${index % 250}.${(index >> 8) % 250}.${index % 200}`;
	const pub = `54.${index % 250}.${(index >> 8) % 250}.${index % 200}`;
	const environment = environments[index % environments.length];
	const role = index % 8 === 1 ? 'monitor' : 'agent';
	const spot = index % 5 === 0 ? '<instanceLifecycle>spot</instanceLifecycle>' : '';
	return `<item><architecture>x86_64</architecture><blockDeviceMapping><item><deviceName>/dev/sda1</deviceName><ebs><attachTime>2026-11-27T11:23:11.000Z</attachTime><deleteOnTermination>true</deleteOnTermination><status>attached</status><volumeId>vol-${hex(index, 17)}</volumeId></ebs></item></blockDeviceMapping><clientToken>8afb320b-5a1f-4445-9fec-${hex(index, 12)}</clientToken><ebsOptimized>false</ebsOptimized><hypervisor>xen</hypervisor>${spot}<networkInterfaceSet><item><association><ipOwnerId>123456789012</ipOwnerId><publicDnsName>ip-${pub.replaceAll('.', '-')}.ec2.internal</publicDnsName><publicIp>${pub}</publicIp></association><attachment><attachTime>2026-11-27T11:23:11.000Z</attachTime><attachmentId>eni-attach-${hex(index, 17)}</attachmentId><deleteOnTermination>false</deleteOnTermination><deviceIndex>0</deviceIndex><status>attached</status><networkCardIndex>0</networkCardIndex></attachment><description>Primary network interface</description><groupSet><item><groupId>sg-e41fead9587bebecf</groupId><groupName>default</groupName></item></groupSet><ipv6AddressesSet/><macAddress>02:00:00:3a:${hex(index % 256, 2)}:3b</macAddress><networkInterfaceId>eni-${hex(index, 17)}</networkInterfaceId><ownerId>123456789012</ownerId><privateDnsName>ip-${ip.replaceAll('.', '-')}.ec2.internal</privateDnsName><privateIpAddress>${ip}</privateIpAddress><privateIpAddressesSet><item><association><ipOwnerId>123456789012</ipOwnerId><publicDnsName>ip-${pub.replaceAll('.', '-')}.ec2.internal</publicDnsName><publicIp>${pub}</publicIp></association><primary>true</primary><privateIpAddress>${ip}</privateIpAddress></item></privateIpAddressesSet><sourceDestCheck>true</sourceDestCheck><status>in-use</status><subnetId>subnet-9e0ca76978e26ace7</subnetId><vpcId>vpc-fb94e4a86453bf1cd</vpcId><interfaceType>interface</interfaceType></item></networkInterfaceSet><rootDeviceName>/dev/sda1</rootDeviceName><rootDeviceType>ebs</rootDeviceType><groupSet/><sourceDestCheck>true</sourceDestCheck><sriovNetSupport>simple</sriovNetSupport><stateReason><code/><message/></stateReason><tagSet><item><key>Environment</key><value>${environment}</value></item><item><key>Role</key><value>${role}</value></item><item><key>Name</key><value>agent &amp; worker &lt;${index}&gt;</value></item></tagSet><virtualizationType>hvm</virtualizationType><hibernationOptions/><metadataOptions><state>applied</state><httpTokens>optional</httpTokens><httpPutResponseHopLimit>1</httpPutResponseHopLimit><httpEndpoint>enabled</httpEndpoint><httpProtocolIpv6>disabled</httpProtocolIpv6><instanceMetadataTags>disabled</instanceMetadataTags></metadataOptions><instanceId>${id}</instanceId><imageId>ami-12c6146b</imageId><instanceState><code>${state[0]}</code><name>${state[1]}</name></instanceState><privateDnsName>ip-${ip.replaceAll('.', '-')}.ec2.internal</privateDnsName><dnsName>ec2-${pub.replaceAll('.', '-')}.compute-1.amazonaws.com</dnsName><reason/><amiLaunchIndex>0</amiLaunchIndex><productCodes/><instanceType>${types[index % types.length]}</instanceType><launchTime>2026-11-27T11:23:11.000Z</launchTime><placement><groupName/><tenancy>default</tenancy><availabilityZone>${region}a</availabilityZone></placement><platformDetails>Linux/UNIX</platformDetails><monitoring><state>disabled</state></monitoring><subnetId>subnet-9e0ca76978e26ace7</subnetId><vpcId>vpc-fb94e4a86453bf1cd</vpcId><privateIpAddress>${ip}</privateIpAddress><ipAddress>${pub}</ipAddress></item>`;
}

/** Pages per account, region and state filter, built once: the stub answers from memory at once. */
const pages = new Map();
function pagesOf(region, states, perRegion = billedPerRegion * 11 / 10, account = 0) {
	const key = `${account} ${region} ${perRegion} ${[...states].sort().join(',')}`;
	let list = pages.get(key);
	if (!list) {
		const items = [];
		for (let index = 0; index < perRegion; index++) {
			const xml = instanceXml(region, index, account);
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

/** The account ID of the many-accounts run's account `n` (1 to 50). */
const accountId = n => String(100_000_000_000 + n);

export async function startStub(perRegion, perAccountRegion = 55) {
	const server = http.createServer((request, response) => {
		const chunks = [];
		request.on('data', chunk => chunks.push(chunk));
		request.on('end', () => {
			const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
			const credential = /Credential=([^/]+)\/\d+\/([^/]+)\//.exec(String(request.headers.authorization ?? ''));
			const region = credential?.[2] ?? 'us-east-1';
			// A key minted by AssumeRole names its account: ASIA + the account's 12 digits.
			const assumed = /^ASIA(\d{12})$/.exec(credential?.[1] ?? '')?.[1];
			if (form.get('Action') === 'AssumeRole') {
				const account = /^arn:aws:iam::(\d{12}):role\//.exec(form.get('RoleArn') ?? '')?.[1] ?? '123456789012';
				const expires = new Date(Date.now() + Number(form.get('DurationSeconds') ?? 3600) * 1000).toISOString();
				response.writeHead(200, {'content-type': 'text/xml'});
				response.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA${account}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token-${account}</SessionToken><Expiration>${expires}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA:envwatch</AssumedRoleId><Arn>arn:aws:sts::${account}:assumed-role/envwatch-member/envwatch</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`);
				return;
			}

			if (form.get('Action') === 'GetCallerIdentity') {
				response.writeHead(200, {'content-type': 'text/xml'});
				response.end('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/bench</Arn><UserId>AKIDTEST</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>');
				return;
			}

			if (form.get('Action') === 'DescribeVolumes') {
				// Each instance's root volume (8 GiB gp3), as moto answers a filter on attachment.instance-id.
				const ids = [];
				for (let n = 1; form.has(`Filter.1.Value.${n}`); n++) {
					ids.push(form.get(`Filter.1.Value.${n}`));
				}

				const items = ids.map(id => `<item><volumeId>vol-${id.slice(2)}</volumeId><size>8</size><availabilityZone>${region}a</availabilityZone><status>in-use</status><createTime>2026-11-27T11:23:11.000Z</createTime><attachmentSet><item><volumeId>vol-${id.slice(2)}</volumeId><instanceId>${id}</instanceId><device>/dev/sda1</device><status>attached</status><attachTime>2026-11-27T11:23:11.000Z</attachTime><deleteOnTermination>true</deleteOnTermination></item></attachmentSet><volumeType>gp3</volumeType><iops>3000</iops><throughput>125</throughput><encrypted>false</encrypted><multiAttachEnabled>false</multiAttachEnabled></item>`).join('');
				response.writeHead(200, {'content-type': 'text/xml;charset=UTF-8'});
				response.end(`<?xml version="1.0" encoding="UTF-8"?>\n<DescribeVolumesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><volumeSet>${items}</volumeSet></DescribeVolumesResponse>`);
				return;
			}

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

			const list = assumed ? pagesOf(region, states, perAccountRegion, Number(assumed) - 100_000_000_000) : pagesOf(region, states, perRegion);
			const token = form.get('NextToken');
			const page = token ? Number(token.replace('page-', '')) : 0;
			response.writeHead(200, {'content-type': 'text/xml;charset=UTF-8', 'content-length': list[page].length});
			response.end(list[page]);
		});
	});
	// Idle connections are kept a minute, as AWS's endpoints keep them (Node's server closes them
	// after 5 s, sooner than the next poll of a busy machine: each poll would connect afresh).
	server.keepAliveTimeout = 60_000;
	await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
	return {url: `http://127.0.0.1:${server.address().port}`, close: () => server.close()};
}

const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mb = bytes => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const cli = fileURLToPath(new URL('../../dist/bin/cli.js', import.meta.url));
const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout.trim()) || 100;

/** A temporary home for one CLI run: config (the 4 regions, no Cost Explorer; `accounts` roles to assume), state and XDG dirs. */
function cliHome(url, accounts = 0) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-bench-'));
	const roles = Array.from({length: accounts}, (_, index) => ({name: `team-${index + 1}`, roleArn: `arn:aws:iam::${accountId(index + 1)}:role/envwatch-member`}));
	fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({regions, costExplorer: {enabled: false}, ...(accounts > 0 ? {accounts: roles} : {})}));
	const env = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (!key.startsWith('AWS_')) {
			env[key] = value;
		}
	}

	Object.assign(env, {
		AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true',
		AWS_CONFIG_FILE: path.join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'), XDG_CONFIG_HOME: path.join(dir, 'xdg'),
	});
	const args = ['--read-only', '--config', path.join(dir, 'config.json'), '--endpoint-url', url, '--state-dir', path.join(dir, 'state')];
	return {dir, env, args, done: () => fs.rmSync(dir, {recursive: true, force: true})};
}

/** /proc figures of a process: RSS, peak RSS and CPU seconds so far. */
function proc(pid) {
	const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = name => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
	const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
	return {rss: kb('VmRSS'), peak: kb('VmHWM'), cpu: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond};
}

/** The built CLI, headless, against the stub: /proc read as each poll's snapshot line comes out. */
async function headless(url, interval, polls, accounts = 0) {
	const home = cliHome(url, accounts);
	const child = spawn(process.execPath, [cli, '--headless', '--json', '--interval', String(interval), ...home.args], {env: home.env, stdio: ['ignore', 'pipe', 'pipe']});
	let stderr = '';
	child.stderr.on('data', chunk => {
		stderr += chunk;
	});
	const samples = [];
	let errors = 0;
	await new Promise((resolve, reject) => {
		let buffered = '';
		child.stdout.on('data', chunk => {
			buffered += chunk;
			let newline;
			while ((newline = buffered.indexOf('\n')) !== -1) {
				const line = buffered.slice(0, newline);
				buffered = buffered.slice(newline + 1);
				if (line.startsWith('{"type":"snapshot"')) {
					samples.push({...proc(child.pid), at: performance.now()});
					errors += JSON.parse(line).error ? 1 : 0;
					if (samples.length >= polls) {
						child.kill('SIGTERM');
					}
				}
			}
		});
		child.on('error', reject);
		child.on('exit', () => (samples.length >= polls ? resolve() : reject(new Error(`envwatch --headless ended after ${samples.length} polls: ${stderr.slice(-500)}`))));
	});
	home.done();
	return {samples, errors};
}

/**
 * `--once` against a small fleet: wall, peak RSS (GNU time's %M) and CPU (user + system, which a
 * loaded machine changes less than the wall time), median of `runs`. Not spawnSync: the stub answers
 * from this process.
 */
async function once(url, runs) {
	const home = cliHome(url);
	const results = [];
	for (let index = 0; index < runs; index++) {
		const child = spawn('/usr/bin/time', ['-f', '%e %M %U %S', process.execPath, cli, '--once', ...home.args], {env: home.env, stdio: ['ignore', 'ignore', 'pipe']});
		let stderr = '';
		child.stderr.on('data', chunk => {
			stderr += chunk;
		});
		const status = await new Promise(resolve => child.on('exit', resolve));
		const [wall, kb, user, system] = stderr.trim().split('\n').at(-1).split(' ').map(Number);
		results.push({wall, rss: kb * 1024, cpu: user + system, status});
	}

	home.done();
	return results;
}

export async function run() {
	const polls = Number(process.argv.find(word => /^\d+$/.test(word)) ?? 6);
	const stub = await startStub();
	const small = await startStub(11);
	try {
		for (const region of regions) {
			pagesOf(region, new Set(['pending', 'running']));
			pagesOf(region, new Set(['pending', 'running', 'stopping', 'stopped']));
		}

		const lines = [];
		// Back to back (1 s interval): CPU per poll is the CPU between two snapshot lines.
		const fast = await headless(stub.url, 1, polls);
		const steady = fast.samples.slice(1);
		const perPoll = steady.slice(1).map((sample, index) => sample.cpu - steady[index].cpu);
		const wall = steady.slice(1).map((sample, index) => (sample.at - steady[index].at) / 1000);
		lines.push(`envwatch --headless, 10,000 running + 1,000 stopped instances in ${regions.length} regions, stub answering at once, ${polls} polls at 1 s${fast.errors ? `, ${fast.errors} STALE` : ''}: CPU per poll median ${median(perPoll).toFixed(2)} s (max ${Math.max(...perPoll).toFixed(2)}), poll to poll ${median(wall).toFixed(2)} s; RSS after each poll ${fast.samples.map(sample => mb(sample.rss)).join(' / ')}, peak ${mb(fast.samples.at(-1).peak)}`);
		// The same fleet over 50 accounts (a role assumed in each): the first poll assumes them.
		const many = await headless(stub.url, 1, polls, 50);
		const manySteady = many.samples.slice(1);
		const manyPerPoll = manySteady.slice(1).map((sample, index) => sample.cpu - manySteady[index].cpu);
		const manyWall = manySteady.slice(1).map((sample, index) => (sample.at - manySteady[index].at) / 1000);
		lines.push(`the same fleet over 50 accounts x ${regions.length} regions (50 running + 5 stopped in each, 50 roles assumed), ${polls} polls at 1 s${many.errors ? `, ${many.errors} STALE` : ''}: poll wall (poll to poll less the 1 s interval) median ${(median(manyWall) - 1).toFixed(2)} s (max ${(Math.max(...manyWall) - 1).toFixed(2)}), CPU per poll median ${median(manyPerPoll).toFixed(2)} s (max ${Math.max(...manyPerPoll).toFixed(2)}), ${(median(manyPerPoll) / median(perPoll)).toFixed(2)}x one account's; RSS after each poll ${many.samples.map(sample => mb(sample.rss)).join(' / ')}, peak ${mb(many.samples.at(-1).peak)}`);
		// The default interval: CPU over two whole intervals after the first poll.
		const slow = await headless(stub.url, 15, 3);
		const share = (slow.samples[2].cpu - slow.samples[0].cpu) / ((slow.samples[2].at - slow.samples[0].at) / 1000);
		lines.push(`envwatch --headless at the default 15 s, same fleet: ${(share * 100).toFixed(1)}% of a core over 2 intervals, RSS ${slow.samples.map(sample => mb(sample.rss)).join(' / ')}`);
		if (fs.existsSync('/usr/bin/time')) {
			const results = await once(small.url, 5);
			lines.push(`envwatch --once --read-only, AWS mode, 44 instances in ${regions.length} regions (stub): wall median ${median(results.map(r => r.wall)).toFixed(2)} s (CPU ${median(results.map(r => r.cpu)).toFixed(2)} s), peak RSS median ${mb(median(results.map(r => r.rss)))} (exit ${[...new Set(results.map(r => r.status))].join(',')})`);
		}

		return lines;
	} finally {
		stub.close();
		small.close();
	}
}

if (process.argv[2] === '--serve') {
	// The stub alone, for trying the CLI by hand: prints its URL and answers until killed.
	const stub = await startStub(process.argv[3] ? Number(process.argv[3]) : undefined);
	console.log(stub.url);
} else if (import.meta.url === `file://${process.argv[1]}`) {
	for (const line of await run()) {
		console.log(line);
	}
}
