/**
 * Each drill-down view as lines of segments for a given size: the title, then the body. Pure, so
 * the components only place them and the tests read them.
 */
import type {InstanceRow} from '../../domain/index.js';
import type {AuditEntry, Snapshot} from '../../engine/index.js';
import type {Segment} from '../components/Line.js';
import {logLines, logRows} from './audit.js';
import {spendLines} from './chart.js';
import {describeLines} from './describe.js';
import {detailLines, detailRows} from './instances.js';
import {title, type ViewRoom} from './parts.js';
import {regionLines} from './regions.js';
import {accountLines} from './accounts.js';
import {eventsLines} from './events.js';
import {viewHelp, type View} from './state.js';

export type ViewLinesInput = ViewRoom & {
	view: View;
	/** `--read-only`: the help lists no dangerous key. @default false */
	readOnly?: boolean;
};

/** What the view shows now: the filtered and sorted rows (the app keeps the cursor among them). */
export function viewRows(view: View, snapshot: Snapshot): {instances?: InstanceRow[]; entries?: AuditEntry[]} {
	if (view.kind === 'detail') {
		return {instances: detailRows(view, snapshot)};
	}

	if (view.kind === 'log') {
		return {entries: logRows(view)};
	}

	return {};
}

export function viewLines({view, readOnly = false, ...room}: ViewLinesInput): Segment[][] {
	if (view.help) {
		const body = Math.max(0, room.height - 1);
		const lines = viewHelp(view, readOnly, `${room.glyphs.up}${room.glyphs.down}`);
		return [[title('keys (? or Esc closes)', room.columns, room.glyphs)], ...lines.slice(0, body).map(line => [{text: line}])];
	}

	switch (view.kind) {
		case 'detail': {
			return detailLines(view, room);
		}

		case 'log': {
			return logLines(view, room);
		}

		case 'spend': {
			return spendLines(view, room);
		}

		case 'region': {
			return regionLines(view, room);
		}

		case 'account': {
			return accountLines(view, room);
		}

		case 'describe': {
			return describeLines(view, room);
		}

		case 'events': {
			return eventsLines(view, room);
		}
	}
}
