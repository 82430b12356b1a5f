import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi} from 'vitest';
import {AuditLog, isAuditGap, type AuditEntry, type WriteFunction} from '../../source/engine/state/audit.js';
import {readAuditTail} from '../../source/engine/state/audit-reader.js';
import {eventOf} from '../../source/notify/messages.js';
import {Recorder} from '../../source/engine/recorder.js';
import {StateStore} from '../../source/engine/state/store.js';
import {fillUp, mountSmallDisk, unmountSmallDisk} from '../helpers/full-disk.js';
import {SimHarness} from '../helpers/sim.js';

const entry = (reason = 'r'): Omit<AuditEntry, 'seq'> => ({at: '2026-11-27T09:00:00.000Z', type: 'decision', actor: 'auto', kind: 'stop', environments: ['dev'], reason, instanceIds: ['i-1'], dryRun: false});

function parsed(file: string): AuditEntry[] {
	const text = fs.readFileSync(file, 'utf8');
	expect(text.endsWith('\n'), 'the log ends with a whole line').toBe(true);
	return text.split('\n').filter(Boolean).map(line => JSON.parse(line) as AuditEntry);
}

let dir: string;
beforeEach(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-audit-'));
});
afterEach(() => {
	fs.rmSync(dir, {recursive: true, force: true});
});

describe('AuditLog: every line is fsynced', () => {
	it('fsyncs the log after each entry; an fsync that fails is a failure to record (the line taken back, reported once), never silent', () => {
		const file = path.join(dir, 'audit.log');
		const log = new AuditLog(file);
		// fsync cannot be made to fail on a healthy disk: spied on, and made to throw EIO as a
		// failing disk or a lost NFS server does.
		const fsync = vi.spyOn(fs, 'fsyncSync');
		try {
			log.append(entry('first'));
			expect(fsync).toHaveBeenCalledTimes(1);
			expect(fs.fstatSync(fsync.mock.calls[0]![0]).ino).toBe(fs.statSync(file).ino);
			const before = fs.readFileSync(file, 'utf8');

			fsync.mockImplementation(() => {
				throw Object.assign(new Error('EIO: i/o error, fsync'), {code: 'EIO'});
			});
			expect(() => log.append(entry('not durable'))).not.toThrow();
			expect(log.error).toBe(`cannot write the audit log ${file}: EIO: i/o error, fsync`);
			expect(log.takeNotices().map(notice => notice.message)).toEqual([expect.stringContaining(`cannot write the audit log ${file}: EIO`)]);
			// Not claimed as written: the line is taken back, and the next one written says it was lost.
			expect(fs.readFileSync(file, 'utf8')).toBe(before);

			fsync.mockRestore();
			log.append(entry('durable again'));
			expect(log.error).toBeNull();
			expect(parsed(file).map(line => [line.seq, line.kind, line.reason.split(' (')[0]])).toEqual([[1, 'stop', 'first'], [3, 'error', 'entries from seq 2 until this one were not written'], [4, 'stop', 'durable again']]);
		} finally {
			fsync.mockRestore();
			log.close();
		}
	});
});

describe('AuditLog: a line is written whole or not at all', () => {
	it('cuts a half-written line back and reports the failure once per streak, until a write succeeds', () => {
		// Injected write function (a real short write is below, on a full tmpfs): writes half the
		// bytes, then fails as a full disk does, while `failing` is set.
		let failing = false;
		const write: WriteFunction = (fd, buffer, offset, length) => {
			if (!failing) {
				return fs.writeSync(fd, buffer, offset, length);
			}

			if (offset === 0) {
				return fs.writeSync(fd, buffer, 0, Math.ceil(length / 2));
			}

			throw Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC'});
		};

		const file = path.join(dir, 'audit.log');
		const log = new AuditLog(file, write);
		log.append(entry('first'));
		const before = fs.readFileSync(file, 'utf8');
		failing = true;
		expect(() => log.append(entry('lost'))).not.toThrow();
		expect(fs.readFileSync(file, 'utf8')).toBe(before);
		expect(log.error).toContain('ENOSPC');
		expect(log.error).toContain(file);
		log.append(entry('lost too'));
		const notices = log.takeNotices();
		expect(notices).toHaveLength(1);
		expect(notices[0]!.message).toContain(`cannot write the audit log ${file}: ENOSPC`);

		failing = false;
		log.append(entry('written'));
		expect(log.error).toBeNull();
		expect(log.takeNotices()).toEqual([]);
		const lines = parsed(file);
		// The lost entries' numbers stay used, and the first entry written after them is preceded by
		// one that says so, whatever wrote it (not only the next poll).
		// ('lost too' was tried with its gap entry: both numbers, 3 and 4, are used and lost.)
		expect(lines.map(line => line.seq)).toEqual([1, 5, 6]);
		expect(lines.map(line => line.reason)).toEqual(['first', expect.stringMatching(/^entries from seq 2 until this one were not written \(cannot write the audit log .*: ENOSPC/), 'written']);
		expect(lines[1]).toMatchObject({kind: 'error', lostFrom: 2});
		expect(isAuditGap(lines[1] as AuditEntry)).toBe(true);
		log.close();
	});

	it('the gap entry written with a notification\'s line (not the next poll) is in the events pane too', () => {
		let failing = false;
		const write: WriteFunction = (fd, buffer, offset, length) => {
			if (failing) {
				throw Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC'});
			}

			return fs.writeSync(fd, buffer, offset, length);
		};

		const log = new AuditLog(path.join(dir, 'audit.log'), write);
		const recorder = new Recorder({audit: log, state: new StateStore(path.join(dir, 'state')), clock: () => Date.UTC(2026, 10, 27, 9), dryRun: false, report: () => undefined});
		recorder.log(entry('first'));
		failing = true;
		recorder.log(entry('lost'));
		failing = false;
		// A notification's outcome is appended by the notifier itself, not kept in the pane.
		log.append({...entry('delivered'), type: 'notify'});
		expect(recorder.events.map(event => event.lostFrom ?? event.reason)).toEqual([2, 'lost', 'first']);
		// The next poll's retry has nothing left to record.
		recorder.retryRecords();
		expect(recorder.events).toHaveLength(3);
		log.close();
	});

	it('after a torn last line left by an earlier run, the next entry starts on a new line and seq continues', () => {
		const file = path.join(dir, 'audit.log');
		const whole = JSON.stringify({...entry('whole'), seq: 6});
		const torn = JSON.stringify({...entry('torn'), seq: 7}).slice(0, 90);
		fs.writeFileSync(file, `${whole}\n${torn}`);
		const log = new AuditLog(file);
		log.append(entry('next'));
		log.close();
		const lines = fs.readFileSync(file, 'utf8').split('\n');
		expect(lines).toEqual([whole, torn, expect.any(String), '']);
		// The torn line lost its seq (written last): numbering goes on from the last one readable.
		expect(JSON.parse(lines[2]!)).toMatchObject({reason: 'next', seq: 7});
	});

	it('two processes writing one log (the old engine delivering its last notifications after its successor took the lock): seq never repeats', () => {
		const file = path.join(dir, 'audit.log');
		const old = new AuditLog(file);
		old.append(entry('down'));
		// The successor opens the log (its numbering carries on from the old engine's last line) and records its start.
		const successor = new AuditLog(file);
		successor.open();
		successor.append(entry('start'));
		// The old engine's notification outcome lands after that; then each writes once more.
		old.append(entry('notify outcome'));
		successor.append(entry('poll'));
		old.append(entry('dropped'));
		old.close();
		successor.close();
		const seqs = parsed(file).map(line => line.seq);
		expect(seqs).toEqual([1, 2, 3, 4, 5]);
	});

	it('on /dev/full: append does not throw, and says why nothing was written', () => {
		const log = new AuditLog('/dev/full');
		expect(() => log.append(entry())).not.toThrow();
		expect(log.error).toMatch(/cannot write the audit log \/dev\/full: ENOSPC/);
		log.close();
	});
});

describe('on a real full disk (a 64 KiB tmpfs)', () => {
	let mount: string;
	beforeAll(() => {
		mount = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-tmpfs-'));
		mountSmallDisk(mount);
	});
	afterAll(() => {
		unmountSmallDisk(mount);
		fs.rmdirSync(mount);
	});
	afterEach(() => {
		for (const name of fs.readdirSync(mount)) {
			fs.rmSync(path.join(mount, name), {recursive: true, force: true});
		}
	});

	/** Leaves about 12 KiB free. */
	const fill = () => fs.writeFileSync(path.join(mount, 'filler'), Buffer.alloc(50_000));
	/** Leaves nothing free. */
	const fillAll = () => {
		fill();
		fillUp(path.join(mount, 'filler2'));
	};

	const free = () => {
		fs.rmSync(path.join(mount, 'filler'));
		fs.rmSync(path.join(mount, 'filler2'), {force: true});
	};

	it('a line longer than the space left is not left half-written (the kernel writes part of it)', () => {
		const file = path.join(mount, 'audit.log');
		const log = new AuditLog(file);
		log.append(entry('before'));
		fill();
		const before = fs.readFileSync(file, 'utf8');
		log.append(entry('x'.repeat(30_000)));
		expect(fs.readFileSync(file, 'utf8')).toBe(before);
		expect(log.error).toContain('ENOSPC');
		free();
		log.append(entry('after'));
		expect(log.error).toBeNull();
		// The entry written once there is room goes with the one saying seq 2 was lost.
		expect(parsed(file).map(line => [line.lostFrom ?? line.reason, line.seq])).toEqual([['before', 1], [2, 3], ['after', 4]]);
		log.close();
	});

	it('state writes that fail leave no temporary file, do not throw, and are reported until one succeeds', () => {
		const state = new StateStore(path.join(mount, 'state'));
		state.saveHistory({dev: [{at: 1, usd: 1}]});
		fill();
		const big = {dev: Array.from({length: 3000}, (_, index) => ({at: index, usd: 2.123_456}))};
		expect(() => state.saveHistory(big)).not.toThrow();
		state.saveHistory(big);
		expect(state.error).toMatch(/cannot write .*samples\.json: ENOSPC/);
		expect(state.takeNotices()).toHaveLength(1);
		expect(fs.readdirSync(state.dir)).toEqual(['samples.json']);
		// The last good copy is still in place.
		expect(state.loadHistory()['dev']).toEqual([{at: 1, usd: 1}]);
		free();
		state.saveHistory(big);
		expect(state.error).toBeNull();
		expect(state.loadHistory()['dev']).toHaveLength(3000);
	});

	it('a disk full during a spike: the stop still happens, the snapshot and stderr say what was not recorded', async () => {
		const reports: string[] = [];
		const sim = new SimHarness({scenario: 'dev-spike', dir: mount, options: {report: line => reports.push(line)}});
		try {
			await sim.poll();
			await sim.poll();
			fillAll();
			const spiked = await sim.poll();
			expect(spiked.decisions.map(decision => decision.kind)).toContain('stop');
			expect(sim.agents('dev', ['running', 'pending'])).toEqual([]);
			expect(spiked.recordError).toMatch(/cannot write the audit log .*ENOSPC/);
			// The sample history is appended a few hundred bytes a poll (samples.log): that still fit
			// in the log's last block, so the spike's sample is recorded and not named as lost.
			expect(spiked.recordError).not.toMatch(/samples/);
			expect(sim.state.loadHistory()['staging']?.map(sample => sample.at)).toContain(spiked.at);
			expect(reports.filter(line => line.includes('audit log'))).toHaveLength(1);
			expect(spiked.events.some(event => event.type === 'action' && event.kind === 'stop')).toBe(true);
			free();
			const recovered = await sim.poll();
			expect(recovered.recordError).toBeNull();
			// Once there is room, the gap is written down and the last stop (for undo) is saved.
			const gap = sim.auditLines().find(line => line.kind === 'error')!;
			expect(gap.reason).toMatch(/^entries from seq \d+ until this one were not written \(cannot write the audit log .*ENOSPC/);
			// The gap is a field, not only words: from the first seq not written up to this entry's.
			expect(gap.lostFrom).toBe(Number(/^entries from seq (\d+)/.exec(gap.reason)![1]));
			expect(gap.seq).toBeGreaterThan(gap.lostFrom!);
			expect(sim.state.loadLastStop()?.environments).toEqual(['dev']);
		} finally {
			await sim.close();
		}
	});
});

describe('the audit-gap entry', () => {
	const gapLine = (extra: Record<string, unknown>, reason = 'entries from seq 4 until this one were not written (cannot write the audit log a: ENOSPC)') => JSON.stringify({at: '2026-11-27T09:00:00.000Z', seq: 9, type: 'decision', actor: 'auto', kind: 'error', environments: [], reason, instanceIds: [], dryRun: false, ...extra});

	it('is told by its lostFrom field; a log written before the field is read as before (by its words); a failed poll is not a gap', () => {
		const file = path.join(dir, 'audit.log');
		fs.writeFileSync(file, [
			gapLine({}),
			gapLine({lostFrom: 4}, 'lost from 4 (reworded)'),
			gapLine({}, 'poll failed unexpectedly: TypeError: x'),
			gapLine({lostFrom: 'four'}),
		].join('\n') + '\n');
		const tail = readAuditTail(file);
		// Oldest first; the line whose lostFrom is not a seq is skipped, and counted.
		const entries = tail.entries.reverse();
		expect(tail.skipped).toBe(1);
		expect(entries.map(entry => isAuditGap(entry))).toEqual([true, true, false]);
		// A gap is news for nobody; a failed poll is stale data.
		expect(entries.map(entry => eventOf(entry) ?? null)).toEqual([null, null, 'stale']);
	});
});
