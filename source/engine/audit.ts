import fs from 'node:fs';
import path from 'node:path';
import type {InstanceOutcome} from '../providers/types.js';

export type AuditEntry = {
	/** ISO time. */
	at: string;
	seq: number;
	/** `progress`: one batch of a paced action, written as it completes (the `action` line closes it). */
	type: 'decision' | 'action' | 'progress';
	/** `auto`, or the OS user@host who pressed the key or ran the command. */
	actor: string;
	kind: 'stop' | 'cascade' | 'emergency' | 'undo' | 'alert' | 'warn' | 'hold' | 'recover' | 'pause' | 'resume' | 'cancel' | 'pending' | 'violation' | 'start'
		/** A re-spawn stopped again, a breaker reset, an action found cut short at start-up, samples dropped for a clock step. */
		| 'respawn' | 'reset' | 'interrupted' | 'clock'
		/** This process took over the engine from one that exited (`envwatch serve`, attached dashboards). */
		| 'takeover';
	/** `socket`: the command came from a client of `envwatch serve` (absent: from this process). */
	via?: 'socket';
	environments: string[];
	reason: string;
	/** The measured figures behind the decision. */
	figures?: Record<string, number | string | null>;
	instanceIds: string[];
	dryRun: boolean;
	/** What happened: `executed`, `skipped: read-only`, `skipped: paused`, `failed: ...`. */
	outcome?: string;
	results?: InstanceOutcome[];
};

/**
 * The audit log: JSON lines, one per decision and per action result, written synchronously and
 * fsynced, so a dropped SSH session or a SIGHUP never leaves an action unrecorded.
 */
export class AuditLog {
	private fd: number | undefined;
	private seq = 0;

	constructor(readonly file: string) {}

	open(): void {
		fs.mkdirSync(path.dirname(this.file), {recursive: true});
		this.fd = fs.openSync(this.file, 'a', 0o600);
		// Carry on from the last entry, so seq stays unique across restarts and --once runs from cron.
		this.seq = Math.max(this.seq, lastSeq(this.file));
	}

	append(entry: Omit<AuditEntry, 'seq'>): AuditEntry {
		if (this.fd === undefined) {
			this.open();
		}

		const full: AuditEntry = {...entry, seq: ++this.seq};
		fs.writeSync(this.fd!, `${JSON.stringify(full)}\n`);
		fs.fsyncSync(this.fd!);
		return full;
	}

	close(): void {
		if (this.fd !== undefined) {
			fs.closeSync(this.fd);
			this.fd = undefined;
		}
	}
}

/** The seq of the last complete line of an existing log (0 when there is none to read). */
function lastSeq(file: string): number {
	let fd: number | undefined;
	try {
		fd = fs.openSync(file, 'r');
		const size = fs.fstatSync(fd).size;
		const length = Math.min(size, 64 * 1024);
		const buffer = Buffer.alloc(length);
		fs.readSync(fd, buffer, 0, length, size - length);
		const lines = buffer.toString('utf8').split('\n').filter(Boolean);
		for (let index = lines.length - 1; index >= 0; index--) {
			const match = /"seq":(\d+)/.exec(lines[index]!);
			if (match) {
				return Number(match[1]);
			}
		}
	} catch {
		// Unreadable: numbering restarts, the entries are still written.
	} finally {
		if (fd !== undefined) {
			fs.closeSync(fd);
		}
	}

	return 0;
}
