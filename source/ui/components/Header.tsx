import React from 'react';
import type {Snapshot} from '../../engine/snapshot.js';
import {age, ageColour} from '../cells.js';
import {useTheme} from '../theme.js';
import {Line, type Segment} from './Line.js';

export type HeaderProps = {
	snapshot: Snapshot;
	/** The clock's now, for the age of the last good update. */
	now: number;
	columns: number;
};

/** Source, poll interval, age of the last good update, and the mode badges. */
export function headerSegments({snapshot, now}: Omit<HeaderProps, 'columns'>, lock: string): Segment[] {
	const {mode} = snapshot;
	const segments: Segment[] = [
		{text: 'envwatch', bold: true},
		{text: ' '},
		{text: snapshot.source, colour: snapshot.source.startsWith('SIMULATED') ? 'magenta' : 'cyan'},
		{text: ` every ${snapshot.intervalSeconds}s `, dim: true},
		{text: `updated ${age(now, snapshot.lastSuccessAt)}${snapshot.lastSuccessAt === null ? '' : ' ago'}`, colour: ageColour(now, snapshot.lastSuccessAt, snapshot.intervalSeconds, snapshot.error)},
		{text: '  '},
		mode.paused ? {text: 'PAUSED', colour: 'yellow', bold: true, inverse: true} : {text: 'AUTO', colour: 'green', bold: true},
	];
	if (mode.dryRun) {
		segments.push({text: ' DRY-RUN', colour: 'cyan', bold: true});
	}

	if (mode.readOnly) {
		segments.push({text: ` ${lock} READ-ONLY`, colour: 'magenta', bold: true});
	}

	if (mode.warmingUp) {
		segments.push({text: ' warming up', dim: true});
	}

	return segments;
}

export function Header(props: HeaderProps): React.JSX.Element {
	const {glyphs} = useTheme();
	return <Line segments={headerSegments(props, glyphs.lock)} width={props.columns} />;
}
