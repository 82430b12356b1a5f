import React from 'react';
import {Text} from 'ink';
import {warmingText} from '../../domain/index.js';
import type {Snapshot} from '../../engine/index.js';
import {age, ageColour} from '../cells.js';
import type {StandbyLeader} from '../hooks/use-commands.js';
import {useNowWhen} from '../hooks/use-now.js';
import {guardText, showingText, type ScopeView} from '../scope.js';
import {useTheme} from '../theme.js';
import {Line, type Segment} from './Line.js';

export type HeaderProps = {
	snapshot: Snapshot;
	/** The clock's now, for the age of the last good update. */
	now: number;
	columns: number;
};

/**
 * Source, poll interval, age of the last good update, and the mode badges. Narrower than 80
 * columns the badges and the age come first: a cut header must still say DRY-RUN or READ-ONLY.
 */
export function headerSegments({snapshot, now}: Omit<HeaderProps, 'columns'>, lock: string, narrow = false, scope?: ScopeView, columns?: number): Segment[] {
	const {mode} = snapshot;
	const badges: Segment[] = [];
	if (mode.paused) {
		badges.push({text: 'PAUSED', colour: 'yellow', bold: true, inverse: true});
	} else if (!mode.readOnly) {
		// Read-only decides but never acts: AUTO would promise what it will not do.
		badges.push({text: 'AUTO', colour: 'green', bold: true});
	}

	if (mode.dryRun) {
		badges.push({text: 'DRY-RUN', colour: 'cyan', bold: true});
	}

	if (mode.readOnly) {
		badges.push({text: `${lock} READ-ONLY`, colour: 'magenta', bold: true});
	}

	// Agents in regions nobody watches (the status line says where), or a sweep that cannot look.
	const unwatched = snapshot.unwatched?.found.reduce((sum, found) => sum + found.agents, 0) ?? 0;
	if (unwatched > 0) {
		badges.push({text: `${unwatched} UNWATCHED`, colour: 'yellow', bold: true});
	} else if (snapshot.unwatched?.error) {
		badges.push({text: 'SWEEP FAILED', colour: 'magenta', bold: true});
	}

	const spaced = badges.flatMap((badge, index) => (index === 0 ? [badge] : [{text: ' '}, badge]));
	const updated: Segment = {text: `updated ${age(now, snapshot.lastSuccessAt)}${snapshot.lastSuccessAt === null ? '' : ' ago'}`, colour: ageColour(now, snapshot.lastSuccessAt, snapshot.pollIntervalSeconds, snapshot.error)};
	const source: Segment = {text: snapshot.source, colour: snapshot.source.startsWith('SIMULATED') ? 'magenta' : 'cyan'};
	const warmingUp = warmingText(mode.warmingUp, mode.warmUntil, now);
	const warming: Segment[] = warmingUp ? [{text: ` ${warmingUp}`, dim: true}] : [];
	// What is guarded, always (`guards all`: every configured environment, the rows below); and what
	// is shown, when the view or the filter narrows it.
	const showing = scope ? showingText(scope) : undefined;
	const guards: Segment[] = scope ? [{text: ' '}, {text: guardText(scope), bold: !showing}, ...(showing ? [{text: ' '}, {text: showing, colour: 'yellow' as const, bold: true}] : [])] : [];
	if (snapshot.attachedTo ?? snapshot.leader) {
		// Attached to `envwatch serve` (or a dashboard running the engine): the server's mode badges
		// first (a cut header must still say them), then whose figures these are. A standby (another
		// host's engine holds the lease): STANDBY, and the leader whose figures these are.
		const {leader} = snapshot;
		const attached: Segment[] = leader
			? [{text: 'STANDBY', colour: 'yellow', bold: true}, {text: ` figures of ${leader.mode} pid ${leader.pid} (${leader.host})`, colour: 'cyan', bold: true}]
			: [{text: `attached to serve pid ${snapshot.attachedTo!.pid} (${snapshot.attachedTo!.host})`, colour: 'cyan', bold: true}];
		return [{text: 'envwatch', bold: true}, {text: ' '}, ...spaced, ...(spaced.length > 0 ? [{text: ' '}] : []), ...attached, {text: ' '}, updated, ...guards, {text: ' '}, source, {text: ` every ${snapshot.pollIntervalSeconds}s`, dim: true}, ...warming];
	}

	// The badges, the age and what is guarded (and shown) first, the source after them: where the line is cut, it is the source's end.
	const badgesFirst: Segment[] = [{text: 'envwatch', bold: true}, {text: ' '}, ...spaced, {text: ' '}, updated, ...guards, {text: ' '}, source, {text: ` every ${snapshot.pollIntervalSeconds}s`, dim: true}, ...warming];
	if (narrow) {
		return badgesFirst;
	}

	const wide = (every: string): Segment[] => [
		{text: 'envwatch', bold: true},
		{text: ' '},
		source,
		{text: every, dim: true},
		updated,
		// With what is guarded as well, one space: "warming up 59m" still fits 80 columns.
		{text: guards.length > 0 ? ' ' : '  '},
		...spaced,
		...guards,
		...warming,
	];
	const full = wide(` every ${snapshot.pollIntervalSeconds}s `);
	// Where the whole line would be cut, the poll interval (the help says it) gives way before what
	// is guarded and the warming-up countdown; where even then it would be cut (a long source, as
	// `aws 4 accounts (organization) us-east-1`, and a view that differs from what is guarded), the
	// source goes after what is guarded, which is never the part cut.
	const length = (segments: Segment[]) => segments.reduce((sum, segment) => sum + [...segment.text].length, 0);
	if (columns === undefined || length(full) <= columns) {
		return full;
	}

	const short = wide(' ');
	return length(short) <= columns ? short : badgesFirst;
}

/**
 * Before the first figures: "waiting for the first poll", or, on a standby whose leader has not
 * published yet, STANDBY and whose figures it waits for (never a frame that looks like this
 * process's own engine starting). Looked at again each tick: the leader may change meanwhile.
 * `refused`: the other process's only figures were refused (a snapshot that cannot be true): why.
 */
export function Waiting({standingBy, columns, refused}: {standingBy?: (() => StandbyLeader | undefined) | undefined; columns: number; refused?: string | undefined}): React.JSX.Element {
	useNowWhen(() => {
		const leader = standingBy?.();
		return leader ? `${leader.mode} ${leader.pid} ${leader.host}` : '';
	});
	const leader = standingBy?.();
	if (refused) {
		// The only figures there were could not be believed (snapshot-check.ts): none shown, and why.
		return <Text color="magenta" bold>{`envwatch: ${refused}; no figures shown`}</Text>;
	}

	if (!leader) {
		return <Text>envwatch: waiting for the first poll...</Text>;
	}

	return <Line segments={[{text: 'envwatch', bold: true}, {text: ' '}, {text: 'STANDBY', colour: 'yellow', bold: true}, {text: ` waiting for the leader's first figures: ${leader.mode} pid ${leader.pid} (${leader.host})`, colour: 'cyan', bold: true}]} width={columns} />;
}

/** What of the header depends on the clock: the age of the last good update and its colour, and how long until the windows are full. */
function headerClockKey(snapshot: Snapshot, now: number): string {
	return `${age(now, snapshot.lastSuccessAt)} ${ageColour(now, snapshot.lastSuccessAt, snapshot.pollIntervalSeconds, snapshot.error)} ${warmingText(snapshot.mode.warmingUp, snapshot.mode.warmUntil, now) ?? ''}`;
}

/** Re-renders on a clock tick only when the age it shows (or its colour) changes. */
export function Header({snapshot, columns, scope}: Omit<HeaderProps, 'now'> & {scope?: ScopeView | undefined}): React.JSX.Element {
	const {glyphs} = useTheme();
	const now = useNowWhen(at => headerClockKey(snapshot, at));
	return <Line segments={headerSegments({snapshot, now}, glyphs.lock, columns < 80, scope, columns)} width={columns} />;
}
