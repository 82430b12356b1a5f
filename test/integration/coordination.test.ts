import {gzipSync} from 'node:zlib';
import type {AttributeValue} from '@aws-sdk/client-dynamodb';
import {describe, expect, test} from 'vitest';
import {newHistory} from '../../source/domain/history.js';
import {StateStore} from '../../source/engine/state/store.js';
import {DamagedDocument} from '../../source/engine/state/medium.js';
import {describeLease, lambdaJudgment, LeaseWatch, leaseKey, readLease, TableLease, watchKey, type LeaseClock, type LeaseInfo} from '../../source/engine/state/lease.js';
import {TableMedium} from '../../source/engine/state/table-medium.js';
import {readMirrored, SnapshotMirror, viewKey} from '../../source/engine/state/snapshot-mirror.js';
import type {Snapshot} from '../../source/engine/snapshot.js';
import {parseArgs} from '../../source/app/args.js';
import {version} from '../../source/app/io.js';
import {onceFromTable} from '../../source/commands/once.js';
import {snapshot, view} from '../component/fixtures.js';
import type {DynamoTable} from '../../source/providers/aws/table.js';
import {useMoto} from '../helpers/moto.js';
import {createTable, putRaw} from '../helpers/table.js';

// The coordination table against moto_server (DynamoDB) through the real SDK client: the medium
// the engine's state is written to, and the lease. The lease's clocks are given (a monotonic one the
// test moves), so expiry is shown without waiting.
const moto = useMoto();

function clock(start = 1_000_000): LeaseClock & {advance(ms: number): void} {
	let mono = 0;
	let wall = start;
	return {
		now: () => wall,
		monotonic: () => mono,
		advance(ms) {
			mono += ms;
			wall += ms;
		},
	};
}

async function take(table: DynamoTable, mode: string, options: Partial<Parameters<typeof TableLease.acquire>[1]> = {}): Promise<TableLease> {
	const acquired = await TableLease.acquire(table, {mode, durationMs: 20_000, ...options});
	if (acquired.kind !== 'taken') {
		throw new Error(`not taken: held by ${acquired.info.holder}`);
	}

	return acquired.lease;
}

describe('the state medium in DynamoDB', () => {
	test('documents and appended lines come back as written, in order, from a fresh read of the table', async () => {
		const table = await createTable(moto.url);
		const medium = await TableMedium.open(table);
		medium.write('breaker.json', '{"version":1,"environments":{}}');
		medium.append('samples.log', '{"after":"a"}\n');
		medium.append('samples.log', '{"from":{},"add":{}}\n');
		// Larger than one item can hold: written in parts, in one transaction.
		const large = JSON.stringify({version: 1, data: Array.from({length: 60_000}, (_, index) => `i-${(index * 7919).toString(16).padStart(17, '0')}-${Math.random()}`)});
		medium.write('prices.json', large);
		await medium.flush();
		expect(medium.error).toBeNull();
		const again = await TableMedium.open(table);
		expect(again.read('breaker.json')).toBe('{"version":1,"environments":{}}');
		expect(again.read('samples.log')).toBe('{"after":"a"}\n{"from":{},"add":{}}\n');
		expect(again.read('prices.json')).toBe(large);
		expect(again.size('samples.log')).toBe(35);
		expect(again.read('last-stop.json')).toBeUndefined();
		expect((await table.query('state', 'part#prices.json#')).length).toBeGreaterThan(1);
	});

	test('a compaction and the removal of the log it replaces reach the table in that order; a removed document is gone', async () => {
		const table = await createTable(moto.url);
		const medium = await TableMedium.open(table);
		for (let index = 0; index < 120; index++) {
			medium.append('samples.log', `line ${index}\n`);
		}

		medium.write('last-stop.json', '{}');
		await medium.flush();
		medium.write('samples.json', '{"compacted":true}');
		medium.remove('samples.log');
		medium.remove('last-stop.json');
		await medium.flush();
		const again = await TableMedium.open(table);
		expect(again.read('samples.json')).toBe('{"compacted":true}');
		expect(again.read('samples.log')).toBeUndefined();
		expect(again.read('last-stop.json')).toBeUndefined();
		expect(await table.query('state', 'log#')).toEqual([]);
	});

	test('an item that is not a document envwatch wrote reads as damaged, and is moved aside whole', async () => {
		const table = await createTable(moto.url);
		await putRaw(moto.url, {pk: {S: 'state'}, sk: {S: 'doc#breaker.json'}, gen: {S: ''}, parts: {N: '0'}, bytes: {N: '5'}, body: {B: new TextEncoder().encode('not gzip')}});
		const medium = await TableMedium.open(table);
		expect(() => medium.read('breaker.json')).toThrow(DamagedDocument);
		expect(() => medium.read('breaker.json')).toThrow(/not gzip/);
		medium.rename('breaker.json', 'breaker.json.damaged-x');
		await medium.flush();
		const items = await table.query('state');
		expect(items.map(item => item.sk)).toEqual(['doc#breaker.json.damaged-x']);
		expect(new TextDecoder().decode(items[0]!['body'] as Uint8Array)).toBe('not gzip');
	});

	test('a damaged log of 150 lines (one without text, one under a key envwatch never writes) is moved aside whole; later writes and lines are not held up or lost', async () => {
		const table = await createTable(moto.url);
		const writer = await TableMedium.open(table);
		for (let line = 1; line <= 150; line++) {
			writer.append('samples.log', `{"n":${line}}\n`);
		}

		await writer.flush();
		await putRaw(moto.url, {pk: {S: 'state'}, sk: {S: 'log#samples.log#0000000151'}, note: {S: 'no text'}});
		await putRaw(moto.url, {pk: {S: 'state'}, sk: {S: 'log#samples.log#x'}, text: {S: '{"n":"x"}\n'}});
		const medium = await TableMedium.open(table);
		expect(() => medium.read('samples.log')).toThrow(/the line key log#samples.log#x is not one envwatch writes|the line log#samples.log#0000000151 has no text/);
		medium.rename('samples.log', 'samples.log.damaged-x');
		medium.write('breaker.json', '{"tripped":[]}');
		medium.append('samples.log', 'a\n');
		medium.append('samples.log', 'b\n');
		medium.append('samples.log', 'c\n');
		await medium.flush();
		expect(medium.error).toBeNull();
		const keys = (await table.query('state')).map(item => item.sk);
		// The copy holds every item as the table had it (152), the old keys are gone, the breaker is written.
		expect(keys.filter(key => key.startsWith('log#samples.log.damaged-x#'))).toHaveLength(152);
		expect(keys).toContain('doc#breaker.json');
		expect(keys).not.toContain('log#samples.log#x');
		const again = await TableMedium.open(table);
		expect(again.read('samples.log')).toBe('a\nb\nc\n');
		expect(again.read('breaker.json')).toBe('{"tripped":[]}');
	});

	test('a document whose gzip inflates past the size its head gives is damaged, never inflated whole', async () => {
		const table = await createTable(moto.url);
		// 64 KiB of gzip that inflates to 64 MiB; the head says 5 bytes.
		const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
		await putRaw(moto.url, {pk: {S: 'state'}, sk: {S: 'doc#breaker.json'}, gen: {S: ''}, parts: {N: '0'}, bytes: {N: '5'}, body: {B: bomb}});
		const medium = await TableMedium.open(table);
		expect(() => medium.read('breaker.json')).toThrow(/its body is not gzip of at most 5 bytes/);
		// The leader's mirrored snapshot too, and a version that carries an ESC sequence is printed escaped.
		await putRaw(moto.url, {pk: {S: viewKey.pk}, sk: {S: viewKey.sk}, version: {S: '1.0'}, body: {B: gzipSync(Buffer.alloc(32 * 1024 * 1024))}});
		expect(await readMirrored(table, '1.0')).toEqual({problem: expect.stringMatching(/^the snapshot in DynamoDB table envwatch \(us-east-1\) is not readable \(ERR_BUFFER_TOO_LARGE: Cannot create a Buffer larger than 16777216 bytes\)$/), refused: expect.stringMatching(/^not readable/)});
		await putRaw(moto.url, {pk: {S: viewKey.pk}, sk: {S: viewKey.sk}, version: {S: '9\u001b[2J'}, body: {B: gzipSync('{}')}});
		expect(await readMirrored(table, '1.0')).toEqual({problem: expect.stringContaining('runs envwatch 9\\x1b[2J, this one 1.0')});
	});

	test('a write the fence refuses (another engine holds the lease) changes nothing, says so, and stops writing', async () => {
		const table = await createTable(moto.url);
		const time = clock();
		const first = await take(table, 'serve', {clock: time});
		const fenced: string[] = [];
		const medium = await TableMedium.open(table, {fence: () => first.condition(), onFenced: why => fenced.push(why)});
		medium.write('breaker.json', 'one');
		await medium.flush();
		expect(medium.error).toBeNull();
		// The first engine's lease goes stale (its version stood still for its duration, by the second's clock).
		const watch = new LeaseWatch(time);
		expect(watch.stale((await readLease(table))!)).toBe(false);
		time.advance(20_000);
		const second = await take(table, 'serve', {stale: info => (watch.stale(info) ? 'stale' : undefined)});
		expect(second.info.token).toBe(first.info.token + 1);
		medium.write('breaker.json', 'two');
		await medium.flush();
		expect(fenced).toHaveLength(1);
		expect(medium.error).toMatch(/no longer holds the lease .*token 2/);
		expect((await TableMedium.open(table)).read('breaker.json')).toBe('one');
	});
});

describe('the leader\'s figures in the table', () => {
	test('a --once beside a leader whose mirrored figures cannot be true exits 1 naming the field, and prints none of them', async () => {
		const table = await createTable(moto.url, 'envwatch-mirror');
		const lease = await take(table, 'serve');
		// The leader's own mirror writes what its store holds: good figures, then a lie.
		let figures: Snapshot = snapshot({at: Date.now(), lastSuccessAt: Date.now()});
		const mirror = new SnapshotMirror(table, {subscribe: () => () => undefined, getSnapshot: () => figures}, () => lease.condition(), version, lease.info.token, () => undefined);
		const once = async () => {
			const out: string[] = [];
			const err: string[] = [];
			const io = {stdout: {write: (text: string) => out.push(text)} as unknown as NodeJS.WritableStream, stderr: {write: (text: string) => err.push(text)} as unknown as NodeJS.WritableStream};
			const code = await onceFromTable(table, lease.info, parseArgs(['--once']), io, 0);
			return {code, stdout: out.join(''), stderr: err.join('')};
		};

		await mirror.flush();
		expect(await once()).toMatchObject({code: 0, stderr: ''});
		figures = {...figures, environments: [view('dev', {hourlyUsd: 1e12}), ...figures.environments.slice(1)]};
		await mirror.flush();
		const lied = await once();
		expect(lied.stderr).toMatch(/^envwatch: this --once does not poll: the engine runs on .* with the lease of DynamoDB table envwatch-mirror \(us-east-1\): serve pid \d+ .*; its figures cannot be shown \(the leader's figures in DynamoDB table envwatch-mirror \(us-east-1\) were refused: environments\[0\]\.hourlyUsd is 1000000000000, expected an amount from \$0 to \$416,667\/h\): nothing looked at or acted on here \(exit 1\)\n$/);
		expect(lied.code).toBe(1);
		expect(lied.stdout).toBe('');
		table.close();
	});
});

describe('the engine\'s state store over the table', () => {
	test('keeps the history (compacted, then appended), breakers and last stop, read back by a fresh engine', async () => {
		const table = await createTable(moto.url);
		const store = new StateStore(await TableMedium.open(table), () => Date.parse('2026-11-27T09:30:05.123Z'));
		const history = newHistory();
		history['dev'] = [{at: 1000, usd: 2}];
		store.saveHistory(history);
		history['dev'].push({at: 2000, usd: 2.5});
		history['staging'] = [{at: 2000, usd: 1}];
		store.saveHistory(history);
		store.saveBreakers(new Map([['dev', {trippedAt: 2000, actor: 'auto', reason: 'dev +3%'}]]));
		store.saveLastStop({at: 2000, actor: 'auto', environments: ['dev'], targets: [{id: 'i-1', region: 'us-east-1'}], dryRun: false, usdPerHour: 0.5});
		await store.flush();
		expect(store.error).toBeNull();
		expect((await table.query('state', 'log#samples.log#')).length).toBe(1);
		const next = new StateStore(await TableMedium.open(table));
		expect({...next.loadHistory()}).toEqual({dev: [{at: 1000, usd: 2}, {at: 2000, usd: 2.5}], staging: [{at: 2000, usd: 1}]});
		expect([...next.loadBreakers()]).toEqual([['dev', {trippedAt: 2000, actor: 'auto', reason: 'dev +3%'}]]);
		expect(next.loadLastStop()).toMatchObject({targets: [{id: 'i-1', region: 'us-east-1'}], usdPerHour: 0.5});
		expect(next.takeNotices()).toEqual([]);
	});

	test('an item of the wrong shape is damaged as a file would be: moved aside, said once, that part fresh', async () => {
		const table = await createTable(moto.url);
		const text = '{"version":2,"environments":{}}';
		await putRaw(moto.url, {pk: {S: 'state'}, sk: {S: 'doc#breaker.json'}, gen: {S: ''}, parts: {N: '0'}, bytes: {N: String(text.length)}, body: {B: gzipSync(text)}});
		const store = new StateStore(await TableMedium.open(table), () => Date.parse('2026-11-27T09:30:05.123Z'));
		expect(store.loadBreakers().size).toBe(0);
		expect(store.takeNotices()).toEqual([{damaged: true, message: 'the state item breaker.json in DynamoDB table envwatch (us-east-1) is damaged (version: number 2 — expected 1); moved it aside to state item breaker.json.damaged-2026-11-27T093005.123Z in DynamoDB table envwatch (us-east-1); every breaker starts reset (environments envwatch had stopped are no longer held)'}]);
		await store.flush();
		expect((await table.query('state')).map(item => item.sk)).toEqual(['doc#breaker.json.damaged-2026-11-27T093005.123Z']);
	});
});

describe('the lease', () => {
	test('of engines taking an absent lease at once, exactly one holds it; the others are told who does', async () => {
		const table = await createTable(moto.url);
		const results = await Promise.all(Array.from({length: 6}, async (_, index) => TableLease.acquire(table, {mode: 'serve', host: `host-${index}`})));
		const taken = results.filter(result => result.kind === 'taken');
		expect(taken).toHaveLength(1);
		const holder = taken[0]!.kind === 'taken' ? taken[0]!.lease.info.holder : '';
		for (const result of results.filter(result => result.kind === 'held')) {
			expect(result.kind === 'held' && result.info.holder).toBe(holder);
		}

		expect((await readLease(table))!).toMatchObject({token: 1, released: false, holder});
	});

	test('a live holder is never taken over: each heartbeat moves the version, so a standby never sees it stand still', async () => {
		const table = await createTable(moto.url);
		const time = clock();
		const leader = await take(table, 'serve');
		const watch = new LeaseWatch(time);
		for (let beat = 0; beat < 6; beat++) {
			const info = (await readLease(table))!;
			expect(watch.stale(info)).toBe(false);
			time.advance(8000);
			await leader.beat();
		}

		const acquired = await TableLease.acquire(table, {mode: 'serve', stale: info => (watch.stale(info) ? 'stale' : undefined)});
		expect(acquired).toMatchObject({kind: 'held', info: {holder: leader.info.holder}});
	});

	test('a released lease is taken at once, with the next token; a stale one only after its duration, saying why', async () => {
		const table = await createTable(moto.url);
		const first = await take(table, 'once');
		await first.release();
		const second = await take(table, 'serve');
		expect(second.info.token).toBe(2);
		expect(second.tookOver).toBeUndefined();
		const time = clock();
		const watch = new LeaseWatch(time);
		const judge = (info: LeaseInfo) => (watch.stale(info) ? `no heartbeat for ${watch.stillFor()} ms` : undefined);
		expect((await TableLease.acquire(table, {mode: 'serve', stale: judge})).kind).toBe('held');
		time.advance(19_999);
		expect((await TableLease.acquire(table, {mode: 'serve', stale: judge})).kind).toBe('held');
		time.advance(1);
		const third = await TableLease.acquire(table, {mode: 'serve', stale: judge});
		expect(third.kind).toBe('taken');
		expect(third.kind === 'taken' && third.lease.tookOver).toMatchObject({why: 'no heartbeat for 20000 ms', info: {token: 2}});
		expect(third.kind === 'taken' && third.lease.info.token).toBe(3);
	});

	test('fencing: a holder paused past its lease, whose clock still says valid, is refused by the conditional write and learns it lost the lease', async () => {
		const table = await createTable(moto.url);
		const pausedClock = clock();
		const old = await take(table, 'serve', {clock: pausedClock});
		const lost: string[] = [];
		old.hold({lost: why => lost.push(why)});
		await old.fence();
		// A standby sees the version stand still for the duration and takes over.
		const time = clock();
		const watch = new LeaseWatch(time);
		watch.stale((await readLease(table))!);
		time.advance(20_000);
		const next = await take(table, 'serve', {stale: info => (watch.stale(info) ? 'stale' : undefined)});
		// The old holder's own clock has not moved (it was paused): only the table can tell it.
		await expect(old.fence()).rejects.toThrow(/refused: another engine holds the lease .*fencing token 2/);
		expect(lost).toHaveLength(1);
		expect(old.lost).toMatch(/another engine holds the lease/);
		await next.fence();
		expect((await readLease(table))!).toMatchObject({token: 2, holder: next.info.holder});
		await old.release();
		expect((await readLease(table))!).toMatchObject({token: 2, released: false});
	});

	test('a holder whose lease ran out by its own clock, and nobody took it, still holds it after its next write; a fence too slow to act on is refused', async () => {
		const table = await createTable(moto.url);
		const time = clock();
		const lease = await take(table, 'serve', {clock: time});
		time.advance(25_000);
		// Nobody took it: the conditional write succeeds, and from it the lease is valid again.
		await lease.fence();
		// Taken over (the test says it is stale); this one's writes then take 15 s by its clock.
		const lagging = await take(table, 'once', {clock: time, stale: () => 'test'});
		const put = table.put.bind(table);
		table.put = async (...args) => {
			time.advance(15_000);
			return put(...args);
		};

		await expect(lagging.fence()).rejects.toThrow(/took 15s, too close to its end/);
		table.put = put;
	});

	test('a Lambda judges a long-running engine\'s lease by its own observations (the watch item), never by the holder\'s clock', async () => {
		const table = await createTable(moto.url);
		// A holder whose clock is an hour ahead: its expiresAt means nothing to the Lambda.
		const serve = await take(table, 'serve', {clock: clock(Date.now() + 3_600_000)});
		const info = (await readLease(table))!;
		const now = Date.now();
		expect(await lambdaJudgment(table, info, now)).toBeUndefined();
		expect(await table.get(watchKey)).toMatchObject({token: 1, version: info.version, seenAt: now});
		// A minute later, a heartbeat since: alive, and the watch moves on.
		await serve.beat();
		const moved = (await readLease(table))!;
		expect(await lambdaJudgment(table, moved, now + 60_000)).toBeUndefined();
		// Another minute, the version where it was: stale.
		expect(await lambdaJudgment(table, moved, now + 120_000)).toMatch(/has not moved for 60s/);
		// A Lambda's own lease (AWS's clocks on both sides) is stale once it expired.
		await serve.release();
		const lambda = await take(table, 'lambda');
		expect(await lambdaJudgment(table, lambda.info, lambda.info.expiresAt)).toBeUndefined();
		expect(await lambdaJudgment(table, lambda.info, lambda.info.expiresAt + 1000)).toMatch(/did not release it/);
	});

	test('the table is untrusted too: a far-future expiry, a token gone backwards, a heartbeat or a watch dated ahead of this clock', async () => {
		const table = await createTable(moto.url);
		const now = Date.now();
		const lease = (fields: Record<string, number | string | boolean>) => Object.fromEntries(Object.entries({...leaseKey, holder: 'h:1:x', host: 'h', pid: 1, mode: 'serve', since: now, token: 3, version: 7, durationMs: 20_000, released: false, heartbeatAt: now, expiresAt: now + 20_000, ...fields}).map(([key, value]) => [key, typeof value === 'number' ? {N: String(value)} : typeof value === 'boolean' ? {BOOL: value} : {S: value}]));
		// An expiry ten years out is no lease envwatch wrote: reported, never taken, nothing judged by it.
		await putRaw(moto.url, lease({expiresAt: now + 315_360_000_000}));
		await expect(TableLease.acquire(table, {mode: 'serve'})).rejects.toThrow(/not an envwatch lease: expiresAt is \d+ — expected heartbeatAt \(\d+\) plus at most durationMs \(20000\)/);
		// A Lambda's lease dated an hour ahead (its host's clock): its expiry never passes by this
		// clock, so it is judged by the watch instead, and goes stale when its version stands still.
		await putRaw(moto.url, lease({mode: 'lambda', heartbeatAt: now + 3_600_000, expiresAt: now + 3_620_000}));
		const ahead = (await readLease(table))!;
		expect(describeLease(ahead, now)).toMatch(/last heartbeat dated 3600s ahead of this host's clock \(the clocks differ\)/);
		expect(await lambdaJudgment(table, ahead, now)).toBeUndefined();
		expect(await lambdaJudgment(table, ahead, now + 20_000)).toMatch(/has not moved for 20s/);
		// A watch dated ahead of this invocation's clock would never age: it is written again.
		await table.put({...watchKey, token: 3, version: 7, seenAt: now + 3_600_000, holder: 'x'});
		expect(await lambdaJudgment(table, ahead, now)).toBeUndefined();
		expect(await table.get(watchKey)).toMatchObject({seenAt: now});
		// The fencing token going backwards (the watch saw 3, the lease says 2): refused, loudly.
		await putRaw(moto.url, lease({token: 2}));
		const back = (await readLease(table))!;
		await expect(lambdaJudgment(table, back, now + 60_000)).rejects.toThrow(/fencing token went backwards \(from 3 to 2\).*remove the watch item/);
		const watch = new LeaseWatch(clock());
		watch.stale(ahead);
		expect(() => watch.stale(back)).toThrow(/fencing token went backwards \(from 3 to 2\)/);
	});

	test('a lease item envwatch did not write is reported, never taken', async () => {
		const table = await createTable(moto.url);
		await putRaw(moto.url, {pk: {S: leaseKey.pk}, sk: {S: leaseKey.sk}, holder: {S: 'x'}, token: {S: 'seven'}});
		await expect(TableLease.acquire(table, {mode: 'serve'})).rejects.toThrow(/not an envwatch lease: released is null — expected true or false/);
		// Plausible types, impossible values: a start past the last date there can be (status would
		// throw "Invalid time value"), and a host that carries an ESC sequence to every terminal it is printed on.
		const now = Date.now();
		const item = (fields: Record<string, AttributeValue>) => ({pk: {S: leaseKey.pk}, sk: {S: leaseKey.sk}, holder: {S: 'h:1:x'}, host: {S: 'h'}, pid: {N: '1'}, mode: {S: 'serve'}, since: {N: String(now)}, token: {N: '3'}, version: {N: '7'}, durationMs: {N: '20000'}, released: {BOOL: false}, heartbeatAt: {N: String(now)}, expiresAt: {N: String(now + 20_000)}, ...fields});
		await putRaw(moto.url, item({since: {N: '9000000000000000'}}));
		await expect(TableLease.acquire(table, {mode: 'serve'})).rejects.toThrow(/not an envwatch lease: since is 9000000000000000 — expected a whole number from 0 to 8640000000000000/);
		await putRaw(moto.url, item({host: {S: 'evil\u001b]0;owned\u0007\u001b[2J'}}));
		const refused = await TableLease.acquire(table, {mode: 'serve'}).then(() => '', (error: unknown) => String(error));
		expect(refused).toContain('not an envwatch lease: host is "evil\\u001b]0;owned\\u0007\\u001b[2J" — expected a string of at most 300 printable characters');
		expect(refused).not.toContain('\u001b');
	});
});
