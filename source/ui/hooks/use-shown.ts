import {useEffect, useMemo, useState} from 'react';
import type {AuditEntry, AuditSource, Snapshot} from '../../engine/index.js';
import {filterOf, scopeOf, type DashboardState} from '../dashboard-state.js';
import {historyLines, withHistory} from '../event-history.js';
import {keyBarItems, type BarItem, type KeyContext} from '../keymap.js';
import {namesOf, scopedSnapshot, scopeWords, type ScopeView} from '../scope.js';

/**
 * The snapshot as the dashboard draws it: its events with the audit log's last entries below them
 * (read once, after the first frame, so the events pane is not empty after a restart), and `shown`,
 * the guarded set narrowed by the view (`:env`...) and the table's filter.
 */
export function useShown(published: Snapshot | undefined, audit: AuditSource | undefined, state: DashboardState): {snapshot: Snapshot | undefined; shown: Snapshot | undefined} {
	const [history, setHistory] = useState<readonly AuditEntry[]>([]);
	useEffect(() => {
		// After this mount's other effects: Ink's useInput puts the terminal in raw mode in them, and a
		// key pressed as the first frame shows must not meet a terminal still in line mode (it would be
		// echoed, and an Enter read as a line feed, lost) while the log is read.
		const later = setTimeout(() => {
			const tail = audit?.read(historyLines);
			if (tail && tail.entries.length > 0) {
				setHistory(tail.entries);
			}
		}, 0);
		return () => {
			clearTimeout(later);
		};
	}, [audit]);
	const snapshot = useMemo(() => (published && history.length > 0 ? {...published, events: withHistory(published.events, history)} : published), [published, history]);
	const shown = useMemo(() => (snapshot ? scopedSnapshot(snapshot, scopeOf(state), filterOf(state)) : undefined), [snapshot, state.scope, state.filter]);
	return {snapshot, shown};
}

/** What the header says of the guarded and the shown sets. */
export function scopeViewOf(snapshot: Snapshot | undefined, shown: Snapshot | undefined, state: DashboardState): ScopeView | undefined {
	return snapshot && shown ? {guarded: namesOf(snapshot), configured: snapshot.configured, shown: namesOf(shown), narrowedBy: scopeWords(scopeOf(state), filterOf(state))} : undefined;
}

/** A line being typed (`:` or the table's `/`): it takes the status line's place, and the key bar is its keys. */
export function typedLine(state: DashboardState, keys: KeyContext, arrows: string): {prompt?: string; bar?: BarItem[]} {
	const filter = filterOf(state);
	if (state.command) {
		return {prompt: `:${state.command.text}_${state.command.hint ? `   ${state.command.hint}` : ''}`, bar: keyBarItems(keys, arrows, 'command')};
	}

	return !state.view && filter.editing ? {prompt: `/${filter.text}_`, bar: keyBarItems(keys, arrows, 'filter')} : {};
}
