import net from 'node:net';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {parseArgs} from '../../source/app/args.js';
import type {Snapshot} from '../../source/engine/snapshot.js';
import type {Io} from '../../source/app/io.js';
import {each} from '../../source/commands/act.js';
import {main} from '../../source/commands/main.js';
import {onceRemote} from '../../source/commands/once.js';
import {protocolVersion} from '../../source/serve/protocol.js';
import {useTempDirs} from '../helpers/tmp-root.js';
import {remoteSide} from '../../source/commands/remote.js';
import type {RemoteEngine} from '../../source/serve/client.js';
import {snapshot, view} from '../component/fixtures.js';

/**
 * `envwatch stop` attached to a server asks with the server's last figures. What a stop saves is
 * never $0 for agents without a price, nor an old figure when the server's data is stale. (A fake
 * server: only its last snapshot is read before the question; the answer is no, so nothing is sent.)
 */
async function question(served: Snapshot): Promise<string> {
	const sent: unknown[] = [];
	const remote = {server: {pid: 4242, host: 'guard'}, firstSnapshot: async () => served, command: async (command: unknown) => sent.push(command)} as unknown as RemoteEngine;
	const asked: string[] = [];
	const written: string[] = [];
	const sink = {write: (text: string) => written.push(text), isTTY: true} as unknown as NodeJS.WriteStream;
	const io = {stdout: sink, stderr: sink, stdin: {isTTY: true} as NodeJS.ReadStream, env: {}} satisfies Io;
	const options = parseArgs(['stop', '--environments', 'dev']);
	const {names, side} = await remoteSide(remote, options);
	await each('stop', names, side, options, io, {confirm: async text => (asked.push(text), false), ask: async text => (asked.push(text), '')});
	expect(sent).toEqual([]);
	return asked.join('\n');
}

const withDev = (overrides: Parameters<typeof view>[1]) => snapshot({environments: [view('dev', {agentIds: ['i-0aaa000000000001', 'i-0aaa000000000002'], agentHourlyUsd: 0.5, ...overrides})]});

describe('stop through a server: what the question says a stop saves', () => {
	it('the server\'s agent $/h when every agent is priced and its data is fresh', async () => {
		expect(await question(withDev({unpriced: 0}))).toContain('saving $0.50/h of $2.34/h (as of the server\'s last poll)');
	});

	it('an unpriced amount when an agent has no price (the server counts it as nothing)', async () => {
		expect(await question(withDev({unpriced: 1}))).toContain('saving an unpriced amount');
	});

	it('an unknown amount of an unknown total when the server\'s data is stale', async () => {
		expect(await question(withDev({unpriced: 0, stale: 'DescribeInstances failed'}))).toContain('saving an unknown amount of an unknown total (DescribeInstances failed)');
	});
});

describe('reset through a server', () => {
	it('asks once for an environment named twice (-e dev dev), as a local reset and a remote stop do', async () => {
		const served = snapshot({environments: [view('dev', {breaker: {trippedAt: Date.UTC(2026, 0, 2), actor: 'auto', reason: 'over its limit'}})]});
		const sent: unknown[] = [];
		const remote = {server: {pid: 4242, host: 'guard'}, firstSnapshot: async () => served, command: async (command: unknown) => (sent.push(command), {outcome: 'done', summary: 'reset'})} as unknown as RemoteEngine;
		const asked: string[] = [];
		const sink = {write: () => true, isTTY: true} as unknown as NodeJS.WriteStream;
		const io = {stdout: sink, stderr: sink, stdin: {isTTY: true} as NodeJS.ReadStream, env: {}} satisfies Io;
		const options = parseArgs(['reset', '-e', 'dev', 'dev']);
		const {names, side} = await remoteSide(remote, options);
		await each('reset', names, side, options, io, {confirm: async text => (asked.push(text), true), ask: async () => ''});
		expect(asked).toHaveLength(1);
		expect(asked[0]).toContain('dev is held stopped since 2026-01-02T00:00:00.000Z (auto: over its limit)');
		expect(sent).toEqual([{kind: 'reset', environment: 'dev'}]);
	});
});

/**
 * `--once` beside a server reads the server's latest snapshot. Its figures show what the poll's
 * action left (a breach stopped at once is STOPPED, not BREACH), so the exit code is judged from
 * what the poll found, as a local `--once` does: cron hears exit 3 either way.
 */
describe('--read-only through a server', () => {
	it('stop and reset (start and undo alike) send the server nothing that acts, and say so', async () => {
		const served = snapshot({environments: [view('dev', {agentIds: ['i-0aaa000000000001'], agentHourlyUsd: 0.5, unpriced: 0, breaker: {trippedAt: Date.UTC(2026, 0, 2), actor: 'auto', reason: 'over its limit'}})]});
		const sent: unknown[] = [];
		const remote = {server: {pid: 4242, host: 'guard'}, firstSnapshot: async () => served, command: async (command: unknown) => (sent.push(command), {outcome: 'executed', summary: 'done'})} as unknown as RemoteEngine;
		const written: string[] = [];
		const sink = {write: (text: string) => written.push(text), isTTY: true} as unknown as NodeJS.WriteStream;
		const io = {stdout: sink, stderr: sink, stdin: {isTTY: true} as NodeJS.ReadStream, env: {}} satisfies Io;
		for (const command of ['stop', 'reset'] as const) {
			const options = parseArgs([command, '-e', 'dev', '--read-only', '--yes']);
			const {names, side} = await remoteSide(remote, options);
			await each(command, names, side, options, io, {confirm: async () => true, ask: async () => 'dev'});
		}

		expect(sent).toEqual([]);
		expect(written.join('')).toContain('read-only: stop dev not sent to the server (pid 4242 on guard); nothing done');
		expect(written.join('')).toContain('read-only: reset dev not sent to the server (pid 4242 on guard); nothing done');
	});
});

describe('--once through a server: the exit code', () => {
	async function once(served: Snapshot, argv: string[] = ['--once']): Promise<{code: number; out: string}> {
		const remote = {server: {pid: 4242, host: 'guard'}, firstSnapshot: async () => served} as unknown as RemoteEngine;
		const written: string[] = [];
		const sink = {write: (text: string) => written.push(text)} as unknown as NodeJS.WriteStream;
		const code = await onceRemote(remote, parseArgs(argv), {stdout: sink, stderr: sink});
		return {code, out: written.join('')};
	}

	// The server's poll found dev over its cap and stopped it at once: the figures show the result.
	const stopped = snapshot({
		environments: [view('dev', {status: 'STOPPED', hourlyUsd: 0.2, agents: {running: 0, allowed: 'all'}, agentIds: [], agentHourlyUsd: 0}), view('staging')],
		breachFound: true,
		breachFoundIn: ['dev'],
	});

	it('exits 3 on a breach the server\'s poll found and its stop already ended, as a local --once does', async () => {
		const {code, out} = await once(stopped);
		expect(out).toContain('(from the engine of serve pid 4242 on guard)');
		expect(code).toBe(3);
	});

	it('-e picks the environments judged: a breach found in dev alone is not staging\'s (exit 0), and is dev\'s (exit 3)', async () => {
		expect((await once(stopped, ['--once', '-e', 'staging'])).code).toBe(0);
		expect((await once(stopped, ['--once', '-e', 'dev'])).code).toBe(3);
	});

	it('a server that does not say what its poll found (an older one) is judged by its figures', async () => {
		expect((await once(snapshot({environments: [view('dev', {status: 'BREACH', level: 'breach'})]}))).code).toBe(3);
		expect((await once(snapshot())).code).toBe(0);
	});
});

/**
 * What a socket peer says is untrusted, and so is what a user typed: an error the dispatcher prints
 * that is not a usage error (the engine is busy, a runtime failure) is written with its control
 * characters escaped, as a usage error's are. Here a server on the state dir welcomes with a host
 * name that would clear the screen and retitle the terminal, and `serve` names it when it refuses.
 */
describe('the dispatcher\'s errors', () => {
	const tempDir = useTempDirs();

	it('a busy engine\'s message, naming the server\'s own words, reaches the terminal with its control characters escaped', async () => {
		const stateDir = tempDir('envwatch-escape-');
		const hostile = 'guard\u001b[2J\u001b]0;owned\u0007\u202e';
		const sockets: net.Socket[] = [];
		const server = net.createServer(socket => {
			sockets.push(socket);
			socket.on('error', () => undefined);
			socket.write(`${JSON.stringify({v: protocolVersion, type: 'welcome', server: {pid: 4242, host: hostile, mode: 'serve', since: Date.UTC(2026, 0, 1), stateDir, version: 'x'}})}\n`);
		});
		await new Promise<void>(resolve => server.listen(path.join(stateDir, 'envwatch.sock'), resolve));
		try {
			const written: string[] = [];
			const sink = {write: (text: string) => written.push(text), isTTY: false} as unknown as NodeJS.WriteStream;
			const code = await main(['serve', '--demo', '--state-dir', stateDir], {stdout: sink, stderr: sink, stdin: {isTTY: false} as NodeJS.ReadStream, env: {}});
			const said = written.join('');
			expect(code).toBe(1);
			// A welcome whose host carries control characters is no envwatch server's: refused, quoting it escaped.
			expect(said).toContain('refused the server\'s welcome: its host "guard\\u001b[2J\\u001b]0;owned\\u0007\\u202e" is not 1 to 255 printable characters');
			// eslint-disable-next-line no-control-regex -- no control character may reach the terminal
			expect(said.replace(/\n$/, '')).not.toMatch(/[\u0000-\u001F\u007F-\u009F\u202E]/);
		} finally {
			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise(resolve => server.close(resolve));
		}
	});
});
