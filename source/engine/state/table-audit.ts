import type {CoordinationTable, TableItem} from '../../providers/index.js';
import type {AuditEntry, AuditLog} from './audit.js';
import {describeError} from './record.js';

/** How long the table keeps an audit entry (its `ttl`; the table's TTL removes it after). */
export const auditRetentionDays = 400;
/** Entries waiting to be written, at most: past it the oldest waiting ones are dropped, and said. */
const maxQueued = 5000;

/** An audit entry as the table keeps it: the JSON line, by day, time, writer and seq. */
export function auditItem(entry: AuditEntry, writer: string): TableItem {
	const at = Date.parse(entry.at);
	return {
		pk: `audit#${entry.at.slice(0, 10)}`,
		sk: `${entry.at}#${writer}#${String(entry.seq).padStart(10, '0')}`,
		entry: JSON.stringify(entry),
		ttl: Math.floor((Number.isFinite(at) ? at : Date.now()) / 1000) + (auditRetentionDays * 86_400),
	};
}

/**
 * Every entry of an audit log, also put in the coordination table, behind and in order, so every
 * engine on the table (and the Lambda's) leaves one history. Never fenced: what an engine that lost
 * the lease did, or refused to do, is still true. A failure is said once a streak; the entries wait
 * (up to 5,000) and go with the next one; the engine's own audit log has them meanwhile.
 */
export class TableAudit {
	private queue: TableItem[] = [];
	private running: Promise<void> | undefined;
	private failure: string | null = null;
	private dropped = 0;

	constructor(private readonly table: CoordinationTable, private readonly writer: string, private readonly report: (line: string) => void) {}

	/** Follows `audit` from now on; returns the unsubscribe. */
	attach(audit: AuditLog): () => void {
		return audit.onAppend(entry => {
			this.add(entry);
		});
	}

	add(entry: AuditEntry): void {
		this.queue.push(auditItem(entry, this.writer));
		if (this.queue.length > maxQueued) {
			this.queue.shift();
			this.dropped++;
		}

		this.schedule();
	}

	/** Why entries are not in the table yet, or null. */
	get error(): string | null {
		return this.failure;
	}

	/** Resolves once every entry so far is written, or the writing failed (then `error` says why). */
	async flush(): Promise<void> {
		await this.running;
		if (this.queue.length > 0 && this.failure !== null) {
			this.schedule();
			await this.running;
		}
	}

	private schedule(): void {
		if (this.running || this.queue.length === 0) {
			return;
		}

		this.running = (async () => {
			await new Promise(resolve => {
				setImmediate(resolve);
			});
			try {
				while (this.queue.length > 0) {
					await this.table.put(this.queue[0]!);
					this.queue.shift();
				}

				if (this.failure !== null || this.dropped > 0) {
					this.report(`envwatch: audit entries reach ${this.table.name} again${this.dropped > 0 ? ` (${this.dropped} of them were dropped while it failed: the audit log file has them)` : ''}`);
				}

				this.failure = null;
				this.dropped = 0;
			} catch (error) {
				if (this.failure === null) {
					this.report(`envwatch: cannot write audit entries to ${this.table.name} (${describeError(error)}); they wait and are tried again with the next one (the audit log file has them)`);
				}

				this.failure = `cannot write audit entries to ${this.table.name}: ${describeError(error)}`;
			} finally {
				this.running = undefined;
			}
		})();
	}
}
