import type {Config} from '../config/index.js';
import type {Evaluation, Spend} from '../domain/index.js';
import type {Provider} from '../providers/index.js';
import type {AuditLog} from './state/audit.js';
import {Automatic} from './automatic.js';
import {CachedBilling} from './billing.js';
import {Breakers, type BreakerRequest} from './breakers.js';
import {Commands} from './commands.js';
import {Enforcer} from './enforcer.js';
import {Launcher} from './launcher.js';
import {Pricing} from './pricing.js';
import {Recorder} from './recorder.js';
import {Samples} from './samples.js';
import {RegionSweep} from './sweep.js';
import type {StateStore} from './state/store.js';
import type {SnapshotStore} from './snapshot-store.js';

export type MonitorOptions = {
	dryRun: boolean;
	readOnly: boolean;
	/** Start with automatic actions paused. */
	paused?: boolean;
	/** Start with automatic actions paused for these environments only (`--pause-env`). */
	pausedEnvironments?: readonly string[];
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

export type Deps = {
	provider: Provider;
	config: Config;
	monitored: string[];
	store: SnapshotStore;
	state: StateStore;
	audit: AuditLog;
	clock: () => number;
	options: MonitorOptions;
	/**
	 * Before each batch of a stop or start, and before a launch: resolves while this engine may act
	 * (it holds the state dir's lock or the table's lease), rejects saying why not (enforcer.ts).
	 */
	fence?: () => Promise<void>;
};

/** The engine's parts beside the poll loop, each doing one job. */
export type Parts = {
	recorder: Recorder;
	samples: Samples;
	breakers: Breakers;
	billing: CachedBilling;
	enforcer: Enforcer;
	launcher: Launcher;
	automatic: Automatic;
	commands: Commands;
	/** Live prices: the book every figure is priced with. */
	pricing: Pricing;
	/** The background sweep of the regions this run does not watch. */
	sweep: RegionSweep;
};

/** What the parts need from the poll loop. */
export type Loop = {
	poll(): Promise<unknown>;
	/** Publishes the last snapshot again with what changed since. */
	republish(): void;
	/** The last fresh spend of an environment. */
	lastSpend(name: string): Spend | undefined;
	lastEvaluation(): Evaluation | undefined;
	/** Why the last poll's data is stale (a region not listed, an error); undefined when it was fresh. */
	staleReason(): string | undefined;
};

/** Builds the engine's parts and connects them to each other and to the loop. */
export function wire(deps: Deps, loop: Loop): Parts {
	const {provider, config, monitored, state, options, clock} = deps;
	const recorder = new Recorder({audit: deps.audit, state, clock, dryRun: options.dryRun, eventsKept: options.eventsKept, report: options.report});
	const samples = new Samples({state, recorder, config, monitored});
	const {fleet} = provider;
	const pricing = new Pricing(config, provider.prices, state, clock, {}, fleet.volumes ? async (region, ids) => fleet.volumes!(region, ids) : undefined);
	const breakers = new Breakers({state, recorder, config, monitored});
	const billing = new CachedBilling(config.costExplorer.enabled ? provider.billing : undefined, state, config.costExplorer.refreshMinutes * 60_000, {
		maxPagesPerQuery: config.costExplorer.maxPagesPerQuery,
		maxUsdPerDay: config.costExplorer.maxUsdPerDay,
		tagValues: Object.values(config.environments).flatMap(environment => environment.tagValues),
	});
	// envwatch itself stopped or started agents: their windows restart, their breakers trip or clear.
	const changed = (environments: string[], kind: 'stopped' | 'started', request: BreakerRequest) => {
		samples.restart(environments, kind);
		breakers.changed(environments, kind, request, clock());
		if (kind === 'stopped') {
			// Stopped agents no longer count against a start's cap, listed yet or not.
			commands.forgetStarts(environments);
		}
	};

	const fence = deps.fence;
	const enforcer = new Enforcer(provider.fleet, config, monitored, recorder.append, state, {dryRun: options.dryRun, readOnly: options.readOnly, ...(fence ? {fence} : {})}, clock, changed);
	const launcher = new Launcher(provider.fleet, config, recorder.append, {dryRun: options.dryRun, readOnly: options.readOnly, launchedBy: options.actor, ...(fence ? {fence} : {})}, clock, changed);
	// A stop's savings and a start's cost are priced with the same book as the spend.
	enforcer.priceBook = () => pricing.book();
	launcher.priceBook = () => pricing.book();
	const automatic = new Automatic({config, enforcer, recorder, clock, options, repoll: () => void loop.poll()}, options.paused ?? false, options.pausedEnvironments ?? []);
	const commands = new Commands({config, monitored, enforcer, launcher, breakers, automatic, recorder, samples, clock, engine: loop});
	const sweep = new RegionSweep({config, provider, monitored, recorder, clock, changed: () => loop.republish(), state});
	return {recorder, samples, breakers, billing, enforcer, launcher, automatic, commands, pricing, sweep};
}
