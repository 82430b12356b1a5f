/**
 * Acting on the instances of the detail view (k9s: on the row under the cursor, or the marked
 * ones): what may be marked and stopped, the confirmation that names them and their $/h, and the
 * EC2 console link copied with OSC 52. The stop itself is the engine's (`stop-instances`), through
 * the enforcer, like an environment stop. Pure: no React, no Ink.
 */
import {money, plural, type InstanceRow} from '../domain/index.js';
import type {Snapshot} from '../engine/index.js';
import {unknownWhy, type ConfirmRequest} from './confirm.js';

/** Only agents that run can be stopped: why this row cannot be marked or stopped, or undefined when it can. */
export function markRefusal(row: InstanceRow): string | undefined {
	if (row.role === 'monitor') {
		return `${row.id} is a monitor: envwatch never stops monitors`;
	}

	if (row.role !== 'agent') {
		return `${row.id} is not an agent (no agent role tag): only agents are stopped`;
	}

	if (row.state !== 'running' && row.state !== 'pending') {
		return `${row.id} is ${row.state}: nothing to stop`;
	}

	return undefined;
}

/** At most this many instances are named one by one in a confirmation; the rest are counted. */
const namedInPanel = 3;

/** One instance as a confirmation names it: ID, name, type, $/h. */
function instanceLine(row: InstanceRow): string {
	const price = row.usdPerHour === null ? 'unpriced' : `${row.estimated ? '~' : ''}${money(row.usdPerHour)}/h`;
	return `${row.id} ${row.name ?? ''} ${row.type} ${price}`.replaceAll(/ +/g, ' ');
}

/**
 * The confirmation of a stop of these instances (`ids`, of `environment`): each named with its $/h
 * (the first few, the rest counted), what the stop saves, that they are listed again right before
 * it, and, in a monitor-only environment, its name to type. A reason instead when none can be.
 */
export function instanceStopRequest(snapshot: Snapshot, environment: string, ids: readonly string[], now: number): ConfirmRequest | {refused: string} {
	const view = snapshot.environments.find(candidate => candidate.name === environment);
	if (!view) {
		return {refused: `${environment} is no longer guarded: nothing stopped`};
	}

	const listed = ids.flatMap(id => view.instances?.find(row => row.id === id) ?? []);
	const rows = listed.filter(row => markRefusal(row) === undefined);
	if (rows.length === 0 && listed.length === 1) {
		return {refused: markRefusal(listed[0]!)!};
	}

	if (rows.length === 0) {
		return {refused: `${ids.length === 1 ? ids[0] : 'the marked instances'}: no longer ${ids.length === 1 ? 'a running agent' : 'running agents'} of ${environment}, nothing to stop`};
	}

	const verb = snapshot.mode.action === 'terminate' ? 'Terminate' : 'Stop';
	const priced = rows.filter(row => row.usdPerHour !== null);
	const saves = priced.reduce((sum, row) => sum + row.usdPerHour!, 0);
	const unpriced = rows.length - priced.length;
	const monitorOnly = view.policy.onBreach === 'alert';
	const stale = unknownWhy(view, snapshot, now);
	const named = rows.slice(0, namedInPanel).map(row => instanceLine(row));
	const more = rows.length - named.length;
	return {
		command: {kind: 'stop-instances', environment, ids: rows.map(row => row.id), ...(monitorOnly ? {confirm: environment} : {})},
		title: `${verb} ${plural(rows.length, 'instance')} in ${environment}?`,
		details: [
			...named,
			...(more > 0 ? [`+${more} more (${more === 1 ? 'its' : 'their'} $/h counted below)`] : []),
			`saves ${money(saves)}/h${unpriced > 0 ? ` and ${plural(unpriced, 'unpriced instance')}` : ''} of ${money(view.hourlyUsd)}/h (compute; volumes go on costing)`,
			stale ? `${environment}'s figures are the last known (${stale}): listed afresh right before the stop` : 'listed afresh right before the stop: only running agents of it are stopped',
			`${environment}'s other agents run on: no breaker trips; u starts these again`,
			...(monitorOnly ? [`${environment} is monitor-only: envwatch never stops it on its own`] : []),
			...(snapshot.mode.dryRun ? ['DRY-RUN: EC2 only checks the permission; nothing changes'] : []),
		],
		...(monitorOnly ? {typed: environment} : {}),
		input: '',
		danger: true,
	};
}

/** The EC2 console's page of an instance, in its region's console (its partition's, for China and GovCloud). */
export function consoleUrl(region: string, id: string): string {
	const host = region.startsWith('cn-') ? 'console.amazonaws.cn' : region.startsWith('us-gov-') ? 'console.amazonaws-us-gov.com' : `${region}.console.aws.amazon.com`;
	return `https://${host}/ec2/home?region=${encodeURIComponent(region)}#InstanceDetails:instanceId=${encodeURIComponent(id)}`;
}

/**
 * The OSC 52 sequence that puts `text` on the clipboard of the terminal the dashboard draws in
 * (over SSH too; in tmux with `set-clipboard on`). The terminal shows nothing for it.
 */
export function osc52(text: string): string {
	return `\u001B]52;c;${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
}
