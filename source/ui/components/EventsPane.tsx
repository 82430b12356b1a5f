import React from 'react';
import {Box} from 'ink';
import type {AuditEntry} from '../../engine/index.js';
import {pad} from '../cells.js';
import {eventRows} from '../event-rows.js';
import {useTheme} from '../theme.js';
import {Line, titleRule} from './Line.js';

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

	const shown = eventRows(events).slice(0, height - 1);
	const actorWidth = Math.min(16, Math.max(4, ...shown.map(entry => entry.actor.length)));
	return (
		<Box flexDirection="column">
			<Line segments={[{text: titleRule('events, newest first', columns, glyphs.rule), dim: true}]} width={columns} />
			{shown.length === 0 ? <Line segments={[{text: '  no decisions or actions yet', dim: true}]} width={columns} /> : null}
			{shown.map(line => {
				return (
					<Line
						key={line.seq}
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
