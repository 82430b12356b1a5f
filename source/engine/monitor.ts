import type {Evaluation, Spend} from '../domain/index.js';
import type {Automatic} from './automatic.js';
import type {CachedBilling} from './billing.js';
import type {Breakers} from './breakers.js';
import type {Command, Commands, StartCheckResult} from './commands.js';
import type {ActionResult, Enforcer} from './enforcer.js';
import type {Launcher, StartResult} from './launcher.js';
import {Publisher} from './publisher.js';
import type {Pricing} from './pricing.js';
import type {EntryDraft, Recorder} from './recorder.js';
import type {Samples} from './samples.js';
import type {RegionSweep} from './sweep.js';
import type {Snapshot} from './snapshot.js';
import {SpendReader} from './spend.js';
import {wire, type Deps} from './wiring.js';
import {messageOf} from './state/record.js';
import {AccountRows} from './accounts.js';

export type {Command} from './commands.js';

export type {Deps, MonitorOptions} from './wiring.js';

const maxBackoffMs = 5 * 60_000;
const defaultGiveUpAfterMs = 5 * 60_000;

/**
 * How long `--once` waits, at most, for what its figures need (the prices and volumes of what it
 * listed, the region sweep) before it evaluates. Past it, the figures still being learnt are the
 * conservative ones, marked `~`, and no increase is acted on there (the hourly caps still are).
 */
export const onceWaitMs = 30_000;

/**
 * The monitor loop: poll the provider, record samples, evaluate, enforce, publish. Polls never
 * overlap; failures back off and mark the data stale; only fresh data can trigger an action.
 * The jobs beside the loop live in their own modules: the fleet listed and priced (spend.ts), the
 * audit recorder (recorder.ts), the spend history (samples.ts), tripped breakers (breakers.ts),
 * automatic enforcement (automatic.ts), the command service (commands.ts), and publishing
 * (publisher.ts) through the pure snapshot projection (projection.ts), built by wiring.ts. This
 * class is their public face.
 */
export class Monitor {
	readonly enforcer: Enforcer;
	readonly launcher: Launcher;
	/** Live prices (the Price List, spot, EBS volumes) behind every figure. */
	readonly pricing: Pricing;
	/** The fleet listed and priced (spend.ts). */
	private readonly reader: SpendReader;
	private readonly recorder: Recorder;
	private readonly breakers: Breakers;
	private readonly automatic: Automatic;
	private readonly commands: Commands;
	private readonly billing: CachedBilling;
	private readonly samples: Samples;
	/** The background sweep of the regions not watched (sweep.ts). */
	private readonly sweep: RegionSweep;
	private polls = 0;
	private lastSuccessAt: number | null = null;
	private failures = 0;
	private inFlight: Promise<Snapshot> | undefined;
	private timer: NodeJS.Timeout | undefined;
	private running = false;
	/** The billed-cost refresh a poll started (it does not hold the poll up). */
	private billingRefresh: Promise<void> | undefined;
	private lastEvaluation: Evaluation | undefined;
	private lastSpend = new Map<string, Spend>();
	/** Why the last poll's data is stale; undefined when it was fresh. */
	private staleReason: string | undefined;
	private readonly publisher: Publisher;
	/** The unexpected error the polls have failed with, and since when (cleared by a poll that completes). */
	private unexpected: {message: string; since: number; gaveUp: boolean} | undefined;
	/** While `once` runs: until when (epoch ms, the real clock) its poll may wait for what its figures need. */
	private onceUntil: number | undefined;

	constructor(private readonly deps: Deps) {
		const parts = wire(deps, {
			poll: async () => this.poll(),
			republish: () => this.publisher.republish(),
			lastSpend: name => this.lastSpend.get(name),
			lastEvaluation: () => this.lastEvaluation,
			staleReason: () => this.staleReason,
		});
		({recorder: this.recorder, samples: this.samples, breakers: this.breakers, billing: this.billing, enforcer: this.enforcer, launcher: this.launcher, automatic: this.automatic, commands: this.commands, pricing: this.pricing, sweep: this.sweep} = parts);
		this.publisher = new Publisher(deps, parts, {polls: () => this.polls, lastSuccessAt: () => this.lastSuccessAt});
		// With accounts: rows split by account follow them, and the windows restart when they change.
		const rows = deps.provider.accounts ? new AccountRows({config: deps.config, monitored: deps.monitored, samples: this.samples, recorder: this.recorder, state: deps.state}) : undefined;
		this.reader = new SpendReader({config: deps.config, provider: deps.provider, pricing: this.pricing, samples: this.samples, ...(rows ? {rows} : {})});
		// Read every state file now, so a damaged one is reported at start, not at the first undo.
		this.enforcer.lastStop();
		this.samples.restart(this.breakers.recoverCutShort(), 'stopped');
		// A pause from the start (--pause-env) takes protection away like P does: logged (and so
		// notified) the same way, by whoever started this engine.
		for (const name of deps.options.pausedEnvironments ?? []) {
			this.recorder.log({type: 'decision', actor: deps.options.actor, kind: 'pause', environments: [name], reason: `automatic actions paused for ${name} from the start (--pause-env): still polled, evaluated, shown and alerted on; nothing stopped there automatically (a manual stop or emergency still is)`, instanceIds: []});
		}

		this.recorder.reportRecords();
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
		this.automatic.stop();
		await this.inFlight?.catch(() => undefined);
		this.samples.flushRollup();
		// What was learnt of prices so far is kept for the next run, answers still on the way or not.
		this.pricing.flush();
		this.deps.provider.close?.();
		this.recorder.reportRecords();
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
				this.recorder.report(`envwatch: poll failed: ${messageOf(error)}`);
			}
		}

		if (this.running) {
			const delay = this.failures === 0 ? this.intervalMs : Math.min(Math.max(maxBackoffMs, this.intervalMs), this.intervalMs * 2 ** this.failures);
			this.timer = setTimeout(() => void this.tick(), delay);
		}
	}

	/** The latest snapshot once the billed-cost refresh the last poll started has finished. */
	async settled(): Promise<Snapshot | undefined> {
		await this.billingRefresh;
		// The prices the poll asked for, so a run from cron leaves them cached for the next one.
		await this.pricing.settled();
		// And says what they brought: a price not believed, a failed question (`PRICES:`, pricing.error).
		this.publisher.republish();
		return this.deps.store.getSnapshot();
	}

	/**
	 * `--once`: one poll that first waits, at most `waitMs` in all, for the prices and volumes of what
	 * it listed (a price learnt only by the next cron run would read as a spike there), then the
	 * snapshot once the billed cost it started has come, within what is left of the bound.
	 */
	async once(waitMs = onceWaitMs): Promise<Snapshot> {
		const until = Date.now() + waitMs;
		this.onceUntil = until;
		try {
			// The sweep of the regions not watched runs beside the poll, within the same bound.
			this.sweep.due(this.deps.clock());
			const polled = await this.poll();
			let timer: NodeJS.Timeout | undefined;
			await Promise.race([Promise.all([this.settled(), this.sweep.settled()]), new Promise<void>(resolve => {
				timer = setTimeout(resolve, Math.max(0, until - Date.now()));
			})]);
			clearTimeout(timer);
			// What came in meanwhile (the sweep's findings, billed cost) is in the snapshot printed.
			this.publisher.republish();
			return this.deps.store.getSnapshot() ?? polled;
		} finally {
			this.onceUntil = undefined;
		}
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
			this.recorder.retryRecords();
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
		this.staleReason = message;
		const at = this.deps.clock();
		this.failures++;
		if (this.unexpected?.message !== message) {
			this.unexpected = {message, since: at, gaveUp: false};
			this.recorder.report(`envwatch: ${message}; the data is stale, no automatic action until a poll succeeds`);
			this.recorder.log({type: 'decision', actor: 'auto', kind: 'error', environments: [], reason: `${message}; no automatic action until a poll succeeds`, instanceIds: []});
		}

		const snapshot = this.publisher.publishStale(message, at, this.lastSpend);
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

	private async pollBody(): Promise<Snapshot> {
		const {clock} = this.deps;
		const reading = await this.reader.read(this.onceUntil === undefined ? {} : {until: this.onceUntil});
		const {unknown, staleReason, learning, staleRows} = reading;
		let {spend} = reading;
		this.staleReason = staleReason;
		// With accounts, some of which failed: the rows they do not touch are fresh, recorded and judged as usual.
		const partial = staleReason !== undefined && staleRows !== undefined && this.deps.monitored.some(name => !staleRows.has(name));
		// Stale rows never listed yet (their account failed from the start): unknown, shown as such, never $0.
		const unlisted = staleRows ? new Set([...staleRows.keys()].filter(name => !this.lastSpend.has(name))) : undefined;
		const at = clock();
		this.automatic.acted.clear();
		this.samples.dropFuture(at);
		this.breakers.expire(at);
		if (partial) {
			// A failing account costs the others nothing: no back-off; its rows keep their last figures.
			this.failures = 0;
			this.lastSuccessAt = at;
			const merged = new Map(spend);
			const previous = new Map([...this.lastSpend].filter(([name]) => !staleRows.has(name)));
			for (const name of staleRows.keys()) {
				const last = this.lastSpend.get(name);
				if (last) {
					merged.set(name, last);
				} else {
					merged.delete(name);
				}
			}

			this.samples.accrue(at, previous, this.intervalMs);
			this.lastSpend = merged;
			spend = merged;
			this.samples.record(at, spend, staleRows);
		} else if (staleReason) {
			// Backs off, unless only some accounts failed (the others answered: nothing to spare them from).
			this.failures = reading.accounts?.some(account => account.stale === null) ? 0 : this.failures + 1;
			// Stale data is never zero spend: show the last known figures, record nothing.
			spend = this.lastSpend;
		} else {
			this.failures = 0;
			this.lastSuccessAt = at;
			this.samples.accrue(at, this.lastSpend, this.intervalMs);
			this.lastSpend = spend;
			this.samples.record(at, spend);
		}

		const {evaluation, inputs, globalWindow} = this.samples.evaluate(at, spend, this.breakers, staleReason, this.automatic.pausedEnvironments, staleReason && !partial ? undefined : learning, staleRows);
		this.lastEvaluation = evaluation;
		// Stale data decides nothing: neither a new warning nor that an old one cleared.
		if (!staleReason || partial) {
			this.automatic.logDecisions(evaluation, inputs, partial ? new Set([...staleRows.keys(), 'global']) : undefined);
		}

		await this.automatic.enforce(evaluation, inputs, globalWindow);
		if (this.running) {
			// The loop's: at most every 10 minutes, in the background, agents in the regions not watched
			// (`once` starts its own; a command's poll needs none).
			this.sweep.due(at);
		}

		this.samples.pruneAndSave(at, this.intervalMs);

		const snapshot = this.publisher.publish({evaluation, inputs, globalWindow, at, error: staleReason ?? null, unknown, ...(reading.accounts ? {accounts: reading.accounts, accountsProblem: reading.accountsProblem ?? null} : {}), ...(unlisted && unlisted.size > 0 ? {unlisted} : {})});

		this.billingRefresh = this.billing.refresh(at).then(refreshed => {
			if (refreshed && this.deps.store.getSnapshot() === snapshot) {
				this.publisher.republish();
			}
		}).catch((error: unknown) => {
			// Nothing may reject unheard (an unhandled rejection would end the process).
			this.recorder.report(`envwatch: billed-cost refresh failed unexpectedly: ${messageOf(error)}`);
		});
		return snapshot;
	}

	/** An entry from outside the loop (a hand-over of the engine): in the audit log and the events pane. */
	note(entry: EntryDraft): void {
		this.recorder.log(entry);
		this.publisher.republish();
	}

	/**
	 * A manual command (the command service, commands.ts). `actor`: who sent it, when not this
	 * process's user (a client of `envwatch serve`).
	 */
	async command(command: Command, actor = this.deps.options.actor): Promise<ActionResult | StartResult | undefined> {
		return this.commands.execute(command, actor);
	}

	/** The start check (commands.ts): may `count` more agents start in `name`, counted afresh? */
	async checkStart(name: string, count: number): Promise<StartCheckResult> {
		return this.commands.checkStart(name, count);
	}

	/** The lowest-priority monitored environment that stops on breach and still runs agents. */
	cascadeTarget(): string | undefined {
		return this.commands.cascadeTarget();
	}
}
