/**
 * The events as the pane and the events view write them: one line per incident (a decision and the
 * action that carried it out), newest first. Pure: no React, no Ink.
 */
import type {AuditEntry} from '../engine/index.js';
import {money, pct, signedPct} from '../domain/index.js';
import {clockTime, compactMoney} from './cells.js';
import type {Colour} from './theme.js';

/** One audit entry as the events pane writes it: time, who (auto or user@host), what. */
export function eventText(entry: AuditEntry): {time: string; actor: string; text: string; colour: Colour | undefined} {
	const scope = entry.environments.length > 0 ? ` ${entry.environments.join(',')}` : '';
	const dry = entry.dryRun && (entry.kind === 'stop' || entry.kind === 'cascade' || entry.kind === 'emergency' || entry.kind === 'undo') ? ' [dry run]' : '';
	// An action line carries its outcome summary as its reason; a decision line its measured reason.
	// A decision held back (`skipped: paused`) says so first: cut at the width, it must not read as a stop.
	const skipped = entry.type === 'decision' && entry.outcome?.startsWith('skipped') ? `${entry.outcome}: ` : '';
	const reason = skipped ? entry.reason.replace(/ \(paused: not executed\)$/, '') : entry.reason;
	const text = `${skipped}${entry.kind}${scope}: ${reason}${dry}`;
	return {time: clockTime(entry.at), actor: entry.actor, text, colour: colourOf(entry)};
}

/** An event row: one audit entry, or a decision and the action that carried it out (`seq`: the action's). */
export type EventRow = {seq: number; time: string; actor: string; text: string; colour: Colour | undefined};

const keyOf = (entry: AuditEntry) => `${entry.kind}\u0000${entry.actor}\u0000${entry.environments.join(',')}`;

/** `+3.6%/2.0%` or `$5.20/$5 cap`: what an automatic stop measured over its limit, from its figures. */
function breachOf(figures: AuditEntry['figures']): string | undefined {
	const number = (name: string) => (typeof figures?.[name] === 'number' && Number.isFinite(figures[name]) ? figures[name] : undefined);
	// An emergency's figures are the global window's.
	const increase = number('increasePct') ?? number('globalIncreasePct');
	const threshold = number('thresholdPct');
	if (increase !== undefined && threshold !== undefined && increase > threshold) {
		return `breach ${signedPct(increase)}/${pct(threshold)}`;
	}

	const hourly = number('hourlyUsd') ?? number('globalUsdPerHour');
	const cap = number('maxHourlyUsd');
	return hourly !== undefined && cap !== undefined && hourly > cap ? `breach ${money(hourly)}/${compactMoney(cap)} cap` : undefined;
}

/**
 * An action's outcome for its incident line: without the environments the line names, and, when
 * every agent was acted on, without the per-state tally (`stopped 5/5 (saves $2.19/h)`); a failure
 * keeps it all.
 */
function shortOutcome(entry: AuditEntry): string {
	const outcome = entry.environments.length > 0 ? entry.reason.replace(` in ${entry.environments.join(', ')}`, '') : entry.reason;
	if (entry.outcome !== 'executed') {
		return outcome;
	}

	return outcome.replace(/^(\w+ \d+\/\d+) agents?\b/, '$1').replace(/ \([^()]*; ((?:saves|adds) [^()]*)\)$/, ' ($1)');
}

/** The rows of each events array seen (a snapshot's events never change): the pane, the events view and its key count share them, worked out once a snapshot. */
const rowsOf = new WeakMap<readonly AuditEntry[], readonly EventRow[]>();

/**
 * One line per incident: a decision and the action that carried it out (same kind, actor and
 * environments; the batches of a paced one in between) on one line, newest first: `cascade dev:
 * breach +3.6%/2.0% -> stopped 5/5 agents (...)`. The cause is what was measured over the limit
 * (or, for another automatic decision, its reason); a person's request needs none (the actor says
 * who). Everything else stays a line of its own; the log view (l) has every entry in full.
 */
export function eventRows(events: readonly AuditEntry[]): readonly EventRow[] {
	let rows = rowsOf.get(events);
	if (!rows) {
		rows = incidentRows(events);
		rowsOf.set(events, rows);
	}

	return rows;
}

function incidentRows(events: readonly AuditEntry[]): EventRow[] {
	const rows: EventRow[] = [];
	// Oldest first, so each action finds its decision.
	const waiting = new Map<string, {decision: AuditEntry; batches: number[]}>();
	const folded = new Set<number>();
	const merged = new Map<number, EventRow>();
	for (const entry of [...events].reverse()) {
		const key = keyOf(entry);
		if (entry.type === 'decision' && entry.outcome === undefined) {
			waiting.set(key, {decision: entry, batches: []});
			continue;
		}

		const open = waiting.get(key);
		if (!open) {
			continue;
		}

		const {decision} = open;
		if (entry.type === 'progress') {
			// Folded in only once the action closes it: a stop cut short keeps its batches in sight.
			open.batches.push(entry.seq);
		} else if (entry.type === 'action') {
			waiting.delete(key);
			folded.add(decision.seq);
			for (const seq of open.batches) {
				folded.add(seq);
			}

			const scope = entry.environments.length > 0 ? ` ${entry.environments.join(',')}` : '';
			const cause = entry.actor === 'auto' ? `: ${breachOf(decision.figures) ?? decision.reason}` : '';
			const outcome = shortOutcome(entry);
			const dry = eventText(entry).text.endsWith(' [dry run]') ? ' [dry run]' : '';
			merged.set(entry.seq, {seq: entry.seq, time: clockTime(decision.at), actor: entry.actor, text: `${entry.kind}${scope}${cause} -> ${outcome}${dry}`, colour: colourOf(entry)});
		}
	}

	for (const entry of events) {
		if (folded.has(entry.seq)) {
			continue;
		}

		rows.push(merged.get(entry.seq) ?? {seq: entry.seq, ...eventText(entry)});
	}

	return rows;
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
