/**
 * A confirmation is a request object in state, built from the snapshot and stating the blast
 * radius. No is the default: `y` confirms, `n`, Esc and Enter cancel. Risky requests name a word
 * to type instead (`stop all`, or a monitor-only environment's name); a wrong word clears the
 * input and says so. Pure: `reduceConfirm` is the whole key handling.
 */
import {checkAgents, money, noLaunchTemplate, plural, type EnvironmentView} from '../domain/index.js';
import type {Command, Snapshot} from '../engine/index.js';
import {age, clockTime} from './cells.js';
import {matchKey, type KeyState} from './keymap.js';

export type ConfirmRequest = {
	/** What runs on confirm. */
	command: Command;
	/** `Stop dev?` */
	title: string;
	/** The blast radius, one fact per line. */
	details: string[];
	/** When set, the user must type this and press Enter; `y` alone does nothing. */
	typed?: string;
	/** What has been typed so far. */
	input: string;
	/** Feedback after a wrong word. */
	error?: string;
	/** Severity for the panel's colour. */
	danger: boolean;
	/**
	 * A start's count, typed in the confirmation (digits; empty: `default`): the title, the details
	 * and the command follow it; `y` refuses a bad count with `error`, naming it.
	 */
	count?: StartCount;
};

/** Why a confirmation is not asked (flashed instead; `shorter`: in fewer words, for a narrow status line). */
export type Refused = {refused: string; shorter?: string[]};

/** What a start's confirmation is computed from, so a typed count can recompute it. */
export type StartCount = {
	environment: string;
	/** Digits typed so far; empty: the default. */
	input: string;
	default: number;
	running: number;
	/** The most agents the environment may run (maxAgents); undefined: no cap. */
	cap: number | undefined;
	agents: 'all' | 'limited';
	instanceType: string | null;
	usdPerHourEach: number | null;
	hourlyUsd: number;
	/** Lines after the figures (the dry-run note). */
	notes: string[];
};

/** At most this many digits are taken (a typo guard); the cap, where set, bounds the count. */
const countDigits = 4;

const firstIds = 3;

/** `total`: how many there are in all, where `ids` holds only the first of them. */
function idsLine(ids: readonly string[], total = ids.length): string {
	if (ids.length === 0) {
		return 'instances: none running now';
	}

	// "+2 more" stays together (a no-break space) when the line wraps: three of EC2's 19-character
	// IDs and the count are a little wider than 80 columns.
	const more = total > Math.min(firstIds, ids.length) ? ` +${total - Math.min(firstIds, ids.length)}\u00A0more` : '';
	return `instances: ${ids.slice(0, firstIds).join(', ')}${more}`;
}

/** What an undo adds back: the stopped agents' $/h when they were stopped, or unknown (never $0). */
function addsBack(usdPerHour: unknown): string {
	return typeof usdPerHour === 'number' && Number.isFinite(usdPerHour) && usdPerHour >= 0
		? `adds ${money(usdPerHour)}/h back (what the stop saved)`
		: 'adds: $/h unknown (not recorded with this stop)';
}

/** Why a view's agents are unknown (stale, or no poll has returned yet), or undefined when known. */
export function unknownWhy(view: Pick<EnvironmentView, 'stale'>, snapshot: Pick<Snapshot, 'lastSuccessAt'>, now: number): string | undefined {
	if (snapshot.lastSuccessAt === null) {
		return 'no poll has returned data yet';
	}

	return view.stale ? `last poll failed; last good data ${age(now, snapshot.lastSuccessAt)} ago` : undefined;
}

/**
 * The blast radius. Views whose data is stale are never counted as 0 agents: they are named as
 * unknown, with why, and the stop lists their instances afresh right before the call.
 */
function radius(views: readonly EnvironmentView[], snapshot: Snapshot, now: number): string[] {
	const known = views.filter(view => unknownWhy(view, snapshot, now) === undefined);
	const unknown = views.filter(view => unknownWhy(view, snapshot, now) !== undefined);
	const count = known.reduce((sum, view) => sum + view.agents.running, 0);
	const ids = known.flatMap(view => view.agentIds ?? []);
	const saves = known.reduce((sum, view) => sum + (view.agentHourlyUsd ?? 0), 0);
	const lines = [`environment${views.length === 1 ? '' : 's'}: ${views.map(view => view.name).join(', ') || 'none'}`];
	if (unknown.length > 0) {
		lines.push(
			`agents: unknown${views.length > 1 ? ` in ${unknown.map(view => view.name).join(', ')}` : ''} (${unknownWhy(unknown[0]!, snapshot, now)!})${known.length > 0 ? `; ${plural(count, 'agent')} running in ${known.map(view => view.name).join(', ')}` : ''}`,
			`instances: ${ids.length > 0 ? `${idsLine(ids).slice('instances: '.length)}; ` : ''}the unknown are listed afresh right before the stop`,
			'saves: unknown until a poll succeeds',
		);
		return lines;
	}

	return [
		...lines,
		`${plural(count, 'agent')} running`,
		idsLine(ids),
		`saves ${money(saves)}/h of ${money(views.reduce((sum, view) => sum + view.hourlyUsd, 0))}/h`,
	];
}

function modeNote(snapshot: Snapshot): string[] {
	if (snapshot.mode.dryRun) {
		return ['DRY-RUN: EC2 only checks the permission; nothing changes'];
	}

	return [];
}

/** `R`: the selected environment's tripped breaker reset, saying when, by whom and why it tripped. */
function resetRequest(view: EnvironmentView | undefined, snapshot: Snapshot): ConfirmRequest | Refused {
	if (!view?.breaker) {
		return {refused: `${view?.name ?? 'no environment selected'}: no tripped breaker to reset`};
	}

	return {
		command: {kind: 'reset', environment: view.name},
		title: `Reset ${view.name}'s breaker?`,
		details: [
			`agents may run in ${view.name} again: no longer stopped as re-spawns (its limits still apply; its window restarts)`,
			`tripped at ${new Date(view.breaker.trippedAt).toTimeString().slice(0, 8)} by ${view.breaker.actor}: ${view.breaker.reason}`,
			...(view.policy.onBreach === 'stop' ? ['its threshold still applies: a new breach stops it again'] : []),
			...modeNote(snapshot),
		],
		input: '',
		danger: false,
	};
}

/** `P`: pausing removes protection, so it is asked; resuming (P on a paused row) is not. */
function pauseEnvRequest(view: EnvironmentView | undefined): ConfirmRequest | Refused {
	if (!view) {
		return {refused: 'no environment selected'};
	}

	return {
		command: {kind: 'pause-env', environment: view.name},
		title: `Pause automatic actions for ${view.name}?`,
		details: [
			`${view.name} stays polled and shown: a breach is still BREACH, logged, notified`,
			'nothing stops it automatically: no stop, cascade, re-spawn or emergency',
			`the others stay guarded; s and E still stop ${view.name}; P resumes`,
		],
		input: '',
		danger: true,
	};
}

/** `u`: exactly the instances of the last stop started again, and the $/h they add back. */
function undoRequest(snapshot: Snapshot): ConfirmRequest | Refused {
	const last = snapshot.lastStop;
	if (!last) {
		// After an undo there is nothing left to undo, but envwatch did stop something: say what happened.
		const undone = snapshot.events.find(entry => entry.type === 'action' && entry.kind === 'undo' && entry.outcome === 'executed');
		return undone
			? {refused: `nothing to undo: the last stop was undone at ${clockTime(undone.at)}`, shorter: [`nothing to undo (undone ${clockTime(undone.at)})`, 'nothing to undo']}
			: {refused: 'nothing to undo: envwatch has not stopped anything', shorter: ['nothing to undo']};
	}

	return {
		// The confirmed stop: if another stop happened since, undo refuses rather than start those.
		command: {kind: 'undo', stopAt: last.at},
		title: `Undo: start the ${plural(last.count, 'agent')} stopped in ${last.environments.join(', ')} again?`,
		details: [
			Array.isArray(last.ids) ? idsLine(last.ids, Math.max(last.count, last.ids.length)) : 'instances: not sent by this server (an older envwatch); exactly those of the last stop',
			addsBack(last.usdPerHour),
			`stopped at ${new Date(last.at).toTimeString().slice(0, 8)}; exactly those instances start, nothing else`,
			...modeNote(snapshot),
		],
		input: '',
		danger: false,
	};
}

export type ConfirmSource = {
	snapshot: Snapshot;
	/** The environment under the cursor (for `s`). */
	selected: string | undefined;
	/** `Monitor.cascadeTarget()`. */
	cascadeTarget: string | undefined;
	/** The clock, for the age of the last good data. @default snapshot.at */
	now?: number;
};

/** The request for a dangerous command, or a reason it cannot be asked (flashed instead). */
export function buildConfirmation(kind: 'stop' | 'cascade' | 'emergency' | 'undo' | 'start' | 'reset' | 'pause-env', source: ConfirmSource): ConfirmRequest | Refused {
	const {snapshot} = source;
	const now = source.now ?? snapshot.at;
	const byName = (name: string) => snapshot.environments.find(view => view.name === name);
	const verb = snapshot.mode.action === 'terminate' ? 'Terminate' : 'Stop';
	switch (kind) {
		case 'stop': {
			const view = source.selected === undefined ? undefined : byName(source.selected);
			if (!view) {
				return {refused: 'no environment selected'};
			}

			// Monitor only (onBreach: alert): the engine stops it only with the name typed, which it is
			// by the time this command is sent.
			const monitorOnly = view.policy.onBreach === 'alert';
			return {
				command: {kind: 'stop', environment: view.name, ...(monitorOnly ? {confirm: view.name} : {})},
				title: `${verb} ${view.name}'s agents?`,
				details: [...radius([view], snapshot, now), ...(monitorOnly ? [`${view.name} is monitor-only: envwatch never stops it on its own`] : []), ...modeNote(snapshot)],
				...(monitorOnly ? {typed: view.name} : {}),
				input: '',
				danger: true,
			};
		}

		case 'cascade': {
			if (!source.cascadeTarget) {
				return {refused: 'cascade: no environment that stops on breach is running agents', shorter: ['cascade: nothing to stop']};
			}

			const view = byName(source.cascadeTarget);
			return {
				// The confirmed target: if the cascade would pick another by the time y is pressed, it refuses.
				command: {kind: 'cascade', environment: source.cascadeTarget},
				title: `Cascade step: ${verb.toLowerCase()} ${source.cascadeTarget}, the lowest-priority environment running agents?`,
				details: [...radius(view ? [view] : [], snapshot, now), ...modeNote(snapshot)],
				input: '',
				danger: true,
			};
		}

		case 'emergency': {
			const targets = snapshot.environments.filter(view => view.policy.onBreach === 'stop' && (view.agents.running > 0 || unknownWhy(view, snapshot, now) !== undefined));
			if (targets.length === 0) {
				// Not a word to type for 0 agents: there is nothing an emergency stop would stop.
				return {refused: 'nothing to stop: no agent runs outside monitor-only environments', shorter: ['nothing to stop outside monitor-only', 'E: nothing to stop']};
			}

			return {
				command: {kind: 'emergency'},
				title: `EMERGENCY: ${verb.toLowerCase()} every agent outside monitor-only environments?`,
				details: [...radius(targets, snapshot, now), ...modeNote(snapshot)],
				typed: 'stop all',
				input: '',
				danger: true,
			};
		}

		case 'start': {
			const view = source.selected === undefined ? undefined : byName(source.selected);
			if (!view) {
				return {refused: 'no environment selected'};
			}

			if (view.agents.allowed === 'monitor-only') {
				return {refused: `${view.name} is monitor only: no agents are ever started there`};
			}

			if (!view.launch) {
				return {refused: noLaunchTemplate(view.name)};
			}

			const unknown = unknownWhy(view, snapshot, now);
			if (unknown) {
				return {refused: `${view.name}: agents unknown (${unknown}): no start until a poll counts them`};
			}

			const {count, instanceType, usdPerHourEach} = view.launch;
			const cap = typeof view.agents.allowed === 'number' ? view.agents.allowed : undefined;
			const agents = view.policy.agents === 'limited' ? 'limited' : 'all';
			// The engine's own start check on the snapshot's figures (the engine checks again, counting
			// afresh): with no room for one more agent, no question. Room for fewer than the default:
			// asked, saying so, for a smaller count to be typed.
			const check = checkAgents(view.name, {agents, maxAgents: cap}, view.agents.running, count);
			if (!check.ok && (cap === undefined || cap - view.agents.running < 1)) {
				return {refused: check.reason};
			}

			return withCount({
				command: {kind: 'start', environment: view.name, count},
				title: '',
				details: [],
				input: '',
				danger: false,
				count: {environment: view.name, input: '', default: count, running: view.agents.running, cap, agents, instanceType, usdPerHourEach, hourlyUsd: view.hourlyUsd, notes: modeNote(snapshot)},
			}, '');
		}

		case 'reset': {
			return resetRequest(source.selected === undefined ? undefined : byName(source.selected), snapshot);
		}

		case 'pause-env': {
			return pauseEnvRequest(source.selected === undefined ? undefined : byName(source.selected));
		}

		case 'undo': {
			return undoRequest(snapshot);
		}
	}
}

/** The count typed (digits only: `reduceCount` takes no other key) or the default, or why it is refused, naming what was typed. */
function startCount(count: StartCount): {ok: true; count: number} | {ok: false; reason: string} {
	const typed = count.input === '' ? `the default ${count.default}` : `"${count.input}"`;
	const value = count.input === '' ? count.default : Number(count.input);
	if (value < 1) {
		return {ok: false, reason: `${typed}: start at least 1 agent`};
	}

	const check = checkAgents(count.environment, {agents: count.agents, maxAgents: count.cap}, count.running, value);
	return check.ok ? {ok: true, count: value} : {ok: false, reason: `${typed}: ${check.reason}`};
}

/** What a start's count allows: `1 to 4`, or `1 or more` without a cap. */
export function countRange(count: StartCount): string {
	return count.cap === undefined ? '1 or more, no cap' : `1 to ${Math.max(1, count.cap - count.running)}`;
}

/** A start's request with this input: title, details and command for its count, or the count's error. */
function withCount(request: ConfirmRequest, input: string): ConfirmRequest {
	const count = {...request.count!, input};
	const checked = startCount(count);
	if (!checked.ok) {
		return {...request, count, title: `Start agents in ${count.environment}?`, details: [], error: checked.reason};
	}

	const {usdPerHourEach, instanceType, cap, running} = count;
	const {error: _error, ...rest} = request;
	return {
		...rest,
		count,
		command: {kind: 'start', environment: count.environment, count: checked.count},
		title: `Start ${plural(checked.count, 'agent')} in ${count.environment}?`,
		details: [
			`instance type: ${instanceType ?? 'as the launch template says'}`,
			`adds ${usdPerHourEach === null ? 'an unpriced amount' : `${money(usdPerHourEach * checked.count)}/h`} to ${money(count.hourlyUsd)}/h`,
			`${running} running${cap === undefined ? '' : `, at most ${cap}`}; the window restarts, so this is not taken for a spike`,
			...count.notes,
		],
	};
}

export type ConfirmStep = {kind: 'confirm'} | {kind: 'cancel'} | {kind: 'edit'; request: ConfirmRequest} | {kind: 'ignore'};

/** A digit typed into a start's count (at most `countDigits` of them). */
function typeCount(request: ConfirmRequest, input: string): ConfirmStep {
	const next = request.count!.input + input;
	if (next.length > countDigits) {
		return {kind: 'edit', request: {...request, error: `"${next}": at most ${countDigits} digits; Backspace to change it`}};
	}

	return {kind: 'edit', request: withCount(request, next)};
}

/** Enter on a confirmation that asks for a word: done only when the word is right. */
function confirmWord(request: ConfirmRequest): ConfirmStep {
	if (request.input === request.typed) {
		return {kind: 'confirm'};
	}

	if (request.input === '') {
		return {kind: 'cancel'};
	}

	return {kind: 'edit', request: {...request, input: '', error: `"${request.input}" is not "${request.typed}": nothing done; type it again or press Esc`}};
}

/**
 * One key press against an open confirmation, matched against the keymap's `confirm` rows (or
 * `confirm-typed`, where a word is asked for): y confirms; n, Esc, Enter and Ctrl-C cancel; a
 * start's count takes digits and Backspace.
 */
export function reduceConfirm(request: ConfirmRequest, input: string, key: KeyState): ConfirmStep {
	const command = matchKey(input, key, {readOnly: false, pending: false, count: Boolean(request.count)}, request.typed ? 'confirm-typed' : 'confirm');
	// Printable input only (pasted text arrives as one string).
	const typed = input !== '' && !key.ctrl && !key.meta && /^[\x20-\x7e]+$/.test(input);
	switch (command) {
		case 'no':
		case 'cancel': {
			return {kind: 'cancel'};
		}

		case 'yes': {
			// A bad count is never started: the error names it, and the question stays open.
			const checked = request.count ? startCount(request.count) : {ok: true as const};
			return checked.ok ? {kind: 'confirm'} : {kind: 'edit', request: {...request, error: checked.reason}};
		}

		case 'count': {
			return typeCount(request, input);
		}

		case 'erase': {
			return request.count
				? {kind: 'edit', request: withCount(request, [...request.count.input].slice(0, -1).join(''))}
				: {kind: 'edit', request: {...request, input: [...request.input].slice(0, -1).join(''), error: undefined}};
		}

		case 'confirm-word': {
			return confirmWord(request);
		}

		case 'type-word': {
			return typed && request.input.length + input.length <= 64 ? {kind: 'edit', request: {...request, input: request.input + input, error: undefined}} : {kind: 'ignore'};
		}

		default: {
			// Not taken into a start's count: said, naming it, and the count stays as it was. No is the
			// default: anything else that is not y leaves things as they are.
			return request.count && typed ? {kind: 'edit', request: {...request, error: `"${input}" is not a number: type how many agents to start (digits); y starts, n or Esc cancels`}} : {kind: 'ignore'};
		}
	}
}
