import React from 'react';
import {Box} from 'ink';
import {plural} from '../../domain/index.js';
import {unwatchedText, type Snapshot} from '../../engine/index.js';
import type {Colour} from '../theme.js';
import {useNowWhen} from '../hooks/use-now.js';
import {fitCandidates, fitsIn} from '../refusal.js';
import {Line} from './Line.js';

/** A line flashed for a few seconds; `shorter`: the same in fewer words, longest first, for a narrow terminal. */
export type Flash = {text: string; tone: 'ok' | 'warn' | 'error'; until: number; shorter?: readonly string[]};

export type StatusLineProps = {
	snapshot: Snapshot;
	now: number;
	/** What a command in flight is doing. */
	busy?: string | undefined;
	flash?: Flash | undefined;
	columns: number;
	/** Lines it may take: a flash that fits no line of this width in any of its wordings takes two where the frame has room. @default 1 */
	lines?: number;
};

export type Status = {text: string; colour: Colour | undefined; bold?: boolean; /** A flash: it may take two lines. */ flash?: true; shorter?: readonly string[]};

/**
 * A standby's answer to a command that acts (`refused: this is a standby; the engine runs on ...`):
 * true only while the header says STANDBY, so it goes once this process (or the server it is
 * attached to) has taken the engine over.
 */
const standbyRefusal = /^refused: this is a standby\b/;

/** The status line's text and colour, by priority: busy, grace countdown, flash, refused figures, record and notify errors, poll error, state, prices. */
export function statusText({snapshot, now, busy, flash}: Omit<StatusLineProps, 'columns' | 'lines'>): Status {
	if (busy) {
		return {text: `${busy}...`, colour: 'cyan'};
	}

	if (snapshot.pending) {
		const {decision, dueAt} = snapshot.pending;
		const seconds = Math.max(0, Math.ceil((dueAt - now) / 1000));
		const target = decision.kind === 'emergency' ? 'EMERGENCY stop of every agent' : `stop ${'environment' in decision ? decision.environment : ''}`;
		return {text: `AUTO ${target} in ${seconds}s: ${decision.reason}. Press x to cancel`, colour: 'red', bold: true};
	}

	if (flash && now < flash.until && !(standbyRefusal.test(flash.text) && !snapshot.leader)) {
		return {text: flash.text, colour: flash.tone === 'ok' ? 'green' : flash.tone === 'warn' ? 'yellow' : 'red', flash: true, ...(flash.shorter ? {shorter: flash.shorter} : {})};
	}

	if (snapshot.refused) {
		// Another process's figures that cannot be believed: never shown; what is shown instead, said.
		const shown = snapshot.lastSuccessAt === null && snapshot.environments.length === 0 ? 'no figures shown' : 'the last good figures are shown, marked old (STALE)';
		return {text: `${snapshot.refused}; ${shown}`, colour: 'magenta', bold: true};
	}

	if (snapshot.recordError) {
		// The guard still acts; what it does is not being written down. Never a quiet failure.
		return {text: `NOT RECORDED: ${snapshot.recordError} (envwatch still acts; fix the audit log or state dir)`, colour: 'red', bold: true};
	}

	if (snapshot.notifyError) {
		return {text: `NOT NOTIFIED: ${snapshot.notifyError} (envwatch still acts; see envwatch doctor)`, colour: 'red'};
	}

	if (snapshot.error) {
		return {text: `last poll failed: ${snapshot.error} (figures are the last known; no automatic action)`, colour: 'magenta'};
	}

	const violations = snapshot.environments.filter(view => view.violation);
	if (violations.length > 0 && !violations.some(view => view.level === 'breach')) {
		return {text: violations.map(view => view.violation).join(' | '), colour: 'yellow'};
	}

	const troubled = [...snapshot.environments, snapshot.global].filter(view => view.level === 'breach' || view.level === 'warn');
	if (troubled.length > 0) {
		return {text: troubled.map(view => `${view.name}: ${view.reasons.join('; ')}`).join(' | '), colour: troubled.some(view => view.level === 'breach') ? 'red' : 'yellow'};
	}

	// Agents where nobody looks: said whenever nothing more pressing is (the header's badge stays).
	const sweep = snapshot.unwatched;
	if (sweep && (sweep.found.length > 0 || sweep.error)) {
		return {text: [...sweep.found.map(found => unwatchedText(found)), ...(sweep.error ? [sweep.error] : [])].join(' | '), colour: sweep.found.length > 0 ? 'yellow' : 'magenta'};
	}

	if (snapshot.pricing?.error) {
		// A price not believed (its instances counted at the conservative figure, `~`) or a source failing.
		return {text: `PRICES: ${snapshot.pricing.error}`, colour: 'yellow'};
	}

	if (snapshot.unknown.instances > 0) {
		return {text: `${plural(snapshot.unknown.instances, 'tagged instance')} ${snapshot.unknown.instances === 1 ? 'belongs' : 'belong'} to no configured environment (${snapshot.unknown.tagValues.join(', ')})`, colour: 'yellow'};
	}

	return {text: 'all environments within their limits', colour: undefined};
}

/**
 * Lines the status wants at this width: two for a flash (a refusal, an outcome) whose best wording
 * that fits two lines comes before every wording that fits one (`s needs 12 rows; or run envwatch
 * stop -e dev` over `s needs 12 rows` at 40 columns), else one. Anything else is cut to one line.
 */
export function statusLinesWanted(status: Status, columns: number): 1 | 2 {
	if (!status.flash) {
		return 1;
	}

	const wordings = [status.text, ...status.shorter ?? []];
	const first = (lines: number) => {
		const index = wordings.findIndex(text => fitsIn(text, columns, lines));
		return index === -1 ? wordings.length : index;
	};

	return first(2) < first(1) ? 2 : 1;
}

/** The status's lines at this width, at most `lines`: its longest wording that fits them. */
export function statusLines(status: Status, columns: number, lines = 1): string[] {
	return fitCandidates([status.text, ...status.shorter ?? []], columns, status.flash ? lines : 1);
}

/** Re-renders on a clock tick only when its text changes (a countdown, a flash that ran out). */
export function StatusLine(props: Omit<StatusLineProps, 'now'>): React.JSX.Element {
	const shown = (now: number) => {
		const status = statusText({...props, now});
		return `${status.colour ?? ''} ${status.text}`;
	};

	const status = statusText({...props, now: useNowWhen(shown)});
	const segment = {colour: status.colour, dim: !status.colour, bold: status.bold};
	const lines = statusLines(status, props.columns, props.lines ?? 1);
	return lines.length === 1
		? <Line segments={[{...segment, text: lines[0]!}]} width={props.columns} />
		: <Box flexDirection="column">{lines.map((text, index) => <Line key={index} segments={[{...segment, text}]} width={props.columns} />)}</Box>;
}
