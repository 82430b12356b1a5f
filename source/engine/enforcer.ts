import {staticBook} from './pricing.js';
import {environmentIndex, environmentOf, hourlyOf, plural, tagOf, type InstanceState, type PriceBook, type RawInstance} from '../domain/index.js';
import type {Config} from '../config/index.js';
import type {Fleet, InstanceOutcome, Target} from '../providers/index.js';
import type {AuditEntry} from './state/audit.js';
import type {BreakerRequest} from './breakers.js';
import type {StateStore} from './state/store.js';
import type {LastStop} from './state/validate.js';
import {messageOf} from './state/record.js';
import {describe, partialStopKind, tallyOf, type ActionKind} from './action-words.js';
export {partialStopKind, type ActionKind} from './action-words.js';



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
	/** Act on exactly these (still in scope) instead of every agent of the environments. */
	only?: string[];
	/**
	 * Monitor-only (`onBreach: alert`) environments the person named to confirm this manual stop: such
	 * an environment is stopped only when named here (typed in the dashboard, `--confirm` on the CLI).
	 */
	confirmed?: string[];
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

export type EnforcerOptions = {
	dryRun: boolean;
	readOnly: boolean;
	/**
	 * Runs right before each batch's call, after its scope re-check: resolves when this engine may
	 * still act (it holds the state dir's lock, or the table's lease: `fence()`), rejects saying why
	 * not (then the batch is not sent: each instance gets `error` with the reason). An `ActionCutShort`
	 * ends the action there and leaves it recorded as under way, for the next run to resume.
	 */
	fence?: () => Promise<void>;
};

/**
 * An action ended before its last batch by the run's own bound (the Lambda's time left): its
 * batches so far are recorded, and the stop stays recorded as under way, so the next run resumes it
 * (breakers.ts: `recoverCutShort`).
 */
export class ActionCutShort extends Error {
	override readonly name = 'ActionCutShort';
}

const liveStates: InstanceState[] = ['pending', 'running'];
const stoppedStates: InstanceState[] = ['stopping', 'stopped'];
/** Outcomes in which the instance was acted on (or already was as asked). */
const succeededStates = new Set<InstanceOutcome['result']>(['stopping', 'stopped', 'already-stopped', 'terminating', 'starting', 'already-running']);

/** One action under way, as execute hands it to its parts. */
type ActionRun = {
	request: ActionRequest;
	environments: string[];
	undo: boolean;
	targets: RawInstance[];
	/** With accounts: the accounts that could not be re-listed (their agents are not acted on). */
	unlisted: string[];
	refs: Target[];
	ids: string[];
	inFlight: {kind: string; environments: string[]; at: number; actor: string; planned: number; done: number};
	costOf: (stopped: readonly Target[]) => number | null;
	finish: (outcome: ActionResult['outcome'], summary: string, results?: InstanceOutcome[], ids?: string[]) => ActionResult;
	/** For a stop of named instances: those it left alone, said at the end of its summary ('' if none). */
	alone: string;
	/** Set when the fence said the run's own bound ended the action: it stays recorded as under way. */
	cutShort?: ActionCutShort;
};

/**
 * Carries out automatic decisions and manual commands alike, under the safety rules in docs/design.md:
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
		/**
		 * Called after envwatch changed an environment's fleet: its history must restart, a stop trips
		 * its breaker (not a violation stop's: `kind` says which action it was; see breakers.ts).
		 */
		private readonly onChanged: (environments: string[], kind: 'stopped' | 'started', request: BreakerRequest) => void,
	) {}

	/** Prices what an action saves or adds: the monitor's live book once it runs, the configuration's before. */
	priceBook: () => PriceBook = () => staticBook(this.config);

	/** The last stop (for undo), read from the state dir once and kept in step with it after. */
	private last: LastStop | undefined | null = null;

	lastStop(): LastStop | undefined {
		if (this.last === null) {
			this.last = this.state.loadLastStop();
		}

		return this.last;
	}

	private setLastStop(last: LastStop | undefined): void {
		this.last = last;
		this.state.saveLastStop(last);
	}

	private log(entry: Omit<AuditEntry, 'seq' | 'at' | 'dryRun'>): AuditEntry {
		return this.record({at: new Date(this.clock()).toISOString(), dryRun: this.options.dryRun, ...entry});
	}

	/**
	 * Lists, with server-side tag filters, the agents of these environments in the given states.
	 * With accounts, a row split by account is listed in its account only, and a batch (`only`) in
	 * its own account; `byAccount` is set when every error is one account's (the other accounts'
	 * agents are listed, and may be acted on).
	 */
	async targets(environments: string[], states: InstanceState[], only?: Target[]): Promise<{instances: RawInstance[]; errors: string[]; byAccount?: boolean}> {
		const inScope = environments.filter(name => this.monitored.includes(name));
		const scoped = inScope.map(name => this.config.environments[name]).filter(environment => environment !== undefined);
		if (scoped.every(environment => environment.tagValues.length === 0)) {
			return {instances: [], errors: []};
		}

		const rows = scoped.every(environment => environment.account !== undefined) ? [...new Set(scoped.map(environment => environment.account!))] : undefined;
		const batch = only?.every(target => target.account !== undefined) ? [...new Set(only.map(target => target.account!))] : undefined;
		const accounts = batch ?? rows;
		// Tag values match in any case (`Dev` is dev's, as in the spend), and EC2's tag filters are
		// case-sensitive: filter on the key and the agent role server-side, the values here.
		const listing = await this.fleet.list({
			envTagKey: this.config.envTagKey,
			role: {key: this.config.roleTag.key, value: this.config.roleTag.agent},
			states,
			regions: only ? [...new Set(only.map(target => target.region))] : this.config.regions,
			...(only ? {instanceIds: only.map(target => target.id)} : {}),
			...(accounts ? {accounts} : {}),
		});
		// Act only on exact matches of role and (case-insensitively) environment, in the row's account, whatever the provider's filter did.
		const index = environmentIndex(Object.fromEntries(inScope.map(name => [name, this.config.environments[name]!])));
		const instances = listing.instances.filter(instance => {
			const value = tagOf(instance.tags, this.config.envTagKey);
			return tagOf(instance.tags, this.config.roleTag.key) === this.config.roleTag.agent
				&& value !== undefined && environmentOf(index, value, instance.account?.name) !== undefined
				&& states.includes(instance.state);
		});
		const errors = listing.errors.map(error => `${error.account ? `account ${error.account.name}${error.account.id ? ` (${error.account.id})` : ''} ` : ''}${error.region}: ${error.message}`);
		return {instances, errors, ...(errors.length > 0 && listing.errors.every(error => error.account) ? {byAccount: true} : {})};
	}

	/** The action under way, for a signal handler to say what it is finishing. */
	progress: {kind: ActionKind; environments: string[]; planned: number; done: number} | undefined;

	/**
	 * Which of `names` this request may touch. Automatic actions (stop, cascade, emergency, re-spawn)
	 * never touch a monitor-only (`onBreach: alert`) environment, and neither does an emergency a
	 * person starts; a violation stop there runs only under policy.stopViolations (the caller's
	 * choice, said in its reason); a person's stop needs the environment named in `confirmed`.
	 */
	private scope(request: ActionRequest, names: string[]): {allowed: string[]; refused: string[]} {
		const allowed: string[] = [];
		const refused: string[] = [];
		for (const name of names) {
			const alertOnly = this.config.environments[name]?.onBreach === 'alert';
			const ok = !alertOnly
				|| request.kind === 'undo'
				|| (request.kind === 'violation' && this.config.policy.stopViolations)
				|| (request.actor !== 'auto' && (request.kind === 'stop' || request.kind === 'cascade') && (request.confirmed ?? []).includes(name));
			(ok ? allowed : refused).push(name);
		}

		return {allowed, refused};
	}

	async execute(request: ActionRequest): Promise<ActionResult> {
		const named = request.environments.filter(name => this.monitored.includes(name));
		const {allowed: environments, refused} = this.scope(request, named);
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

		if (refused.length > 0 && environments.length === 0) {
			return finish('skipped', `${refused.join(', ')} ${refused.length === 1 ? 'is' : 'are'} monitor only: ${request.actor === 'auto' || request.kind === 'emergency' ? 'never stopped automatically or by an emergency' : 'stopped only when the name is typed to confirm (--confirm NAME)'}; nothing done`);
		}

		if (this.options.readOnly) {
			return finish('skipped', `read-only: ${describe(request.kind, environments)} not executed`, [], decision.instanceIds);
		}

		if (undo && !last) {
			return finish('nothing-to-do', 'nothing to undo: envwatch has not stopped anything yet');
		}

		const checked = await this.recheckTargets(request, environments, undo, last);
		if ('failed' in checked) {
			return finish('failed', `not acted on: could not re-check the targets (${checked.failed})`);
		}

		const {targets, unlisted} = checked;
		const ids = targets.map(instance => instance.id);
		if (targets.length === 0 && unlisted.length > 0) {
			return finish('failed', `not acted on: could not re-check the targets (${unlisted.join('; ')})`);
		}

		// A person's stop of named instances says which of them it left alone (not agents of the
		// environment now, or no longer running): only agents in scope are ever stopped.
		const picked = request.kind === 'stop' && request.only ? request.only : undefined;
		const leftAlone = picked ? picked.filter(id => !ids.includes(id)) : [];
		const alone = leftAlone.length > 0 ? `; left alone, not a running agent of ${environments.join(', ')}: ${leftAlone.slice(0, 3).join(', ')}${leftAlone.length > 3 ? ` +${leftAlone.length - 3} more` : ''}` : '';
		if (targets.length === 0) {
			return finish('nothing-to-do', `${describe(request.kind, environments)}: no ${undo ? 'stopped' : 'running'} agents in scope${alone}`);
		}

		const refs: Target[] = targets.map(instance => ({id: instance.id, region: instance.region, ...(instance.account ? {account: instance.account.name} : {})}));
		const byId = new Map(targets.map(instance => [instance.id, instance]));
		// What these stopped agents cost running (kept with the last stop: what an undo adds back); null when one has no price.
		const costOf = (stopped: readonly Target[]): number | null => {
			const book = this.priceBook();
			let sum = 0;
			for (const target of stopped) {
				const usd = book.price(byId.get(target.id)!)?.usd;
				if (usd === undefined) {
					return null;
				}

				sum += usd;
			}

			return sum;
		};
		// A stop of named instances trips no breaker (breakers.ts): nor would it, cut short, at the next start.
		const breakerKind = picked ? partialStopKind : request.kind;
		const inFlight = {kind: breakerKind, environments, at: this.clock(), actor: request.actor, planned: refs.length, done: 0};
		const run: ActionRun = {request, environments, undo, targets, unlisted, refs, ids, inFlight, costOf, finish, alone};
		this.progress = {kind: request.kind, environments, planned: refs.length, done: 0};
		if (!this.options.dryRun) {
			this.state.saveActionInFlight(inFlight);
		}

		let results: InstanceOutcome[];
		const act = this.batchHooks(run);
		try {
			results = undo
				? await this.fleet.start(refs, act)
				: await this.fleet.stop(refs, {...act, terminate: this.config.action === 'terminate'});
		} catch (error) {
			return finish('failed', `${describe(request.kind, environments)} failed: ${messageOf(error)}`, [], ids);
		} finally {
			this.progress = undefined;
			// Cut short by the run's bound, the action stays recorded as under way: the next run resumes it.
			if (!this.options.dryRun && !run.cutShort) {
				this.state.saveActionInFlight(undefined);
			}
		}

		return this.conclude(run, results);
	}

	/**
	 * The targets listed afresh, still in scope: undo starts exactly the instances of the last stop;
	 * a violation stops exactly the excess agents. `failed`: why they could not be listed.
	 */
	private async recheckTargets(request: ActionRequest, environments: string[], undo: boolean, last: LastStop | undefined): Promise<{targets: RawInstance[]; unlisted: string[]} | {failed: string}> {
		try {
			const listed = await this.targets(environments, undo ? stoppedStates : liveStates);
			// With accounts, one account that could not be re-listed fails only its own agents.
			if (listed.errors.length > 0 && (!listed.byAccount || listed.instances.length === 0)) {
				return {failed: listed.errors.join('; ')};
			}

			const unlisted = listed.errors;
			const exactly = undo ? last!.targets.map(target => target.id) : request.only;
			if (!exactly) {
				return {targets: listed.instances, unlisted};
			}

			const planned = new Set(exactly);
			return {targets: listed.instances.filter(instance => planned.has(instance.id)), unlisted};
		} catch (error) {
			return {failed: messageOf(error)};
		}
	}

	/** What the fleet calls around each batch of an action: the scope re-checked before, the batch recorded after. */
	private batchHooks(run: ActionRun): {dryRun: boolean; recheck: (batch: Target[]) => Promise<Set<string>>; onBatch: (batch: InstanceOutcome[]) => void} {
		const {request, environments, undo, refs, inFlight} = run;
		const exactly = new Set(run.ids);
		const done: Target[] = [];
		return {
			dryRun: this.options.dryRun,
			// Paced batches go out seconds apart: each is re-checked right before its call, so an
			// instance retagged or moved out of scope meanwhile is left alone.
			recheck: async (batch: Target[]) => {
				if (run.cutShort) {
					throw run.cutShort;
				}

				const listed = await this.targets(environments, undo ? stoppedStates : liveStates, batch);
				if (listed.errors.length > 0) {
					throw new Error(`could not re-check this batch's scope (${listed.errors.join('; ')})`);
				}

				// Last, right before the call: this engine may still act (it holds the lock or the lease).
				try {
					await this.options.fence?.();
				} catch (error) {
					run.cutShort ??= error instanceof ActionCutShort ? error : undefined;
					throw error;
				}

				return new Set(listed.instances.map(instance => instance.id).filter(id => exactly.has(id)));
			},
			// Each batch is recorded as it completes, so a process killed mid-stop leaves what it did
			// in the audit log and in the last stop (undo still works).
			onBatch: (batch: InstanceOutcome[]) => {
				this.progress = {kind: request.kind, environments, planned: refs.length, done: (this.progress?.done ?? 0) + batch.length};
				if (this.options.dryRun) {
					return;
				}

				done.push(...batch.filter(outcome => succeededStates.has(outcome.result)).map(outcome => ({id: outcome.id, region: outcome.region})));
				if (this.progress.done < refs.length) {
					// The last batch is recorded by the action's closing line, written right after it.
					this.log({type: 'progress', actor: request.actor, kind: request.kind, environments, reason: `batch: ${tallyOf(batch)} (${this.progress.done}/${refs.length} done)`, instanceIds: batch.map(outcome => outcome.id), outcome: 'progress', results: batch});
				}

				// State writes never throw (a failure is reported as a record error): the stop goes on.
				if (!undo && done.length > 0) {
					this.setLastStop({at: inFlight.at, actor: request.actor, environments, targets: [...done], dryRun: false, usdPerHour: run.costOf(done)});
				}

				this.state.saveActionInFlight({...inFlight, done: this.progress.done});
			},
		};
	}

	/** The action's closing line: what changed (the last stop kept for undo), what it saves or adds. */
	private conclude(run: ActionRun, results: InstanceOutcome[]): ActionResult {
		const {request, environments, undo, targets, unlisted, refs, ids, inFlight, costOf, finish, alone} = run;
		const tally = tallyOf(results);
		if (this.options.dryRun) {
			return finish('dry-run', `${describe(request.kind, environments)}: ${plural(targets.length, 'agent')} (${tally})${alone}`, results, ids);
		}

		const succeeded = results.filter(result => succeededStates.has(result.result));
		// Only the environments whose agents were acted on changed, and only they are named (an
		// emergency covers every monitored one, production included, though it may run no agent).
		const acted = new Set(succeeded.map(result => result.id));
		// The row each agent acted on is in (with accounts, its account's row of a split environment).
		const index = environmentIndex(Object.fromEntries(environments.map(name => [name, this.config.environments[name] ?? {tagValues: []}])));
		const changed = environments.filter(name => targets.some(instance => acted.has(instance.id) && environmentOf(index, tagOf(instance.tags, this.config.envTagKey) ?? '', instance.account?.name) === name));
		if (succeeded.length > 0) {
			const changeRequest = {actor: request.actor, reason: request.reason, kind: inFlight.kind};
			if (undo) {
				this.setLastStop(undefined);
				this.onChanged(changed, 'started', changeRequest);
			} else {
				const stopped = refs.filter(ref => acted.has(ref.id));
				this.setLastStop({at: inFlight.at, actor: request.actor, environments: changed, targets: stopped, dryRun: false, usdPerHour: costOf(stopped)});
				this.onChanged(changed, 'stopped', changeRequest);
			}
		}

		const verb = undo ? 'started' : this.config.action === 'terminate' ? 'terminated' : 'stopped';
		const outcome = succeeded.length === results.length && unlisted.length === 0 ? 'executed' : 'failed';
		// What the agents acted on cost running: an agent without a price is said, never counted as $0.
		const book = this.priceBook();
		const effect = `${undo ? 'adds' : 'saves'} ${hourlyOf(targets.filter(instance => acted.has(instance.id)).map(instance => book.price(instance)))}`;
		const where = accountsOf(targets);
		const missed = unlisted.length > 0 ? `; not re-checked, so not acted on: ${unlisted.join('; ')}` : '';
		const left = run.cutShort ? `; cut short (${run.cutShort.message}): the rest is resumed by the next run` : '';
		return finish(outcome, `${verb} ${succeeded.length}/${plural(targets.length, 'agent')} in ${(changed.length > 0 ? changed : environments).join(', ')}${where} (${tally}; ${effect})${missed}${alone}${left}`, results, ids);
	}
}

/** With accounts: ` in sandbox-a (111111111111): 2, sandbox-b (222222222222): 1`, the accounts of what was acted on. */
function accountsOf(targets: readonly RawInstance[]): string {
	const counts = new Map<string, number>();
	for (const instance of targets) {
		if (instance.account) {
			const key = `${instance.account.name} (${instance.account.id})`;
			counts.set(key, (counts.get(key) ?? 0) + 1);
		}
	}

	return counts.size === 0 ? '' : ` of account${counts.size === 1 ? '' : 's'} ${[...counts].map(([key, count]) => `${key}: ${count}`).join(', ')}`;
}
