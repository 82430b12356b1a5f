import type {Config} from '../config/index.js';
import type {Decision, EnvironmentInput, Evaluation, WindowStats} from '../domain/index.js';
import type {AuditEntry} from './state/audit.js';
import type {ActionKind, Enforcer} from './enforcer.js';
import type {EntryDraft, Recorder} from './recorder.js';

export type AutomaticDeps = {
	config: Config;
	enforcer: Enforcer;
	recorder: Recorder;
	clock: () => number;
	options: {dryRun: boolean; readOnly: boolean};
	/** Polls again (when a grace period runs out). */
	repoll: () => void;
};

/**
 * Automatic enforcement: at most one automatic action a poll, held back (and logged once) while
 * paused, read-only or dry-run, given a grace period unless it is a re-spawn; and the warn/alert
 * decisions logged when they start and when they clear.
 */
export class Automatic {
	/** Automatic actions paused (by a person, or a cancelled pending action). */
	paused: boolean;
	/**
	 * Environments whose automatic actions a person paused (`--pause-env`, `P`, a socket client):
	 * the policy alerts on them instead of stopping them (domain/policy.ts), and no violation stop
	 * touches them.
	 */
	readonly pausedEnvironments: Set<string>;
	/** The action waiting out its grace period. */
	pending: {decision: Decision; dueAt: number} | null = null;
	/** The agents this poll's action stopped, per environment: the snapshot shows the result before the next poll confirms it. */
	readonly acted = new Map<string, string[]>();
	/** Last logged level per environment, so warn/alert lines are written on change, not every poll. */
	private lastLogged = new Set<string>();
	/** The automatic action last held back by pause or read-only, so it is logged once, not every poll. */
	private heldBack: string | undefined;
	private graceTimer: NodeJS.Timeout | undefined;

	constructor(private readonly deps: AutomaticDeps, paused: boolean, pausedEnvironments: readonly string[] = []) {
		this.paused = paused;
		this.pausedEnvironments = new Set(pausedEnvironments);
	}

	/**
	 * Pauses or resumes automatic actions for one environment; returns whether that changed anything.
	 * An action counting down its grace period that would touch it is dropped: the next poll decides
	 * again without it (a cascade may then pick the next environment, with a grace period of its own).
	 */
	pauseEnvironment(name: string, paused: boolean): boolean {
		if (this.pausedEnvironments.has(name) === paused) {
			return false;
		}

		if (paused) {
			this.pausedEnvironments.add(name);
			if (this.pending && environmentsOf(this.pending.decision).includes(name)) {
				this.pending = null;
				this.heldBack = undefined;
				clearTimeout(this.graceTimer);
			}
		} else {
			this.pausedEnvironments.delete(name);
		}

		return true;
	}

	/** Stops the grace timer (the loop is stopping). */
	stop(): void {
		clearTimeout(this.graceTimer);
	}

	/**
	 * Cancels the pending action, if any (logged), and pauses, so the next poll does not re-arm it.
	 * Returns whether there was one.
	 */
	cancelPending(actor: string): boolean {
		if (!this.pending) {
			return false;
		}

		this.deps.recorder.log({type: 'decision', actor, kind: 'cancel', environments: environmentsOf(this.pending.decision), reason: `cancelled: ${this.pending.decision.reason}`, instanceIds: []});
		this.pending = null;
		// Cancelling is a decision to leave it: pause, so the next poll does not re-arm it. That pause
		// is logged like p's (and so notified): it takes every automatic action away until resumed.
		if (!this.paused) {
			this.paused = true;
			this.deps.recorder.log({type: 'decision', actor, kind: 'pause', environments: [], reason: 'automatic actions paused: cancelling the pending action pauses them all until resumed (p)', instanceIds: []});
		}

		return true;
	}

	/**
	 * Alerts, warnings, holds and violations are written when they start and when they clear.
	 * `stale`: rows (and `global`) whose figures are not known this poll (an account failed): what
	 * was logged for them has not cleared, it is just not seen.
	 */
	logDecisions(evaluation: Evaluation, inputs: EnvironmentInput[], stale?: ReadonlySet<string>): void {
		const current = new Map<string, Decision & {environment: string}>();
		for (const decision of evaluation.decisions) {
			if (decision.kind === 'alert' || decision.kind === 'warn' || decision.kind === 'hold' || decision.kind === 'violation') {
				current.set(`${decision.kind}:${decision.environment}`, decision);
			}
		}

		for (const [key, decision] of current) {
			if (this.lastLogged.has(key)) {
				continue;
			}

			this.deps.recorder.log({type: 'decision', actor: 'auto', kind: decision.kind as AuditEntry['kind'], environments: decision.environment === 'global' ? [] : [decision.environment], reason: decision.reason, figures: figuresOf(inputs.find(input => input.name === decision.environment)), instanceIds: 'agentIds' in decision ? decision.agentIds : []});
		}

		const breaching = new Set(evaluation.environments.filter(result => result.assessment.level === 'breach').map(result => result.name));
		if (evaluation.global.assessment.level === 'breach') {
			breaching.add('global');
		}

		const unseen = new Set<string>();
		for (const key of this.lastLogged) {
			const [kind, environment] = key.split(':') as [string, string];
			if (!current.has(key) && stale?.has(environment)) {
				unseen.add(key);
				continue;
			}

			if (!current.has(key) && !breaching.has(environment) && !(kind === 'warn' && current.has(`alert:${environment}`))) {
				this.deps.recorder.log({type: 'decision', actor: 'auto', kind: 'recover', environments: environment === 'global' ? [] : [environment], reason: kind === 'violation' ? `${environment} runs no agents beyond its policy now` : `${environment} back within its limits`, instanceIds: []});
			}
		}

		this.lastLogged = new Set([...current.keys(), ...unseen]);
	}

	/** One automatic action a poll: a stop or an emergency, else a re-spawn, else (policy.stopViolations) a violation. */
	async enforce(evaluation: Evaluation, inputs: EnvironmentInput[], globalWindow: WindowStats): Promise<void> {
		const {config, recorder} = this.deps;
		const decision = evaluation.decisions.find(item => item.kind === 'stop' || item.kind === 'emergency')
			?? evaluation.decisions.find(item => item.kind === 'respawn')
			// A paused environment's rogue agents are shown and logged, not stopped.
			?? (config.policy.stopViolations ? evaluation.decisions.find(item => item.kind === 'violation' && !this.pausedEnvironments.has(item.environment)) : undefined);
		const heldBack = this.heldBack;
		this.heldBack = undefined;
		if (!decision || (decision.kind !== 'stop' && decision.kind !== 'emergency' && decision.kind !== 'violation' && decision.kind !== 'respawn')) {
			this.pending = null;
			return;
		}

		const environments = environmentsOf(decision);
		const figures: Record<string, number | string | null> = decision.kind === 'emergency'
			? {globalUsdPerHour: round(globalWindow.currentUsd), globalBaselineUsd: globalWindow.baselineUsd === undefined ? null : round(globalWindow.baselineUsd), globalIncreasePct: globalWindow.increasePct === undefined ? null : round(globalWindow.increasePct), thresholdPct: config.global.thresholdPct, maxHourlyUsd: config.global.maxHourlyUsd, savesUsdPerHour: round(decision.savesUsdPerHour)}
			: {...figuresOf(inputs.find(input => input.name === decision.environment)), ...(decision.kind === 'stop' || decision.kind === 'respawn' ? {savesUsdPerHour: round(decision.savesUsdPerHour)} : {})};
		const kind: ActionKind = decision.kind === 'emergency' ? 'emergency' : decision.kind === 'violation' ? 'violation' : decision.kind === 'respawn' ? 'respawn' : decision.cascade ? 'cascade' : 'stop';
		const reason = decision.kind === 'violation' ? `${decision.reason}; stopped under policy.stopViolations` : decision.reason;
		const {readOnly, dryRun} = this.deps.options;
		if (this.paused || readOnly || dryRun) {
			// Held back (or only tried with DryRun): written once when it starts, not on every poll
			// while it lasts, and a dry run's DryRun call is not repeated every poll either.
			this.heldBack = `${kind}:${environments.join(',')}:${this.paused ? 'paused' : readOnly ? 'read-only' : 'dry-run'}`;
			if (heldBack === this.heldBack) {
				return;
			}
		}

		if (this.paused) {
			recorder.log({type: 'decision', actor: 'auto', kind, environments, reason: `${reason} (paused: not executed)`, figures, instanceIds: decision.agentIds, outcome: 'skipped: paused'});
			return;
		}

		// A re-spawn is stopped at once: the grace period was given when the breaker tripped.
		const graceMs = kind === 'respawn' ? 0 : config.graceSeconds * 1000;
		if (graceMs > 0 && !readOnly) {
			const now = this.deps.clock();
			if (!this.pending || this.pending.decision.kind !== decision.kind || JSON.stringify(environmentsOf(this.pending.decision)) !== JSON.stringify(environments)) {
				this.heldBack = undefined;
				this.pending = {decision, dueAt: now + graceMs};
				recorder.log({type: 'decision', actor: 'auto', kind: 'pending', environments, reason: `${reason}; acting in ${config.graceSeconds}s unless cancelled (x)`, figures, instanceIds: decision.agentIds});
				clearTimeout(this.graceTimer);
				this.graceTimer = setTimeout(() => this.deps.repoll(), graceMs + 50);
				return;
			}

			if (now < this.pending.dueAt) {
				this.heldBack = undefined;
				return;
			}
		}

		this.pending = null;
		const result = await this.deps.enforcer.execute({kind, environments, reason, actor: 'auto', figures, plannedIds: decision.agentIds, ...(decision.kind === 'violation' ? {only: decision.agentIds} : {})});
		// The rows show the action's effect now; the next poll confirms it.
		for (const name of result.outcome === 'executed' || result.outcome === 'failed' ? environments : []) {
			const stopped = result.results.filter(outcome => ['stopping', 'stopped', 'already-stopped', 'terminating'].includes(outcome.result) && (inputs.find(input => input.name === name)?.spend.agentIds.some(agent => agent.id === outcome.id) ?? false)).map(outcome => outcome.id);
			if (stopped.length > 0) {
				this.acted.set(name, stopped);
			}
		}
	}
}

/** What a person had paused on an engine: every environment (`p`), and environments one by one (`P`, `--pause-env`). */
export type Pauses = {paused: boolean; pausedEnvironments: readonly string[]};

/**
 * The pauses an engine taking over drops (a pause is not kept across engines): each is recorded,
 * and so notified, as a resume by `auto`, saying why, so that nothing (a PagerDuty pause incident,
 * a person who thinks it still holds) is left believing it. `kept`: what the new engine starts
 * with paused (its own `--pause-env`); `from`: the engine before it, as the reason names it.
 */
export function droppedPauses(previous: Pauses, kept: Pauses, from: string): EntryDraft[] {
	const why = `dropped at the hand-over from ${from}: a pause is not kept when another engine takes over; pause again (p, P or --pause-env) if it is still wanted`;
	const entries: EntryDraft[] = [];
	if (previous.paused && !kept.paused) {
		entries.push({type: 'decision', actor: 'auto', kind: 'resume', environments: [], reason: `automatic actions resumed for every environment: the pause was ${why}`, instanceIds: []});
	}

	for (const name of previous.pausedEnvironments.filter(name => !kept.pausedEnvironments.includes(name))) {
		entries.push({type: 'decision', actor: 'auto', kind: 'resume', environments: [name], reason: `automatic actions resumed for ${name}: its pause was ${why}`, instanceIds: []});
	}

	return entries;
}

function environmentsOf(decision: Decision): string[] {
	return decision.kind === 'emergency' ? decision.environments : decision.environment === 'global' ? [] : [decision.environment];
}

function round(value: number): number {
	return Math.round(value * 10_000) / 10_000;
}

function figuresOf(input: EnvironmentInput | undefined): Record<string, number | string | null> | undefined {
	if (!input) {
		return undefined;
	}

	return {
		hourlyUsd: round(input.spend.hourlyUsd),
		baselineUsd: input.window.baselineUsd === undefined ? null : round(input.window.baselineUsd),
		increasePct: input.window.increasePct === undefined ? null : round(input.window.increasePct),
		thresholdPct: input.policy.thresholdPct,
		windowMinutes: input.policy.windowMinutes,
		maxHourlyUsd: input.policy.maxHourlyUsd,
		agentsRunning: input.spend.agentsRunning,
	};
}
