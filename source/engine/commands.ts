import type {Config} from '../config/index.js';
import {checkStart, checkStartCost, plural, type EnvironmentView, type Evaluation, type Spend} from '../domain/index.js';
import type {AuditEntry} from './state/audit.js';
import type {Automatic} from './automatic.js';
import type {Breakers} from './breakers.js';
import type {ActionResult, Enforcer} from './enforcer.js';
import type {Launcher, StartResult} from './launcher.js';
import type {Recorder} from './recorder.js';
import type {Samples} from './samples.js';
import {messageOf} from './state/record.js';

/** A command from the keyboard, a subcommand or a socket client: the same enforcer as automatic actions. */
export type Command =
	/** `confirm`: the name the person typed; a monitor-only environment is stopped only when it matches. */
	| {kind: 'stop'; environment: string; confirm?: string}
	/** `environment`: the target the user confirmed; refused if the cascade would now pick another. */
	| {kind: 'cascade'; environment?: string}
	| {kind: 'emergency'}
	/** `stopAt`: the last stop the user confirmed undoing; refused if there has been another since. */
	| {kind: 'undo'; stopAt?: number}
	| {kind: 'pause'}
	| {kind: 'resume'}
	/** Pause or resume automatic actions for one monitored environment only. */
	| {kind: 'pause-env'; environment: string}
	| {kind: 'resume-env'; environment: string}
	| {kind: 'cancel-pending'}
	| {kind: 'refresh'}
	/** Reset a tripped breaker: agents may run in the environment again without being stopped. */
	| {kind: 'reset'; environment: string}
	| {kind: 'start'; environment: string; count: number}
	/**
	 * Stop exactly these instances of one environment (the dashboard's instance stop): the same
	 * enforcer as a stop, so only those still running agents of the environment are stopped, and a
	 * monitor-only environment only with `confirm` (its name, typed). It trips no breaker.
	 */
	| {kind: 'stop-instances'; environment: string; ids: string[]; confirm?: string}
	/**
	 * What the engine guards from now on: these configured environments, each polled, evaluated and
	 * acted on, the others no longer. Recorded in the audit log (kind `guard`) and, through the
	 * snapshot, in the state dir's engine.json, so an engine that takes over guards the same set.
	 */
	/** `expected`: the guarded set the person saw when confirming; refused when it has changed since. */
	| {kind: 'guard'; environments: string[]; expected?: string[]};

/** At most this many instances in one instance stop (the dashboard marks them one by one). */
export const maxInstanceStop = 1000;

/**
 * Whether a start may go ahead: `running` counted afresh. `counted: false`: the running agents could
 * not be counted (a provider failure, not the user's request).
 */
export type StartCheckResult = {ok: true; running: number} | {ok: false; reason: string; counted: boolean};

export type CommandDeps = {
	config: Config;
	/** The guarded set: the one array every part of the engine reads; `guard` changes it in place. */
	monitored: string[];
	enforcer: Enforcer;
	launcher: Launcher;
	breakers: Breakers;
	automatic: Automatic;
	recorder: Recorder;
	samples: Samples;
	clock: () => number;
	/** The loop the commands act beside. */
	engine: {
		poll(): Promise<unknown>;
		/** Publishes the last snapshot again with what a command changed. */
		republish(): void;
		/** The last fresh spend of an environment. */
		lastSpend(name: string): Spend | undefined;
		lastEvaluation(): Evaluation | undefined;
		/** Why the last poll's data is stale; undefined when it was fresh. */
		staleReason(): string | undefined;
	};
};

/** The command service: the engine's one way in for a person, whoever sends the command. */
export class Commands {
	private readonly launchPlans = new Map<string, NonNullable<EnvironmentView['launch']> | null | 'looking'>();

	/** The start under way, if any: the next one waits for it. */
	private starts: Promise<unknown> = Promise.resolve();
	/**
	 * The agents started in the last minutes, per environment: EC2 may not list a new instance (or
	 * its tags) for a few seconds, and a start counted meanwhile must count them all the same.
	 */
	private readonly started = new Map<string, Array<{id: string; at: number}>>();

	constructor(private readonly deps: CommandDeps) {}

	/**
	 * A manual command: the same enforcer, audit log, dry-run, read-only and scope guard. `actor`:
	 * who sent it.
	 */
	async execute(command: Command, actor: string): Promise<ActionResult | StartResult | undefined> {
		const {enforcer, automatic, engine} = this.deps;
		let result: ActionResult | StartResult | undefined;
		switch (command.kind) {
			case 'start': {
				const done = await this.queueStart(command, actor);
				if ('refused' in done) {
					return done.refused;
				}

				result = done.started;
				break;
			}

			case 'pause':
			case 'resume': {
				automatic.paused = command.kind === 'pause';
				this.deps.recorder.log({type: 'decision', actor, kind: command.kind, environments: [], reason: `automatic actions ${automatic.paused ? 'paused' : 'resumed'}`, instanceIds: []});
				engine.republish();
				return undefined;
			}

			case 'pause-env':
			case 'resume-env': {
				return this.pauseEnvironment(command, actor);
			}

			case 'cancel-pending': {
				if (automatic.cancelPending(actor)) {
					engine.republish();
				}

				return undefined;
			}

			case 'refresh': {
				await engine.poll();
				return undefined;
			}

			case 'stop': {
				const input = this.inputReason(command.environment);
				result = await enforcer.execute({kind: 'stop', environments: [command.environment], reason: `manual stop of ${command.environment}${input}`, actor, confirmed: command.confirm === undefined ? [] : [command.confirm]});
				break;
			}

			case 'stop-instances': {
				result = await this.stopInstances(command, actor);
				break;
			}

			case 'guard': {
				return this.guard(command.environments, actor, command.expected);
			}

			case 'reset': {
				if (!this.deps.breakers.reset(command.environment, actor)) {
					return this.refuse('reset', [command.environment], `${command.environment}'s breaker is not tripped: envwatch holds nothing stopped there`, actor);
				}

				// A reset is a person's planned change, like a start: agents already back are not a spike
				// against the stopped fleet's window, so that window (and the totals) restart.
				this.deps.samples.restart([command.environment], 'started');
				break;
			}

			case 'cascade': {
				const target = this.cascadeTarget();
				if (command.environment !== undefined && target !== command.environment) {
					return this.refuse('cascade', [command.environment], `changed since you confirmed: the cascade would now stop ${target ?? 'nothing'}, not ${command.environment}; nothing done`, actor);
				}

				if (!target) {
					result = await enforcer.execute({kind: 'cascade', environments: [], reason: 'manual cascade step: no environment that stops runs agents', actor});
					break;
				}

				result = await enforcer.execute({kind: 'cascade', environments: [target], reason: `manual cascade step: ${target} is the lowest-priority environment running agents${this.inputReason(target)}`, actor});
				break;
			}

			case 'emergency': {
				result = await enforcer.execute({kind: 'emergency', environments: [...this.deps.monitored], reason: 'manual emergency stop of every agent in every monitored environment that stops on breach (monitor-only ones are left alone)', actor});
				break;
			}

			case 'undo': {
				const last = enforcer.lastStop();
				if (command.stopAt !== undefined && last?.at !== command.stopAt) {
					return this.refuse('undo', last?.environments ?? [], `changed since you confirmed: the last stop is now ${last ? `${plural(last.targets.length, 'agent')} in ${last.environments.join(', ')}` : 'none'}; nothing done`, actor);
				}

				result = await enforcer.execute({kind: 'undo', environments: last?.environments ?? [], reason: last ? `undo the stop of ${plural(last.targets.length, 'agent')} in ${last.environments.join(', ')}` : 'undo: nothing stopped', actor});
				break;
			}
		}

		await engine.poll();
		return result;
	}

	/** `stop-instances`: the enforcer's stop of exactly these instances (those still running agents of the environment). */
	private async stopInstances(command: Extract<Command, {kind: 'stop-instances'}>, actor: string): Promise<ActionResult | StartResult> {
		const ids = [...new Set(command.ids)];
		if (ids.length === 0 || ids.length > maxInstanceStop) {
			return this.refuse('stop', [command.environment], `name from 1 to ${maxInstanceStop} instances to stop (${ids.length} named)`, actor);
		}

		const shown = `${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ` +${ids.length - 5} more` : ''}`;
		return this.deps.enforcer.execute({kind: 'stop', environments: [command.environment], reason: `manual stop of ${plural(ids.length, 'instance')} in ${command.environment}: ${shown}`, actor, only: ids, plannedIds: ids, confirmed: command.confirm === undefined ? [] : [command.confirm]});
	}

	/**
	 * One start at a time: each counts the agents afresh after the one before launched, so two
	 * dashboards starting at once cannot both pass the cap.
	 */
	private async queueStart(command: Extract<Command, {kind: 'start'}>, actor: string): Promise<{refused: StartResult} | {started: StartResult}> {
		const turn = this.starts.then(async () => {
			const check = await this.checkStart(command.environment, command.count);
			if (!check.ok) {
				return {refused: this.refuse('start', [command.environment], check.reason, actor)};
			}

			const launched = await this.deps.launcher.start({environment: command.environment, count: command.count, actor, reason: `start ${plural(command.count, 'agent')} in ${command.environment} (${check.running} running)`});
			if (launched.outcome === 'executed') {
				const at = this.deps.clock();
				this.started.set(command.environment, [...this.recentStarts(command.environment), ...launched.ids.map(id => ({id, at}))]);
			}

			return {started: launched};
		});
		this.starts = turn.catch(() => undefined);
		return turn;
	}

	/** `P` for one environment: its automatic actions paused or resumed (a name not monitored here is refused). */
	private pauseEnvironment(command: Extract<Command, {kind: 'pause-env' | 'resume-env'}>, actor: string): StartResult | undefined {
		const {automatic, engine} = this.deps;
		const name = command.environment;
		if (!this.deps.monitored.includes(name)) {
			const configured = Object.hasOwn(this.deps.config.environments, name);
			return this.refuse(command.kind === 'pause-env' ? 'pause' : 'resume', [], `${name} is not ${configured ? 'monitored in this run (--environments)' : 'a configured environment'} — expected one of: ${this.deps.monitored.join(', ')}`, actor);
		}

		const pausing = command.kind === 'pause-env';
		if (!automatic.pauseEnvironment(name, pausing)) {
			// Already so (another dashboard pressed it first): nothing changes, nothing is logged.
			return undefined;
		}

		this.deps.recorder.log({type: 'decision', actor, kind: pausing ? 'pause' : 'resume', environments: [name], reason: pausing ? `automatic actions paused for ${name}: still polled, evaluated, shown and alerted on; nothing stopped there automatically (a manual stop or emergency still is)` : `automatic actions resumed for ${name}`, instanceIds: []});
		engine.republish();
		return undefined;
	}

	/**
	 * `guard`: the guarded set becomes `names` (configured environments, at least one). Every part
	 * reads the same array, so it changes in place; the total's window and chart start again (it is
	 * another sum), and a poll publishes the new set at once.
	 */
	private async guard(names: readonly string[], actor: string, expected?: readonly string[]): Promise<StartResult | undefined> {
		const {config, monitored, samples, engine, recorder} = this.deps;
		// As a cascade step: what was confirmed was a change from the set the person saw. Rows added
		// since (another dashboard's :guard, an account that joined) would be dropped unseen.
		if (expected !== undefined && (expected.length !== monitored.length || !expected.every(name => monitored.includes(name)))) {
			const gained = monitored.filter(name => !expected.includes(name));
			const lost = expected.filter(name => !monitored.includes(name));
			const what = [...(gained.length > 0 ? [`now also ${gained.join(', ')}`] : []), ...(lost.length > 0 ? [`no longer ${lost.join(', ')}`] : [])].join('; ');
			return this.refuse('guard', [...names], `changed since you confirmed: the guarded set is now ${monitored.join(', ')} (${what}); nothing done — look again and type :guard again`, actor);
		}

		const wanted = [...new Set(names)];
		const unknown = wanted.filter(name => !Object.hasOwn(config.environments, name));
		const configured = Object.keys(config.environments);
		if (wanted.length === 0 || unknown.length > 0) {
			return this.refuse('guard', [], `${wanted.length === 0 ? 'no environment named' : `${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not configured`} — expected one or more of: ${configured.join(', ')}`, actor);
		}

		// In the configuration's order, as a run's own set is.
		const next = configured.filter(name => wanted.includes(name));
		const before = [...monitored];
		if (before.length === next.length && before.every(name => next.includes(name))) {
			return {outcome: 'skipped', summary: `already guarding ${before.join(', ')}: nothing changed`, ids: [], entry: recorder.log({type: 'decision', actor, kind: 'guard', environments: before, reason: `guard ${next.join(', ')}: already the guarded set, nothing changed`, instanceIds: [], outcome: 'skipped'})};
		}

		monitored.splice(0, monitored.length, ...next);
		samples.guardChanged();
		const dropped = before.filter(name => !next.includes(name));
		const added = next.filter(name => !before.includes(name));
		const change = [...(added.length > 0 ? [`now guards ${added.join(', ')}`] : []), ...(dropped.length > 0 ? [`no longer guards ${dropped.join(', ')} (not polled, evaluated or stopped by envwatch; E leaves it alone)`] : [])].join('; ');
		const entry = recorder.log({type: 'decision', actor, kind: 'guard', environments: next, reason: `guarded set changed from ${before.join(', ')} to ${next.join(', ')}: ${change}`, instanceIds: [], outcome: 'executed'});
		await engine.poll();
		return {outcome: 'executed', summary: `guarding ${next.join(', ')}${dropped.length > 0 ? `; no longer ${dropped.join(', ')}` : ''}`, ids: [], entry};
	}

	/**
	 * The start check, in one place: `count` more agents in `name`, within its agent policy, with
	 * its running agents counted afresh (as a stop re-lists its targets: never from stale data).
	 */
	async checkStart(name: string, count: number): Promise<StartCheckResult> {
		const policy = this.deps.config.environments[name];
		if (!policy || !this.deps.monitored.includes(name)) {
			return {ok: false, reason: `${name} is not ${policy ? 'monitored in this run (--environments)' : 'a configured environment'}`, counted: true};
		}

		let running: number;
		try {
			const listed = await this.deps.enforcer.targets([name], ['pending', 'running']);
			if (listed.errors.length > 0) {
				return {ok: false, reason: `cannot count ${name}'s running agents (${listed.errors.join('; ')})`, counted: false};
			}

			// Agents this engine just started that the listing does not show yet count as running.
			const listedIds = new Set(listed.instances.map(instance => instance.id));
			running = listed.instances.length + this.recentStarts(name).filter(start => !listedIds.has(start.id)).length;
		} catch (error) {
			return {ok: false, reason: `cannot count ${name}'s running agents (${messageOf(error)})`, counted: false};
		}

		const check = checkStart(name, policy, running, count);
		if (!check.ok) {
			return {ok: false, reason: check.reason, counted: true};
		}

		const cost = await this.checkCost(name, count);
		return cost.ok ? {ok: true, running} : cost;
	}

	/**
	 * Admission in dollars: the template's instance type priced as any instance would be (live
	 * price, table, or the conservative estimate; an unknown type at the highest price known),
	 * times the count, added to the environment's $/h and to the global total of the last fresh
	 * poll (and agents this engine started that it did not list yet), against their hourly caps.
	 *
	 * The global total is the one the global rule is judged on in a run that guards every
	 * configured environment, whatever this run monitors (`start -e dev` monitors dev alone): the
	 * poll lists every instance carrying the environment tag, so every environment's figure is
	 * there. A total that cannot be told (the last poll failed in a region, an instance with no
	 * price at all) is never taken as $0: the start is refused.
	 */
	private async checkCost(name: string, count: number): Promise<{ok: true} | {ok: false; reason: string; counted: boolean}> {
		const {config, engine, launcher, enforcer} = this.deps;
		const covered = Object.keys(config.environments);
		const stale = () => engine.staleReason();

		if (stale() !== undefined || covered.some(environment => !engine.lastSpend(environment))) {
			// No poll has priced them yet, or the last one failed: one more try before refusing.
			await engine.poll();
		}

		const spend = engine.lastSpend(name);
		if (!spend) {
			return {ok: false, reason: `what ${name} spends now is not known (no fresh poll yet): no start until a poll prices it`, counted: false};
		}

		const failed = stale();
		const missing = covered.filter(environment => !engine.lastSpend(environment));
		if (failed !== undefined || missing.length > 0) {
			return {ok: false, reason: `what the environments the global cap covers spend now is not known (${failed === undefined ? `no fresh poll has priced ${missing.join(', ')}` : `the last poll failed: ${failed}`}): no start until a poll sees every region`, counted: false};
		}

		const unpriced = covered.filter(environment => engine.lastSpend(environment)!.unpriced > 0);
		if (unpriced.length > 0) {
			const what = unpriced.map(environment => `${environment} (${engine.lastSpend(environment)!.unpricedTypes.join(', ')})`).join(', ');
			return {ok: false, reason: `instances with no price known at all in ${what}: the total the global cap is judged against is not known, and unknown is not $0; no start`, counted: false};
		}

		let plan: Awaited<ReturnType<Launcher['plan']>>;
		try {
			plan = await launcher.plan(name);
		} catch (error) {
			return {ok: false, reason: `cannot tell what ${name}'s launch template starts (${messageOf(error)})`, counted: false};
		}

		if (!plan) {
			return {ok: true};
		}

		// A type nobody names (the template could not be read) is priced at the highest price known.
		const each = enforcer.priceBook().price({region: plan.region, type: plan.instanceType ?? '?'});
		const listed = new Set(spend.agentIds.map(agent => agent.id));
		const pending = this.recentStarts(name).filter(start => !listed.has(start.id)).length;
		const unlistedUsd = (each?.usd ?? 0) * pending;
		const total = covered.reduce((sum, environment) => sum + engine.lastSpend(environment)!.hourlyUsd, 0);
		const check = checkStartCost(name, {
			each,
			type: plan.instanceType,
			count,
			environment: {usd: spend.hourlyUsd + unlistedUsd, cap: config.environments[name]!.maxHourlyUsd},
			global: {usd: total + unlistedUsd, cap: config.global.maxHourlyUsd},
		});
		return check.ok ? check : {ok: false, reason: check.reason, counted: true};
	}

	/** envwatch stopped agents in these environments: what it started there before is not counted. */
	forgetStarts(environments: readonly string[]): void {
		for (const name of environments) {
			this.started.delete(name);
		}
	}

	/** The agents started in `name` within 5 minutes of now (older ones are listed by then; a clock stepped back by more does not keep them for ever). */
	private recentStarts(name: string): Array<{id: string; at: number}> {
		const now = this.deps.clock();
		const recent = (this.started.get(name) ?? []).filter(start => Math.abs(now - start.at) < 300_000);
		this.started.set(name, recent);
		return recent;
	}

	private refuse(kind: AuditEntry['kind'], environments: string[], reason: string, actor: string): StartResult {
		const entry = this.deps.recorder.log({type: 'decision', actor, kind, environments, reason: `${kind} refused: ${reason}`, instanceIds: [], outcome: 'refused'});
		this.deps.engine.republish();
		return {outcome: 'refused', summary: `refused: ${reason}`, ids: [], entry};
	}

	/** The lowest-priority monitored environment that stops on breach and still runs agents. */
	cascadeTarget(): string | undefined {
		const {config, monitored, engine} = this.deps;
		return monitored
			.filter(name => config.environments[name]!.onBreach === 'stop' && config.environments[name]!.agents !== 'monitor-only' && (engine.lastSpend(name)?.agentsRunning ?? 0) > 0)
			.sort((a, b) => config.environments[a]!.priority - config.environments[b]!.priority)[0];
	}

	private inputReason(name: string): string {
		const result = this.deps.engine.lastEvaluation()?.environments.find(item => item.name === name);
		const reasons = result?.assessment.reasons ?? [];
		return reasons.length > 0 ? ` (${reasons.join('; ')})` : '';
	}

	/** What a start would launch (count, type, price), looked up once per environment; republishes when known. */
	launchPlan(name: string): EnvironmentView['launch'] {
		const known = this.launchPlans.get(name);
		if (known !== undefined) {
			return known === 'looking' ? null : known;
		}

		if (!this.deps.config.environments[name]?.launchTemplate) {
			this.launchPlans.set(name, null);
			return null;
		}

		this.launchPlans.set(name, 'looking');
		void this.deps.launcher.plan(name).then(plan => {
			const price = plan?.instanceType === undefined ? undefined : this.deps.enforcer.priceBook().price({region: plan.region, type: plan.instanceType})?.usd;
			this.launchPlans.set(name, plan ? {count: plan.count, instanceType: plan.instanceType ?? null, usdPerHourEach: price ?? null} : null);
			this.deps.engine.republish();
		}, () => this.launchPlans.set(name, null));
		return null;
	}
}
