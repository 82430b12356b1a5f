import type {Spend} from '../domain/index.js';
import {project, type Published} from './projection.js';
import type {Snapshot} from './snapshot.js';
import type {Deps, Parts} from './wiring.js';

/**
 * Publishes snapshots to the store: a poll's evaluation through the projection, with the engine's
 * state at that moment; again when a command, a launch plan or billed cost changed what it shows;
 * or, when a poll failed, the last known figures marked stale.
 */
export class Publisher {
	private last: Published | undefined;

	constructor(
		private readonly deps: Deps,
		private readonly parts: Parts,
		/** The loop's counters the snapshot shows. */
		private readonly loop: {polls(): number; lastSuccessAt(): number | null},
	) {}

	publish(published: Published): Snapshot {
		this.last = published;
		const {recorder, commands, automatic, breakers, billing, enforcer, samples, pricing, sweep} = this.parts;
		recorder.reportRecords();
		const {config, options, provider} = this.deps;
		const launch = new Map(published.inputs.map(input => [input.name, commands.launchPlan(input.name)]));
		const snapshot = project(published, {
			config,
			source: provider.source,
			polls: this.loop.polls(),
			lastSuccessAt: this.loop.lastSuccessAt(),
			mode: {paused: automatic.paused, dryRun: options.dryRun, readOnly: options.readOnly},
			pausedEnvironments: automatic.pausedEnvironments,
			acted: automatic.acted,
			breakers: breakers.all(),
			billing: {...billing.view(), enabled: billing.enabled},
			launch,
			events: recorder.events,
			pending: automatic.pending,
			lastStop: enforcer.lastStop(),
			recordError: recorder.recordError(),
			rollup: samples.rollup,
			pricing: pricing.view(),
			unwatched: sweep.view(),
			history: samples.historyView(published.at),
		});
		this.deps.store.publish(snapshot);
		return snapshot;
	}

	/** The last snapshot again, with what changed since (a command, a launch plan, billed cost). */
	republish(): void {
		if (this.last) {
			this.publish(this.last);
		}
	}

	/**
	 * The last known figures (`spend`) marked stale with `error`, no action pending (if even that
	 * fails, the last snapshot so; undefined when nothing can be published).
	 */
	publishStale(error: string, at: number, spend: ReadonlyMap<string, Spend>): Snapshot | undefined {
		const {samples, breakers, automatic} = this.parts;
		try {
			const evaluated = samples.evaluate(at, spend, breakers, error, automatic.pausedEnvironments);
			automatic.pending = null;
			return this.publish({...evaluated, at, error, unknown: this.last?.unknown ?? {instances: 0, hourlyUsd: 0, tagValues: []}});
		} catch {
			if (!this.last) {
				return undefined;
			}

			try {
				const {inputs} = this.last;
				return this.publish({...this.last, inputs: inputs.map(input => ({...input, stale: error})), at, error});
			} catch {
				return undefined;
			}
		}
	}
}
