import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {CliProcess, isolatedEnv, runCli, tempDir} from '../helpers/cli.js';
import {useReceivers, type Receiver} from '../helpers/receiver.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const receiver = useReceivers();
const running: CliProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
	await Promise.all(running.splice(0).map(async cli => cli.stop('SIGKILL')));
	for (const dir of dirs.splice(0)) {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

/** Recognisable secrets: none of them may appear in anything a run writes. */
const secrets = {
	slackPath: 'T0SLACKSECRET/B0SLACKSECRET/xoxSlackToken4242',
	routingKey: 'PDROUTINGKEYsecret0123456789',
	signing: 'hmacSIGNINGsecret987654',
	hookPath: 'hooks/hookPATHsecret5555',
};

/** An isolated environment whose config and state dirs are removed after the test. */
function cleanEnv(): NodeJS.ProcessEnv {
	const env = isolatedEnv();
	dirs.push(env['ENVWATCH_CONFIG_DIR']!, env['ENVWATCH_STATE_DIR']!);
	return env;
}

/** A config dir, a state dir and a config file whose notify targets all point at `server`. */
function setup(server: Receiver, extra: Json[] = []) {
	const env = isolatedEnv({
		SLACK_WEBHOOK_URL: `${server.url}/slack/${secrets.slackPath}`,
		PD_ROUTING_KEY: secrets.routingKey,
		HOOK_URL: `${server.url}/${secrets.hookPath}`,
		HOOK_SECRET: secrets.signing,
	});
	const state = tempDir();
	dirs.push(env['ENVWATCH_CONFIG_DIR']!, env['ENVWATCH_STATE_DIR']!, state);
	const config = path.join(env['ENVWATCH_CONFIG_DIR']!, 'team.json');
	fs.writeFileSync(config, JSON.stringify({notify: [
		{type: 'slack', url: {env: 'SLACK_WEBHOOK_URL'}},
		{type: 'pagerduty', name: 'oncall', routingKey: {env: 'PD_ROUTING_KEY'}, url: `${server.url}/pagerduty`},
		{type: 'webhook', url: {env: 'HOOK_URL'}, secret: {env: 'HOOK_SECRET'}},
		...extra,
	]}));
	return {env, state, config};
}

/** Every file under the dirs, and every output: no secret in any of them. */
function expectNoSecret(outputs: string[], folders: string[]): void {
	const texts = [...outputs];
	const walk = (dir: string) => {
		for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, {withFileTypes: true}) : []) {
			const file = path.join(dir, entry.name);
			if (entry.isDirectory()) {
				walk(file);
			} else if (!file.endsWith('team.json')) {
				texts.push(fs.readFileSync(file, 'utf8'));
			}
		}
	};

	folders.forEach(walk);
	if (folders.length > 0) {
		// The run wrote files (the audit log at least): they are searched too.
		expect(texts.length).toBeGreaterThan(outputs.length);
	}

	for (const text of texts) {
		for (const secret of [...Object.values(secrets), 'T0SLACKSECRET', 'xoxSlackToken4242', 'hookPATHsecret5555']) {
			expect(text).not.toContain(secret);
		}
	}
}

function auditLines(file: string): Json[] {
	return fs.readFileSync(file, 'utf8').trim().split('\n').map(line => JSON.parse(line) as Json);
}

describe('notifications from the CLI', () => {
	it('a dev stop in the demo reaches Slack, PagerDuty and the signed webhook before the process exits; nothing it wrote holds a secret', async () => {
		const server = await receiver();
		const {env, state, config} = setup(server);
		const result = await runCli(['--demo', '--stop-env', 'dev', '--yes', '--config', config, '--state-dir', state], {env});
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(result.stdout).toMatch(/^stopped 4\/4 agents in dev/m);

		const slack = server.at(`/slack/${secrets.slackPath}`).map(request => (request.json as {text: string}).text);
		expect(slack).toHaveLength(1);
		expect(slack[0]).toMatch(/^envwatch: stop of dev\n/);
		expect(slack[0]).toMatch(/by \S+@\S+ on \S+ at /);
		const pages = server.at('/pagerduty').map(request => request.json as Json);
		expect(pages.map(page => [page['event_action'], page['dedup_key'], page['payload']['severity']])).toEqual([['trigger', 'envwatch/dev', 'error']]);
		const hook = server.at(`/${secrets.hookPath}`);
		expect(hook).toHaveLength(1);
		expect(hook[0]!.headers['x-envwatch-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
		expect(hook[0]!.json).toMatchObject({event: 'stop', type: 'action', kind: 'stop', environments: ['dev'], outcome: 'executed'});

		const notified = auditLines(path.join(state, 'audit.log')).filter(entry => entry['type'] === 'notify');
		expect(notified.map(entry => [entry['figures']['target'], entry['outcome']]).sort()).toEqual([['oncall', 'delivered'], ['slack#1', 'delivered'], ['webhook#3', 'delivered']]);

		const shown = await runCli(['config', 'show', '--config', config], {env});
		expect(shown.code).toBe(0);
		expect(shown.stdout).toContain('"env": "SLACK_WEBHOOK_URL"');
		expectNoSecret([result.stdout, result.stderr, shown.stdout, shown.stderr], [state, env['ENVWATCH_STATE_DIR']!, env['ENVWATCH_CONFIG_DIR']!]);
	});

	it('a heartbeat target: a run from cron (--once) pings it before it exits, the URL written nowhere', async () => {
		const server = await receiver();
		const {env, state} = setup(server);
		const config = path.join(env['ENVWATCH_CONFIG_DIR']!, 'heartbeat.json');
		fs.writeFileSync(config, JSON.stringify({notify: [{type: 'heartbeat', name: 'hc', url: {env: 'HOOK_URL'}}]}));
		const result = await runCli(['--demo', 'calm', '--once', '--config', config, '--state-dir', state], {env});
		expect(result.code).toBe(0);
		expect(server.received.map(request => [request.method, request.path])).toEqual([['GET', `/${secrets.hookPath}`]]);
		const notified = auditLines(path.join(state, 'audit.log')).filter(entry => entry['type'] === 'notify');
		expect(notified.map(entry => [entry['figures']['target'], entry['figures']['event'], entry['outcome']])).toEqual([['hc', 'heartbeat', 'delivered']]);
		expectNoSecret([result.stdout, result.stderr], [state]);
	});

	it('serve ended by SIGTERM: the webhook hears `down` (why, and what is now unguarded) before the process exits', async () => {
		const server = await receiver();
		const {env, state} = setup(server);
		const config = path.join(env['ENVWATCH_CONFIG_DIR']!, 'down.json');
		fs.writeFileSync(config, JSON.stringify({notify: [{type: 'webhook', name: 'hook', url: `${server.url}/hook`, events: ['down']}]}));
		const cli = new CliProcess(['serve', '--demo', 'calm', '--interval', '60', '--config', config, '--state-dir', state], env);
		running.push(cli);
		await cli.waitForLine(line => line.includes(' poll '), 30_000);
		expect(server.received).toEqual([]);
		expect(await cli.stop('SIGTERM')).toBe(143);
		const hook = server.at('/hook').map(request => request.json as Json);
		expect(hook).toHaveLength(1);
		expect(hook[0]).toMatchObject({event: 'down', kind: 'down', reason: 'SIGTERM'});
		expect(hook[0]!['environments']).toEqual(['dev', 'staging', 'production']);
		const downs = auditLines(path.join(state, 'audit.log')).filter(entry => entry['kind'] === 'down');
		expect(downs).toHaveLength(1);
	});

	it('a hanging webhook does not hold up the stop: it is done and printed while the request hangs; the exit waits at most ENVWATCH_NOTIFY_DRAIN_SECONDS (20 s unset), recording it as dropped; a bad value is exit 2 before anything is stopped', {timeout: 90_000}, async () => {
		const server = await receiver();
		server.answer = () => 'hang';
		const {env, state} = setup(server);
		const config = path.join(env['ENVWATCH_CONFIG_DIR']!, 'hang.json');
		fs.writeFileSync(config, JSON.stringify({notify: [{type: 'webhook', name: 'slow', url: `${server.url}/hook`}]}));
		const bad = await runCli(['--demo', '--stop-env', 'dev', '--yes', '--config', config, '--state-dir', state], {env: {...env, ENVWATCH_NOTIFY_DRAIN_SECONDS: '0'}});
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain('ENVWATCH_NOTIFY_DRAIN_SECONDS="0": expected a whole number from 1 to 300 (unset for 20)');
		expect(fs.existsSync(path.join(state, 'audit.log')) ? auditLines(path.join(state, 'audit.log')).filter(entry => entry['type'] === 'action') : []).toEqual([]);
		// 3 s rather than the default 20 s: the same bound, sooner.
		const cli = new CliProcess(['--demo', '--stop-env', 'dev', '--yes', '--config', config, '--state-dir', state], {...env, ENVWATCH_NOTIFY_DRAIN_SECONDS: '3'});
		running.push(cli);
		const exited = new Promise<number | null>(resolve => cli.child.on('close', resolve));
		await cli.waitForLine(line => line.startsWith('stopped 4/4 agents in dev'));
		// The stop is complete and recorded while the target has the notification and has not answered.
		const audit = path.join(state, 'audit.log');
		expect(auditLines(audit).filter(entry => entry['type'] === 'action').map(entry => [entry['kind'], entry['outcome']])).toEqual([['stop', 'executed']]);
		await server.waitFor(received => received.length === 1);
		expect(server.hanging).toHaveLength(1);
		expect(await exited).toBe(0);
		expect(cli.stderr).toContain('envwatch: delivering 1 notification before exiting (at most 3s)');
		expect(cli.stderr).toMatch(/envwatch: stop notification to slow \(webhook\): dropped: envwatch exited before it could be delivered/);
		expect(auditLines(audit).filter(entry => entry['type'] === 'notify').map(entry => entry['outcome'].split(':')[0])).toEqual(['dropped']);
	});

	it('a literal secret in the configuration is not printed by config show, nor a bad one quoted in the error', async () => {
		const server = await receiver();
		const {env} = setup(server);
		const file = path.join(env['ENVWATCH_CONFIG_DIR']!, 'literal.json');
		fs.writeFileSync(file, JSON.stringify({notify: [{type: 'pagerduty', routingKey: secrets.routingKey}, {type: 'webhook', url: `${server.url}/${secrets.hookPath}`, secret: secrets.signing}]}));
		const shown = await runCli(['config', 'show', '--config', file], {env});
		expect(shown.code).toBe(0);
		expect(shown.stdout).toContain('"routingKey": "*** (secret; use {\\"env\\": \\"NAME\\"})"');
		fs.writeFileSync(file, JSON.stringify({notify: [{type: 'slack', url: `hxxp://${secrets.slackPath}`}]}));
		const bad = await runCli(['--demo', '--once', '--config', file], {env});
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain('notify.0.url: not valid (value not shown: it is a secret)');
		expectNoSecret([shown.stdout, shown.stderr, bad.stdout, bad.stderr], []);
	});

	it('notify test: one line per target, exit 1 when one fails; --target sends to that one only', async () => {
		const server = await receiver();
		const closed = await receiver();
		const deadUrl = `${closed.url}/dead`;
		await closed.close();
		const {env, config} = setup(server, [{type: 'webhook', name: 'dead', url: deadUrl}]);
		const result = await runCli(['notify', 'test', '--config', config], {env});
		expect(result.code).toBe(1);
		const lines = result.stdout.trim().split('\n');
		expect(lines).toHaveLength(4);
		expect(lines[0]).toMatch(/^ok {2}slack#1 \(slack, 127\.0\.0\.1:\d+ \(path hidden\)\): test message delivered$/);
		expect(lines[1]).toMatch(/^ok {2}oncall \(pagerduty, /);
		expect(lines[2]).toMatch(/^ok {2}webhook#3 \(webhook, /);
		expect(lines[3]).toMatch(/^FAILED {2}dead \(webhook, 127\.0\.0\.1:\d+ \(path hidden\)\): gave-up: ECONNREFUSED/);
		// The test page is resolved right away.
		expect(server.at('/pagerduty').map(request => `${(request.json as Json)['event_action']} ${(request.json as Json)['dedup_key']}`)).toEqual(['trigger envwatch/test', 'resolve envwatch/test']);

		const one = await runCli(['notify', 'test', '--target', 'oncall', '--config', config], {env});
		expect(one.code).toBe(0);
		expect(one.stdout.trim().split('\n')).toHaveLength(1);
		const bad = await runCli(['notify', 'test', '--target', '9', '--config', config], {env});
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain('--target 9: no such notify target — expected a position from 1 to 4 or a name: slack#1, oncall, webhook#3, dead');
		expectNoSecret([result.stdout, result.stderr, one.stdout, one.stderr, bad.stderr], []);
	});

	it('an unknown event in a target\'s events: exit 2 naming it and every valid event, pause among them; nothing polled', async () => {
		const server = await receiver();
		const {env, state, config} = setup(server, [{type: 'webhook', name: 'typo', url: `${server.url}/typo`, events: ['stop', 'paused']}]);
		const result = await runCli(['--demo', '--once', '--config', config, '--state-dir', state], {env});
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('notify.3.events: ["stop","paused"] — expected one of "breach", "stop", "cascade", "emergency", "violation", "respawn", "stale", "recover", "start", "undo", "reset", "pause", "unwatched", "down"');
		expect(fs.readdirSync(state)).toEqual([]);
		expect(server.received).toEqual([]);
	});

	it('a missing secret variable: exit 2 naming the variable, nothing polled', async () => {
		const server = await receiver();
		const {env, state, config} = setup(server);
		delete env['PD_ROUTING_KEY'];
		const result = await runCli(['--demo', '--stop-env', 'dev', '--yes', '--config', config, '--state-dir', state], {env});
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('notify.1.routingKey: the environment variable PD_ROUTING_KEY is not set');
		expect(fs.readdirSync(state)).toEqual([]);
		expect(server.received).toEqual([]);
	});
});

describe('--metrics-listen', () => {
	it('serves /metrics with the headless run\'s figures (promtool-clean) and /healthz', async () => {
		const server = await receiver();
		const {env, state, config} = setup(server);
		const cli = new CliProcess(['--demo', 'calm', '--headless', '--json', '--interval', '1', '--config', config, '--state-dir', state, '--metrics-listen', '127.0.0.1:0'], env);
		running.push(cli);
		const until = Date.now() + 20_000;
		while (!/metrics on (http:\S+)\/metrics/.test(cli.stderr) && Date.now() < until) {
			await new Promise(resolve => setTimeout(resolve, 50));
		}

		const base = /metrics on (http:\S+)\/metrics/.exec(cli.stderr)?.[1];
		expect(base, cli.stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
		await cli.waitForLine(line => line.includes('"type":"snapshot"'));
		expect((await fetch(`${base}/healthz`)).status).toBe(200);
		const text = await (await fetch(`${base}/metrics`)).text();
		const snapshot = JSON.parse(cli.lines().filter(line => line.includes('"type":"snapshot"')).at(-1)!) as Json;
		const check = spawnSync('promtool', ['check', 'metrics'], {input: text, encoding: 'utf8'});
		expect(check.error).toBeUndefined();
		expect(check.stdout + check.stderr).not.toMatch(/envwatch_|parsing error/);
		for (const view of snapshot['environments'] as Json[]) {
			const value = Number(new RegExp(`^envwatch_hourly_cost_usd\\{environment="${view['name']}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
			expect(value).toBeCloseTo(view['hourlyUsd'] as number, 3);
			expect(text).toContain(`envwatch_status{environment="${view['name']}",status="${view['status']}"} 1`);
		}

		expect(await cli.stop('SIGTERM')).toBe(143);
	});

	it('serve --pause-env staging: the pause is notified as it starts and envwatch_automatic_paused shows it', async () => {
		const server = await receiver();
		const {env, state, config} = setup(server);
		const cli = new CliProcess(['serve', '--demo', 'calm', '--interval', '1', '--pause-env', 'staging', '--config', config, '--state-dir', state, '--metrics-listen', '127.0.0.1:0'], env);
		running.push(cli);
		await server.waitFor(received => received.some(request => request.path.startsWith('/slack/')) && received.some(request => request.path === '/pagerduty'));
		const slack = server.received.filter(request => request.path.startsWith('/slack/')).map(request => (request.json as Json)['text'] as string);
		expect(slack[0]).toMatch(/^envwatch: automatic actions paused for staging\n/);
		expect(slack[0]).toMatch(/automatic actions paused for staging by \S+@\S+: staging stays polled and alerted, nothing stops it automatically/);
		expect(server.at('/pagerduty').map(request => `${(request.json as Json)['event_action']} ${(request.json as Json)['dedup_key']}`)).toEqual(['trigger envwatch/paused/staging']);

		const base = /metrics on (http:\S+)\/metrics/.exec(cli.stderr)?.[1];
		expect(base, cli.stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
		// The figures come with the first published snapshot.
		let text = '';
		for (const until = Date.now() + 20_000; !text.includes('envwatch_automatic_paused{') && Date.now() < until;) {
			text = await (await fetch(`${base}/metrics`)).text();
			await new Promise(resolve => setTimeout(resolve, 50));
		}

		const check = spawnSync('promtool', ['check', 'metrics'], {input: text, encoding: 'utf8'});
		expect(check.stdout + check.stderr).not.toMatch(/envwatch_|parsing error/);
		for (const [environment, value] of [['staging', 1], ['dev', 0], ['production', 0], ['global', 0]] as const) {
			expect(text).toContain(`envwatch_automatic_paused{environment="${environment}"} ${value}\n`);
		}

		expect(await cli.stop('SIGTERM')).toBe(143);
	});

	it('a port in use: exit 2 naming the address, before any poll', async () => {
		const server = await receiver();
		const port = new URL(server.url).port;
		const state = tempDir();
		dirs.push(state);
		const result = await runCli(['--demo', 'calm', '--headless', '--state-dir', state, '--metrics-listen', `127.0.0.1:${port}`], {env: cleanEnv()});
		expect(result.code).toBe(2);
		expect(result.stderr).toContain(`--metrics-listen 127.0.0.1:${port}: cannot listen (EADDRINUSE)`);
		expect(result.stdout).toBe('');
	});

	it('is refused with --once and with a bad address', async () => {
		const result = await runCli(['--demo', '--once', '--metrics-listen', 'nine'], {env: cleanEnv()});
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('--metrics-listen nine: expected HOST:PORT or PORT');
		expect(result.stderr).toContain('--metrics-listen: only with a running engine (the dashboard, --headless or serve)');
	});
});
