import type {Config} from '../config/schema.js';
import {money} from '../domain/format.js';
import type {InstanceState, RawInstance} from '../domain/types.js';
import type {Fleet, InstanceOutcome, Target} from '../providers/types.js';
import type {AuditEntry} from './audit.js';
import type {LastStop, StateStore} from './state.js';

export type ActionKind = 'stop' | 'cascade' | 'emergency' | 'undo';

export type ActionRequest = {
	kind: ActionKind;
	/** The environments in scope (for undo: those of the last stop). */
	environments: string[];
	reason: string;
	/** `auto` or user@host. */
	actor: string;
	figures?: Record<string, number | string | null>;
	/** What the decision saw; the scope re-check decides what is actually acted on. */
	plannedIds?: string[];
};

export type ActionResult = {
	kind: ActionKind;
	environments: string[];
	outcome: 'executed' | 'dry-run' | 'skipped' | 'failed' | 'nothing-to-do';
	/** A one-line summary for the flash message and the headless line. */
	summary: string;
	results: InstanceOutcome[];
	entry: AuditEntry;
};

export type EnforcerOptions = {dryRun: boolean; readOnly: boolean};

const liveStates: InstanceState[] = ['pending', 'running'];
const stoppedStates: InstanceState[] = ['stopping', 'stopped'];

/**
 * Carries out automatic decisions and manual commands alike, under DESIGN.md's invariants:
 * only instances with the agent role tag and a monitored environment's tag, re-listed with
 * server-side filters right before the call; read-only makes no call; dry-run uses EC2's DryRun;
 * every decision and result goes to the audit log before and after the call.
 */
export class Enforcer {
	constructor(
		private readonly fleet: Fleet,
		private readonly config: Config,
		private readonly monitored: readonly string[],
		/** Appends to the audit log (and wherever else the caller keeps events). */
		private readonly record: (entry: Omit<AuditEntry, 'seq'>) => AuditEntry,
		private readonly state: StateStore,
		private readonly options: EnforcerOptions,
		private readonly clock: () => number,
		/** Called after envwatch changed an environment's fleet: its history must restart. */
		private readonly onChanged: (environments: string[], kind: 'stopped' | 'started') => void,
	) {}

	lastStop(): LastStop | undefined {
		return this.state.loadLastStop();
	}

	private log(entry: Omit<AuditEntry, 'seq' | 'at' | 'dryRun'>): AuditEntry {
		return this.record({at: new Date(this.clock()).toISOString(), dryRun: this.options.dryRun, ...entry});
	}

	/** Lists, with server-side tag filters, the agents of these environments in the given states. */
	async targets(environments: string[], states: InstanceState[]): Promise<{instances: RawInstance[]; errors: string[]}> {
		const inScope = environments.filter(name => this.monitored.includes(name));
		const values = inScope.flatMap(name => this.config.environments[name]?.tagValues ?? []);
		if (values.length === 0) {
			return {instances: [], errors: []};
		}

		// Tag values match in any case (`Dev` is dev's, as in the spend), and EC2's tag filters are
		// case-sensitive: filter on the key and the agent role server-side, the values here.
		const listing = await this.fleet.list({
			envTagKey: this.config.envTagKey,
			role: {key: this.config.roleTag.key, value: this.config.roleTag.agent},
			states,
			regions: this.config.regions,
		});
		// Act only on exact matches of role and (case-insensitively) environment, whatever the provider's filter did.
		const allowed = new Set(values.map(value => value.toLowerCase()));
		const instances = listing.instances.filter(instance => instance.tags[this.config.roleTag.key] === this.config.roleTag.agent
			&& allowed.has((instance.tags[this.config.envTagKey] ?? '').toLowerCase())
			&& states.includes(instance.state));
		return {instances, errors: listing.errors.map(error => `${error.region}: ${error.message}`)};
	}

	async execute(request: ActionRequest): Promise<ActionResult> {
		const environments = request.environments.filter(name => this.monitored.includes(name));
		const undo = request.kind === 'undo';
		const last = undo ? this.lastStop() : undefined;
		const decision = this.log({
			type: 'decision',
			actor: request.actor,
			kind: request.kind,
			environments,
			reason: request.reason,
			...(request.figures ? {figures: request.figures} : {}),
			instanceIds: request.plannedIds ?? last?.targets.map(target => target.id) ?? [],
		});
		const finish = (outcome: ActionResult['outcome'], summary: string, results: InstanceOutcome[] = [], ids: string[] = []): ActionResult => {
			const entry = this.log({type: 'action', actor: request.actor, kind: request.kind, environments, reason: summary, instanceIds: ids, outcome, results});
			return {kind: request.kind, environments, outcome, summary, results, entry};
		};

		if (this.options.readOnly) {
			return finish('skipped', `read-only: ${describe(request.kind, environments)} not executed`, [], decision.instanceIds);
		}

		if (undo && !last) {
			return finish('nothing-to-do', 'nothing to undo: envwatch has not stopped anything yet');
		}

		let targets: RawInstance[];
		try {
			const listed = await this.targets(environments, undo ? stoppedStates : liveStates);
			if (listed.errors.length > 0) {
				return finish('failed', `not acted on: could not re-check the targets (${listed.errors.join('; ')})`);
			}

			targets = listed.instances;
			if (undo) {
				// Start exactly the instances of the last stop, and only those still in scope.
				const planned = new Set(last!.targets.map(target => target.id));
				targets = targets.filter(instance => planned.has(instance.id));
			}
		} catch (error) {
			return finish('failed', `not acted on: could not re-check the targets (${messageOf(error)})`);
		}

		const ids = targets.map(instance => instance.id);
		if (targets.length === 0) {
			return finish('nothing-to-do', `${describe(request.kind, environments)}: no ${undo ? 'stopped' : 'running'} agents in scope`);
		}

		const refs: Target[] = targets.map(instance => ({id: instance.id, region: instance.region}));
		let results: InstanceOutcome[];
		try {
			results = undo
				? await this.fleet.start(refs, {dryRun: this.options.dryRun})
				: await this.fleet.stop(refs, {dryRun: this.options.dryRun, terminate: this.config.action === 'terminate'});
		} catch (error) {
			return finish('failed', `${describe(request.kind, environments)} failed: ${messageOf(error)}`, [], ids);
		}

		const counts = new Map<string, number>();
		for (const result of results) {
			counts.set(result.result, (counts.get(result.result) ?? 0) + 1);
		}

		const tally = [...counts].map(([result, count]) => `${count} ${result}`).join(', ');
		const saves = targets.reduce((sum, instance) => sum + (this.config.prices[instance.type] ?? 0), 0);
		if (this.options.dryRun) {
			return finish('dry-run', `dry run: ${describe(request.kind, environments)}: ${targets.length} agents (${tally})`, results, ids);
		}

		const succeeded = results.filter(result => ['stopping', 'stopped', 'already-stopped', 'terminating', 'starting', 'already-running'].includes(result.result));
		if (succeeded.length > 0) {
			if (undo) {
				this.state.saveLastStop(undefined);
				this.onChanged(environments, 'started');
			} else {
				const done = new Set(succeeded.map(result => result.id));
				this.state.saveLastStop({at: this.clock(), actor: request.actor, environments, targets: refs.filter(ref => done.has(ref.id)), dryRun: false});
				this.onChanged(environments, 'stopped');
			}
		}

		const verb = undo ? 'started' : this.config.action === 'terminate' ? 'terminated' : 'stopped';
		const outcome = succeeded.length === results.length ? 'executed' : 'failed';
		const effect = undo ? `adds ${money(saves)}/h` : `saves ${money(saves)}/h`;
		return finish(outcome, `${verb} ${succeeded.length}/${targets.length} agents in ${environments.join(', ')} (${tally}; ${effect})`, results, ids);
	}
}

function describe(kind: ActionKind, environments: string[]): string {
	const names = environments.join(', ');
	switch (kind) {
		case 'emergency': {
			return `emergency stop of ${names}`;
		}

		case 'undo': {
			return `undo: start ${names}`;
		}

		case 'cascade': {
			return `cascade stop of ${names}`;
		}

		default: {
			return `stop ${names}`;
		}
	}
}

export function messageOf(error: unknown): string {
	if (error instanceof Error) {
		const code = (error as {name?: string}).name;
		return code && code !== 'Error' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
	}

	return String(error);
}
