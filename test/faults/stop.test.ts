import {spawnSync, spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {CreateTagsCommand, TerminateInstancesCommand} from '@aws-sdk/client-ec2';
import {afterAll, describe, expect, it} from 'vitest';
import {cliPath, type CliProcess} from '../helpers/cli.js';
import {ec2, launch} from '../helpers/moto.js';
import {outcomes, readAudit, regionFlags, stackLine, until, useFaultHarness, type Json} from './harness.js';

// Fault matrix, faults around a stop: a full disk, instances changing under a stop, signals in the
// middle of one, a closed pipe, agents launched again after one.
const h = useFaultHarness();

/** The instance IDs a StopInstances request names (EC2's query protocol: InstanceId.1=...). */
function idsIn(body: string): string[] {
	return [...new URLSearchParams(body)].filter(([key]) => key.startsWith('InstanceId.')).map(([, value]) => value);
}

const mounts: string[] = [];
afterAll(() => {
	for (const dir of mounts) {
		spawnSync('umount', [dir]);
	}
});

/** A tmpfs of `kib` KiB with all but `freeKib` of it taken by a filler file (needs root: fails, never skips, without it). */
function smallDisk(kib: number, freeKib: number): string {
	const dir = h.dir();
	const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir], {encoding: 'utf8'});
	if (mount.status !== 0) {
		throw new Error(`mounting a ${kib} KiB tmpfs at ${dir} failed (the disk-full rows need root): ${mount.stderr}`);
	}

	mounts.push(dir);
	fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc((kib - freeKib) * 1024));
	return dir;
}

describe('fault matrix: disk full', () => {
	it('audit log on a full disk (--audit-log /dev/full): the stop still happens, the failure is on stderr, --once exits non-zero', async () => {
		const ids = await launch(h.moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'});
		const result = await h.run(['--once', '--config', h.config(), ...regionFlags, '--state-dir', h.dir(), '--audit-log', '/dev/full']);
		const states = await h.states();
		expect(ids.map(id => states.get(id)), `${result.stdout}\n${result.stderr}`).toEqual(['stopped', 'stopped']);
		expect(result.stderr).toMatch(/\/dev\/full/);
		expect(result.stderr).toMatch(/ENOSPC|no space/i);
		expect(result.stderr + result.stdout).not.toMatch(stackLine);
		expect(result.code).not.toBe(0);
	});

	it('state dir (and its audit log) on a nearly full disk: the stop still happens, the failure is on stderr, exit non-zero, every audit line that exists is valid JSON', async () => {
		const ids = await launch(h.moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'});
		const state = smallDisk(12, 4);
		const result = await h.run(['--once', '--config', h.config(), ...regionFlags, '--state-dir', state]);
		const states = await h.states();
		expect(ids.map(id => states.get(id)), `${result.stdout}\n${result.stderr}`).toEqual(['stopped', 'stopped']);
		expect(result.stderr).toMatch(/ENOSPC|no space/i);
		expect(result.stderr + result.stdout).not.toMatch(stackLine);
		expect(result.code).not.toBe(0);
		readAudit(path.join(state, 'audit.log'));
		for (const name of fs.readdirSync(state).filter(file => file.endsWith('.json'))) {
			expect(() => JSON.parse(fs.readFileSync(path.join(state, name), 'utf8')), `${name} is whole`).not.toThrow();
		}
	});
});

describe('fault matrix: instances change between the re-list and a batch of a stop', () => {
	it('retagged and terminated before their batch (ENVWATCH_MAX_BATCH=2): not acted on, out-of-scope in the audit log; the rest stopped', async () => {
		const ids = await launch(h.moto.url, {region: 'us-east-1', count: 6, environment: 'dev', role: 'agent'});
		let retagged: string | undefined;
		let terminated: string | undefined;
		h.proxy.before = async request => {
			if (request.action !== 'StopInstances' || request.n !== 1) {
				return;
			}

			// Between the first batch and the others: one later agent becomes a monitor, another is terminated.
			const first = idsIn(request.body);
			[retagged, terminated] = ids.filter(id => !first.includes(id));
			const client = ec2(h.moto.url, 'us-east-1');
			await client.send(new CreateTagsCommand({Resources: [retagged!], Tags: [{Key: 'Role', Value: 'monitor'}]}));
			await client.send(new TerminateInstancesCommand({InstanceIds: [terminated!]}));
			client.destroy();
		};
		const state = h.dir();
		const audit = path.join(state, 'audit.log');
		const result = await h.run(['--once', '--config', h.config(), ...regionFlags, '--state-dir', state, '--audit-log', audit], {ENVWATCH_MAX_BATCH: '2'});
		expect(result.stderr + result.stdout).not.toMatch(stackLine);
		// Batches of two: the first, then the rest (the two that left scope are not sent).
		expect(h.proxy.seen.filter(request => request.action === 'StopInstances').length).toBeGreaterThanOrEqual(2);
		expect(h.proxy.seen.filter(request => request.action === 'StopInstances').flatMap(request => idsIn(request.body))).not.toContain(retagged);
		const states = await h.states();
		expect(states.get(retagged!)).toBe('running');
		const recorded = outcomes(readAudit(audit));
		// A paced stop writes each batch's outcomes as it completes, and all of them again when it closes.
		expect(new Set(recorded.get(retagged!))).toEqual(new Set(['out-of-scope']));
		expect(recorded.get(terminated!)?.length).toBeGreaterThan(0);
		expect(recorded.get(terminated!)?.every(outcome => outcome === 'out-of-scope' || outcome === 'not-found')).toBe(true);
		for (const id of ids.filter(id => id !== retagged && id !== terminated)) {
			expect({id, state: states.get(id)}).toEqual({id, state: 'stopped'});
		}
	});
});

describe('fault matrix: signals in the middle of a large stop', () => {
	/** 20 dev agents stopped two a batch by a headless run; the third batch hangs until the process is gone. */
	async function stopUnderWay(count: number): Promise<{ids: string[]; cli: CliProcess; args: string[]; audit: string; state: string; open: () => void}> {
		const ids = await launch(h.moto.url, {region: 'us-east-1', count, environment: 'dev', role: 'agent'});
		let open: () => void = () => undefined;
		const gate = new Promise<void>(resolve => {
			open = resolve;
		});
		h.proxy.before = async request => {
			if (request.action === 'StopInstances' && request.n >= 3) {
				await gate;
			}
		};
		h.proxy.rule = request => request.action === 'StopInstances' && request.n >= 3 ? {status: 503, code: 'Unavailable'} : undefined;
		const state = h.dir();
		const audit = path.join(state, 'audit.log');
		const args = ['--config', h.config(), ...regionFlags, '--state-dir', state, '--audit-log', audit];
		const cli = h.spawn(['--headless', '--json', '--interval', '1', ...args], {ENVWATCH_MAX_BATCH: '2'});
		await until(() => h.proxy.seen.some(request => request.action === 'StopInstances' && request.n === 3), 'the third StopInstances batch', 20_000);
		return {ids, cli, args, audit, state, open};
	}

	it('SIGTERM twice: the first waits for the stop, the second abandons it at once (exit 143, its end recorded, lock and socket removed); finished batches are in the audit log, last-stop.json allows undo, and a restart reports the cut-short stop without starting agents or reading a drop', async () => {
		const {ids, cli, args, audit, state, open} = await stopUnderWay(20);
		let code: number | null;
		try {
			cli.child.kill('SIGTERM');
			await until(() => cli.stderr.includes('SIGTERM: finishing the stop of dev first'), 'the first SIGTERM heard', 10_000);
			cli.child.kill('SIGTERM');
			code = await new Promise<number | null>(resolve => cli.child.exitCode === null ? cli.child.on('close', resolve) : resolve(cli.child.exitCode));
		} finally {
			open();
		}

		expect(code).toBe(143);
		const downs = readAudit(audit).filter(entry => entry['kind'] === 'down');
		expect(downs).toHaveLength(1);
		expect(downs[0]!['reason']).toMatch(/^SIGTERM again: ended at once, abandoning the stop of dev: \d+ of 20 agents left$/);
		expect(fs.existsSync(path.join(state, 'envwatch.lock'))).toBe(false);
		expect(fs.existsSync(path.join(state, 'envwatch.sock'))).toBe(false);

		const done = h.proxy.seen.filter(request => request.action === 'StopInstances' && request.n <= 2).flatMap(request => idsIn(request.body));
		expect(done).toHaveLength(4);
		const states = await h.states();
		expect(ids.filter(id => states.get(id) === 'stopped').sort()).toEqual([...done].sort());
		const recorded = outcomes(readAudit(audit));
		for (const id of done) {
			expect({id, outcomes: [...new Set(recorded.get(id))]}).toEqual({id, outcomes: ['stopping']});
		}

		const lastStop = JSON.parse(fs.readFileSync(path.join(state, 'last-stop.json'), 'utf8')) as Json;
		expect((lastStop['targets'] as Json[]).map(target => target['id'])).toEqual(expect.arrayContaining(done));

		h.proxy.rule = () => undefined;
		h.proxy.before = () => undefined;
		const restart = await h.run(['--once', '--json', ...args]);
		expect(restart.stderr).not.toMatch(stackLine);
		const after = readAudit(audit);
		expect(`${restart.stdout}\n${restart.stderr}\n${JSON.stringify(after)}`).toMatch(/interrupted|cut short|unfinished|incomplete/i);
		expect(h.proxy.seen.filter(request => request.action === 'StartInstances')).toEqual([]);
		expect(after.filter(entry => entry['kind'] === 'start' || entry['kind'] === 'undo')).toEqual([]);
		// dev's spend fell because envwatch stopped agents there: not a -20% "increase" to judge by.
		const dev = ((JSON.parse(restart.stdout) as Json)['environments'] as Json[]).find(view => view['name'] === 'dev')!;
		expect(dev['increasePct'] === null || (dev['increasePct'] as number) >= 0, `dev increasePct ${String(dev['increasePct'])}`).toBe(true);
	});

	it('SIGKILL in the middle of a stop (nothing can be recorded by the process itself): the next engine takes its lock over, saying its pid is gone, and reports the cut-short stop', async () => {
		const {cli, args, audit, open} = await stopUnderWay(6);
		const pid = cli.child.pid!;
		try {
			await cli.stop('SIGKILL');
		} finally {
			open();
		}

		expect(readAudit(audit).filter(entry => entry['kind'] === 'down')).toEqual([]);
		h.proxy.rule = () => undefined;
		h.proxy.before = () => undefined;
		const restart = await h.run(['--once', '--json', ...args]);
		expect(restart.stderr).not.toMatch(stackLine);
		const after = readAudit(audit);
		expect(after.find(entry => entry['kind'] === 'takeover')?.['reason']).toMatch(new RegExp(`from pid ${pid} on .+ \\(headless, since .+\\): pid ${pid} on .+ is gone$`));
		expect(after.some(entry => entry['kind'] === 'interrupted')).toBe(true);
	});
});

describe('fault matrix: a closed pipe', () => {
	it('envwatch --headless | head -n1: exit 0, no stack trace', async () => {
		const env = h.env();
		const command = `timeout 20 ${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} --demo calm --headless --interval 1 --state-dir ${JSON.stringify(h.dir())} | head -n1; echo "exit=\${PIPESTATUS[0]}" >&2`;
		const child = spawn('bash', ['-c', command], {env});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', chunk => (stdout += chunk));
		child.stderr.on('data', chunk => (stderr += chunk));
		await new Promise(resolve => child.on('close', resolve));
		expect(stdout.split('\n').filter(Boolean)).toHaveLength(1);
		expect(stdout).toMatch(/ poll /);
		expect(stderr).not.toMatch(stackLine);
		expect(stderr).not.toMatch(/EPIPE/);
		expect(stderr).toMatch(/exit=0$/m);
	});
});

describe('fault matrix: agents launched again after a stop', () => {
	it('are stopped again with a re-spawn reason, until envwatch reset -e dev --yes', async () => {
		const first = await launch(h.moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'});
		const state = h.dir();
		const audit = path.join(state, 'audit.log');
		const args = ['--config', h.config(), ...regionFlags, '--state-dir', state, '--audit-log', audit];
		const cli = h.spawn(['--headless', '--json', '--interval', '1', ...args]);
		const actions = () => cli.lines().filter(line => line.includes('"type":"action"')).map(line => JSON.parse(line) as Json);
		await cli.waitForLine(() => actions().length >= 1, 15_000);
		expect(actions()[0]).toMatchObject({kind: 'stop', environments: ['dev'], outcome: 'executed'});
		// One new agent: under dev's cap and no increase over the window, so only the stop's breaker catches it.
		const [again] = await launch(h.moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
		await cli.waitForLine(() => actions().some(action => (action['instanceIds'] as string[]).includes(again!)), 15_000);
		await cli.stop('SIGTERM');
		let states = await h.states();
		expect([...first, again!].map(id => states.get(id))).toEqual(['stopped', 'stopped', 'stopped']);
		const entries = readAudit(audit);
		expect(entries.some(entry => (entry['instanceIds'] as string[]).includes(again!) && (entry['kind'] === 'respawn' || /re-?spawn/i.test(String(entry['reason']))))).toBe(true);

		const reset = await h.run(['reset', '-e', 'dev', '--yes', ...args]);
		expect(reset.stderr).toBe('');
		expect(reset.code).toBe(0);
		const [later] = await launch(h.moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
		const once = await h.run(['--once', ...args]);
		expect(once.code, once.stdout + once.stderr).toBe(0);
		states = await h.states();
		expect(states.get(later!)).toBe('running');
	});
});
