import {createHmac} from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {describe, expect, it, vi} from 'vitest';
import type {AuditEntry} from '../../source/engine/state/audit.js';
import type {NotifyTargetConfig} from '../../source/config/notify.js';
import {resolveTargets, secretsOf} from '../../source/notify/targets.js';
import {attachNotifier} from '../../source/notify/attach.js';
import {deliveryTailBytes, notifyChecks} from '../../source/notify/health.js';
import {readAuditTail} from '../../source/engine/state/audit-reader.js';
import {attachMetrics} from '../../source/metrics/attach.js';
import {Notifier} from '../../source/notify/notifier.js';
import {withNotifyStatus} from '../../source/notify/status.js';
import {statusText} from '../../source/ui/components/StatusLine.js';
import {useReceivers, type Receiver} from '../helpers/receiver.js';
import {live, useSimHarnesses, type SimHarness} from '../helpers/sim.js';

const {start, pollsBeforeSpike} = useSimHarnesses();
const receiver = useReceivers();

const signingSecret = 'whsec-SIGNING-4f1d2c';

/** Slack, PagerDuty and a signed webhook, all on the loopback receiver, secrets from env vars. */
function targetsFor(server: Receiver, extra: NotifyTargetConfig[] = []) {
	const env = {SLACK_URL: `${server.url}/slack/T000/B000/XSECRETX`, PD_KEY: 'R0UTINGKEY0123456789', HOOK_SECRET: signingSecret};
	const configured: NotifyTargetConfig[] = [
		{type: 'slack', url: {env: 'SLACK_URL'}},
		{type: 'pagerduty', routingKey: {env: 'PD_KEY'}, url: `${server.url}/pagerduty`},
		{type: 'webhook', name: 'hook', url: `${server.url}/hook`, secret: {env: 'HOOK_SECRET'}},
		...extra,
	];
	const problems: string[] = [];
	const targets = resolveTargets(configured, env, problems);
	expect(problems).toEqual([]);
	return targets;
}

function attach(sim: SimHarness, targets: ReturnType<typeof targetsFor>, reports: string[] = [], tuning = {backoffMs: 5, maxBackoffMs: 20, attempts: 3}): Notifier {
	return attachNotifier({targets, audit: sim.audit, store: sim.store, host: 'guard-host', report: line => reports.push(line), tuning});
}

/** The dev-spike scenario up to envwatch's automatic stop of dev. */
async function devStop(sim: SimHarness): Promise<void> {
	await pollsBeforeSpike(sim);
	await sim.poll();
	expect(sim.agents('dev', live)).toEqual([]);
}

const notifyLines = (sim: SimHarness) => sim.auditLines().filter(entry => entry.type === 'notify');

describe('notifications on a stop', () => {
	it('a dev stop reaches Slack, PagerDuty and the webhook with the figures, who and where; each outcome is in the audit log', async () => {
		const server = await receiver();
		const sim = start({scenario: 'dev-spike'});
		const notifier = attach(sim, targetsFor(server));
		const {metrics} = attachMetrics({store: sim.store, audit: sim.audit, notifier, defaults: false});
		await devStop(sim);
		expect(await notifier.drain(20_000)).toBe(true);
		// The outcomes are counted in the metrics too.
		const exposition = await metrics.registry.metrics();
		for (const type of ['slack', 'pagerduty', 'webhook']) {
			expect(exposition).toContain(`envwatch_notifications_total{type="${type}",outcome="delivered"} 2`);
		}

		const stopEntry = sim.auditLines().find(entry => entry.type === 'action' && entry.kind === 'stop')!;
		// Slack: the breach, then the stop, in order, each a readable message.
		const slack = server.at('/slack/T000/B000/XSECRETX').map(request => (request.json as {text: string}).text);
		expect(slack).toHaveLength(2);
		expect(slack[0]).toMatch(/^envwatch: breach in dev\n/);
		expect(slack[1]).toMatch(/^envwatch: stop of dev\n/);
		// before -> now $/h, the increase against the threshold over the window, the cap
		expect(slack[1]).toMatch(/dev: \$2\.34 -> \$2\.42\/h, \+3\.6% vs 2% threshold over 30m, cap \$5\.00\/h/);
		// what was done: how many agents, what it saves; who and on which host
		expect(slack[1]).toContain(`${stopEntry.reason} -> executed (5 agents, saves $2.19/h)`);
		expect(slack[1]).toMatch(/by auto on guard-host at /);

		// The webhook: the audit entry itself plus the figures, signed with HMAC-SHA256 over the body.
		const hooks = server.at('/hook');
		expect(hooks.map(request => request.headers['x-envwatch-event'])).toEqual(['breach', 'stop']);
		for (const request of hooks) {
			expect(request.headers['x-envwatch-signature']).toBe(`sha256=${createHmac('sha256', signingSecret).update(request.body).digest('hex')}`);
		}

		const body = hooks[1]!.json as AuditEntry & {event: string; host: string; snapshot: Record<string, {status: string; maxHourlyUsd: number}>; figures: Record<string, number>};
		expect(body).toMatchObject({event: 'stop', host: 'guard-host', seq: stopEntry.seq, type: 'action', kind: 'stop', actor: 'auto', environments: ['dev'], outcome: 'executed'});
		expect(body.instanceIds.sort()).toEqual([...stopEntry.instanceIds].sort());
		expect(body.figures).toMatchObject({hourlyUsd: 2.4196, baselineUsd: 2.3364, thresholdPct: 2, savesUsdPerHour: 2.1872});
		expect(body.snapshot['dev']).toMatchObject({maxHourlyUsd: 5});

		// PagerDuty: a trigger per event, one incident (dedup key) for dev, severity from the event.
		const pages = server.at('/pagerduty').map(request => request.json as {routing_key: string; event_action: string; dedup_key: string; payload: {severity: string; source: string}});
		expect(pages.map(page => [page.event_action, page.dedup_key, page.payload.severity])).toEqual([['trigger', 'envwatch/dev', 'warning'], ['trigger', 'envwatch/dev', 'error']]);
		expect(pages[0]!.routing_key).toBe('R0UTINGKEY0123456789');
		expect(pages[0]!.payload.source).toBe('guard-host');

		// Six deliveries, six outcomes, each naming the entry it was about.
		const outcomes = notifyLines(sim);
		expect(outcomes).toHaveLength(6);
		expect(outcomes.every(entry => entry.outcome === 'delivered')).toBe(true);
		expect(outcomes.filter(entry => entry.figures?.['about'] === stopEntry.seq).map(entry => entry.figures?.['target']).sort()).toEqual(['hook', 'pagerduty#2', 'slack#1']);
		// No secret in the audit log.
		const log = JSON.stringify(sim.auditLines());
		for (const secret of ['XSECRETX', 'R0UTINGKEY0123456789', signingSecret]) {
			expect(log).not.toContain(secret);
		}
	});

	it('PagerDuty: trigger on the stop, then resolve with the same dedup key when dev is reset', async () => {
		const server = await receiver();
		const sim = start({scenario: 'dev-spike'});
		const notifier = attach(sim, targetsFor(server));
		await devStop(sim);
		await sim.monitor.command({kind: 'reset', environment: 'dev'});
		expect(await notifier.drain(20_000)).toBe(true);
		const pages = server.at('/pagerduty').map(request => request.json as {event_action: string; dedup_key: string; payload?: unknown});
		expect(pages.map(page => `${page.event_action} ${page.dedup_key}`)).toEqual(['trigger envwatch/dev', 'trigger envwatch/dev', 'resolve envwatch/dev']);
		expect(pages[2]!.payload).toBeUndefined();
	});
});

type Page = {event_action: string; dedup_key: string; payload?: {severity: string; summary: string}};
const pagesOf = (server: Receiver) => server.at('/pagerduty').map(request => request.json as Page);
const slackOf = (server: Receiver) => server.at('/slack/T000/B000/XSECRETX').map(request => (request.json as {text: string}).text);

describe('notifications of a pause (automatic actions paused or resumed)', () => {
	it('pausing staging and resuming it 2h13m later: who, what it covers and for how long, on Slack, the webhook and PagerDuty', async () => {
		const server = await receiver();
		const sim = start({scenario: 'calm'});
		// The default event set: no `events` configured.
		const notifier = attach(sim, targetsFor(server));
		await sim.poll();
		await sim.monitor.command({kind: 'pause-env', environment: 'staging'}, 'alice@jump');
		sim.clock.advance((2 * 60 + 13) * 60_000);
		await sim.monitor.command({kind: 'resume-env', environment: 'staging'}, 'bob@jump');
		expect(await notifier.drain(20_000)).toBe(true);

		const slack = slackOf(server);
		expect(slack).toHaveLength(2);
		expect(slack[0]).toMatch(/^envwatch: automatic actions paused for staging\n/);
		expect(slack[0]).toContain('automatic actions paused for staging by alice@jump: staging stays polled and alerted, nothing stops it automatically (a manual stop or emergency still does) until resumed');
		expect(slack[0]).toMatch(/by alice@jump on guard-host at /);
		expect(slack[1]).toMatch(/^envwatch: automatic actions resumed for staging\n/);
		expect(slack[1]).toContain('automatic actions resumed for staging by bob@jump after 2h13m paused: a breach there is stopped automatically again');

		const hooks = server.at('/hook');
		expect(hooks.map(request => request.headers['x-envwatch-event'])).toEqual(['pause', 'pause']);
		const [paused, resumed] = hooks.map(request => request.json as AuditEntry & {event: string; pausedSeconds?: number});
		expect(paused).toMatchObject({event: 'pause', kind: 'pause', actor: 'alice@jump', environments: ['staging']});
		expect(paused!.pausedSeconds).toBeUndefined();
		expect(resumed).toMatchObject({event: 'pause', kind: 'resume', actor: 'bob@jump', environments: ['staging'], pausedSeconds: 7980});

		// PagerDuty: the pause is a warning incident of its own, resolved by the resume.
		const pages = pagesOf(server);
		expect(pages.map(page => [page.event_action, page.dedup_key, page.payload?.severity])).toEqual([['trigger', 'envwatch/paused/staging', 'warning'], ['resolve', 'envwatch/paused/staging', undefined]]);
		expect(pages[0]!.payload!.summary).toBe('envwatch: automatic actions paused for staging');
		expect(notifyLines(sim).map(entry => [entry.figures?.['event'], entry.outcome])).toEqual(Array.from({length: 6}, () => ['pause', 'delivered']));
	});

	it('the global pause (p) is told as every environment; its resume resolves only the pause, not dev\'s open stop incident', async () => {
		const server = await receiver();
		const sim = start({scenario: 'dev-spike'});
		const notifier = attach(sim, targetsFor(server));
		await devStop(sim);
		await sim.monitor.command({kind: 'pause'}, 'alice@jump');
		sim.clock.advance(5 * 60_000);
		await sim.monitor.command({kind: 'resume'}, 'alice@jump');
		expect(await notifier.drain(20_000)).toBe(true);

		const slack = slackOf(server);
		expect(slack.slice(2).map(text => text.split('\n')[0])).toEqual(['envwatch: automatic actions paused everywhere', 'envwatch: automatic actions resumed everywhere']);
		expect(slack[2]).toContain('automatic actions paused for every environment by alice@jump: all stay polled and alerted, nothing is stopped automatically anywhere');
		// No environment is paused on its own: nothing said of one.
		expect(slack[3]).toContain('automatic actions resumed for every environment by alice@jump after 5m paused: a breach is stopped automatically again\n');
		expect(pagesOf(server).map(page => `${page.event_action} ${page.dedup_key}`)).toEqual(['trigger envwatch/dev', 'trigger envwatch/dev', 'trigger envwatch/paused/global', 'resolve envwatch/paused/global']);
	});

	it('the global resume names the environments that stay paused on their own', async () => {
		const server = await receiver();
		const sim = start({scenario: 'calm'});
		const notifier = attach(sim, targetsFor(server));
		await sim.poll();
		await sim.monitor.command({kind: 'pause-env', environment: 'staging'}, 'alice@jump');
		await sim.monitor.command({kind: 'pause'}, 'bob@jump');
		await sim.monitor.command({kind: 'resume'}, 'bob@jump');
		expect(await notifier.drain(20_000)).toBe(true);
		expect(slackOf(server).at(-1)).toContain('automatic actions resumed for every environment by bob@jump after 0s paused: a breach is stopped automatically again (staging stays paused on its own)');
	});

	it('x (cancelling a pending stop) pauses every environment, so it is told as a pause like p', async () => {
		const server = await receiver();
		const sim = start({scenario: 'dev-spike', flags: {graceSeconds: 20}});
		const notifier = attach(sim, targetsFor(server));
		await pollsBeforeSpike(sim);
		await sim.poll();
		await sim.monitor.command({kind: 'cancel-pending'}, 'alice@jump');
		expect(sim.store.getSnapshot()!.mode.paused).toBe(true);
		// The audit log says it was paused, and by whom, after the cancel.
		expect(sim.auditLines().filter(entry => entry.kind === 'cancel' || entry.kind === 'pause').map(entry => [entry.kind, entry.actor, entry.environments])).toEqual([['cancel', 'alice@jump', ['dev']], ['pause', 'alice@jump', []]]);
		sim.clock.advance(60_000);
		await sim.monitor.command({kind: 'resume'}, 'alice@jump');
		expect(await notifier.drain(20_000)).toBe(true);
		const slack = slackOf(server).filter(text => text.includes('automatic actions'));
		expect(slack.map(text => text.split('\n')[0])).toEqual(['envwatch: automatic actions paused everywhere', 'envwatch: automatic actions resumed everywhere']);
		expect(slack[0]).toContain('automatic actions paused for every environment by alice@jump');
		expect(slack[1]).toContain('after 1m paused');
	});

	it('an engine started with --pause-env staging (a restart, a take-over) tells that pause as it starts', async () => {
		const server = await receiver();
		const sim = start({scenario: 'calm'});
		const notifier = attach(sim, targetsFor(server));
		sim.newMonitor({pausedEnvironments: ['staging'], actor: 'ops@guard'});
		expect(sim.auditLines().filter(entry => entry.kind === 'pause').map(entry => [entry.actor, entry.environments, entry.reason])).toEqual([
			['ops@guard', ['staging'], 'automatic actions paused for staging from the start (--pause-env): still polled, evaluated, shown and alerted on; nothing stopped there automatically (a manual stop or emergency still is)'],
		]);
		expect(await notifier.drain(20_000)).toBe(true);
		expect(slackOf(server)).toHaveLength(1);
		expect(slackOf(server)[0]).toContain('automatic actions paused for staging by ops@guard: staging stays polled and alerted');
		expect(pagesOf(server).map(page => `${page.event_action} ${page.dedup_key}`)).toEqual(['trigger envwatch/paused/staging']);
	});

	it('a resume whose pause this run did not see says no duration; a refused pause is not told; a target without `pause` in its events gets none', async () => {
		const server = await receiver();
		const sim = start({scenario: 'calm', options: {pausedEnvironments: ['dev']}});
		const targets = targetsFor(server, [{type: 'webhook', name: 'stops-only', url: `${server.url}/stops-only`, events: ['stop']}]);
		const notifier = attach(sim, targets);
		await sim.poll();
		// Not a monitored environment: refused, logged, nothing paused.
		await sim.monitor.command({kind: 'pause-env', environment: 'qa'}, 'alice@jump');
		expect(sim.auditLines().find(entry => entry.kind === 'pause' && entry.outcome === 'refused')).toMatchObject({actor: 'alice@jump'});
		// dev was paused from the start (--pause-env), before this notifier listened: it saw no pause begin.
		await sim.monitor.command({kind: 'resume-env', environment: 'dev'}, 'alice@jump');
		expect(await notifier.drain(20_000)).toBe(true);
		const slack = slackOf(server);
		expect(slack).toHaveLength(1);
		expect(slack[0]).toContain('automatic actions resumed for dev by alice@jump: a breach there is stopped automatically again');
		expect((server.at('/hook')[0]!.json as Record<string, unknown>)['pausedSeconds']).toBeUndefined();
		expect(server.at('/stops-only')).toEqual([]);
	});
});

describe('delivery', () => {
	it('retries after a 500 and records the delivery with its attempts', async () => {
		const server = await receiver();
		server.answer = (request, index) => (index === 0 ? {status: 500, body: 'busy'} : {status: 200, body: '{}'});
		const sim = start({scenario: 'dev-spike'});
		const notifier = attach(sim, targetsFor(server).filter(target => target.type === 'webhook').map(target => ({...target, events: ['stop' as const]})));
		await devStop(sim);
		expect(await notifier.drain(20_000)).toBe(true);
		expect(server.received).toHaveLength(2);
		expect(server.received[1]!.body).toBe(server.received[0]!.body);
		expect(notifyLines(sim).map(entry => [entry.outcome, entry.figures?.['attempts']])).toEqual([['delivered', 2]]);
		expect(notifier.health()[0]!.failing).toBeNull();
	});

	it('gives up after the cap of attempts: recorded, reported, and the target shown as failing; the next delivery is tried once', async () => {
		const server = await receiver();
		server.answer = () => ({status: 503, body: 'down'});
		const reports: string[] = [];
		const sim = start({scenario: 'dev-spike'});
		const notifier = attach(sim, targetsFor(server).filter(target => target.type === 'webhook'), reports);
		await devStop(sim);
		expect(await notifier.drain(20_000)).toBe(true);
		// The breach: 3 attempts (the cap), given up; then the stop: the target is failing, one attempt.
		expect(server.received).toHaveLength(4);
		expect(notifyLines(sim).map(entry => entry.outcome)).toEqual(['gave-up: HTTP 503 (down)', 'gave-up: HTTP 503 (down)']);
		expect(notifyLines(sim).map(entry => entry.figures?.['attempts'])).toEqual([3, 1]);
		expect(reports).toEqual(['breach notification to hook (webhook): gave up after 3 attempts: HTTP 503 (down)', 'stop notification to hook (webhook): gave up after 1 attempt: HTTP 503 (down)']);
		expect(notifier.health()).toEqual([{name: 'hook', type: 'webhook', failing: 'HTTP 503 (down)', queued: 0}]);
		// The dashboard's status line says so (the same object until something changes, as React needs).
		const source = withNotifyStatus(sim.store, notifier);
		const shown = source.getSnapshot()!;
		expect(source.getSnapshot()).toBe(shown);
		expect(statusText({snapshot: shown, now: sim.clock.now()}).text).toBe('NOT NOTIFIED: hook: HTTP 503 (down) (envwatch still acts; see envwatch doctor)');

		// It comes back: the next delivery gets through and the target is no longer failing.
		server.answer = () => ({status: 200, body: '{}'});
		await sim.monitor.command({kind: 'reset', environment: 'dev'});
		expect(await notifier.drain(20_000)).toBe(true);
		expect(notifier.health()[0]!.failing).toBeNull();
		expect(source.getSnapshot()!.notifyError).toBeUndefined();
	});

	it('a 4xx answer is not retried; a 200 that is not Slack\'s "ok" is not a delivery', async () => {
		const server = await receiver();
		server.answer = request => (request.path === '/hook' ? {status: 404, body: 'no such hook'} : {status: 200, body: '<html>login</html>', contentType: 'text/html'});
		const sim = start({scenario: 'dev-spike'});
		const notifier = attach(sim, targetsFor(server).filter(target => target.type !== 'pagerduty').map(target => ({...target, events: ['stop' as const]})), [], {backoffMs: 1, maxBackoffMs: 1, attempts: 2});
		await devStop(sim);
		expect(await notifier.drain(20_000)).toBe(true);
		expect(server.at('/hook')).toHaveLength(1);
		expect(notifyLines(sim).map(entry => entry.outcome).sort()).toEqual([
			'failed: HTTP 404 (no such hook)',
			'gave-up: HTTP 200 but the answer is not Slack\'s "ok" (<html>login</html>)',
		]);
	});

	it('an error that quotes the target\'s URL or key is recorded and reported with them as ***', async () => {
		// Node's fetch does not quote the URL in its errors; a sender that does (as another HTTP client
		// or a proxy's answer might) stands in for it here: the one case a real receiver cannot produce.
		const sim = start({scenario: 'dev-spike'});
		const problems: string[] = [];
		const targets = resolveTargets([
			{type: 'webhook', name: 'odd', url: {env: 'HOOK'}, events: ['stop']},
			{type: 'pagerduty', name: 'pd', routingKey: {env: 'KEY'}, events: ['stop']},
		], {HOOK: 'https://hooks.example.com/services/T0SECRET/B0SECRET/xoxTOKEN9', KEY: 'R0UTE-KEY-SECRET-77'}, problems);
		expect(problems).toEqual([]);
		const reports: string[] = [];
		const notifier = new Notifier(targets, {
			host: 'guard-host',
			attempts: 1,
			send: async target => {
				throw new Error(target.type === 'pagerduty' ? `rejected routing key ${target.routingKey}` : `cannot reach ${target.type === 'webhook' ? target.url : ''} (path /services/T0SECRET/B0SECRET/xoxTOKEN9)`);
			},
			record: outcome => reports.push(`${outcome.target}: ${outcome.error ?? ''}`),
		});
		sim.audit.onAppend(notifier.handle);
		await devStop(sim);
		expect(await notifier.drain(20_000)).toBe(true);
		expect(reports.sort()).toEqual(['odd: cannot reach *** (path ***)', 'pd: rejected routing key ***']);
		expect(JSON.stringify(notifier.health())).not.toMatch(/SECRET|xoxTOKEN9/);
	});

	it('a hanging target does not delay the stop: the stop is done while the target still holds the request', async () => {
		const server = await receiver();
		server.answer = () => 'hang';
		const without = start({scenario: 'dev-spike'});
		await devStop(without);

		const sim = start({scenario: 'dev-spike'});
		const notifier = attach(sim, targetsFor(server).filter(target => target.type === 'webhook'), [], {backoffMs: 5, maxBackoffMs: 5, attempts: 3});
		await pollsBeforeSpike(sim);
		await sim.poll();
		// The stop is complete and recorded...
		expect(sim.agents('dev', live)).toEqual([]);
		expect(sim.auditLines().filter(entry => entry.type === 'action').map(entry => [entry.kind, entry.outcome])).toEqual([['stop', 'executed']]);
		// ... the same stop as without any target ...
		expect(sim.fleet.stops.map(batch => batch.map(target => target.id).sort())).toEqual(without.fleet.stops.map(batch => batch.map(target => target.id).sort()));
		// ... while the target still has not answered the first notification (the breach, before the stop).
		await server.waitFor(received => received.length >= 1);
		expect(server.hanging).toHaveLength(1);
		expect(notifyLines(sim)).toEqual([]);
		expect(notifier.health()[0]!.queued).toBe(2);
		notifier.close();
		await notifier.drain(20_000);
		// Closing records what was never delivered.
		expect(notifyLines(sim).map(entry => entry.outcome?.split(':')[0])).toEqual(['dropped', 'dropped']);
	});
});

describe("doctor's notification checks read the audit log's tail", () => {
	const line = (target: string, outcome: string, seq: number) => JSON.stringify({at: `2026-11-27T09:00:0${seq}.000Z`, dryRun: false, type: 'notify', actor: 'auto', kind: 'notify', environments: ['dev'], reason: `stop notification to ${target}`, figures: {target, event: 'stop', attempts: 1}, instanceIds: [], outcome, seq});
	const hook: NotifyTargetConfig = {type: 'webhook', name: 'hook', url: 'http://127.0.0.1:9/hook'};

	it('the last delivery per target counts; a torn last line is skipped', () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-health-'));
		try {
			const file = path.join(dir, 'audit.log');
			fs.writeFileSync(file, `${line('hook', 'gave-up: HTTP 500 (busy)', 1)}\n${line('hook', 'delivered', 2)}\n{"at":"2026-11-27T09:00:03.000Z","type":"notify","outc`);
			expect(notifyChecks([hook], {}, readAuditTail(file, Number.POSITIVE_INFINITY, deliveryTailBytes), file)).toEqual([{name: 'notify hook (webhook)', status: 'ok', detail: 'last delivery (stop, 2026-11-27T09:00:02.000Z): delivered'}]);
		} finally {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});

	it('an audit log that cannot be read is said so (it used to read as "no delivery recorded")', () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-health-'));
		try {
			// A directory where the log should be: reading it fails with EISDIR.
			const [check] = notifyChecks([hook], {}, readAuditTail(dir, Number.POSITIVE_INFINITY, deliveryTailBytes), dir);
			expect(check).toMatchObject({status: 'unknown', detail: expect.stringMatching(new RegExp(`^cannot read the audit log ${dir}: EISDIR`)) as unknown});
		} finally {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});
});

describe('the heartbeat target (a dead man\'s switch)', () => {
	const hbPath = '/ping/HEARTBEATsecretUUID-4242-abcd';
	function heartbeat(sim: SimHarness, server: Receiver, everyMinutes?: number, reports: string[] = []) {
		const problems: string[] = [];
		const targets = resolveTargets([{type: 'heartbeat', name: 'hb', url: {env: 'HB_URL'}, ...(everyMinutes === undefined ? {} : {everyMinutes})}], {HB_URL: `${server.url}${hbPath}`}, problems);
		expect(problems).toEqual([]);
		return attachNotifier({targets, audit: sim.audit, store: sim.store, host: 'guard-host', report: line => reports.push(line), tuning: {timeoutMs: 2000}});
	}

	/** Right after a poll: the ping it sent is in flight (queued) or received; none is still to come. */
	const pingsSettled = async (server: Receiver, notifier: Notifier, count: number) => {
		await server.waitFor(received => received.length >= count);
		await vi.waitFor(() => expect(notifier.health()[0]!.queued).toBe(0), {timeout: 20_000, interval: 20});
		expect(server.received).toHaveLength(count);
	};

	it('pings with a GET at the first successful poll, then once per everyMinutes; a stale engine does not ping; the URL is in nothing it writes', async () => {
		const server = await receiver();
		const reports: string[] = [];
		const sim = start({scenario: 'calm'});
		const notifier = heartbeat(sim, server, 1, reports);
		await sim.poll();
		await pingsSettled(server, notifier, 1);
		expect(server.received[0]).toMatchObject({method: 'GET', path: hbPath, body: ''});
		// 15 s polls: the next ping is due a minute after the first.
		for (let poll = 0; poll < 3; poll++) {
			await sim.poll();
		}

		await pingsSettled(server, notifier, 1);
		await sim.poll();
		await pingsSettled(server, notifier, 2);

		// The listing fails for three minutes: the data is stale, and no ping goes out.
		sim.fleet.onList = () => {
			throw new Error('connect ETIMEDOUT');
		};

		for (let poll = 0; poll < 12; poll++) {
			expect((await sim.poll()).error).toContain('ETIMEDOUT');
		}

		await pingsSettled(server, notifier, 2);
		// Polls succeed again: the ping is overdue, so it goes at once.
		sim.fleet.onList = undefined;
		await sim.poll();
		await pingsSettled(server, notifier, 3);

		// Recorded: the run's first ping only (a line every few minutes would bury the log).
		expect(notifyLines(sim).map(entry => [entry.reason, entry.outcome])).toEqual([['heartbeat ping to hb (heartbeat): delivered', 'delivered']]);
		const written = `${fs.readFileSync(sim.audit.file, 'utf8')}${reports.join('\n')}${JSON.stringify(notifier.health())}`;
		expect(written).not.toContain('HEARTBEATsecret');
	});

	it('a ping that fails is recorded once per streak and the target shown failing; one that hangs is given up within its limit; a ping that gets through ends the streak', async () => {
		const server = await receiver();
		server.answer = () => ({status: 503, body: `no such check ${hbPath}`});
		const reports: string[] = [];
		const sim = start({scenario: 'calm'});
		const notifier = heartbeat(sim, server, 1, reports);
		await sim.poll();
		await pingsSettled(server, notifier, 1);
		expect(notifier.health()[0]!.failing).toMatch(/^HTTP 503 \(no such check \*\*\*\)$/);

		// The next one hangs: the ping is given up after its limit (2 s here), not retried, and
		// the poll after it may ping again.
		server.answer = () => 'hang';
		for (let poll = 0; poll < 4; poll++) {
			await sim.poll();
		}

		await server.waitFor((received, self) => received.length === 2 && self.released === 1);
		await vi.waitFor(() => expect(notifier.health()[0]).toMatchObject({failing: 'no answer within 2 s (timed out)', queued: 0}), {timeout: 20_000, interval: 50});

		server.answer = () => ({status: 200, body: 'OK'});
		for (let poll = 0; poll < 4; poll++) {
			await sim.poll();
		}

		await pingsSettled(server, notifier, 3);
		expect(notifier.health()[0]!.failing).toBeNull();
		expect(notifyLines(sim).map(entry => entry.outcome)).toEqual(['failed: HTTP 503 (no such check ***)', 'delivered']);
		expect(reports).toEqual(['heartbeat ping to hb (heartbeat): failed: HTTP 503 (no such check ***)']);
	});

	it('takes no events, defaults to every 5 minutes, and its URL is a secret', () => {
		const problems: string[] = [];
		const [target] = resolveTargets([{type: 'heartbeat', url: 'https://hc-ping.com/0f3c5a8e-1111-2222-3333-444455556666'}], {}, problems);
		expect(target).toMatchObject({type: 'heartbeat', name: 'heartbeat#1', events: [], everyMinutes: 5});
		expect(secretsOf([target!])).toContain('0f3c5a8e-1111-2222-3333-444455556666');
	});
});

describe('the down event (an engine ended)', () => {
	const down = (sim: SimHarness) => sim.audit.append({at: new Date(sim.clock.now()).toISOString(), dryRun: false, type: 'decision', actor: 'auto', kind: 'down', environments: ['dev', 'staging'], reason: 'envwatch serve ended: SIGTERM', instanceIds: []});

	it('is on by default: Slack says the guard is down and why, PagerDuty triggers a critical envwatch/down, the webhook gets event down', async () => {
		const server = await receiver();
		const sim = start({scenario: 'calm'});
		const notifier = attach(sim, targetsFor(server));
		await sim.poll();
		down(sim);
		expect(await notifier.drain(20_000)).toBe(true);
		const [slack] = slackOf(server);
		expect(slack).toMatch(/^envwatch: guard DOWN on guard-host \(dev, staging unguarded\)\n/);
		expect(slack).toContain('envwatch serve ended: SIGTERM. Nothing polls dev, staging or stops a runaway there until envwatch runs again on guard-host (or elsewhere).');
		expect(pagesOf(server).map(page => [page.event_action, page.dedup_key, page.payload?.severity])).toEqual([['trigger', 'envwatch/down', 'critical']]);
		expect(server.at('/hook').map(request => [request.headers['x-envwatch-event'], (request.json as {kind: string}).kind])).toEqual([['down', 'down']]);
	});
});
