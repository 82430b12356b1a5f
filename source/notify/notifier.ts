import {createHmac} from 'node:crypto';
import type {AuditEntry, Snapshot} from '../engine/index.js';
import {secretsOf, type NotifyTarget} from './targets.js';
import {DeliveryError, post, request, safeError} from './http.js';
import {eventOf, figuresOf, pagerDutyBody, slackBody, subject, webhookBody, type Notice} from './messages.js';

/** Sends one notice to one target; resolves when the target accepted it, throws otherwise. */
export type Sender = (target: NotifyTarget, notice: Notice, signal: AbortSignal) => Promise<'sent' | 'skipped'>;

/** What became of one delivery. */
export type DeliveryOutcome = {
	target: string;
	type: NotifyTarget['type'];
	event: Notice['event'];
	/** The audit entry's seq the notice was about (0 for a test message). */
	seq: number;
	/** `skipped`: the target has nothing to send for this event (PagerDuty on a start). */
	outcome: 'delivered' | 'skipped' | 'failed' | 'gave-up' | 'dropped';
	attempts: number;
	/** Why it failed, with every secret replaced by `***`. */
	error?: string;
};

export type NotifierOptions = {
	/** Where each delivery's outcome goes (the audit log). */
	record?: (outcome: DeliveryOutcome, notice: Notice) => void;
	/** The latest snapshot, for the figures a message carries. */
	snapshot?: () => Snapshot | undefined;
	host: string;
	/** Replaces the HTTP and SNS senders (tests of the queue itself). */
	send?: Sender;
	/** SNS publishing, when a target needs it (loaded on demand: the AWS SDK is not loaded otherwise). */
	publishSns?: (target: Extract<NotifyTarget, {type: 'sns'}>, subject: string, message: string, signal: AbortSignal) => Promise<void>;
	/** Attempts per delivery, the first included. @default 5 */
	attempts?: number;
	/** The first retry's delay; doubled each retry up to `maxBackoffMs`. @default 1000 */
	backoffMs?: number;
	/** @default 30000 */
	maxBackoffMs?: number;
	/** One attempt's time limit. @default 10000 */
	timeoutMs?: number;
	/** Deliveries waiting per target; beyond it the oldest is dropped (and recorded). @default 100 */
	cap?: number;
};

type Job = {notice: Notice; attempts: number};

type TargetState = {
	target: NotifyTarget;
	queue: Job[];
	running: boolean;
	/** Deliveries given up in a row; while > 0 the target is failing and each delivery is tried once. */
	givenUp: number;
	lastError: string | null;
	/** A heartbeat's: the poll time (epoch ms) of its last ping, and whether one is in flight. */
	beat?: {at: number | undefined; sending: boolean; pinged: boolean};
};

/**
 * The notification queue. `handle` (an audit log listener) only queues: delivery happens in the
 * background, one delivery at a time per target (so a resolve never overtakes its trigger), with
 * retries, exponential backoff and a cap. A slow, hanging or failing target delays nothing else:
 * not the engine, not other targets. A target whose deliveries are given up is `failing` (shown by
 * `health()`): its next deliveries are tried once, not retried, until one gets through.
 */
export class Notifier {
	private readonly states: TargetState[];
	private readonly secrets: string[];
	/** The last decision's figures per environment key, for the action line that follows it. */
	private readonly decided = new Map<string, Record<string, number | string | null>>();
	/** When each pause this run saw began (audit time, epoch ms), per environment key (`` for all), for its resume's message. */
	private readonly pausedAt = new Map<string, number>();
	/** The attempts in flight, each ended at once by `close`. */
	private readonly inFlight = new Set<(reason: DeliveryError) => void>();
	private readonly idle = new Set<() => void>();
	/** Wakes the backoff sleeps when the notifier closes. */
	private readonly wakers = new Set<() => void>();
	private readonly outcomeListeners = new Set<(outcome: DeliveryOutcome) => void>();
	private closed = false;

	constructor(readonly targets: readonly NotifyTarget[], private readonly options: NotifierOptions) {
		this.states = targets.map(target => ({target, queue: [], running: false, givenUp: 0, lastError: null, ...(target.type === 'heartbeat' ? {beat: {at: undefined, sending: false, pinged: false}} : {})}));
		this.secrets = secretsOf(targets);
	}

	/** An audit log listener: queues a notice for every target that wants the entry's event. */
	handle = (entry: AuditEntry): void => {
		if (entry.type === 'notify' || this.closed) {
			return;
		}

		const key = entry.environments.join(',');
		if (entry.type === 'decision' && entry.figures) {
			this.decided.set(key, entry.figures);
		}

		const event = eventOf(entry);
		if (!event) {
			return;
		}

		const notice: Notice = {
			event,
			entry,
			decisionFigures: entry.type === 'action' ? this.decided.get(key) : undefined,
			snapshot: figuresOf(this.options.snapshot?.(), entry.environments),
			host: this.options.host,
			...(event === 'pause' ? this.pauseSpan(key, entry) : {}),
			...(event === 'pause' && entry.kind === 'resume' && entry.environments.length === 0 ? stillPaused(this.options.snapshot?.()) : {}),
		};
		for (const state of this.states) {
			if (state.target.events.includes(event)) {
				this.enqueue(state, notice);
			}
		}
	};

	/**
	 * Remembers when a pause began; for a resume, how long it lasted (left out when this run did not
	 * see the pause begin, or the times do not make sense: never a made-up figure).
	 */
	private pauseSpan(key: string, entry: AuditEntry): {pausedSeconds?: number} {
		const at = Date.parse(entry.at);
		if (entry.kind === 'pause') {
			// Pausing what is already paused keeps the first time: that is when protection went away.
			if (!this.pausedAt.has(key) && Number.isFinite(at)) {
				this.pausedAt.set(key, at);
			}

			return {};
		}

		const since = this.pausedAt.get(key);
		this.pausedAt.delete(key);
		return since === undefined || !Number.isFinite(at) || at < since ? {} : {pausedSeconds: Math.round((at - since) / 1000)};
	}

	/**
	 * A snapshot was published: each heartbeat target due a ping gets one, if the snapshot comes from
	 * a poll that succeeded (fresh data everywhere). A STALE or failing engine does not ping, and
	 * neither does one whose loop hangs (it publishes nothing): that silence is what the service
	 * behind the URL raises the alarm on. One ping at a time, no retry: a lost ping is made good by
	 * the next, and the service's grace period covers one. The first ping of a run, the first
	 * failure of a streak and the ping that ends it are recorded; the others are not (one line every
	 * few minutes would bury the audit log).
	 */
	beat(snapshot: Snapshot | undefined): void {
		if (this.closed || !snapshot || !isFresh(snapshot)) {
			return;
		}

		const at = snapshot.lastSuccessAt!;
		for (const state of this.states) {
			const beat = state.beat;
			if (!beat || beat.sending || state.target.type !== 'heartbeat') {
				continue;
			}

			// Due after its interval; at once when the clock went back past the last ping.
			if (beat.at !== undefined && at - beat.at < state.target.everyMinutes * 60_000 && at >= beat.at) {
				continue;
			}

			beat.at = at;
			beat.sending = true;
			void this.ping(state, beat, at);
		}
	}

	private async ping(state: TargetState, beat: NonNullable<TargetState['beat']>, at: number): Promise<void> {
		const entry: AuditEntry = {at: new Date(at).toISOString(), seq: 0, type: 'decision', actor: 'auto', kind: 'notify', environments: [], reason: 'heartbeat', instanceIds: [], dryRun: false};
		const job: Job = {notice: {event: 'heartbeat', entry, decisionFigures: undefined, snapshot: {}, host: this.options.host}, attempts: 1};
		try {
			await this.attempt(state.target, job.notice);
			if (!beat.pinged || state.givenUp > 0) {
				this.settle(state, job, {outcome: 'delivered'});
			}

			beat.pinged = true;
		} catch (caught) {
			if (this.closed) {
				return;
			}

			const error = safeError(caught, this.secrets);
			if (state.givenUp === 0) {
				this.settle(state, job, {outcome: 'failed', error});
			} else {
				state.givenUp++;
				state.lastError = error;
			}
		} finally {
			beat.sending = false;
			this.wakeIdle();
		}
	}

	/** Sends a test message to each target (or the one at `only`), each tried once; resolves with the outcomes. */
	async test(only?: number): Promise<DeliveryOutcome[]> {
		const entry: AuditEntry = {at: new Date().toISOString(), seq: 0, type: 'decision', actor: 'test', kind: 'notify', environments: [], reason: 'envwatch notify test: a test message, nothing happened', instanceIds: [], dryRun: false};
		const notice: Notice = {event: 'test', entry, decisionFigures: undefined, snapshot: {}, host: this.options.host};
		const states = only === undefined ? this.states : [this.states[only]!];
		return Promise.all(states.map(async state => {
			const outcome = await this.deliver(state, {notice, attempts: 0}, 1);
			if (state.target.type === 'pagerduty' && outcome.outcome === 'delivered') {
				// The test incident is resolved at once: a test must not leave a page open.
				const resolved = await this.deliver(state, {notice: {...notice, event: 'recover', entry: {...entry, kind: 'recover'}}, attempts: 0}, 1);
				return resolved.outcome === 'delivered' ? outcome : {...resolved, event: 'test' as const};
			}

			return outcome;
		}));
	}

	/** Health per target: `failing` holds the last error while deliveries are being given up; `queued` counts a heartbeat's ping in flight. */
	health(): Array<{name: string; type: NotifyTarget['type']; failing: string | null; queued: number}> {
		return this.states.map(state => ({name: state.target.name, type: state.target.type, failing: state.givenUp > 0 ? state.lastError : null, queued: state.queue.length + (state.running || state.beat?.sending ? 1 : 0)}));
	}

	onOutcome(listener: (outcome: DeliveryOutcome) => void): () => void {
		this.outcomeListeners.add(listener);
		return () => this.outcomeListeners.delete(listener);
	}

	/** Resolves true when every queue is empty and no ping is in flight, false after `timeoutMs`, whichever comes first. */
	async drain(timeoutMs: number): Promise<boolean> {
		// A heartbeat's ping in flight counts too: a run from cron pings and ends at once.
		const empty = () => this.states.every(state => state.queue.length === 0 && !state.running && !state.beat?.sending);
		if (empty()) {
			return true;
		}

		return new Promise(resolve => {
			const check = () => {
				if (empty()) {
					finish(true);
				}
			};

			const timer = setTimeout(() => finish(false), timeoutMs);
			const finish = (done: boolean) => {
				clearTimeout(timer);
				this.idle.delete(check);
				resolve(done);
			};

			this.idle.add(check);
		});
	}

	/** Stops delivering: deliveries in flight are aborted, queued ones recorded as dropped. */
	close(): void {
		if (this.closed) {
			return;
		}

		this.closed = true;
		for (const end of [...this.inFlight]) {
			end(new DeliveryError('envwatch exited before it could be delivered', false));
		}

		for (const wake of [...this.wakers]) {
			wake();
		}

		for (const state of this.states) {
			for (const job of state.queue.splice(0)) {
				this.settle(state, job, {outcome: 'dropped', error: 'envwatch exited before it could be delivered'});
			}
		}
	}

	private enqueue(state: TargetState, notice: Notice): void {
		const cap = this.options.cap ?? 100;
		state.queue.push({notice, attempts: 0});
		while (state.queue.length > cap) {
			this.settle(state, state.queue.shift()!, {outcome: 'dropped', error: `more than ${cap} deliveries waiting for this target: the oldest is dropped`});
		}

		void this.run(state);
	}

	private async run(state: TargetState): Promise<void> {
		if (state.running) {
			return;
		}

		state.running = true;
		try {
			while (state.queue.length > 0 && !this.closed) {
				const job = state.queue.shift()!;
				// A failing target gets one attempt per delivery until one gets through: not retried forever.
				await this.deliver(state, job, state.givenUp > 0 ? 1 : this.options.attempts ?? 5);
			}
		} finally {
			state.running = false;
			this.wakeIdle();
		}
	}

	/** Lets `drain` look again. */
	private wakeIdle(): void {
		for (const check of [...this.idle]) {
			check();
		}
	}

	private async deliver(state: TargetState, job: Job, attempts: number): Promise<DeliveryOutcome> {
		let error = '';
		while (job.attempts < attempts && !this.closed) {
			if (job.attempts > 0) {
				const delay = Math.min((this.options.backoffMs ?? 1000) * 2 ** (job.attempts - 1), this.options.maxBackoffMs ?? 30_000);
				await this.sleep(delay);
				if (this.closed) {
					break;
				}
			}

			job.attempts++;
			try {
				const sent = await this.attempt(state.target, job.notice);
				return this.settle(state, job, {outcome: sent === 'skipped' ? 'skipped' : 'delivered'});
			} catch (caught) {
				if (this.closed) {
					// Cut short by close: dropped, with the last attempt's own failure if there was one.
					break;
				}

				error = safeError(caught, this.secrets);
				if (caught instanceof DeliveryError && !caught.retry) {
					return this.settle(state, job, {outcome: 'failed', error});
				}
			}
		}

		return this.settle(state, job, this.closed ? {outcome: 'dropped', error: `envwatch exited before it could be delivered${error ? ` (last attempt: ${error})` : ''}`} : {outcome: 'gave-up', error});
	}

	private settle(state: TargetState, job: Job, result: {outcome: DeliveryOutcome['outcome']; error?: string}): DeliveryOutcome {
		const outcome: DeliveryOutcome = {target: state.target.name, type: state.target.type, event: job.notice.event, seq: job.notice.entry.seq, attempts: job.attempts, outcome: result.outcome, ...(result.error ? {error: result.error} : {})};
		if (result.outcome === 'delivered') {
			state.givenUp = 0;
			state.lastError = null;
		} else if (result.outcome === 'gave-up' || result.outcome === 'failed') {
			state.givenUp++;
			state.lastError = result.error ?? result.outcome;
		}

		if (job.notice.event !== 'test') {
			try {
				this.options.record?.(outcome, job.notice);
			} catch {
				// The audit log reports its own write failures.
			}
		}

		for (const listener of this.outcomeListeners) {
			listener(outcome);
		}

		return outcome;
	}

	/**
	 * One attempt, limited to `timeoutMs`. The limit is a plain timer held here, not
	 * `AbortSignal.timeout` combined by `AbortSignal.any`: on Node 20 a garbage collection loses the
	 * combined signal's timer, and an attempt to a target that never answers then waits for ever,
	 * stalling its queue without a word. When the timer fires (or the notifier closes), the request
	 * is aborted (its connection destroyed) and the attempt fails at once, whether or not the sender
	 * heeds its signal.
	 */
	private async attempt(target: NotifyTarget, notice: Notice): Promise<'sent' | 'skipped'> {
		const timeoutMs = this.options.timeoutMs ?? 10_000;
		const controller = new AbortController();
		let timer: NodeJS.Timeout | undefined;
		let end: ((reason: DeliveryError) => void) | undefined;
		const ended = new Promise<never>((_, reject) => {
			end = reason => {
				controller.abort(reason);
				reject(reason);
			};

			timer = setTimeout(() => end!(new DeliveryError(`no answer within ${seconds(timeoutMs)} (timed out)`, true)), timeoutMs);
			// The request's own socket keeps the process up while it is open; the timer need not.
			timer.unref();
		});
		this.inFlight.add(end!);
		try {
			return await Promise.race([(this.options.send ?? this.send)(target, notice, controller.signal), ended]);
		} finally {
			clearTimeout(timer);
			this.inFlight.delete(end!);
			// The race's loser must not be an unhandled rejection.
			ended.catch(() => undefined);
		}
	}

	private async sleep(ms: number): Promise<void> {
		return new Promise(resolve => {
			const done = () => {
				clearTimeout(timer);
				this.wakers.delete(done);
				resolve();
			};

			const timer = setTimeout(done, ms);
			timer.unref();
			this.wakers.add(done);
		});
	}

	private readonly send: Sender = async (target, notice, signal) => {
		switch (target.type) {
			case 'slack': {
				const answer = await post(target.url, JSON.stringify(slackBody(notice)), {}, signal);
				// Slack answers "ok"; anything else (a proxy's page) is not a delivery.
				if (answer.text.trim() !== 'ok') {
					throw new DeliveryError(`HTTP ${answer.status} but the answer is not Slack's "ok"`, true, answer.text);
				}

				return 'sent';
			}

			case 'pagerduty': {
				const body = pagerDutyBody(notice, target.routingKey);
				if (!body) {
					return 'skipped';
				}

				const answer = await post(target.url, JSON.stringify(body), {}, signal);
				let parsed: unknown;
				try {
					parsed = JSON.parse(answer.text);
				} catch {
					parsed = undefined;
				}

				if ((parsed as {status?: unknown} | undefined)?.status !== 'success') {
					throw new DeliveryError(`HTTP ${answer.status} but the answer is not the Events API's {"status": "success"}`, true, answer.text);
				}

				return 'sent';
			}

			case 'webhook': {
				const body = JSON.stringify(webhookBody(notice));
				const headers: Record<string, string> = {'x-envwatch-event': notice.event};
				if (target.secret) {
					headers['x-envwatch-signature'] = `sha256=${createHmac('sha256', target.secret).update(body).digest('hex')}`;
				}

				await post(target.url, body, headers, signal);
				return 'sent';
			}

			case 'sns': {
				if (!this.options.publishSns) {
					throw new DeliveryError('SNS publishing is not available in this run', false);
				}

				try {
					await this.options.publishSns(target, subject(notice), JSON.stringify(webhookBody(notice)), signal);
				} catch (error) {
					// The publisher says whether trying again can help (`retry: false`: no such topic, no permission).
					throw new DeliveryError(error instanceof Error ? error.message : String(error), (error as {retry?: unknown}).retry !== false);
				}

				return 'sent';
			}

			case 'heartbeat': {
				// A GET with nothing in it: what Healthchecks.io, Cronitor and Dead Man's Snitch take as
				// a ping, and no figure of the fleet goes to a third party. Any 2xx is a ping received.
				await request(target.url, {method: 'GET', headers: {}}, signal);
				return 'sent';
			}
		}
	};
}

function seconds(ms: number): string {
	return `${ms / 1000} s`;
}

/** Whether a snapshot comes from a poll whose data is fresh everywhere (no error, nothing stale). */
function isFresh(snapshot: Snapshot): boolean {
	return snapshot.lastSuccessAt !== null && snapshot.error === null && snapshot.global.stale === null && snapshot.environments.every(view => view.stale === null);
}

/** The environments paused on their own in `snapshot`; nothing when there is no snapshot to tell. */
function stillPaused(snapshot: Snapshot | undefined): {stillPaused?: string[]} {
	return snapshot ? {stillPaused: snapshot.environments.filter(view => view.paused === true).map(view => view.name)} : {};
}
