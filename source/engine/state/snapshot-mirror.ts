import type {CoordinationTable, TableCondition, TableKey} from '../../providers/index.js';
import {printable} from '../../domain/index.js';
import {lazyZlib} from './lazy-zlib.js';
import {describeError} from './record.js';
import {wireSnapshot, type Snapshot} from '../snapshot.js';
import {checkSnapshot} from '../snapshot-check.js';

/** What a mirrored snapshot may inflate to: many times what a fleet of 10,000 instances writes. */
const maxSnapshotBytes = 16 * 1024 * 1024;

/** The leader's latest snapshot, for standbys on other hosts and `status`. */
export const viewKey: TableKey = {pk: 'view', sk: 'snapshot'};

/**
 * The snapshots of the engine that holds the lease, mirrored into the coordination table (gzip,
 * instance lists withheld: a few KB), at most every `everyMs` and once more when it stops; each
 * write fenced by the lease, so an engine that lost it never shows its figures as the leader's.
 * A failed write is said once a streak; the next snapshot tries again.
 */
export class SnapshotMirror {
	private unsubscribe: (() => void) | undefined;
	private writing: Promise<void> | undefined;
	private pending = false;
	private lastAt = 0;
	private timer: NodeJS.Timeout | undefined;
	private failing = false;

	constructor(
		private readonly table: CoordinationTable,
		private readonly store: {subscribe(listener: () => void): () => void; getSnapshot(): Snapshot | undefined},
		private readonly fence: () => TableCondition | undefined,
		/** The envwatch that wrote it: a standby of another version does not read it. */
		private readonly version: string,
		/** The lease's fencing token of the engine that writes it: a reader tells its leader's figures from an earlier engine's. */
		private readonly token: number,
		private readonly report: (line: string) => void,
		private readonly everyMs = 5000,
	) {}

	start(): void {
		this.unsubscribe = this.store.subscribe(() => this.due());
		this.due();
	}

	/** Writes the latest snapshot now (an engine's end: the standbys see its last figures). */
	async flush(): Promise<void> {
		clearTimeout(this.timer);
		await this.writing;
		await this.write();
	}

	stop(): void {
		this.unsubscribe?.();
		clearTimeout(this.timer);
	}

	private due(): void {
		const wait = this.lastAt + this.everyMs - Date.now();
		if (wait > 0) {
			this.timer ??= setTimeout(() => {
				this.timer = undefined;
				this.due();
			}, wait);
			this.timer.unref();
			return;
		}

		if (this.writing) {
			this.pending = true;
			return;
		}

		this.writing = this.write().finally(() => {
			this.writing = undefined;
			if (this.pending) {
				this.pending = false;
				this.due();
			}
		});
	}

	private async write(): Promise<void> {
		const snapshot = this.store.getSnapshot();
		if (!snapshot) {
			return;
		}

		this.lastAt = Date.now();
		const {attachedTo: _attached, ...plain} = wireSnapshot(snapshot, 0);
		try {
			const written = await this.table.transact([{put: {...viewKey, version: this.version, token: this.token, at: snapshot.at, body: lazyZlib().gzipSync(JSON.stringify(plain))}}], this.fence());
			if (written.written && this.failing) {
				this.failing = false;
				this.report(`the snapshot reaches ${this.table.name} again`);
			}
		} catch (error) {
			if (!this.failing) {
				this.failing = true;
				this.report(`cannot write the snapshot to ${this.table.name} (${describeError(error)}): standbys show older figures until it works again`);
			}
		}
	}
}

/**
 * The leader's snapshot as the table holds it, or why it cannot be shown (none yet, another
 * version's, an earlier engine's, not readable, refused). It comes from outside: every field a view
 * or `--once` reads is checked first (snapshot-check.ts), against `now`, this host's clock; `refused`
 * says why the leader's figures are there but cannot be believed (naming the field). `leader`:
 * the lease's holder, whose figures alone are shown as the leader's (a snapshot left by the engine
 * before it, perhaps hours old, is not); `pending` says the leader has written none yet (it may
 * still be on its first poll).
 */
export async function readMirrored(table: CoordinationTable, version: string, leader?: {token: number}, now = Date.now()): Promise<{snapshot: Snapshot} | {problem: string; pending?: true; refused?: string}> {
	const item = await table.get(viewKey);
	if (!item) {
		return {problem: 'the engine holding the lease has written no snapshot yet', pending: true};
	}

	if (leader && item['token'] !== leader.token) {
		const earlier = typeof item['token'] === 'number' ? `fencing token ${item['token']}` : 'an earlier envwatch';
		return {problem: `the engine holding the lease (fencing token ${leader.token}) has written no snapshot yet; the table's is an earlier engine's (${earlier}), not shown as its`, pending: true};
	}

	if (item['version'] !== version) {
		return {problem: `the engine holding the lease runs envwatch ${printable(String(item['version']).slice(0, 40))}, this one ${version}: its figures are not shown here (use the same version on both hosts)`};
	}

	let value: unknown;
	try {
		// Never inflated past a bound (a small gzip can inflate to gigabytes in a 128 MB Lambda).
		value = JSON.parse(lazyZlib().gunzipSync(item['body'] as Uint8Array, {maxOutputLength: maxSnapshotBytes}).toString('utf8'));
	} catch (error) {
		const why = `not readable (${describeError(error)})`;
		return {problem: `the snapshot in ${table.name} is ${why}`, refused: why};
	}

	const snapshot = checkSnapshot(value, now);
	return typeof snapshot === 'string' ? {problem: `the leader's figures in ${table.name} were refused: ${snapshot}`, refused: snapshot} : {snapshot};
}
