import React from 'react';
import {Box} from 'ink';
import type {AuditEntry} from '../../engine/audit.js';
import {clockTime, pad} from '../cells.js';
import {useTheme, type Colour} from '../theme.js';
import {Line, titleRule} from './Line.js';

/** One audit entry as the events pane writes it: time, who (auto or user@host), what. */
export function eventText(entry: AuditEntry): {time: string; actor: string; text: string; colour: Colour | undefined} {
	const scope = entry.environments.length > 0 ? ` ${entry.environments.join(',')}` : '';
	const dry = entry.dryRun && (entry.kind === 'stop' || entry.kind === 'cascade' || entry.kind === 'emergency' || entry.kind === 'undo') ? ' [dry run]' : '';
	// An action line carries its outcome summary as its reason; a decision line its measured reason.
	const text = `${entry.kind}${scope}: ${entry.reason}${dry}`;
	return {time: clockTime(entry.at), actor: entry.actor, text, colour: colourOf(entry)};
}

function colourOf(entry: AuditEntry): Colour | undefined {
	if (entry.outcome?.startsWith('failed') || entry.outcome === 'failed') {
		return 'red';
	}

	switch (entry.kind) {
		case 'stop':
		case 'cascade':
		case 'emergency': {
			return entry.type === 'action' ? 'red' : 'yellow';
		}

		case 'alert':
		case 'pending': {
			return 'magenta';
		}

		case 'warn': {
			return 'yellow';
		}

		case 'recover':
		case 'undo': {
			return 'green';
		}

		case 'pause':
		case 'resume':
		case 'cancel': {
			return 'cyan';
		}

		default: {
			return undefined;
		}
	}
}

export type EventsPaneProps = {
	events: readonly AuditEntry[];
	/** Lines available, the title included. */
	height: number;
	columns: number;
};

/** The latest decisions and actions, newest first, as many as fit. */
export function EventsPane({events, height, columns}: EventsPaneProps): React.JSX.Element | null {
	const {glyphs} = useTheme();
	// Its title alone says nothing, and a placeholder under it would take a row it was not given.
	if (height < 2) {
		return null;
	}

	const shown = events.slice(0, height - 1);
	const actorWidth = Math.min(16, Math.max(4, ...shown.map(entry => entry.actor.length)));
	return (
		<Box flexDirection="column">
			<Line segments={[{text: titleRule('events, newest first', columns, glyphs.rule), dim: true}]} width={columns} />
			{shown.length === 0 ? <Line segments={[{text: '  no decisions or actions yet', dim: true}]} width={columns} /> : null}
			{shown.map(entry => {
				const line = eventText(entry);
				return (
					<Line
						key={entry.seq}
						width={columns}
						segments={[
							{text: `${line.time} `, dim: true},
							{text: `${pad(line.actor, actorWidth, 'left', glyphs.ellipsis)} `, colour: line.actor === 'auto' ? undefined : 'cyan'},
							{text: line.text, colour: line.colour},
						]}
					/>
				);
			})}
		</Box>
	);
}
