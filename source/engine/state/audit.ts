import fs from 'node:fs';
import path from 'node:path';
import type {InstanceOutcome} from '../../providers/index.js';
import {plural} from '../../domain/index.js';
import {describeError, inDirectory, writeFailed, type RecordNotice} from './record.js';

/**
 * Who a socket client really is, as the kernel says (source/serve/peer.ts): its uid (null when it
 * could not be told), user name and pid where known, and how that is known.
 */
export type AuditPeer = {uid: number | null; user?: string; pid?: number; by: string};

export type AuditEntry = {
	/** ISO time. */
	at: string;
	seq: number;
	/**
	 * `progress`: one batch of a paced action, written as it completes (the `action` line closes it).
	 * `notify`: the outcome of one notification delivery (kind `notify`).
	 */
	type: 'decision' | 'action' | 'progress' | 'notify';
	/** `auto`, or the OS user@host who pressed the key or ran the command. */
	actor: string;
	/**
	 * `respawn`: agents stopped again by the breaker; `reset`: a breaker reset; `interrupted`: an
	 * action found cut short at start-up; `clock`: samples dated in the future dropped; `state`: a
	 * damaged state file was moved aside; `error`: a poll failed unexpectedly (the data is stale
	 * until a poll succeeds again).
	 */
	kind: 'stop' | 'cascade' | 'emergency' | 'undo' | 'alert' | 'warn' | 'hold' | 'recover' | 'pause' | 'resume' | 'cancel' | 'pending' | 'violation' | 'start'
		| 'respawn' | 'reset' | 'interrupted' | 'clock' | 'state' | 'error' | 'notify'
		/**
		 * This process took over the engine: from one that exited (`envwatch serve`, attached
		 * dashboards), or by breaking a stale lock (the reason says why it was stale).
		 */
		| 'takeover'
		/**
		 * The engine ended: a signal, a crash, a give-up, a lost lock, the dashboard's terminal gone
		 * or `q`. Exactly one per end; `environments` is what it guarded, `reason` why (`SIGTERM`,
		 * `SIGHUP: the terminal is gone`, `crash: ...`, `gave up: ...`, `lost the engine lock: ...`,
		 * `quit`). The notification event `down`.
		 */
		| 'down'
		/** A signal the engine does not end on (SIGHUP to a server, or to a run without a terminal). */
		| 'signal'
		/** A socket client refused or disconnected for what it sent; `peer` says who it really is. */
		| 'client'
		/** The engine lock's heartbeat failed (could not read or write it) or works again. */
		| 'lock'
		/**
		 * The region sweep found agents of a monitored environment in a region not watched (outcome
		 * `found`), found them gone (`cleared`), or could not look (`failed: ...`).
		 */
		| 'unwatched'
		/**
		 * With `accounts`: the accounts watched changed (outcome `changed`: joined or left an
		 * organization, or the configuration changed; every window restarts), an account's share could
		 * not be listed (`failed: NAME`, its rows STALE) or is listed again (`recovered`).
		 */
		| 'accounts'
		/** A person changed what the engine guards (`:guard` in the dashboard); `environments` is the new set. */
		| 'guard';
	/** `socket`: the command came from a client of `envwatch serve` (absent: from this process). */
	via?: 'socket';
	/** With `via: "socket"` and on `client` entries: who the client really is (not what it says). */
	peer?: AuditPeer;
	environments: string[];
	reason: string;
	/** The measured figures behind the decision. */
	figures?: Record<string, number | string | null>;
	instanceIds: string[];
	dryRun: boolean;
	/** What happened: `executed`, `skipped: read-only`, `skipped: paused`, `failed: ...`. */
	outcome?: string;
	results?: InstanceOutcome[];
	/** On the `error` entry that records a gap: the first seq not written (the gap runs up to this entry's). */
	lostFrom?: number;
};

/**
 * Whether an entry records a gap in the log (entries that could not be written) rather than a
 * failed poll. Entries written before `lostFrom` existed say so only in their text.
 */
export function isAuditGap(entry: Pick<AuditEntry, 'kind' | 'reason' | 'lostFrom'>): boolean {
	return entry.kind === 'error' && (entry.lostFrom !== undefined || /^entries from seq /.test(entry.reason));
}

/** `fs.writeSync`'s buffer form: how many bytes it wrote (possibly fewer than asked), or it throws. */
export type WriteFunction = (fd: number, buffer: Buffer, offset: number, length: number) => number;

/**
 * The audit log: JSON lines, one per decision and per action result, written synchronously and
 * fsynced, so a dropped SSH session or a SIGHUP never leaves an action unrecorded.
 *
 * A line is written whole or not at all: short writes are continued, and when the disk is full
 * (or any write fails) the file is cut back to its size before the line. `append` never throws:
 * stopping spend comes first, so a failure to record is kept in `error` (until a write succeeds)
 * and announced once per failure streak through `takeNotices()`, for the caller to report.
 */
export class AuditLog {
	private fd: number | undefined;
	private seq = 0;
	/** The file does not end with a newline (a torn line from an earlier run or a failed cut). */
	private torn = false;
	private failure: string | null = null;
	/** The first seq of the entries not written in the current failure streak. */
	private firstLost: number | undefined;
	private notices: RecordNotice[] = [];
	/** The file's size after this log's last open or write: another size means another process appended since. */
	private known: number | undefined;
	private readonly listeners = new Set<(entry: AuditEntry) => void>();

	constructor(
		readonly file: string,
		/** Only tests replace it, to produce a short write followed by a failure on demand. */
		private readonly write: WriteFunction = (fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length),
	) {}

	/** Why the last entry could not be written; null once an entry is written again. */
	get error(): string | null {
		return this.failure;
	}

	/** The first seq not written, while writes fail (for the entry that records the gap). */
	get lostFrom(): number | undefined {
		return this.firstLost;
	}

	open(): void {
		this.fd = inDirectory(path.dirname(this.file), () => fs.openSync(this.file, 'a', 0o600));
		// Carry on from the last entry, so seq stays unique across restarts and --once runs from cron.
		const tail = readTail(this.file);
		this.seq = Math.max(this.seq, tail.seq);
		this.torn = tail.torn;
		this.known = fs.fstatSync(this.fd).size;
	}

	/**
	 * Another process appended since this log last wrote (a successor engine took the lock while this
	 * one still delivers its last notifications, a one-off run beside it): carry on from its last seq,
	 * so numbers never repeat in the file.
	 */
	private catchUp(fd: number): void {
		if (fs.fstatSync(fd).size === this.known) {
			return;
		}

		const tail = readTail(this.file);
		this.seq = Math.max(this.seq, tail.seq);
		this.torn = tail.torn;
	}

	append(entry: Omit<AuditEntry, 'seq'>): AuditEntry {
		// The first entry written after a failure streak goes with the one that says what was lost,
		// whoever writes it (a poll, a notification's outcome, a command): both lines or neither.
		const gap = this.firstLost !== undefined && this.failure !== null && entry.lostFrom === undefined ? gapEntry(this.firstLost, this.failure, entry) : undefined;
		let written: AuditEntry[] = [];
		let full: AuditEntry | undefined;
		try {
			if (this.fd !== undefined && this.moved(this.fd)) {
				// The log was removed or moved away under a running guard (its directory deleted, a
				// rotation by rename): lines written to the open file would be read by nobody, or land
				// in the rotated file. Start it again where it belongs; seq goes on.
				this.notices.push({message: `the audit log ${this.file} was moved or removed while envwatch ran; it goes on in a new ${this.file} from seq ${this.seq + 1}`, damaged: false});
				this.close();
			}

			if (this.fd === undefined) {
				this.open();
			} else {
				this.catchUp(this.fd);
			}

			// The number is used even when the line cannot be written: a gap in seq marks a lost entry.
			const lines = gap ? [{...gap, seq: ++this.seq}] : [];
			full = {...entry, seq: ++this.seq};
			lines.push(full);
			this.writeLine(this.fd!, `${this.torn ? '\n' : ''}${lines.map(line => JSON.stringify(line)).join('\n')}\n`);
			written = lines;
			this.torn = false;
			this.failure = null;
			this.firstLost = undefined;
		} catch (error) {
			// Both numbers stay used (the gap entry's too, if it was not written): seq is never reused.
			this.firstLost ??= full?.seq ?? this.seq + 1;
			if (this.failure === null) {
				this.notices.push(writeFailed(`the audit log ${this.file}`, error));
			}

			this.failure = `cannot write the audit log ${this.file}: ${describeError(error)}`;
		}

		full ??= {...entry, seq: ++this.seq};
		// Listeners (notifications, metrics) hear every entry, written or not; they never throw into a stop.
		for (const heard of written.length > 0 ? written : [full]) {
			for (const listener of this.listeners) {
				try {
					listener(heard);
				} catch {
					// A listener's own failure is its to report.
				}
			}
		}

		return full;
	}

	/** The open file is no longer the one at the log's path (removed, or another file there now). */
	private moved(fd: number): boolean {
		const open = fs.fstatSync(fd);
		if (open.nlink === 0) {
			return true;
		}

		try {
			const now = fs.statSync(this.file);
			return now.ino !== open.ino || now.dev !== open.dev;
		} catch (error) {
			return (error as NodeJS.ErrnoException).code === 'ENOENT';
		}
	}

	/** Calls `listener` with each entry appended from now on; returns the unsubscribe. */
	onAppend(listener: (entry: AuditEntry) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/** Failure streaks that started since the last call (each reported once). */
	takeNotices(): RecordNotice[] {
		return this.notices.splice(0);
	}

	private writeLine(fd: number, line: string): void {
		const bytes = Buffer.from(line, 'utf8');
		const before = fs.fstatSync(fd).size;
		let written = 0;
		try {
			while (written < bytes.length) {
				const count = this.write(fd, bytes, written, bytes.length - written);
				if (!(count > 0)) {
					throw new Error(`wrote ${plural(count, 'byte')} of ${bytes.length - written}`);
				}

				written += count;
			}

			fs.fsyncSync(fd);
			this.known = before + bytes.length;
		} catch (error) {
			if (written > 0) {
				try {
					// Appends go to the end (O_APPEND): cutting back leaves the log as it was.
					fs.ftruncateSync(fd, before);
				} catch (cutError) {
					this.torn = true;
					throw new Error(`${describeError(error)}; a partial line is left (cannot cut it: ${describeError(cutError)})`);
				}
			}

			throw error;
		}
	}

	close(): void {
		if (this.fd !== undefined) {
			fs.closeSync(this.fd);
			this.fd = undefined;
		}
	}
}

/**
 * The highest seq in the last 64 KiB of an existing log (0 when there is none to read), and whether
 * it ends in a torn line (no newline at the end). A torn line's seq counts too: it was used.
 */
function readTail(file: string): {seq: number; torn: boolean} {
	let fd: number | undefined;
	try {
		fd = fs.openSync(file, 'r');
		const size = fs.fstatSync(fd).size;
		const length = Math.min(size, 64 * 1024);
		const buffer = Buffer.alloc(length);
		const read = fs.readSync(fd, buffer, 0, length, size - length);
		const text = buffer.subarray(0, read).toString('utf8');
		let seq = 0;
		for (const match of text.matchAll(/"seq":(\d+)/g)) {
			seq = Math.max(seq, Number(match[1]));
		}

		return {seq, torn: text.length > 0 && !text.endsWith('\n')};
	} catch {
		// Unreadable: numbering restarts, the entries are still written.
		return {seq: 0, torn: false};
	} finally {
		if (fd !== undefined) {
			fs.closeSync(fd);
		}
	}
}

/** The entry that records a gap: entries from `firstLost` up to it were not written, and why. */
export function gapEntry(firstLost: number, failure: string, next: Pick<AuditEntry, 'at' | 'dryRun'>): Omit<AuditEntry, 'seq'> {
	return {at: next.at, dryRun: next.dryRun, type: 'decision', actor: 'auto', kind: 'error', environments: [], reason: `entries from seq ${firstLost} until this one were not written (${failure})`, instanceIds: [], lostFrom: firstLost};
}
