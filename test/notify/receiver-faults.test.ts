import v8 from 'node:v8';
import vm from 'node:vm';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {NotifyTargetConfig} from '../../source/config/notify.js';
import {resolveTargets, scrub, secretsOf} from '../../source/notify/targets.js';
import {attachNotifier} from '../../source/notify/attach.js';
import type {Notifier} from '../../source/notify/notifier.js';
import {useReceivers} from '../helpers/receiver.js';
import {live, useSimHarnesses, type SimHarness} from '../helpers/sim.js';

/**
 * The fault matrix's rows for notification receivers that misbehave: one that never answers, one
 * that redirects, one that echoes the request's URL (its secret) in its error page. Each runs the
 * real notifier against a real HTTP server on loopback.
 */

const {start, pollsBeforeSpike} = useSimHarnesses();
const receiver = useReceivers();

/** V8's collector, on demand: Node 20 lost AbortSignal.any's timer in a collection. */
let gc: () => void;
let collecting: NodeJS.Timeout | undefined;
beforeAll(() => {
	v8.setFlagsFromString('--expose-gc');
	gc = vm.runInNewContext('gc') as () => void;
});
afterAll(() => clearInterval(collecting));

/** Collects garbage every 20 ms until the test file ends. */
function collectOften(): void {
	collecting ??= setInterval(() => gc(), 20);
}

function targets(configured: NotifyTargetConfig[], env: Record<string, string> = {}) {
	const problems: string[] = [];
	const resolved = resolveTargets(configured, env, problems);
	expect(problems).toEqual([]);
	return resolved;
}

function attach(sim: SimHarness, configured: NotifyTargetConfig[], env: Record<string, string> = {}, tuning = {attempts: 2, backoffMs: 5, maxBackoffMs: 5, timeoutMs: 500}): {notifier: Notifier; reports: string[]} {
	const reports: string[] = [];
	const notifier = attachNotifier({targets: targets(configured, env), audit: sim.audit, store: sim.store, host: 'guard-host', report: line => reports.push(line), tuning});
	return {notifier, reports};
}

async function devStop(sim: SimHarness): Promise<void> {
	await pollsBeforeSpike(sim);
	await sim.poll();
	expect(sim.agents('dev', live)).toEqual([]);
}

const notifyLines = (sim: SimHarness) => sim.auditLines().filter(entry => entry.type === 'notify');

describe('a receiver that never answers', () => {
	it('each attempt times out (garbage collected meanwhile), its request is given up, and the queue moves on', async () => {
		collectOften();
		const server = await receiver();
		server.answer = () => 'hang';
		const sim = start({scenario: 'dev-spike'});
		const {notifier} = attach(sim, [{type: 'webhook', name: 'hook', url: `${server.url}/hook`}], {}, {attempts: 2, backoffMs: 5, maxBackoffMs: 5, timeoutMs: 1500});
		await devStop(sim);
		// The breach: 2 attempts, both timed out; then the stop, the target failing: 1. Nothing
		// stalls the queue.
		expect(await notifier.drain(30_000)).toBe(true);
		expect(notifyLines(sim).map(entry => [entry.figures?.['event'], entry.outcome, entry.figures?.['attempts']])).toEqual([
			['breach', 'gave-up: no answer within 1.5 s (timed out)', 2],
			['stop', 'gave-up: no answer within 1.5 s (timed out)', 1],
		]);
		// Every request that reached the receiver was closed by envwatch, not left open. (On a busy
		// machine an attempt may end before its request has fully arrived: at most 3 arrive.)
		await server.waitFor((received, self) => received.length > 0 && self.released === received.length);
		expect(server.received.length).toBeLessThanOrEqual(3);
		expect(notifier.health()[0]).toMatchObject({failing: 'no answer within 1.5 s (timed out)', queued: 0});
	});

	it('drain keeps its bound while a request hangs, and close lets go of the request', async () => {
		collectOften();
		const server = await receiver();
		server.answer = () => 'hang';
		const sim = start({scenario: 'dev-spike'});
		// A long attempt limit: only drain's own bound and close can end the wait.
		const {notifier} = attach(sim, [{type: 'webhook', name: 'hook', url: `${server.url}/hook`, events: ['stop']}], {}, {attempts: 5, backoffMs: 5, maxBackoffMs: 5, timeoutMs: 600_000});
		await devStop(sim);
		await server.waitFor(received => received.length === 1);
		expect(await notifier.drain(300)).toBe(false);
		notifier.close();
		await server.waitFor((_, self) => self.released === 1);
		expect(notifyLines(sim).map(entry => entry.outcome?.split(' (')[0])).toEqual(['dropped: envwatch exited before it could be delivered']);
	});
});

describe('a receiver that redirects', () => {
	it('a 302 is reported as a redirect with where it points (host only), not followed and not retried', async () => {
		const server = await receiver();
		const secretPath = '/hooks/REDIRECTsecretTOKEN0042';
		server.answer = () => ({status: 302, body: '', headers: {location: `https://login.example.org/sso?next=${encodeURIComponent(secretPath)}`}});
		const sim = start({scenario: 'dev-spike'});
		const {notifier, reports} = attach(sim, [{type: 'webhook', name: 'hook', url: {env: 'HOOK'}, events: ['stop']}], {HOOK: `${server.url}${secretPath}`}, {attempts: 3, backoffMs: 5, maxBackoffMs: 5, timeoutMs: 5000});
		await devStop(sim);
		expect(await notifier.drain(20_000)).toBe(true);
		// One request: not retried, and the redirect not followed (nothing went to login.example.org).
		expect(server.received).toHaveLength(1);
		const [line] = notifyLines(sim);
		expect(line?.outcome).toBe('failed: HTTP 302: a redirect to login.example.org, not followed (a notification goes only to the configured URL) — check the URL');
		expect(line?.figures?.['attempts']).toBe(1);
		expect(reports.join('\n')).not.toContain('REDIRECTsecret');
	});
});

describe('a receiver that echoes the URL it was sent to', () => {
	const tokens = ['T0ECHOsecret11', 'B0ECHOsecret22', 'xoxECHOsecretWebhookToken4242'];
	const secretPath = `/services/${tokens.join('/')}`;
	/** Every 8-character piece of the secret tokens: none may appear in what envwatch writes. */
	const pieces = tokens.flatMap(token => Array.from({length: token.length - 7}, (_, index) => token.slice(index, index + 8)));
	const leaks = (text: string) => pieces.filter(piece => text.includes(piece));

	const pages: Record<string, (path: string) => {status: number; body: string; contentType?: string}> = {
		'an HTML error page quoting the path': path => ({status: 404, contentType: 'text/html', body: `<html><head><title>404</title></head><body><h1>Not Found</h1><p>The requested URL ${path} was not found on this server.</p></body></html>`}),
		'a JSON error body quoting the path': path => ({status: 400, body: JSON.stringify({error: {code: 'invalid_hook', message: `no hook at ${path}`, path}})}),
		'a page quoting the path cut short (a partial token)': path => ({status: 500, contentType: 'text/plain', body: `upstream failed for POST ${path.slice(0, 37)}...`}),
		'a page quoting the path from its end (a partial token)': path => ({status: 500, contentType: 'text/plain', body: `...${path.slice(-21)} failed`}),
	};

	for (const [name, page] of Object.entries(pages)) {
		it(`${name}: the outcome, the audit log and stderr hold none of the token`, async () => {
			const server = await receiver();
			server.answer = request => page(request.path);
			const sim = start({scenario: 'dev-spike'});
			const {notifier, reports} = attach(sim, [{type: 'webhook', name: 'hook', url: {env: 'HOOK'}, events: ['stop']}], {HOOK: `${server.url}${secretPath}`}, {attempts: 1, backoffMs: 5, maxBackoffMs: 5, timeoutMs: 5000});
			await devStop(sim);
			expect(await notifier.drain(20_000)).toBe(true);
			expect(server.received.map(request => request.path)).toEqual([secretPath]);
			const [line] = notifyLines(sim);
			expect(line?.outcome).toMatch(/^(failed|gave-up): HTTP \d{3} \(/);
			expect(leaks(JSON.stringify(sim.auditLines()))).toEqual([]);
			expect(leaks(reports.join('\n'))).toEqual([]);
			expect(leaks(JSON.stringify(notifier.health()))).toEqual([]);
		});
	}
});

describe('masking pieces of a secret', () => {
	const secrets = secretsOf(targets([{type: 'slack', url: 'https://hooks.slack.com/services/T0AAAA1111/B0BBBB2222/xoxCCCC3333dddd4444'}, {type: 'pagerduty', routingKey: 'R0UTINGkey0123456789abcdef'}]));

	it('masks a piece cut short at either end or followed by other text, but not the words a secret shares with ordinary text', () => {
		expect(scrub('POST /services/T0AAAA1111/B0BB...', secrets)).toBe('POST ***...');
		expect(scrub('{"key":"R0UTINGkey012"}', secrets)).toBe('{"key":"***"}');
		expect(scrub('...B0BBBB2222/xoxCCCC3333dddd4444 gone', secrets)).toBe('...*** gone');
		expect(scrub('code 3333dddd at ...dddd4444', secrets)).toBe('code 3333dddd at ...***');
		// A whole URL's beginning is not secret: the host stays readable.
		expect(scrub('cannot reach https://hooks.slack.com/ (ENOTFOUND)', secrets)).toBe('cannot reach https://hooks.slack.com/ (ENOTFOUND)');
		expect(scrub('Slack services are down', secrets)).toBe('Slack services are down');
	});
});
