/**
 * EC2's StopInstances/StartInstances resource bucket, client side: 1000 instances of burst and
 * 20 instances a second of refill, per region (docs/design.md). Acting on more than the bucket holds
 * waits for refill instead of collecting RequestLimitExceeded errors.
 */
export type BucketOptions = {
	/** Instances of burst. @default 1000 */
	capacity: number;
	/** Instances a second of refill. @default 20 */
	refillPerSecond: number;
};

export const ec2StopBucket: BucketOptions = {capacity: 1000, refillPerSecond: 20};

export type Timer = {
	now: () => number;
	sleep: (ms: number) => Promise<void>;
};

export const realTimer: Timer = {
	now: () => Date.now(),
	sleep: async ms => new Promise(resolve => {
		setTimeout(resolve, ms);
	}),
};

export class TokenBucket {
	private tokens: number;
	private updatedAt: number;

	constructor(readonly options: BucketOptions, private readonly timer: Timer = realTimer) {
		this.tokens = options.capacity;
		this.updatedAt = timer.now();
	}

	private refill(): void {
		const now = this.timer.now();
		this.tokens = Math.min(this.options.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.options.refillPerSecond);
		this.updatedAt = now;
	}

	/** Tokens available now (fractional). */
	available(): number {
		this.refill();
		return this.tokens;
	}

	/**
	 * How many of `wanted` to send in the next call: what the bucket holds now, but at least one
	 * second of refill, so a long stop goes out in steady small batches rather than one big one
	 * after a long wait (every agent stopped earlier saves money).
	 */
	nextBatch(wanted: number, maxBatch: number): number {
		const floor = Math.max(1, Math.floor(this.options.refillPerSecond));
		return Math.max(1, Math.min(wanted, maxBatch, this.options.capacity, Math.max(floor, Math.floor(this.available()))));
	}

	/** Waits until `count` tokens are there, then takes them. */
	async take(count: number): Promise<void> {
		const needed = Math.min(count, this.options.capacity);
		for (;;) {
			this.refill();
			if (this.tokens >= needed) {
				this.tokens -= needed;
				return;
			}

			await this.timer.sleep(Math.ceil(((needed - this.tokens) / this.options.refillPerSecond) * 1000));
		}
	}

	/** Gives tokens back, for a call EC2 rejected as a whole (it acted on nothing). */
	refund(count: number): void {
		this.refill();
		this.tokens = Math.min(this.options.capacity, this.tokens + count);
	}
}

/** Exponential backoff with full jitter (the AWS Architecture Blog's "full jitter"). */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
	return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}
