import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {CliProcess, isolatedEnv, runCli, tempDir} from '../helpers/cli.js';
import {fillUp, mountSmallDisk, unmountSmallDisk} from '../helpers/full-disk.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const running: CliProcess[] = [];
afterEach(async () => {
	await Promise.all(running.splice(0).map(async cli => cli.stop('SIGKILL')));
});

function auditLines(file: string): Json[] {
	return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(line => JSON.parse(line) as Json) : [];
}

/** Temporary dirs made by the tests in this file, removed after each. */
const made: string[] = [];
function ownDir(): string {
	const dir = tempDir();
	made.push(dir);
	return dir;
}

afterEach(() => {
	for (const dir of made.splice(0)) {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

describe('usage errors: one message, exit 2, nothing polled', () => {
	it('lists every bad flag at once', {tags: ['nodes']}, async () => {
		const result = await runCli(['--demo', 'nope', '--interval', '0', '--bogus', '--enviroments', 'dev']);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('--demo nope: unknown scenario — expected one of: calm');
		expect(result.stderr).toContain('--interval 0: expected a number of seconds from 1 to 86400');
		expect(result.stderr).toContain('--bogus: unknown flag');
		expect(result.stderr).toContain('--enviroments: unknown flag — did you mean --environments?');
		expect(result.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
	});

	it('--stop-env with --environments is refused rather than stopping both', async () => {
		const state = tempDir();
		const result = await runCli(['--demo', 'calm', '-e', 'staging', '--stop-env', 'dev', '--yes', '--state-dir', state]);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('--stop-env with --environments: choose one');
		expect(fs.readdirSync(state)).toEqual([]);
	});

	it('names an unknown environment and lists the configured ones', async () => {
		const result = await runCli(['--demo', '--once', '--environments', 'dev', 'qa']);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('--environments qa: not a configured environment — expected one of: dev, staging, production');
	});

	it('--pause-env names an unknown or unmonitored environment and the right ones; nothing is polled', async () => {
		const unknown = await runCli(['--demo', 'calm', '--headless', '--pause-env', 'staging,qa']);
		expect(unknown.code).toBe(2);
		expect(unknown.stderr).toContain('--pause-env qa: not a configured environment — expected one of: dev, staging, production');
		expect(unknown.stderr).not.toContain('--pause-env staging');
		expect(unknown.stdout).toBe('');
		const unmonitored = await runCli(['--demo', 'calm', '--headless', '-e', 'dev', '--pause-env', 'staging']);
		expect(unmonitored.code).toBe(2);
		expect(unmonitored.stderr).toContain('--pause-env staging: not monitored in this run (-e dev) — expected one of: dev');
		expect(unmonitored.stdout).toBe('');
	});

	it('reports every configuration problem with its key path, value and what is allowed', async () => {
		const dir = tempDir();
		const file = path.join(dir, 'team.json');
		fs.writeFileSync(file, JSON.stringify({environments: {dev: {thresholdPct: -1, windowMinuts: 30}, staging: {agents: 'some'}}, warnRatio: 2}));
		const state = tempDir();
		const result = await runCli(['--demo', '--once', '--config', file, '--state-dir', state]);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('environments.dev.thresholdPct: -1 — expected a number greater than 0');
		expect(result.stderr).toContain('environments.dev.windowMinuts: unknown key — did you mean "windowMinutes"?');
		expect(result.stderr).toContain('environments.staging.agents: "some" — expected one of "all", "limited", "monitor-only"');
		expect(result.stderr).toContain('warnRatio: 2 — expected a number greater than 0 of at most 1');
		expect(result.stderr).toContain(file);
		// Nothing was polled or stopped: no audit log, no history.
		expect(fs.readdirSync(state)).toEqual([]);
	});

	it('names a malformed file and the line of the problem', async () => {
		const dir = tempDir();
		const file = path.join(dir, 'team.json');
		fs.writeFileSync(file, '{\n  "pollIntervalSeconds": 5,\n  "regions": ["us-east-1",]\n}\n');
		const result = await runCli(['--demo', '--once', '--config', file]);
		expect(result.code).toBe(2);
		expect(result.stderr).toMatch(new RegExp(`${file.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: malformed JSON`));
	});

	it('without --demo and without AWS credentials: says what was tried and what to do, exit 2', async () => {
		// No keys, no profile files, no instance metadata (never reach for 169.254.169.254 from a test).
		const env = Object.fromEntries(Object.entries(isolatedEnv()).filter(([key]) => !key.startsWith('AWS_')));
		const result = await runCli(['--once'], {env: {...env, AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_EC2_METADATA_DISABLED: 'true'}});
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('no AWS credentials could be found');
		expect(result.stderr).toContain('--demo');
		expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
	});
});

describe('--once', () => {
	it('prints the seed dashboard wording and exits 0 when calm', {tags: ['nodes']}, async () => {
		const result = await runCli(['--demo', 'calm', '--once']);
		expect(result.code).toBe(0);
		expect(result.stdout).toContain('ENVIRONMENT STATUS DASHBOARD');
		expect(result.stdout).toMatch(/Dev Environment: +ACTIVE +\(\$2\.34\/hr\) - 4 agents running/);
		expect(result.stdout).toMatch(/Staging Environment: +LIMITED +\(\$1\.84\/hr\) - 2 of 2 agents running/);
		expect(result.stdout).toMatch(/Production Environment: +MONITOR +\(\$0\.15\/hr\) - 1 monitor only/);
		expect(result.stdout).toMatch(/Global Status: +NORMAL +\(\$4\.33\/hr total\)/);
		expect(result.stdout).toContain('COST ALERTS:');
		expect(result.stdout).toContain('- Dev: 0.0% increase (under 2.0% threshold');
	});

	it('--json prints the snapshot object with the documented fields', async () => {
		const result = await runCli(['--demo', 'calm', '--once', '--json', '--environments', 'dev,staging']);
		expect(result.code).toBe(0);
		const snapshot = JSON.parse(result.stdout) as Json;
		expect(snapshot['source']).toContain('SIMULATED');
		expect(Number.isNaN(Date.parse(snapshot['at'] as string))).toBe(false);
		expect(snapshot['environments'].map((view: Json) => view['name'])).toEqual(['dev', 'staging']);
		const dev = snapshot['environments'][0] as Json;
		expect(dev).toMatchObject({name: 'dev', status: 'ACTIVE', thresholdPct: 2, windowMinutes: 30, maxHourlyUsd: 5, agents: {running: 4, allowed: 'all'}, unpriced: 0});
		expect(dev['hourlyUsd']).toBeCloseTo(2.3364, 4);
		expect(snapshot['global']).toMatchObject({name: 'global', status: 'NORMAL', thresholdPct: 1, windowMinutes: 60, maxHourlyUsd: 100});
		expect(snapshot['global']['hourlyUsd']).toBeCloseTo(2.3364 + 1.8448, 4);
		expect(snapshot['decisions']).toEqual([]);
	});

	it('uses the persisted windows: a rise since an earlier run is a breach, acted on, exit 3', async () => {
		const state = tempDir();
		const now = Date.now();
		// An earlier run (e.g. cron, 10 minutes ago) saw dev at $2.20/h.
		fs.writeFileSync(path.join(state, 'samples.json'), JSON.stringify({version: 1, series: {dev: [[now - 600_000, 2.2]]}}));
		const result = await runCli(['--demo', 'calm', '--once', '--json', '--state-dir', state]);
		expect(result.code).toBe(3);
		const snapshot = JSON.parse(result.stdout) as Json;
		const dev = snapshot['environments'][0] as Json;
		// The row shows what the stop this run made left (its window restarted with the stop); the
		// breach's figures are in the decision and the audit log.
		expect(dev).toMatchObject({status: 'STOPPED', baselineUsd: null, increasePct: null, agents: {running: 0}});
		expect(snapshot['decisions']).toEqual([expect.objectContaining({kind: 'stop', environment: 'dev', cascade: false, reason: expect.stringMatching(/^dev \+6\.2% > 2\.0% over 30m/) as unknown})]);
		const audit = auditLines(path.join(state, 'audit.log'));
		const action = audit.find(entry => entry['type'] === 'action');
		expect(action).toMatchObject({actor: 'auto', kind: 'stop', environments: ['dev'], outcome: 'executed'});
		expect(action!['instanceIds']).toHaveLength(4);
		const decision = audit.find(entry => entry['type'] === 'decision' && entry['kind'] === 'stop');
		expect(decision!['figures']).toMatchObject({baselineUsd: 2.2, thresholdPct: 2, windowMinutes: 30});
	});
});

describe('--stop-env', () => {
	it('refuses without a terminal to ask, and stops nothing', async () => {
		const state = tempDir();
		const result = await runCli(['--demo', 'calm', '--stop-env', 'dev', '--state-dir', state]);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('--stop-env dev: refusing to stop 4 agents in dev');
		expect(result.stderr).toContain('pass --yes');
		expect(auditLines(path.join(state, 'audit.log')).filter(entry => entry['type'] === 'action')).toEqual([]);
	});

	it('with --yes stops exactly that environment\'s agents and records who did it', {tags: ['nodes']}, async () => {
		const state = tempDir();
		const result = await runCli(['--demo', 'calm', '--stop-env', 'dev', '--yes', '--state-dir', state]);
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(result.stdout).toContain('stopped 4/4 agents in dev');
		const action = auditLines(path.join(state, 'audit.log')).find(entry => entry['type'] === 'action')!;
		expect(action['actor']).toMatch(/.+@.+/);
		expect(action['environments']).toEqual(['dev']);
		expect(action['results']).toHaveLength(4);
	});

	it('the stop subcommand with --dry-run stops nothing and says so', async () => {
		const state = tempDir();
		const result = await runCli(['stop', '--environments', 'staging', '--demo', 'calm', '--yes', '--dry-run', '--state-dir', state]);
		expect(result.code).toBe(0);
		expect(result.stdout).toContain('[dry run] stop staging: 2 agents (2 permitted)');
		const action = auditLines(path.join(state, 'audit.log')).find(entry => entry['type'] === 'action')!;
		expect(action).toMatchObject({dryRun: true, outcome: 'dry-run'});
	});
});

describe('regions not watched', () => {
	it('--demo unwatched --once: "dev: 3 agents in eu-west-1, not watched"; with --region all they are watched and counted', async () => {
		const result = await runCli(['--once', '--demo', 'unwatched']);
		expect(result.code, result.stdout + result.stderr).toBe(0);
		expect(result.stdout).toContain('UNWATCHED: dev: 3 agents in eu-west-1, not watched');
		const all = await runCli(['--once', '--json', '--demo', 'unwatched', '--region', 'all']);
		expect(all.code, all.stdout + all.stderr).toBe(0);
		const snapshot = JSON.parse(all.stdout) as Json;
		expect(snapshot['regions']).toEqual(['us-east-1', 'us-west-2', 'eu-west-1']);
		expect(snapshot['unwatched']).toMatchObject({regions: [], found: [], error: null});
		expect((snapshot['environments'] as Json[]).find(view => view['name'] === 'dev')).toMatchObject({agents: {running: 7, allowed: 'all'}});
	});
});

describe('start', () => {
	it('start production is refused with the reason, exit 2, nothing started', async () => {
		const state = tempDir();
		const result = await runCli(['start', '--environments', 'production', '--demo', 'calm', '--yes', '--state-dir', state]);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('start 1 agent in production refused: production is monitor only');
		expect(auditLines(path.join(state, 'audit.log')).filter(entry => entry['type'] === 'action')).toEqual([]);
	});

	it('start dev --count 2 --yes launches from the template and says what it adds', async () => {
		const result = await runCli(['start', '--environments', 'dev', '--count', '2', '--demo', 'calm', '--yes']);
		expect(result.code).toBe(0);
		expect(result.stdout).toContain('started 2 t3.large agents in dev (adds $0.17/h); window re-baselined');
	});

	it('refuses to start without confirmation when there is no terminal', async () => {
		const result = await runCli(['start', '--environments', 'dev', '--demo', 'calm']);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('start: refusing to start 1 agent in dev without confirmation');
	});

	it('start -e dev --count 5000 --yes is refused in dollars before anything is launched: exit 2, the figures and the cap', async () => {
		const state = tempDir();
		const result = await runCli(['start', '--environments', 'dev', '--count', '5000', '--demo', 'calm', '--yes', '--state-dir', state]);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('start 5000 agents in dev refused: over dev\'s hourly cap of $5.00/h: $2.34/h now + $416.00/h for 5000 t3.large ($0.0832/h each) = $418.34/h');
		expect(result.stderr).toContain('nothing started');
		expect(auditLines(path.join(state, 'audit.log')).filter(entry => entry['kind'] === 'start' && entry['type'] === 'action')).toEqual([]);
	});

	it('start -e dev staging where staging is refused starts neither: every environment is checked first, exit 2', async () => {
		const state = tempDir();
		// staging allows 2 agents and runs 2: one more is over its cap.
		const result = await runCli(['start', '--environments', 'dev', 'staging', '--demo', 'calm', '--yes', '--state-dir', state]);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('start 1 agent in staging refused: staging allows at most 2 agents');
		expect(result.stderr).toContain('nothing started (not dev either)');
		expect(auditLines(path.join(state, 'audit.log')).filter(entry => entry['kind'] === 'start')).toEqual([]);
	});
});

describe('headless', () => {
	it('--demo dev-spike: one NDJSON object per line; dev is stopped and nothing else', async () => {
		const state = tempDir();
		const cli = new CliProcess(['--demo', 'dev-spike', '--headless', '--json', '--interval', '1', '--state-dir', state], isolatedEnv({ENVWATCH_DEMO_SPEED: '10'}));
		running.push(cli);
		const action = JSON.parse(await cli.waitForLine(line => line.includes('"type":"action"'))) as Json;
		expect(action).toMatchObject({kind: 'stop', environments: ['dev'], actor: 'auto', outcome: 'executed'});
		const stopped = await cli.waitForLine(line => line.includes('"type":"snapshot"') && line.includes('"status":"STOPPED"'));
		const snapshot = JSON.parse(stopped) as Json;
		expect(snapshot['environments'].map((view: Json) => [view['name'], view['status']])).toEqual([['dev', 'STOPPED'], ['staging', 'LIMITED'], ['production', 'MONITOR']]);
		for (const line of cli.lines()) {
			expect(['snapshot', 'decision', 'progress', 'action']).toContain((JSON.parse(line) as Json)['type']);
		}

		expect(await cli.stop('SIGTERM')).toBe(143);
		const audit = auditLines(path.join(state, 'audit.log'));
		expect(audit.filter(entry => entry['type'] === 'action').map(entry => entry['environments'])).toEqual([['dev']]);
	});

	it('--read-only decides but makes no stop call', async () => {
		const state = tempDir();
		const cli = new CliProcess(['--demo', 'dev-spike', '--headless', '--read-only', '--interval', '1', '--state-dir', state], isolatedEnv({ENVWATCH_DEMO_SPEED: '10'}));
		running.push(cli);
		const line = await cli.waitForLine(text => text.includes('ACTION stop'));
		expect(line).toContain('read-only: stop dev not executed');
		// Still breaching on the next poll: nothing was stopped.
		await cli.waitForLine(text => text.includes(' poll dev BREACH') && text.includes('5a'));
		await cli.stop();
	});
});

describe('faults: the guard never dies silently and never loses a record', () => {
	const dir = ownDir;

	/** As isolatedEnv, with config and state dirs this block removes. */
	const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
		const {AWS_PROFILE: _profile, NO_COLOR: _noColor, ...rest} = process.env;
		return {...rest, ENVWATCH_CONFIG_DIR: dir(), ENVWATCH_STATE_DIR: dir(), ...extra};
	};

	const t = Date.now();
	it.each([
		['samples.json', '{"version": 1, "series": null}', 'series: null — expected an object of sample series', 'the sample history starts fresh'],
		['samples.json', '42', 'the content: number 42 — expected an object with version, series', 'the sample history starts fresh'],
		['samples.json', `{"version": 1, "series": {"dev": [[${t}]]}}`, 'series["dev"][0]: an array — expected a [time, usd] pair of numbers', 'the sample history starts fresh'],
		['samples.json', `{"version": 1, "series": {"dev": [[${t}, "NaN"]]}}`, 'series["dev"][0][1]: string "NaN" — expected a cost in $/h', 'the sample history starts fresh'],
		['samples.json', '{"version": 1, "series": {"dev": [[1, 2]]', 'malformed JSON', 'the sample history starts fresh'],
		['last-stop.json', `{"at": ${t}, "actor": "a", "environments": ["dev"], "targets": null, "dryRun": false}`, 'targets: null — expected an array of {id, region}', 'the last stop is forgotten'],
		['last-stop.json', '"stop"', 'the content: string "stop" — expected an object with at, actor, environments, targets, dryRun', 'the last stop is forgotten'],
		['billing.json', '{"cost": null, "calls": 2, "costUsd": 0.02, "source": "x"}', 'the content: unexpected field "source"', 'the billed-cost cache starts fresh'],
		['billing.json', '{"cost": {"todayUsd": [], "monthToDateUsd": {}, "fetchedAt": 1}, "calls": 2, "costUsd": 0.02}', 'cost.todayUsd: an array — expected an object of costs per tag value', 'the billed-cost cache starts fresh'],
		['billing.json', '3', 'the content: number 3 — expected an object with cost, calls, costUsd', 'the billed-cost cache starts fresh'],
	])('a damaged %s (%s) is moved aside, reported once, and that part starts fresh', async (name, content, problem, fresh) => {
		const state = dir();
		fs.writeFileSync(path.join(state, name), content);
		const result = await runCli(['--demo', 'calm', '--once', '--state-dir', state], {env: env()});
		expect(result.code).toBe(0);
		expect(result.stdout).toContain('Dev Environment:');
		const lines = result.stderr.split('\n').filter(Boolean);
		expect(lines).toHaveLength(1);
		expect(lines[0]).toContain(`envwatch: the state file ${path.join(state, name)} is damaged (${problem}`);
		expect(lines[0]).toContain(fresh);
		expect(result.stderr).not.toMatch(/\n\s+at /);
		const aside = fs.readdirSync(state).filter(file => file.startsWith(`${name}.damaged-`));
		expect(aside).toHaveLength(1);
		expect(aside[0]).toMatch(/\.damaged-\d{4}-\d\d-\d\dT\d{6}\.\d{3}Z$/);
		expect(fs.readFileSync(path.join(state, aside[0]!), 'utf8')).toBe(content);
		expect(lines[0]).toContain(`moved it aside to ${path.join(state, aside[0]!)}`);
		expect(auditLines(path.join(state, 'audit.log')).filter(entry => entry['kind'] === 'state').map(entry => entry['reason'])).toEqual([lines[0]!.slice('envwatch: '.length)]);
		// The next run finds nothing damaged.
		const again = await runCli(['--demo', 'calm', '--once', '--state-dir', state], {env: env()});
		expect(again.code).toBe(0);
		expect(again.stderr).toBe('');
	});

	it('an environment named constructor is guarded like any other (it used to stop every poll silently)', async () => {
		const config = dir();
		const file = path.join(config, 'team.json');
		fs.writeFileSync(file, JSON.stringify({environments: {constructor: {tagValues: ['ctor'], priority: 4, thresholdPct: 2, windowMinutes: 30, maxHourlyUsd: 10, agents: 'all', onBreach: 'stop'}}}));
		const state = dir();
		const once = await runCli(['--demo', 'calm', '--once', '--config', file, '--state-dir', state], {env: env()});
		expect(once.stderr).toBe('');
		expect(once.code).toBe(0);
		expect(once.stdout).toMatch(/Constructor Environment: +ACTIVE/);
		const cli = new CliProcess(['--demo', 'calm', '--headless', '--interval', '1', '--config', file, '--state-dir', state], env());
		running.push(cli);
		await cli.waitForLine(line => line.includes(' poll ') && line.includes('constructor ACTIVE'));
		expect(await cli.stop('SIGTERM')).toBe(143);
		expect(cli.stderr).toBe('');
	});

	it('--audit-log /dev/full: the run goes on, says once what it could not record, and --once exits 1', async () => {
		const state = dir();
		// A damaged state file gives the run something to record.
		fs.writeFileSync(path.join(state, 'samples.json'), '[]');
		const result = await runCli(['--demo', 'calm', '--once', '--audit-log', '/dev/full', '--state-dir', state], {env: env()});
		expect(result.code).toBe(1);
		expect(result.stdout).toContain('Dev Environment:');
		expect(result.stdout).toContain('NOT RECORDED: cannot write the audit log /dev/full: ENOSPC');
		const audit = result.stderr.split('\n').filter(line => line.includes('audit log'));
		expect(audit).toEqual(['envwatch: cannot write the audit log /dev/full: ENOSPC: no space left on device, write; envwatch goes on guarding and reports this until a write succeeds']);
		const json = await runCli(['--demo', 'calm', '--once', '--json', '--audit-log', '/dev/full', '--state-dir', state, '--environments', 'dev'], {env: env()});
		expect(json.code).toBe(0); // nothing needed recording this time: nothing lost
		expect((JSON.parse(json.stdout) as Json)['recordError']).toBeNull();
	});

	it('--once on a breach with /dev/full as the audit log: dev is still stopped, exit 3 (the breach comes first), and it says what was not recorded', async () => {
		const state = dir();
		fs.writeFileSync(path.join(state, 'samples.json'), JSON.stringify({version: 1, series: {dev: [[Date.now() - 600_000, 2.2]]}}));
		const result = await runCli(['--demo', 'calm', '--once', '--json', '--audit-log', '/dev/full', '--state-dir', state], {env: env()});
		expect(result.code).toBe(3);
		const snapshot = JSON.parse(result.stdout) as Json;
		expect(snapshot['decisions']).toEqual([expect.objectContaining({kind: 'stop', environment: 'dev'})]);
		expect(snapshot['recordError']).toMatch(/^cannot write the audit log \/dev\/full: ENOSPC/);
		const lastStop = JSON.parse(fs.readFileSync(path.join(state, 'last-stop.json'), 'utf8')) as Json;
		expect(lastStop['environments']).toEqual(['dev']);
		expect(lastStop['targets']).toHaveLength(4);
		expect(result.stderr.split('\n').filter(Boolean)).toEqual([expect.stringContaining('envwatch: cannot write the audit log /dev/full: ENOSPC')]);
	});

	it('--audit-log /dev/full during a spike: dev is still stopped, and every poll line says what is not recorded', async () => {
		const state = dir();
		const cli = new CliProcess(['--demo', 'dev-spike', '--headless', '--interval', '1', '--audit-log', '/dev/full', '--state-dir', state], env({ENVWATCH_DEMO_SPEED: '10'}));
		running.push(cli);
		await cli.waitForLine(line => line.includes('ACTION stop') && line.includes('executed'));
		await cli.waitForLine(line => line.includes(' poll dev STOPPED') && line.includes('NOT RECORDED: cannot write the audit log /dev/full'));
		expect(await cli.stop('SIGTERM')).toBe(143);
		expect(cli.stderr.split('\n').filter(line => line.includes('/dev/full'))).toHaveLength(1);
	});

	it('a reader that closes after the first line (| head -n1) ends a headless run quietly, exit 0', {tags: ['nodes']}, async () => {
		const state = dir();
		const cli = new CliProcess(['--demo', 'calm', '--headless', '--interval', '1', '--state-dir', state], env());
		running.push(cli);
		await cli.waitForLine(line => line.includes(' poll '));
		cli.child.stdout.destroy();
		const code = await new Promise<number | null>(resolve => {
			if (cli.child.exitCode === null) {
				cli.child.on('exit', resolve);
			} else {
				resolve(cli.child.exitCode);
			}
		});
		expect(code).toBe(0);
		expect(cli.stderr).toBe('');
	});
});

describe('configuration and flags: bad input is exit 2 with a clear message, nothing polled', () => {
	const qa = {priority: 4, thresholdPct: 3, windowMinutes: 30, maxHourlyUsd: 5, agents: 'all', onBreach: 'stop', tagValues: ['qa']};
	function teamFile(content: unknown): string {
		const file = path.join(ownDir(), 'team.json');
		fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
		return file;
	}

	it('a single-value flag given twice names the flag', async () => {
		const result = await runCli(['--demo', 'calm', '--once', '--config', 'a.json', '--config', 'b.json', '--interval', '5', '--interval=6']);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('--config: given more than once (--config a.json, --config b.json) — expected it once');
		expect(result.stderr).toContain('--interval: given more than once (--interval 5, --interval 6) — expected it once');
	});

	it('--endpoint-url must be an http(s) URL with a host, and a password in it is never printed', async () => {
		for (const url of ['http://[::1', 'ftp://127.0.0.1:5000', 'http://']) {
			const result = await runCli(['--once', '--endpoint-url', url]);
			expect(result.code, url).toBe(2);
			expect(result.stderr).toContain(`--endpoint-url ${url}: `);
			expect(result.stderr).toContain('expected an http(s) URL with a host');
		}

		const secret = await runCli(['--once', '--endpoint-url', 'http://me:hunter2@127.0.0.1:5000']);
		expect(secret.code).toBe(2);
		expect(secret.stderr).toContain('--endpoint-url: has a user name or password in it');
		expect(secret.stderr).not.toContain('hunter2');
	});

	it('--confirm names configured environments, and only with stop', async () => {
		const once = await runCli(['--demo', 'calm', '--once', '--confirm', 'production']);
		expect(once.code).toBe(2);
		expect(once.stderr).toContain('--confirm: only with stop or --stop-env');
		const state = ownDir();
		const unknown = await runCli(['--demo', 'calm', 'stop', '-e', 'dev', '--confirm', 'dev,prod', '--yes', '--state-dir', state]);
		expect(unknown.code).toBe(2);
		expect(unknown.stderr).toContain('--confirm prod: not a configured environment — expected one of: dev, staging, production');
		expect(fs.existsSync(path.join(state, 'audit.log'))).toBe(false);
	});

	it('reset needs --environments, like stop', async () => {
		const result = await runCli(['reset', '--demo', 'calm']);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('reset: no environment — expected --environments NAME');
	});

	it('--demo before a subcommand takes the default scenario and the subcommand runs', async () => {
		const result = await runCli(['--demo', 'start', '-e', 'dev', '--count', '1', '--yes']);
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(result.stdout).toMatch(/started 1 t3.large agents? in dev/);
	});

	it('messages name real spellings and the flag the user typed', async () => {
		const short = await runCli(['--demo', 'calm', '--once', '-x']);
		expect(short.code).toBe(2);
		expect(short.stderr).toContain('-x: unknown flag — the short flags are -e (--environments), -y (--yes)');
		expect(short.stderr).not.toContain('--e?');

		const stopEnv = await runCli(['--demo', 'calm', '--stop-env', 'qa', '--yes']);
		expect(stopEnv.code).toBe(2);
		expect(stopEnv.stderr).toContain('--stop-env qa: not a configured environment — expected one of: dev, staging, production');

		const shortEnv = await runCli(['--demo', 'calm', '--once', '-e', 'qa']);
		expect(shortEnv.stderr).toContain('-e qa: not a configured environment');

		const config = await runCli(['config']);
		expect(config.code).toBe(2);
		expect(config.stderr).toContain('config: which one? — expected "config path" (where the store is) or "config show" (the effective configuration)');

		const region = await runCli(['--demo', 'calm', '--once', '--region', 'mars-1']);
		expect(region.code).toBe(2);
		expect(region.stderr).toBe('envwatch: --region mars-1: expected a region name like us-east-1, or all\n');
	});

	it('config show --json prints pure JSON: the effective configuration and its layers', async () => {
		const team = teamFile({$schema: './envwatch.schema.json', pollIntervalSeconds: 20});
		const result = await runCli(['config', 'show', '--json', '--config', team]);
		expect(result.code).toBe(0);
		const shown = JSON.parse(result.stdout) as Json;
		expect(shown['config']).toMatchObject({pollIntervalSeconds: 20, breaker: {resetAfterMinutes: null}});
		expect(shown['config']).not.toHaveProperty('$schema');
		expect(shown['layers'].map((layer: Json) => layer['label'])).toEqual(['defaults', 'store', '--config']);
		expect(shown['layers'][2]).toEqual({label: '--config', path: team, exists: true});

		for (const args of [['config', 'path', '--json'], ['--demo', 'calm', 'stop', '-e', 'dev', '--json', '--headless'], ['--demo', 'calm', '--json']]) {
			const refused = await runCli(args);
			expect(refused.code, args.join(' ')).toBe(2);
			expect(refused.stderr).toContain('--json: only with --headless, --once or config show');
		}
	});

	it('every mode validates each layer: a bad value in --config is refused even where the demo overrides it', async () => {
		const team = teamFile({pollIntervalSeconds: '15'});
		for (const args of [['--demo', '--once', '--config', team], ['config', 'show', '--config', team]]) {
			const result = await runCli(args);
			expect(result.code, args.join(' ')).toBe(2);
			expect(result.stderr).toContain(`pollIntervalSeconds: "15" — expected a number from 1 to 86400 (in --config ${team})`);
		}
	});

	it('an environment named constructor works; "global" is reserved', async () => {
		const team = teamFile({environments: {constructor: qa}});
		const result = await runCli(['--demo', 'calm', '--once', '--json', '--config', team, '--environments', 'constructor']);
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		const snapshot = JSON.parse(result.stdout) as Json;
		expect(snapshot['environments'].map((view: Json) => view['name'])).toEqual(['constructor']);

		const reserved = await runCli(['--demo', 'calm', '--once', '--config', teamFile({environments: {global: qa}})]);
		expect(reserved.code).toBe(2);
		expect(reserved.stderr).toContain('environments.global: reserved name — "global" is the total\'s row; expected another environment name');
	});

	it('a config nested 20,000 levels deep, and one with 60,000 bad keys, are refused with a short message', async () => {
		const deep = teamFile(`{"global": ${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`);
		const nested = await runCli(['--demo', 'calm', '--once', '--config', deep]);
		expect(nested.code).toBe(2);
		expect(nested.stderr).toMatch(/global(\.a)+: nested deeper than 32 levels/);
		expect(nested.stderr).not.toContain('Maximum call stack');

		// As many keys as a file may hold (at most 1 MiB).
		const wide = teamFile(Object.fromEntries(Array.from({length: 60_000}, (_, index) => [`k${index}`, 1])));
		const many = await runCli(['--demo', 'calm', '--once', '--config', wide]);
		expect(many.code).toBe(2);
		const lines = many.stderr.trim().split('\n');
		expect(lines[0]).toBe('envwatch: 60000 problems:');
		expect(lines.slice(1, 21).every(line => /^ {2}k\d+: unknown key/.test(line))).toBe(true);
		expect(lines[21]).toBe('  ... and 59980 more');
		expect(lines).toHaveLength(23); // and where the configuration was read from
	});
});

describe('the state dir and the audit log are checked before anything polls', () => {
	it('--state-dir under /proc is exit 2 naming the flag and the OS error (it used to spin forever)', async () => {
		const result = await runCli(['--demo', 'calm', '--once', '--state-dir', '/proc/envwatch']);
		expect(result.code).toBe(2);
		expect(result.stderr).toBe('envwatch: --state-dir /proc/envwatch: cannot create or write it (ENOENT: no such file or directory, mkdir \'/proc/envwatch\') — expected a writable directory\n');
	});

	it('--state-dir that is a file blames --state-dir, not --audit-log', async () => {
		const file = path.join(ownDir(), 'a-file');
		fs.writeFileSync(file, 'x');
		const result = await runCli(['--demo', 'calm', '--once', '--state-dir', file]);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain(`--state-dir ${file}: cannot create or write it (ENOTDIR`);
		expect(result.stderr).not.toContain('--audit-log');
	});

	it('ENVWATCH_STATE_DIR and --audit-log are named as given', async () => {
		const env = isolatedEnv({ENVWATCH_STATE_DIR: '/proc/envwatch-state'});
		const fromEnv = await runCli(['--once', '--region', 'us-east-1'], {env});
		expect(fromEnv.code).toBe(2);
		expect(fromEnv.stderr).toContain('ENVWATCH_STATE_DIR /proc/envwatch-state: cannot create or write it (ENOENT');

		const state = ownDir();
		const audit = await runCli(['--demo', 'calm', '--once', '--state-dir', state, '--audit-log', '/proc/envwatch/audit.log']);
		expect(audit.code).toBe(2);
		expect(audit.stderr).toContain('--audit-log /proc/envwatch/audit.log: cannot create or append to it (ENOENT');
		// The state dir's write check left nothing behind.
		expect(fs.readdirSync(state)).toEqual([]);
	});

	it('a state dir on a full disk (a 64 KiB tmpfs) is warned about once, and the run goes on (the second check used to refuse it, exit 2)', async () => {
		const mount = ownDir();
		mountSmallDisk(mount);
		try {
			const state = path.join(mount, 'state');
			fs.mkdirSync(state);
			// A crashed run's lock: breaking it frees the room the new lock takes on the full disk.
			fs.writeFileSync(path.join(state, 'envwatch.lock'), JSON.stringify({version: 1, pid: 2 ** 22 + 1, host: os.hostname(), since: 1, heartbeatAt: 1, mode: 'once', token: 'crashed'}));
			fillUp(path.join(mount, 'filler'));
			const result = await runCli(['--demo', 'calm', '--once', '--state-dir', state]);
			expect(result.stdout).toContain('Dev Environment:');
			const full = result.stderr.split('\n').filter(line => line.includes('the disk is full'));
			expect(full).toEqual([`envwatch: --state-dir ${state}: the disk is full (ENOSPC: no space left on device, write); envwatch runs and acts, and reports every record it cannot write`]);
			expect(result.stderr).toContain(`cannot write the state file ${path.join(state, 'samples.json')}: ENOSPC`);
			expect(result.code).toBe(1); // records were lost
			// The write check's probe file is not left behind.
			expect(fs.readdirSync(state).filter(name => name.startsWith('.envwatch-probe'))).toEqual([]);
		} finally {
			unmountSmallDisk(mount);
		}
	});
});

describe('monitor-only stops and the breaker from the CLI', () => {
	const dir = ownDir;

	it('stop -e production --yes is refused (exit 2, nothing polled or stopped); --confirm production names it', async () => {
		const state = dir();
		const refused = await runCli(['stop', '-e', 'production', '--yes', '--demo', 'calm', '--state-dir', state]);
		expect(refused.code).toBe(2);
		expect(refused.stderr).toContain('-e production: production is monitor only (onBreach: alert) — name it to stop it: --confirm production (--yes alone is not enough)');
		expect(fs.existsSync(path.join(state, 'audit.log')) ? auditLines(path.join(state, 'audit.log')) : []).toEqual([]);

		const confirmed = await runCli(['stop', '-e', 'production', '--yes', '--confirm', 'production', '--demo', 'calm', '--state-dir', state]);
		expect(confirmed.code).toBe(0);
		// Named, it goes through the enforcer: production runs no agents to stop (its monitor is never one).
		expect(confirmed.stdout).toContain('stop production: no running agents in scope');
	});

	it('a stop trips the breaker; reset -e dev --yes resets it, recorded with the actor; a second reset says nothing is held', async () => {
		const state = dir();
		const stopped = await runCli(['stop', '-e', 'dev', '--yes', '--demo', 'calm', '--state-dir', state]);
		expect(stopped.code).toBe(0);
		expect(JSON.parse(fs.readFileSync(path.join(state, 'breaker.json'), 'utf8'))).toMatchObject({version: 1, environments: {dev: {reason: expect.stringContaining('manual stop of dev')}}});

		const reset = await runCli(['reset', '-e', 'dev', '--yes', '--demo', 'calm', '--state-dir', state]);
		expect(reset.code).toBe(0);
		expect(reset.stdout).toContain('dev: breaker reset; agents may run there again.');
		expect(JSON.parse(fs.readFileSync(path.join(state, 'breaker.json'), 'utf8'))).toEqual({version: 1, environments: {}});
		const entry = auditLines(path.join(state, 'audit.log')).find(line => line['kind'] === 'reset');
		expect(entry).toMatchObject({environments: ['dev'], outcome: 'executed'});
		expect(entry!['actor']).not.toBe('auto');

		const again = await runCli(['reset', '-e', 'dev', '--yes', '--demo', 'calm', '--state-dir', state]);
		expect(again.stdout).toContain('dev: not held (its breaker is not tripped); nothing to reset.');
	});
});
