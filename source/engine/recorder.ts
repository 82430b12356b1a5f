import {gapEntry, isAuditGap, type AuditEntry, type AuditLog} from './state/audit.js';
import type {StateStore} from './state/store.js';

/** An audit entry as the engine writes it: the recorder adds `seq`, `at` and `dryRun`. */
export type EntryDraft = Omit<AuditEntry, 'seq' | 'at' | 'dryRun'>;

export type RecorderDeps = {
	audit: AuditLog;
	state: StateStore;
	clock: () => number;
	dryRun: boolean;
	/** How many audit entries are kept for the snapshot's events pane (default 50). */
	eventsKept?: number;
	/** Where a problem the user must hear about goes, one line each (default: stderr). */
	report?: (line: string) => void;
};

/**
 * The one audit recorder: every entry the engine writes goes through `log` (or `remember`, for an
 * entry the enforcer appended itself), is kept for the events pane, and failures to record are
 * reported once per streak and retried on each poll.
 */
export class Recorder {
	/** The latest entries, newest first (the snapshot's events pane). */
	events: AuditEntry[] = [];

	constructor(private readonly deps: RecorderDeps) {
		// The entry recording a gap is written with whichever entry comes first once writes succeed
		// again (a notification's outcome, say, which is not kept here): shown once it is written.
		deps.audit.onAppend(entry => {
			if (isAuditGap(entry) && deps.audit.error === null && !this.events.includes(entry)) {
				this.remember(entry);
			}
		});
	}

	/** Appends an entry to the audit log and keeps it for the events pane. */
	log(entry: EntryDraft): AuditEntry {
		return this.remember(this.deps.audit.append({at: new Date(this.deps.clock()).toISOString(), dryRun: this.deps.dryRun, ...entry}));
	}

	/** Keeps an entry already appended (by the enforcer or the launcher) for the events pane. */
	remember(entry: AuditEntry): AuditEntry {
		this.events = [entry, ...this.events].slice(0, this.deps.eventsKept ?? 50);
		return entry;
	}

	/** The enforcer's and launcher's way to record: append, then remember. */
	readonly append = (entry: Omit<AuditEntry, 'seq'>): AuditEntry => this.remember(this.deps.audit.append(entry));

	report(line: string): void {
		if (this.deps.report) {
			this.deps.report(line);
		} else {
			process.stderr.write(`${line}\n`);
		}
	}

	/** Reports damaged state files and failure-to-record streaks that started since the last call. */
	reportRecords(): void {
		for (let notices = this.takeNotices(); notices.length > 0; notices = this.takeNotices()) {
			for (const notice of notices) {
				this.report(`envwatch: ${notice.message}`);
				if (notice.damaged) {
					// Its own failure to be written (if the audit log fails too) comes round in the next pass.
					this.log({type: 'decision', actor: 'auto', kind: 'state', environments: [], reason: notice.message, instanceIds: []});
				}
			}
		}
	}

	private takeNotices() {
		return [...this.deps.state.takeNotices(), ...this.deps.audit.takeNotices()];
	}

	/**
	 * While records fail, each poll tries again: the state files not written, and an audit entry
	 * that records the gap (when it is written, the log is whole again from there on).
	 */
	retryRecords(): void {
		this.deps.state.retry();
		const {audit} = this.deps;
		if (audit.error !== null && audit.lostFrom !== undefined) {
			// Shown once written (the listener above); a retry that failed too is not news.
			audit.append(gapEntry(audit.lostFrom, audit.error, {at: new Date(this.deps.clock()).toISOString(), dryRun: this.deps.dryRun}));
		}
	}

	/** What could not be recorded, until it is written again (null: everything recorded). */
	recordError(): string | null {
		const errors = [this.deps.audit.error, this.deps.state.error].filter(Boolean);
		return errors.length > 0 ? errors.join('; ') : null;
	}
}
