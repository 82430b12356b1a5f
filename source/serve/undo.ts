import {messageOf} from '../engine/index.js';

/**
 * What a start has taken so far, to give back if it fails part way: each step pushed as the thing
 * is taken, run last first, each one even when one before it failed (every step lets go of
 * something; none of them may keep another from running). One path out of a failed start, in the
 * order that things were taken, instead of one hand-written path per place it can fail.
 */
export class Undo {
	private readonly steps: Array<() => unknown> = [];

	constructor(private readonly log: (line: string) => void) {}

	push(step: () => unknown): void {
		this.steps.push(step);
	}

	/** Runs the steps, last first (a step that fails is said, and the rest still run). */
	async run(): Promise<void> {
		for (const step of this.steps.splice(0).reverse()) {
			try {
				await step();
			} catch (error) {
				this.log(`while giving back a failed start: ${messageOf(error)}`);
			}
		}
	}
}
