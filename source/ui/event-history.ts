/**
 * The events pane after a restart: the engine's events are those of this run only, so the pane
 * opens with the audit log's recent entries below them (read once, when the dashboard starts), and
 * says what happened before. Pure: no React, no Ink.
 */
import type {AuditEntry} from '../engine/index.js';

/** How many of the audit log's last lines the dashboard reads at its start. */
export const historyLines = 200;

/**
 * The snapshot's events (newest first) and, below them, the log's older entries (`history`,
 * newest first, as the reader gives them): those before the oldest event, without notification
 * outcomes (the pane never shows them), at most `kept` in all (or as many as the events are).
 */
export function withHistory(events: readonly AuditEntry[], history: readonly AuditEntry[], kept = 50): AuditEntry[] {
	if (history.length === 0) {
		return [...events];
	}

	const oldest = Math.min(Number.POSITIVE_INFINITY, ...events.map(entry => entry.seq));
	const older = history.filter(entry => entry.seq < oldest && entry.type !== 'notify');
	return [...events, ...older].slice(0, Math.max(kept, events.length));
}
