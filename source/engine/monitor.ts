import type {Config} from '../config/schema.js';
import {aggregate, emptySpend} from '../domain/classify.js';
import {dropFuture, GLOBAL, globalKey, prune, record, seriesOf, shift, windowStats, type History} from '../domain/history.js';
import type {PriceBook} from '../domain/pricing.js';
import {accrue, checkAgainstBill, liveDay, pruneRollup, type Rollup} from '../domain/rollup.js';
import {Pricing} from './pricing.js';
import {evaluate, type EnvironmentInput, type Evaluation} from '../domain/policy.js';
import type {Decision, EnvironmentView, Spend, WindowStats} from '../domain/types.js';
import type {Provider} from '../providers/types.js';
import type {AuditEntry, AuditLog} from './audit.js';
import {CachedBilling} from './billing.js';
import {Enforcer, Launcher, messageOf, plural, type ActionKind, type ActionResult, type StartResult} from './enforcer.js';
import {checkStart} from '../domain/agents.js';
import type {Snapshot} from './snapshot.js';
import type {Breaker, StateStore} from './state.js';
import type {SnapshotStore} from './store.js';

export type MonitorOptions = {
	dryRun: boolean;
	readOnly: boolean;
	/** Start with automatic actions paused. */
	paused?: boolean;
	/** Who a manual command is attributed to (OS user@host). */
	actor: string;
	/** How many audit entries the snapshot carries for the events pane. */
	eventsKept?: number;
	/**
	 * Where a problem the user must hear about goes, one line each (default: stderr): an unexpected
	 * error in a poll, a failure to record (once per failure streak), a damaged state file.
	 */
	report?: (line: string) => void;
	/** How long the same unexpected poll error may repeat before `onGiveUp` (default 5 minutes). */
	giveUpAfterMs?: number;
	/**
	 * Called once when every poll for `giveUpAfterMs` failed with the same unexpected error (headless:
	 * exit 1, so a supervisor restarts it). Without it the monitor goes on, showing the error.
	 */
	onGiveUp?: (error: string) => void;
};

/** A command from the keyboard (or a subcommand): the same enforcer as automatic actions. */
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
	| {kind: 'cancel-pending'}
	| {kind: 'refresh'}
	/** Reset a tripped breaker: agents may run in the environment again without being stopped. */
	| {kind: 'reset'; environment: string}
	| {kind: 'start'; environment: string; count: number};

export type Deps = {
	provider: Provider;
	config: Config;
	monitored: string[];
	store: SnapshotStore;
	state: StateStore;
	audit: AuditLog;
	clock: () => number;
	options: MonitorOptions;
};

const maxBackoffMs = 5 * 60_000;
const defaultGiveUpAfterMs = 5 * 60_000;

/**
 * The monitor loop: poll the provider, record samples, evaluate, enforce, publish. Polls never
 * overlap; failures back off and mark the data stale; only fresh data can trigger an action.
 */
export class Monitor {
	readonly enforcer: Enforcer;
	readonly launcher: Launcher;
	private history: History;
	private readonly billing: CachedBilling;
	readonly pricing: Pricing;
	/** Dollars per UTC hour per environment, from the live $/h (checked against the bill). */
	private readonly rollup: Rollup;
	private lastAccrualAt: number | undefined;
	/** The book the last fresh poll priced with: a new one restates the windows (a price change is no spend change). */
	private lastBook: PriceBook | undefined;
	private polls = 0;
	private lastSuccessAt: number | null = null;
	private failures = 0;
	private paused: boolean;
	private inFlight: Promise<Snapshot> | undefined;
	private timer: NodeJS.Timeout | undefined;
	private graceTimer: NodeJS.Timeout | undefined;
	private running = false;
	private events: AuditEntry[] = [];
	/** Tripped breakers: environments envwatch stopped and holds stopped until a reset (persisted). */
	private readonly breakers: Map<string, Breaker>;
	/** Agents stopped by this poll's action, per environment: the rows show it before the next poll confirms it. */
	private acted = new Map<string, number>();
	/** Last logged level per environment, so warn/alert lines are written on change, not every poll. */
	private lastLogged = new Set<string>();
	private pending: {decision: Decision; dueAt: number} | null = null;
	/** The billed-cost refresh a poll started (it does not hold the poll up). */
	private billingRefresh: Promise<void> | undefined;
	/** The automatic action last held back by pause or read-only, so it is logged once, not every poll. */
	private heldBack: string | undefined;
	private lastEvaluation: Evaluation | undefined;
	private lastSpend = new Map<string, Spend>();
	/** The unexpected error the polls have failed with, and since when (cleared by a poll that completes). */
	private unexpected: {message: string; since: number; gaveUp: boolean} | undefined;

	private readonly globalKey: string;

	constructor(private readonly deps: Deps) {
		this.globalKey = globalKey(deps.monitored);
		this.paused = deps.options.paused ?? false;
		this.history = deps.state.loadHistory();
		this.breakers = deps.state.loadBreakers();
		this.billing = new CachedBilling(deps.config.costExplorer.enabled ? deps.provider.billing : undefined, deps.state, deps.config.costExplorer.refreshMinutes * 60_000);
		this.enforcer = new Enforcer(deps.provider.fleet, deps.config, deps.monitored, entry => this.remember(deps.audit.append(entry)), deps.state, {dryRun: deps.options.dryRun, readOnly: deps.options.readOnly}, deps.clock, (environments, kind, request) => this.changed(environments, kind, request));
		this.launcher = new Launcher(deps.provider.fleet, deps.config, entry => this.remember(deps.audit.append(entry)), {dryRun: deps.options.dryRun, readOnly: deps.options.readOnly, launchedBy: deps.options.actor}, deps.clock, (environments, kind, request) => this.changed(environments, kind, request));
		const {fleet} = deps.provider;
		this.rollup = deps.state.loadRollup();
		this.pricing = new Pricing(deps.config, deps.provider.prices, deps.state, deps.clock, {}, fleet.volumes ? async (region, ids) => fleet.volumes!(region, ids) : undefined);
		this.enforcer.priceBook = () => this.pricing.book();
		this.launcher.priceBook = () => this.pricing.book();
		// Read every state file now, so a damaged one is reported at start, not at the first undo.
		this.enforcer.lastStop();
		this.recoverCutShort();
		this.reportRecords();
	}

	/**
	 * An action found under way at start-up was cut short (the process was killed mid-stop): say so,
	 * and hold its environments stopped (their breakers trip), so agents left running are stopped on
	 * the next poll rather than read as a drop in spend and forgotten.
	 */
	private recoverCutShort(): void {
		const cut = this.deps.state.loadActionInFlight();
		if (!cut) {
			return;
		}

		const stops = cut.kind !== 'undo';
		const names = cut.environments.filter(name => this.deps.monitored.includes(name));
		this.log({type: 'decision', actor: 'auto', kind: 'interrupted', environments: names, reason: `a ${cut.kind} of ${cut.environments.join(', ')} by ${cut.actor} at ${new Date(cut.at).toISOString()} was cut short: ${cut.done} of ${cut.planned} agents recorded${stops ? `; ${names.join(', ')} stay${names.length === 1 ? 's' : ''} stopped by envwatch (breaker), agents still running there are stopped on the next poll` : ''}`, instanceIds: []});
		if (stops) {
			for (const name of names) {
				delete this.history[name];
				this.breakers.set(name, {trippedAt: cut.at, actor: cut.actor, reason: `${cut.kind} cut short`});
			}

			this.saveBreakers();
		}

		this.deps.state.saveActionInFlight(undefined);
	}

	/** A failed write is reported through the state store's record errors (it never throws). */
	private saveBreakers(): void {
		this.deps.state.saveBreakers(this.breakers);
	}

	private report(line: string): void {
		if (this.deps.options.report) {
			this.deps.options.report(line);
		} else {
			process.stderr.write(`${line}\n`);
		}
	}

	/** Reports damaged state files and failure-to-record streaks that started since the last call. */
	private reportRecords(): void {
		for (let notices = this.takeNotices(); notices.length > 0; notices = this.takeNotices()) {
			for (const notice of notices) {
				this.report(`envwatch: ${notice.message}`);
				if (notice.damaged) {
					// Its own failure to be written (if the audit log fails too) comes round in the next pass.
					this.log({type: 'decision', actor: 'auto', kind: 'state', environments: [], reason: notice.message, instanceIds: []});
				}
			}
		}
	}

	private takeNotices() {
		return [...this.deps.state.takeNotices(), ...this.deps.audit.takeNotices()];
	}

	/**
	 * While records fail, each poll tries again: the state files not written, and an audit entry
	 * that records the gap (when it is written, the log is whole again from there on).
	 */
	private retryRecords(): void {
		this.deps.state.retry();
		const {audit} = this.deps;
		if (audit.error !== null && audit.lostFrom !== undefined) {
			const firstLost = audit.lostFrom;
			const reason = audit.error;
			const entry = audit.append({at: new Date(this.deps.clock()).toISOString(), dryRun: this.deps.options.dryRun, type: 'decision', actor: 'auto', kind: 'error', environments: [], reason: `entries from seq ${firstLost} until this one were not written (${reason})`, instanceIds: []});
			// Shown once written; a retry that failed too is not news.
			if (audit.error === null) {
				this.remember(entry);
			}
		}
	}

	/** What could not be recorded, until it is written again (null: everything recorded). */
	private recordError(): string | null {
		const errors = [this.deps.audit.error, this.deps.state.error].filter(Boolean);
		return errors.length > 0 ? errors.join('; ') : null;
	}

	private remember(entry: AuditEntry): AuditEntry {
		this.events = [entry, ...this.events].slice(0, this.deps.options.eventsKept ?? 50);
		return entry;
	}

	private changed(environments: string[], kind: 'stopped' | 'started', request: {actor: string; reason: string}): void {
		// envwatch's own action is not a trend: restart the windows of what it changed. A start
		// also restarts the global window, or the planned increase would look like a spike.
		const now = this.deps.clock();
		for (const name of environments) {
			delete this.history[name];
			if (kind === 'stopped') {
				// The breaker trips (or stays tripped, dated by its first trip).
				const tripped = this.breakers.get(name);
				this.breakers.set(name, tripped ?? {trippedAt: now, actor: request.actor, reason: request.reason});
			} else if (this.breakers.delete(name)) {
				// A start or an undo is a person letting agents run there again.
				this.log({type: 'decision', actor: request.actor, kind: 'reset', environments: [name], reason: `${name}'s breaker reset by the start of its agents`, instanceIds: []});
			}
		}

		this.saveBreakers();

		if (kind === 'started') {
			// Every monitored set's total: another run (say, the dashboard) may watch this one too.
			for (const key of Object.keys(this.history)) {
				if (key.startsWith(GLOBAL)) {
					delete this.history[key];
				}
			}
		}
	}

	get intervalMs(): number {
		return this.deps.config.pollIntervalSeconds * 1000;
	}

	/** Starts the loop: a poll now, then one per interval (longer while failing). */
	start(): void {
		this.running = true;
		void this.tick();
	}

	async stop(): Promise<void> {
		this.running = false;
		clearTimeout(this.timer);
		clearTimeout(this.graceTimer);
		await this.inFlight?.catch(() => undefined);
		this.deps.provider.close?.();
		this.reportRecords();
	}

	private async tick(): Promise<void> {
		clearTimeout(this.timer);
		try {
			await this.poll();
		} catch (error) {
			// A poll that could not even publish its error: pollOnce reported it (and counted it)
			// unless the throw came from somewhere else still.
			if (this.unexpected?.message !== `poll failed unexpectedly: ${messageOf(error)}`) {
				this.failures++;
				this.report(`envwatch: poll failed: ${messageOf(error)}`);
			}
		}

		if (this.running) {
			const delay = this.failures === 0 ? this.intervalMs : Math.min(Math.max(maxBackoffMs, this.intervalMs), this.intervalMs * 2 ** this.failures);
			this.timer = setTimeout(() => void this.tick(), delay);
		}
	}

	/** The latest snapshot once the billed-cost refresh the last poll started has finished (`--once`). */
	async settled(): Promise<Snapshot | undefined> {
		await this.billingRefresh;
		// The prices the poll asked for, so a run from cron leaves them cached for the next one.
		await this.pricing.settled();
		return this.deps.store.getSnapshot();
	}

	/** One poll. A call while one is in flight returns that poll instead of starting another. */
	async poll(): Promise<Snapshot> {
		this.inFlight ??= this.pollOnce().finally(() => {
			this.inFlight = undefined;
		});
		return this.inFlight;
	}

	private async pollOnce(): Promise<Snapshot> {
		this.polls++;
		let snapshot: Snapshot;
		try {
			this.retryRecords();
			snapshot = await this.pollBody();
		} catch (error) {
			return this.pollFailed(error);
		}

		this.unexpected = undefined;
		return snapshot;
	}

	/**
	 * A poll that threw (a bug, or input nobody foresaw): the data is stale with the error, published
	 * like a listing failure, reported and logged once per distinct error, and the loop goes on; the
	 * same error for `giveUpAfterMs` calls `onGiveUp`. Rethrows only when nothing can be published.
	 */
	private pollFailed(error: unknown): Snapshot {
		const message = `poll failed unexpectedly: ${messageOf(error)}`;
		const at = this.deps.clock();
		this.failures++;
		if (this.unexpected?.message !== message) {
			this.unexpected = {message, since: at, gaveUp: false};
			this.report(`envwatch: ${message}; the data is stale, no automatic action until a poll succeeds`);
			this.log({type: 'decision', actor: 'auto', kind: 'error', environments: [], reason: `${message}; no automatic action until a poll succeeds`, instanceIds: []});
		}

		const snapshot = this.publishStale(message, at);
		const unexpected = this.unexpected;
		if (!unexpected.gaveUp && this.deps.options.onGiveUp && at - unexpected.since >= (this.deps.options.giveUpAfterMs ?? defaultGiveUpAfterMs)) {
			unexpected.gaveUp = true;
			this.deps.options.onGiveUp(`${message} (on every poll for ${Math.round((at - unexpected.since) / 1000)}s)`);
		}

		if (!snapshot) {
			throw error;
		}

		return snapshot;
	}

	/** The last known figures marked stale with `error` (if even that fails, the last snapshot so). */
	private publishStale(error: string, at: number): Snapshot | undefined {
		const {config, monitored} = this.deps;
		try {
			const inputs: EnvironmentInput[] = monitored.map(name => ({
				name,
				policy: config.environments[name]!,
				spend: this.lastSpend.get(name) ?? emptySpend(),
				window: windowStats(seriesOf(this.history, name), config.environments[name]!.windowMinutes * 60_000, at),
				stale: error,
				stoppedByEnvwatch: this.breakers.has(name),
			}));
			const globalWindow = windowStats(seriesOf(this.history, this.globalKey), config.global.windowMinutes * 60_000, at);
			const evaluation = evaluate(inputs, {policy: config.global, window: globalWindow, stale: error}, config);
			this.pending = null;
			return this.publish(evaluation, inputs, globalWindow, at, error, this.lastPublished?.unknown ?? {instances: 0, hourlyUsd: 0, tagValues: []});
		} catch {
			if (!this.lastPublished) {
				return undefined;
			}

			try {
				const {evaluation, inputs, globalWindow, unknown} = this.lastPublished;
				return this.publish(evaluation, inputs.map(input => ({...input, stale: error})), globalWindow, at, error, unknown);
			} catch {
				return undefined;
			}
		}
	}

	private async pollBody(): Promise<Snapshot> {
		const {config, provider, monitored, clock} = this.deps;
		let staleReason: string | undefined;
		let spend = new Map<string, Spend>();
		let unknown = {instances: 0, hourlyUsd: 0, tagValues: [] as string[]};
		try {
			const listing = await provider.fleet.list({envTagKey: config.envTagKey, states: ['pending', 'running', 'stopping', 'stopped'], regions: config.regions});
			if (listing.errors.length > 0) {
				staleReason = listing.errors.map(error => `${error.region}: ${error.message}`).join('; ');
			}

			const book = this.pricing.book();
			const result = aggregate(listing.instances, config, config.environments, book);
			if (listing.errors.length === 0) {
				this.pricing.noteListing(listing.instances);
			}

			this.pricing.fetchDue();
			if (this.lastBook && this.lastBook !== book && listing.errors.length === 0) {
				this.restate(aggregate(listing.instances, config, config.environments, this.lastBook).byEnvironment, result.byEnvironment);
			}

			if (listing.errors.length === 0) {
				this.lastBook = book;
			}

			spend = result.byEnvironment;
			unknown = {instances: result.unknown.instancesRunning, hourlyUsd: result.unknown.hourlyUsd, tagValues: result.unknown.tagValues};
		} catch (error) {
			staleReason = messageOf(error);
		}

		const at = clock();
		this.acted.clear();
		this.dropFutureSamples(at);
		this.expireBreakers(at);
		if (staleReason) {
			this.failures++;
			// Stale data is never zero spend: show the last known figures, record nothing.
			spend = this.lastSpend;
		} else {
			this.failures = 0;
			this.lastSuccessAt = at;
			this.accrue(at, this.lastSpend);
			this.lastSpend = spend;
			let total = 0;
			for (const name of monitored) {
				const usd = spend.get(name)?.hourlyUsd ?? 0;
				total += usd;
				record(this.history, name, {at, usd});
			}

			record(this.history, this.globalKey, {at, usd: total});
		}

		const inputs: EnvironmentInput[] = monitored.map(name => ({
			name,
			policy: config.environments[name]!,
			spend: spend.get(name) ?? emptySpend(),
			window: ranNothing(windowStats(seriesOf(this.history, name), config.environments[name]!.windowMinutes * 60_000, at), spend.get(name)?.storageHourlyUsd ?? 0),
			stale: staleReason,
			stoppedByEnvwatch: this.breakers.has(name),
		}));
		const globalWindow = ranNothing(windowStats(seriesOf(this.history, this.globalKey), config.global.windowMinutes * 60_000, at), inputs.reduce((sum, input) => sum + input.spend.storageHourlyUsd, 0));
		const evaluation = evaluate(inputs, {policy: config.global, window: globalWindow, stale: staleReason}, config);
		this.lastEvaluation = evaluation;
		// Stale data decides nothing: neither a new warning nor that an old one cleared.
		if (!staleReason) {
			this.logDecisions(evaluation, inputs);
		}

		await this.enforce(evaluation, inputs, globalWindow);

		const longest = Math.max(config.global.windowMinutes, ...monitored.map(name => config.environments[name]!.windowMinutes));
		prune(this.history, at, longest * 60_000 + this.intervalMs * 2);
		// A failed save never throws: it is reported (recordError) and the loop goes on.
		this.deps.state.saveHistory(this.history);

		const snapshot = this.publish(evaluation, inputs, globalWindow, at, staleReason ?? null, unknown);
		this.billingRefresh = this.billing.refresh(at).then(refreshed => {
			if (refreshed && this.deps.store.getSnapshot() === snapshot) {
				this.republish();
			}
		}).catch((error: unknown) => {
			// Nothing may reject unheard (an unhandled rejection would end the process).
			this.report(`envwatch: billed-cost refresh failed unexpectedly: ${messageOf(error)}`);
		});
		return snapshot;
	}

	/**
	 * The hourly rollup: the last fresh poll's $/h over the time since it (a gap longer than three
	 * intervals or 5 minutes was not watched, and is not made up), kept 35 days, saved each poll.
	 */
	private accrue(at: number, previous: Map<string, Spend>): void {
		const from = this.lastAccrualAt;
		this.lastAccrualAt = at;
		if (from !== undefined && at - from <= Math.max(3 * this.intervalMs, 300_000)) {
			for (const name of this.deps.monitored) {
				const spend = previous.get(name);
				if (spend) {
					accrue(this.rollup, name, from, at, spend.hourlyUsd);
				}
			}
		}

		pruneRollup(this.rollup, at);
		this.deps.state.saveRollup(this.rollup);
	}

	/**
	 * Prices changed since the last poll: each window's samples move by what the change does to the
	 * same instances now, so an increase measures instances started, not a price that came in.
	 */
	private restate(before: Map<string, Spend>, after: Map<string, Spend>): void {
		let total = 0;
		for (const name of this.deps.monitored) {
			const delta = (after.get(name)?.hourlyUsd ?? 0) - (before.get(name)?.hourlyUsd ?? 0);
			total += delta;
			shift(this.history, name, delta);
		}

		shift(this.history, this.globalKey, total);
	}

	/**
	 * Samples dated after now (the clock stepped back, or a state file from a host whose clock ran
	 * fast) are dropped and noted, or they would freeze every window: a sample older than the last
	 * is never recorded. A step forward needs nothing: the old samples simply leave the window.
	 */
	private dropFutureSamples(at: number): void {
		const dropped = dropFuture(this.history, at);
		if (dropped.size > 0) {
			const count = [...dropped.values()].reduce((sum, n) => sum + n, 0);
			const names = [...dropped.keys()].map(key => (key.startsWith(GLOBAL) ? 'global' : key));
			this.log({type: 'decision', actor: 'auto', kind: 'clock', environments: [...new Set(names)].filter(name => name !== 'global'), reason: `dropped ${count} sample${count === 1 ? '' : 's'} dated after now (${new Date(at).toISOString()}) from ${[...new Set(names)].join(', ')}: the clock stepped back or the state came from a host with a fast clock`, instanceIds: []});
		}
	}

	/** Breakers reset themselves after `breaker.resetAfterMinutes`, when set (default: never). */
	private expireBreakers(at: number): void {
		const minutes = this.deps.config.breaker?.resetAfterMinutes;
		if (minutes === undefined || minutes === null) {
			return;
		}

		let changed = false;
		for (const [name, breaker] of this.breakers) {
			if (at - breaker.trippedAt >= minutes * 60_000) {
				this.breakers.delete(name);
				changed = true;
				this.log({type: 'decision', actor: 'auto', kind: 'reset', environments: [name], reason: `${name}'s breaker reset after ${minutes} minutes (breaker.resetAfterMinutes)`, instanceIds: []});
			}
		}

		if (changed) {
			this.saveBreakers();
		}
	}

	/** Alerts, warnings, holds and violations are written when they start and when they clear. */
	private logDecisions(evaluation: Evaluation, inputs: EnvironmentInput[]): void {
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

			this.log({type: 'decision', actor: 'auto', kind: decision.kind as AuditEntry['kind'], environments: decision.environment === 'global' ? [] : [decision.environment], reason: decision.reason, figures: figuresOf(inputs.find(input => input.name === decision.environment)), instanceIds: 'agentIds' in decision ? decision.agentIds : []});
		}

		const breaching = new Set(evaluation.environments.filter(result => result.assessment.level === 'breach').map(result => result.name));
		if (evaluation.global.assessment.level === 'breach') {
			breaching.add('global');
		}

		for (const key of this.lastLogged) {
			const [kind, environment] = key.split(':') as [string, string];
			if (!current.has(key) && !breaching.has(environment) && !(kind === 'warn' && current.has(`alert:${environment}`))) {
				this.log({type: 'decision', actor: 'auto', kind: 'recover', environments: environment === 'global' ? [] : [environment], reason: kind === 'violation' ? `${environment} runs no agents beyond its policy now` : `${environment} back within its limits`, instanceIds: []});
			}
		}

		this.lastLogged = new Set(current.keys());
	}

	/** An entry from outside the loop (a hand-over of the engine): in the audit log and the events pane. */
	note(entry: Omit<AuditEntry, 'seq' | 'at' | 'dryRun'>): void {
		this.log(entry);
		this.republish();
	}

	private log(entry: Omit<AuditEntry, 'seq' | 'at' | 'dryRun'>): AuditEntry {
		return this.remember(this.deps.audit.append({at: new Date(this.deps.clock()).toISOString(), dryRun: this.deps.options.dryRun, ...entry}));
	}

	private async enforce(evaluation: Evaluation, inputs: EnvironmentInput[], globalWindow: WindowStats): Promise<void> {
		// One automatic action a poll: a stop or an emergency, else (policy.stopViolations) a violation.
		const decision = evaluation.decisions.find(item => item.kind === 'stop' || item.kind === 'emergency')
			?? evaluation.decisions.find(item => item.kind === 'respawn')
			?? (this.deps.config.policy.stopViolations ? evaluation.decisions.find(item => item.kind === 'violation') : undefined);
		const heldBack = this.heldBack;
		this.heldBack = undefined;
		if (!decision || (decision.kind !== 'stop' && decision.kind !== 'emergency' && decision.kind !== 'violation' && decision.kind !== 'respawn')) {
			this.pending = null;
			return;
		}

		const environments = environmentsOf(decision);
		const figures: Record<string, number | string | null> = decision.kind === 'emergency'
			? {globalUsdPerHour: round(globalWindow.currentUsd), globalBaselineUsd: globalWindow.baselineUsd === undefined ? null : round(globalWindow.baselineUsd), globalIncreasePct: globalWindow.increasePct === undefined ? null : round(globalWindow.increasePct), thresholdPct: this.deps.config.global.thresholdPct, maxHourlyUsd: this.deps.config.global.maxHourlyUsd, savesUsdPerHour: round(decision.savesUsdPerHour)}
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
			this.log({type: 'decision', actor: 'auto', kind, environments, reason: `${reason} (paused: not executed)`, figures, instanceIds: decision.agentIds, outcome: 'skipped: paused'});
			return;
		}

		// A re-spawn is stopped at once: the grace period was given when the breaker tripped.
		const graceMs = kind === 'respawn' ? 0 : this.deps.config.graceSeconds * 1000;
		if (graceMs > 0 && !readOnly) {
			const now = this.deps.clock();
			if (!this.pending || this.pending.decision.kind !== decision.kind || JSON.stringify(environmentsOf(this.pending.decision)) !== JSON.stringify(environments)) {
				this.heldBack = undefined;
				this.pending = {decision, dueAt: now + graceMs};
				this.log({type: 'decision', actor: 'auto', kind: 'pending', environments, reason: `${reason}; acting in ${this.deps.config.graceSeconds}s unless cancelled (x)`, figures, instanceIds: decision.agentIds});
				clearTimeout(this.graceTimer);
				this.graceTimer = setTimeout(() => void this.poll(), graceMs + 50);
				return;
			}

			if (now < this.pending.dueAt) {
				this.heldBack = undefined;
				return;
			}
		}

		this.pending = null;
		const result = await this.enforcer.execute({kind, environments, reason, actor: 'auto', figures, plannedIds: decision.agentIds, ...(decision.kind === 'violation' ? {only: decision.agentIds} : {})});
		// The rows show the action's effect now; the next poll confirms it.
		for (const name of result.outcome === 'executed' || result.outcome === 'failed' ? environments : []) {
			const stopped = result.results.filter(outcome => ['stopping', 'stopped', 'already-stopped', 'terminating'].includes(outcome.result) && (inputs.find(input => input.name === name)?.spend.agentIds.some(agent => agent.id === outcome.id) ?? false)).length;
			if (stopped > 0) {
				this.acted.set(name, stopped);
			}
		}
	}

	/**
	 * A manual command: the same enforcer, audit log, dry-run, read-only and scope guard. `actor`:
	 * who sent it, when not this process's user (a client of `envwatch serve`).
	 */
	async command(command: Command, actor = this.deps.options.actor): Promise<ActionResult | StartResult | undefined> {
		let result: ActionResult | StartResult | undefined;
		switch (command.kind) {
			case 'start': {
				const policy = this.deps.config.environments[command.environment];
				if (!policy || !this.deps.monitored.includes(command.environment)) {
					return this.refuse('start', [command.environment], `${command.environment} is not ${policy ? 'monitored in this run (--environments)' : 'a configured environment'}`, actor);
				}

				// Count the running agents afresh, as a stop re-lists its targets: never from stale data.
				let running: number;
				try {
					const listed = await this.enforcer.targets([command.environment], ['pending', 'running']);
					if (listed.errors.length > 0) {
						return this.refuse('start', [command.environment], `cannot count ${command.environment}'s running agents (${listed.errors.join('; ')})`, actor);
					}

					running = listed.instances.length;
				} catch (error) {
					return this.refuse('start', [command.environment], `cannot count ${command.environment}'s running agents (${messageOf(error)})`, actor);
				}

				const check = checkStart(command.environment, policy, running, command.count);
				if (!check.ok) {
					return this.refuse('start', [command.environment], check.reason, actor);
				}

				result = await this.launcher.start({environment: command.environment, count: command.count, actor, reason: `start ${plural(command.count, 'agent')} in ${command.environment} (${running} running)`});
				break;
			}

			case 'pause':
			case 'resume': {
				this.paused = command.kind === 'pause';
				this.log({type: 'decision', actor, kind: command.kind, environments: [], reason: `automatic actions ${this.paused ? 'paused' : 'resumed'}`, instanceIds: []});
				this.republish();
				return undefined;
			}

			case 'cancel-pending': {
				if (this.pending) {
					this.log({type: 'decision', actor, kind: 'cancel', environments: environmentsOf(this.pending.decision), reason: `cancelled: ${this.pending.decision.reason}`, instanceIds: []});
					this.pending = null;
					// Cancelling is a decision to leave it: pause, so the next poll does not re-arm it.
					this.paused = true;
					this.republish();
				}

				return undefined;
			}

			case 'refresh': {
				await this.poll();
				return undefined;
			}

			case 'stop': {
				const input = this.inputReason(command.environment);
				result = await this.enforcer.execute({kind: 'stop', environments: [command.environment], reason: `manual stop of ${command.environment}${input}`, actor, confirmed: command.confirm === undefined ? [] : [command.confirm]});
				break;
			}

			case 'reset': {
				const breaker = this.breakers.get(command.environment);
				if (!breaker) {
					return this.refuse('reset', [command.environment], `${command.environment}'s breaker is not tripped: envwatch holds nothing stopped there`, actor);
				}

				this.breakers.delete(command.environment);
				this.saveBreakers();
				this.log({type: 'decision', actor, kind: 'reset', environments: [command.environment], reason: `${command.environment}'s breaker reset (tripped ${new Date(breaker.trippedAt).toISOString()} by ${breaker.actor}): agents may run there again`, instanceIds: [], outcome: 'executed'});
				break;
			}

			case 'cascade': {
				const target = this.cascadeTarget();
				if (command.environment !== undefined && target !== command.environment) {
					return this.refuse('cascade', [command.environment], `changed since you confirmed: the cascade would now stop ${target ?? 'nothing'}, not ${command.environment}; nothing done`, actor);
				}

				if (!target) {
					result = await this.enforcer.execute({kind: 'cascade', environments: [], reason: 'manual cascade step: no environment that stops runs agents', actor});
					break;
				}

				result = await this.enforcer.execute({kind: 'cascade', environments: [target], reason: `manual cascade step: ${target} is the lowest-priority environment running agents${this.inputReason(target)}`, actor});
				break;
			}

			case 'emergency': {
				result = await this.enforcer.execute({kind: 'emergency', environments: [...this.deps.monitored], reason: 'manual emergency stop of every agent in every monitored environment that stops on breach (monitor-only ones are left alone)', actor});
				break;
			}

			case 'undo': {
				const last = this.enforcer.lastStop();
				if (command.stopAt !== undefined && last?.at !== command.stopAt) {
					return this.refuse('undo', last?.environments ?? [], `changed since you confirmed: the last stop is now ${last ? `${last.targets.length} agents in ${last.environments.join(', ')}` : 'none'}; nothing done`, actor);
				}

				result = await this.enforcer.execute({kind: 'undo', environments: last?.environments ?? [], reason: last ? `undo the stop of ${last.targets.length} agents in ${last.environments.join(', ')}` : 'undo: nothing stopped', actor});
				break;
			}
		}

		await this.poll();
		return result;
	}

	private refuse(kind: AuditEntry['kind'], environments: string[], reason: string, actor: string): StartResult {
		const entry = this.log({type: 'decision', actor, kind, environments, reason: `${kind} refused: ${reason}`, instanceIds: [], outcome: 'refused'});
		this.republish();
		return {outcome: 'refused', summary: `refused: ${reason}`, ids: [], entry};
	}

	/** The lowest-priority monitored environment that stops on breach and still runs agents. */
	cascadeTarget(): string | undefined {
		const {config, monitored} = this.deps;
		return monitored
			.filter(name => config.environments[name]!.onBreach === 'stop' && config.environments[name]!.agents !== 'monitor-only' && (this.lastSpend.get(name)?.agentsRunning ?? 0) > 0)
			.sort((a, b) => config.environments[a]!.priority - config.environments[b]!.priority)[0];
	}

	private inputReason(name: string): string {
		const result = this.lastEvaluation?.environments.find(item => item.name === name);
		const reasons = result?.assessment.reasons ?? [];
		return reasons.length > 0 ? ` (${reasons.join('; ')})` : '';
	}

	private readonly launchPlans = new Map<string, NonNullable<EnvironmentView['launch']> | null | 'looking'>();

	/** What a start would launch (count, type, price), looked up once per environment. */
	private launchPlan(name: string): EnvironmentView['launch'] {
		const known = this.launchPlans.get(name);
		if (known !== undefined) {
			return known === 'looking' ? null : known;
		}

		if (!this.deps.config.environments[name]?.launchTemplate) {
			this.launchPlans.set(name, null);
			return null;
		}

		this.launchPlans.set(name, 'looking');
		void this.launcher.plan(name).then(plan => {
			const price = plan?.instanceType === undefined ? undefined : this.enforcer.priceBook().price({region: plan.region, type: plan.instanceType})?.usd;
			this.launchPlans.set(name, plan ? {count: plan.count, instanceType: plan.instanceType ?? null, usdPerHourEach: price ?? null} : null);
			this.republish();
		}, () => this.launchPlans.set(name, null));
		return null;
	}

	private lastPublished: {evaluation: Evaluation; inputs: EnvironmentInput[]; globalWindow: WindowStats; at: number; error: string | null; unknown: Snapshot['unknown']} | undefined;

	private republish(): void {
		if (this.lastPublished) {
			const {evaluation, inputs, globalWindow, at, error, unknown} = this.lastPublished;
			this.publish(evaluation, inputs, globalWindow, at, error, unknown);
		}
	}

	private publish(evaluation: Evaluation, inputs: EnvironmentInput[], globalWindow: WindowStats, at: number, error: string | null, unknown: Snapshot['unknown']): Snapshot {
		this.lastPublished = {evaluation, inputs, globalWindow, at, error, unknown};
		this.reportRecords();
		const {config} = this.deps;
		const billing = this.billing.view();
		const billedFor = (name: string) => {
			if (!billing.cost) {
				return null;
			}

			const values = config.environments[name]?.tagValues ?? [];
			const sum = (table: Record<string, number>) => values.reduce((total, value) => total + (table[value] ?? 0), 0);
			const {yesterday} = billing.cost;
			const dayStart = yesterday ? Date.parse(`${yesterday.date}T00:00:00Z`) : Number.NaN;
			const estimated = (inputs.find(input => input.name === name)?.spend.estimated ?? 0) > 0;
			return {
				todayUsd: sum(billing.cost.todayUsd),
				monthToDateUsd: sum(billing.cost.monthToDateUsd),
				...(yesterday && Number.isFinite(dayStart) ? {yesterday: {date: yesterday.date, ...checkAgainstBill(liveDay(this.rollup, name, dayStart), sum(yesterday.usd), estimated)}} : {}),
			};
		};

		const environments: EnvironmentView[] = inputs.map((input, index) => {
			const result = evaluation.environments[index]!;
			const policy = input.policy;
			const stoppedNow = this.acted.get(input.name) ?? 0;
			const running = Math.max(0, input.spend.agentsRunning - stoppedNow);
			return {
				name: input.name,
				status: stoppedNow > 0 && !input.stale ? (running === 0 && policy.agents !== 'monitor-only' ? 'STOPPED' : result.status) : result.status,
				hourlyUsd: input.spend.hourlyUsd,
				baselineUsd: input.window.baselineUsd ?? null,
				increasePct: input.window.increasePct ?? null,
				thresholdPct: policy.thresholdPct,
				windowMinutes: policy.windowMinutes,
				maxHourlyUsd: policy.maxHourlyUsd,
				warmingUp: input.window.warmingUp,
				level: result.assessment.level,
				reasons: result.assessment.reasons,
				agents: {running, allowed: policy.agents === 'monitor-only' ? 'monitor-only' : policy.maxAgents ?? 'all'},
				breaker: this.breakers.get(input.name) ?? null,
				monitors: input.spend.monitorsRunning,
				unpriced: input.spend.unpriced,
				unpricedTypes: input.spend.unpricedTypes,
				estimated: input.spend.estimated,
				estimatedTypes: input.spend.estimatedTypes,
				storageHourlyUsd: input.spend.storageHourlyUsd,
				priority: policy.priority,
				policy: {agents: policy.agents, onBreach: policy.onBreach},
				stale: input.stale ?? null,
				trend: input.window.samples.map(sample => sample.usd),
				billed: billedFor(input.name),
				violation: evaluation.decisions.find(decision => decision.kind === 'violation' && decision.environment === input.name)?.reason ?? null,
				launch: this.launchPlan(input.name),
				agentIds: stoppedNow > 0 ? [] : input.spend.agentIds.map(agent => agent.id),
				agentHourlyUsd: stoppedNow > 0 && running === 0 ? 0 : input.spend.agentHourlyUsd,
			};
		});
		const agentsRunning = environments.reduce((sum, view) => sum + view.agents.running, 0);
		const global: EnvironmentView = {
			name: 'global',
			status: evaluation.global.status,
			hourlyUsd: globalWindow.currentUsd,
			baselineUsd: globalWindow.baselineUsd ?? null,
			increasePct: globalWindow.increasePct ?? null,
			thresholdPct: config.global.thresholdPct,
			windowMinutes: config.global.windowMinutes,
			maxHourlyUsd: config.global.maxHourlyUsd,
			warmingUp: globalWindow.warmingUp,
			level: evaluation.global.assessment.level,
			reasons: evaluation.global.assessment.reasons,
			agents: {running: agentsRunning, allowed: 'all'},
			monitors: inputs.reduce((sum, input) => sum + input.spend.monitorsRunning, 0),
			unpriced: inputs.reduce((sum, input) => sum + input.spend.unpriced, 0),
			unpricedTypes: [...new Set(inputs.flatMap(input => input.spend.unpricedTypes))].sort(),
			estimated: inputs.reduce((sum, input) => sum + input.spend.estimated, 0),
			estimatedTypes: [...new Set(inputs.flatMap(input => input.spend.estimatedTypes))].sort(),
			storageHourlyUsd: inputs.reduce((sum, input) => sum + input.spend.storageHourlyUsd, 0),
			priority: 0,
			policy: {agents: 'global', onBreach: config.global.onBreach},
			stale: error,
			trend: globalWindow.samples.map(sample => sample.usd),
			violation: null,
			agentIds: environments.flatMap(view => view.agentIds ?? []),
			agentHourlyUsd: inputs.reduce((sum, input) => sum + input.spend.agentHourlyUsd, 0),
			billed: billing.cost ? environments.reduce((sum, view) => ({todayUsd: sum.todayUsd + (view.billed?.todayUsd ?? 0), monthToDateUsd: sum.monthToDateUsd + (view.billed?.monthToDateUsd ?? 0)}), {todayUsd: 0, monthToDateUsd: 0}) : null,
		};
		const last = this.enforcer.lastStop();
		const snapshot: Snapshot = {
			at,
			source: this.deps.provider.source,
			regions: config.regions,
			intervalSeconds: config.pollIntervalSeconds,
			polls: this.polls,
			lastSuccessAt: this.lastSuccessAt,
			error,
			mode: {paused: this.paused, dryRun: this.deps.options.dryRun, readOnly: this.deps.options.readOnly, warmingUp: environments.some(view => view.warmingUp) || global.warmingUp, action: config.action},
			environments,
			global,
			unknown,
			decisions: evaluation.decisions,
			events: this.events,
			billing: {fetchedAt: billing.cost?.fetchedAt ?? null, calls: billing.calls, costUsd: billing.costUsd, error: billing.error, enabled: this.billing.enabled},
			pending: this.pending,
			recordError: this.recordError(),
			lastStop: last ? {at: last.at, environments: last.environments, count: last.targets.length} : null,
			pricing: this.pricing.view(),
		};
		this.deps.store.publish(snapshot);
		return snapshot;
	}
}

/**
 * A window whose baseline is no more than what the volumes cost now ran nothing a window ago (say,
 * every agent stopped): as with a $0 baseline, no increase is measured and only the cap applies;
 * a first agent after a stop is not a +2,500% spike over its stopped instances' disks.
 */
function ranNothing(window: WindowStats, storageUsd: number): WindowStats {
	// Samples are stored to the micro-dollar: a little slack.
	if (window.baselineUsd === undefined || window.baselineUsd > storageUsd + 1e-5) {
		return window;
	}

	return {...window, increasePct: undefined, increaseUsd: undefined};
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
