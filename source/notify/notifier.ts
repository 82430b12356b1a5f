import {createHmac} from 'node:crypto';
import type {AuditEntry} from '../engine/audit.js';
import type {Snapshot} from '../engine/snapshot.js';
import {scrub, secretsOf, type NotifyTarget} from './config.js';
import {eventOf, figuresOf, pagerDutyBody, slackBody, subject, webhookBody, type Notice} from './messages.js';

/** A delivery that failed: `retry` false when trying again cannot help (a 4xx answer). */
export class DeliveryError extends Error {
	constructor(message: string, readonly retry: boolean) {
		super(message);
		this.name = 'DeliveryError';
	}
}

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
	private readonly abort = new AbortController();
	private readonly idle = new Set<() => void>();
	private readonly outcomeListeners = new Set<(outcome: DeliveryOutcome) => void>();
	private closed = false;

	constructor(readonly targets: readonly NotifyTarget[], private readonly options: NotifierOptions) {
		this.states = targets.map(target => ({target, queue: [], running: false, givenUp: 0, lastError: null}));
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

	/** Health per target: `failing` holds the last error while deliveries are being given up. */
	health(): Array<{name: string; type: NotifyTarget['type']; failing: string | null; queued: number}> {
		return this.states.map(state => ({name: state.target.name, type: state.target.type, failing: state.givenUp > 0 ? state.lastError : null, queued: state.queue.length + (state.running ? 1 : 0)}));
	}

	onOutcome(listener: (outcome: DeliveryOutcome) => void): () => void {
		this.outcomeListeners.add(listener);
		return () => this.outcomeListeners.delete(listener);
	}

	/** Resolves when every queue is empty, or at `deadline` (epoch ms), whichever comes first. */
	async drain(timeoutMs: number): Promise<boolean> {
		const empty = () => this.states.every(state => state.queue.length === 0 && !state.running);
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
		this.abort.abort();
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
			for (const check of [...this.idle]) {
				check();
			}
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
				const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs ?? 10_000)]);
				const sent = await (this.options.send ?? this.send)(state.target, job.notice, signal);
				return this.settle(state, job, {outcome: sent === 'skipped' ? 'skipped' : 'delivered'});
			} catch (caught) {
				error = scrub(describe(caught), this.secrets);
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

	private async sleep(ms: number): Promise<void> {
		return new Promise(resolve => {
			const timer = setTimeout(done, ms);
			timer.unref();
			const onAbort = () => done();
			this.abort.signal.addEventListener('abort', onAbort, {once: true});
			function done() {
				clearTimeout(timer);
				resolve();
			}
		});
	}

	private readonly send: Sender = async (target, notice, signal) => {
		switch (target.type) {
			case 'slack': {
				const answer = await post(target.url, JSON.stringify(slackBody(notice)), {}, signal);
				// Slack answers "ok"; anything else (a proxy's page) is not a delivery.
				if (answer.text.trim() !== 'ok') {
					throw new DeliveryError(`HTTP ${answer.status} but the answer is not Slack's "ok" (${clip(answer.text)})`, true);
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
					throw new DeliveryError(`HTTP ${answer.status} but the answer is not the Events API's {"status": "success"} (${clip(answer.text)})`, true);
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

				await this.options.publishSns(target, subject(notice), JSON.stringify(webhookBody(notice)), signal);
				return 'sent';
			}
		}
	};
}

function clip(text: string): string {
	const line = text.replaceAll(/\s+/g, ' ').trim();
	return line.length > 80 ? `${line.slice(0, 77)}...` : line || 'empty';
}

function describe(error: unknown): string {
	if (error instanceof DeliveryError) {
		return error.message;
	}

	if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
		return 'no answer in time (timed out)';
	}

	const cause = (error as {cause?: {code?: unknown; message?: unknown}} | undefined)?.cause;
	if (cause && typeof cause.code === 'string') {
		return `${cause.code}${typeof cause.message === 'string' ? `: ${cause.message}` : ''}`;
	}

	return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/** POSTs JSON; a 2xx answer resolves, 429 and 5xx throw retryable, other answers throw final. */
async function post(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<{status: number; text: string}> {
	const response = await fetch(url, {method: 'POST', body, headers: {'content-type': 'application/json', 'user-agent': 'envwatch', ...headers}, signal, redirect: 'error'});
	const text = await response.text();
	if (response.status >= 200 && response.status < 300) {
		return {status: response.status, text};
	}

	throw new DeliveryError(`HTTP ${response.status} (${clip(text)})`, response.status === 429 || response.status >= 500 || response.status === 408);
}

/** The environments paused on their own in `snapshot`; nothing when there is no snapshot to tell. */
function stillPaused(snapshot: Snapshot | undefined): {stillPaused?: string[]} {
	return snapshot ? {stillPaused: snapshot.environments.filter(view => view.paused === true).map(view => view.name)} : {};
}
