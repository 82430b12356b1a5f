import type {Config} from '../config/index.js';
import {plural} from '../domain/index.js';
import {partialStopKind} from './action-words.js';
import type {Recorder} from './recorder.js';
import type {StateStore} from './state/store.js';
import type {Breaker} from './state/validate.js';

/** Who stopped or started agents, why, and by which kind of action (a violation stop trips nothing). */
export type BreakerRequest = {actor: string; reason: string; kind?: string};

/**
 * Tripped breakers: environments envwatch stopped and holds stopped until a reset (persisted in the
 * state dir). A stop trips one, a start or undo (a person letting agents run again) or a reset
 * clears it, and `breaker.resetAfterMinutes` lets them expire.
 */
export class Breakers {
	private readonly tripped: Map<string, Breaker>;

	constructor(private readonly deps: {state: StateStore; recorder: Recorder; config: Config; monitored: string[]}) {
		this.tripped = deps.state.loadBreakers();
	}

	get(name: string): Breaker | undefined {
		return this.tripped.get(name);
	}

	has(name: string): boolean {
		return this.tripped.has(name);
	}

	all(): ReadonlyMap<string, Breaker> {
		return this.tripped;
	}

	/**
	 * An action found under way at start-up was cut short (the process was killed mid-stop): say so,
	 * and hold its environments stopped (their breakers trip), so agents left running are stopped on
	 * the next poll rather than read as a drop in spend and forgotten. Returns the environments now
	 * held stopped (their windows restart).
	 */
	recoverCutShort(): string[] {
		const {state, monitored, recorder} = this.deps;
		const cut = state.loadActionInFlight();
		if (!cut) {
			return [];
		}

		const stops = cut.kind !== 'undo';
		const names = cut.environments.filter(name => monitored.includes(name));
		const holds = stops ? names.filter(name => this.trips(name, cut.kind)) : [];
		recorder.log({type: 'decision', actor: 'auto', kind: 'interrupted', environments: names, reason: `a ${cut.kind} of ${cut.environments.join(', ')} by ${cut.actor} at ${new Date(cut.at).toISOString()} was cut short: ${cut.done} of ${plural(cut.planned, 'agent')} recorded${holds.length > 0 ? `; ${holds.join(', ')} stay${holds.length === 1 ? 's' : ''} stopped by envwatch (breaker), agents still running there are stopped on the next poll` : ''}`, instanceIds: []});
		for (const name of holds) {
			this.tripped.set(name, {trippedAt: cut.at, actor: cut.actor, reason: `${cut.kind} cut short`});
		}

		if (holds.length > 0) {
			this.save();
		}

		state.saveActionInFlight(undefined);
		return holds;
	}

	/**
	 * Whether envwatch's stop of `name` trips its breaker. A violation stop does not: it stopped only
	 * the agents the policy does not allow, and held at zero the environment would lose the agents
	 * it does allow as "re-spawns". Nor does a person's stop of named instances (`partialStopKind`),
	 * for the same reason: the agents not named go on running. Nor does a stop in an environment whose `onBreach` is `alert`:
	 * re-spawn stops never apply there, so a breaker would hold nothing (and say HELD all the same).
	 */
	private trips(name: string, kind: string | undefined): boolean {
		return kind !== 'violation' && kind !== partialStopKind && this.deps.config.environments[name]?.onBreach !== 'alert';
	}

	/**
	 * envwatch stopped or started agents in `environments`: a stop trips the breaker (or it stays
	 * tripped, dated by its first trip), unless it is a violation stop or the environment is
	 * monitor-only (see `trips`); a start or an undo clears it.
	 */
	changed(environments: string[], kind: 'stopped' | 'started', request: BreakerRequest, now: number): void {
		for (const name of environments) {
			if (kind === 'stopped') {
				if (this.trips(name, request.kind)) {
					const tripped = this.tripped.get(name);
					this.tripped.set(name, tripped ?? {trippedAt: now, actor: request.actor, reason: request.reason});
				}
			} else if (this.tripped.delete(name)) {
				// A start or an undo is a person letting agents run there again.
				this.deps.recorder.log({type: 'decision', actor: request.actor, kind: 'reset', environments: [name], reason: `${name}'s breaker reset by the start of its agents`, instanceIds: []});
			}
		}

		this.save();
	}

	/** A person's reset: the breaker that was tripped (now cleared and logged), or undefined if none was. */
	reset(name: string, actor: string): Breaker | undefined {
		const breaker = this.tripped.get(name);
		if (!breaker) {
			return undefined;
		}

		this.tripped.delete(name);
		this.save();
		this.deps.recorder.log({type: 'decision', actor, kind: 'reset', environments: [name], reason: `${name}'s breaker reset (tripped ${new Date(breaker.trippedAt).toISOString()} by ${breaker.actor}): agents may run there again`, instanceIds: [], outcome: 'executed'});
		return breaker;
	}

	/** Breakers reset themselves after `breaker.resetAfterMinutes`, when set (default: never). */
	expire(at: number): void {
		const minutes = this.deps.config.breaker?.resetAfterMinutes;
		if (minutes === undefined || minutes === null) {
			return;
		}

		let changed = false;
		for (const [name, breaker] of this.tripped) {
			if (at - breaker.trippedAt >= minutes * 60_000) {
				this.tripped.delete(name);
				changed = true;
				this.deps.recorder.log({type: 'decision', actor: 'auto', kind: 'reset', environments: [name], reason: `${name}'s breaker reset after ${plural(minutes, 'minute')} (breaker.resetAfterMinutes)`, instanceIds: []});
			}
		}

		if (changed) {
			this.save();
		}
	}

	/** A failed write is reported through the state store's record errors (it never throws). */
	private save(): void {
		this.deps.state.saveBreakers(this.tripped);
	}
}
