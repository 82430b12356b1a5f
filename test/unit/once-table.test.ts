import {gzipSync} from 'node:zlib';
import {describe, expect, it} from 'vitest';
import {parseArgs} from '../../source/app/args.js';
import {version} from '../../source/app/io.js';
import {onceFromTable} from '../../source/commands/once.js';
import {UsageError} from '../../source/domain/errors.js';
import type {LeaseInfo} from '../../source/engine/state/lease.js';
import type {Snapshot} from '../../source/engine/snapshot.js';
import type {CoordinationTable, TableItem, TableKey} from '../../source/providers/types.js';
import {snapshot, t0, view} from '../component/fixtures.js';

/**
 * `--once` on a host that does not lead: the leader's figures as the table holds them (the mirror
 * item the leader writes: its version, its fencing token, its figures gzipped). A table of one item
 * is enough here: the run only reads (the lease and the snapshot), so no DynamoDB is needed.
 */
const leader: LeaseInfo = {holder: 'jump-1/4242/abc', host: 'jump-1', pid: 4242, mode: 'serve', since: t0 - 3_600_000, token: 7, version: 90, durationMs: 20_000, released: false, heartbeatAt: t0, expiresAt: t0 + 20_000};

function tableWith(figures: Snapshot): CoordinationTable {
	const items = new Map<string, TableItem>([['view/snapshot', {pk: 'view', sk: 'snapshot', version, token: leader.token, at: figures.at, body: gzipSync(JSON.stringify(figures))}]]);
	const refuse = async () => {
		throw new Error('a --once beside a leader writes nothing');
	};

	return {name: 'DynamoDB table envwatch (us-east-1)', get: async (key: TableKey) => items.get(`${key.pk}/${key.sk}`), query: refuse, put: refuse, transact: refuse, close: () => undefined};
}

async function once(figures: Snapshot, args: string[], now = figures.at + 5000): Promise<{code: number; stdout: string; stderr: string}> {
	const out: string[] = [];
	const err: string[] = [];
	const io = {stdout: {write: (text: string) => out.push(text)} as unknown as NodeJS.WritableStream, stderr: {write: (text: string) => err.push(text)} as unknown as NodeJS.WritableStream};
	const code = await onceFromTable(tableWith(figures), leader, parseArgs(['--once', ...args]), io, 0, () => now);
	return {code, stdout: out.join(''), stderr: err.join('')};
}

// dev split by account: its rows are dev@sandbox and dev@prod-acct; the breach is in dev@sandbox.
const split = snapshot({
	environments: [view('dev@sandbox', {status: 'BREACH', level: 'breach'}), view('dev@prod-acct'), view('staging')],
	breachFound: true,
	breachFoundIn: ['dev@sandbox'],
});

describe('--once from the table, beside a leader', () => {
	it('-e names what the leader monitors: a typo is exit 2 naming it; a name split by account means all its rows, so their breach is exit 3', async () => {
		await expect(once(split, ['-e', 'typo'])).rejects.toThrow(UsageError);
		await expect(once(split, ['-e', 'typo'])).rejects.toThrow(/-e typo: not an environment the engine holding the lease of DynamoDB table envwatch \(us-east-1\) \(serve pid 4242 on jump-1.*\) monitors — expected one of: dev@sandbox, dev@prod-acct, staging, dev$/);
		const dev = await once(split, ['-e', 'dev']);
		expect(dev.code).toBe(3);
		expect(dev.stdout).toMatch(/Dev@sandbox Environment: +BREACH/);
		expect(dev.stdout).toMatch(/Dev@prod-acct Environment/);
		expect(dev.stdout).not.toMatch(/Staging/i);
		// The breach is dev's: staging alone is all clear, and a row named whole works as ever.
		expect((await once(split, ['-e', 'staging'])).code).toBe(0);
		expect((await once(split, ['-e', 'dev@sandbox'])).code).toBe(3);
	});

	it('figures older than 3 polls and a minute by this clock are exit 1 naming their age, never all clear', async () => {
		const calm = snapshot({breachFound: false, breachFoundIn: []});
		expect((await once(calm, [], calm.at + (3 * 15 + 60) * 1000)).code).toBe(0);
		const old = await once(calm, [], calm.at + 3_600_000);
		expect(old.code).toBe(1);
		expect(old.stderr).toMatch(/^envwatch: the leader's figures are 60m old by this host's clock \(made at 2026-11-27T05:00:00\.000Z by its clock; the two may differ\), more than 3 polls of 15s and a minute: .*not taken for "all clear" \(exit 1\)\n$/);
	});
});
