import React from 'react';
import {Text} from 'ink';
import type {Snapshot} from '../../engine/snapshot.js';
import {age, ageColour} from '../cells.js';
import {useTheme} from '../theme.js';

export type HeaderProps = {
	snapshot: Snapshot;
	/** The clock's now, for the age of the last good update. */
	now: number;
};

/** Source, poll interval, age of the last good update, and the mode badges. */
export function Header({snapshot, now}: HeaderProps): React.JSX.Element {
	const {tone, glyphs} = useTheme();
	const {mode} = snapshot;
	const source = snapshot.source === 'SIMULATED' ? 'SIMULATED' : `${snapshot.source}`;
	return (
		<Text wrap="truncate-end">
			<Text bold>envwatch</Text>
			{' '}
			<Text color={tone(snapshot.source === 'SIMULATED' ? 'magenta' : 'cyan')}>{source}</Text>
			<Text dimColor>{` every ${snapshot.intervalSeconds}s `}</Text>
			<Text color={tone(ageColour(now, snapshot.lastSuccessAt, snapshot.intervalSeconds, snapshot.error))}>{`updated ${age(now, snapshot.lastSuccessAt)}${snapshot.lastSuccessAt === null ? '' : ' ago'}`}</Text>
			{'  '}
			{mode.paused
				? <Text color={tone('yellow')} bold inverse={tone('yellow') !== undefined}>{'PAUSED'}</Text>
				: <Text color={tone('green')} bold>AUTO</Text>}
			{mode.dryRun ? <Text color={tone('cyan')} bold>{' DRY-RUN'}</Text> : null}
			{mode.readOnly ? <Text color={tone('magenta')} bold>{` ${glyphs.lock} READ-ONLY`}</Text> : null}
			{mode.warmingUp ? <Text dimColor>{' warming up'}</Text> : null}
		</Text>
	);
}
