import os from 'node:os';
import path from 'node:path';
import type {Options} from './args.js';
import {loadConfig, type Config} from '../config/index.js';
import {expandNames, plural, UsageError} from '../domain/index.js';
import {isRowOfSplit, Monitor, SnapshotStore, splitForAccounts, StateStore, type AuditLog} from '../engine/index.js';
import {createProvider, integerFromEnv, simRegions, snsPublisher, type AwsConnection, type Provider} from '../providers/index.js';
import {dashboardSupported} from '../ui/index.js';
import {OriginAuditLog, type EngineHold} from '../serve/index.js';
import {attachNotifier, resolveTargets, type Notifier, type NotifyTarget} from '../notify/index.js';
import {actorName, type Io} from './io.js';
import {checkWritable, osError, stateDirCheck} from './state-dir.js';

// A run put together: the configuration, the provider, the engine, the notifier, where problems are reported.

/** Everything a run needs, built from options and configuration. */
/** How long the end of a process waits for queued notifications, unless ENVWATCH_NOTIFY_DRAIN_SECONDS says otherwise. */
const defaultDrainMs = 20_000;

export type Runtime = {
	options: Options;
	config: Config;
	monitored: string[];
	store: SnapshotStore;
	monitor: Monitor;
	audit: AuditLog;
	stateDir: string;
	/** Where the engine's problem lines go: stderr, or held while the dashboard owns the terminal. */
	reports: Reports;
	/** Set by the headless run: called when the same unexpected poll error lasted 5 minutes. */
	giveUp?: (error: string) => void;
	/** Notification delivery (config `notify`); undefined without targets. */
	notifier?: Notifier;
	/** How long the end of the process waits for queued notifications (ENVWATCH_NOTIFY_DRAIN_SECONDS, default 20 s). */
	notifyDrainMs?: number;
	/** The provider the monitor polls (metrics time its listings); absent in runtimes built by hand. */
	provider?: Provider;
};

/** The engine's problem lines: written to stderr, or held (and written after the dashboard exits). */
export class Reports {
	private held: string[] | undefined;

	constructor(private readonly stderr: NodeJS.WriteStream) {}

	write(line: string): void {
		if (this.held) {
			this.held.push(line);
		} else {
			this.stderr.write(`${line}\n`);
		}
	}

	hold(): void {
		this.held ??= [];
	}

	release(): void {
		const lines = this.held ?? [];
		this.held = undefined;
		for (const line of lines) {
			this.write(line);
		}
	}
}

function resolveEnvironments(options: Options, config: Config): string[] {
	const configured = Object.keys(config.environments);
	// A row of an environment split by account (`dev@sandbox-a`) is checked once the accounts are known.
	const isConfigured = (name: string) => Object.hasOwn(config.environments, name) || isRowOfSplit(config, name);
	const problems = [
		...(options.environments ?? []).filter(name => !isConfigured(name)).map(name => `${options.environmentsFlag} ${name}: not a configured environment — expected one of: ${configured.join(', ')}`),
		...(options.confirm ?? []).filter(name => !isConfigured(name)).map(name => `--confirm ${name}: not a configured environment — expected one of: ${configured.join(', ')}`),
		...pauseEnvProblems(options, config),
	];
	if (problems.length > 0) {
		throw new UsageError(problems);
	}

	return options.environments ? [...new Set(options.environments)] : configured;
}

/** `--pause-env` names that are not configured, or not monitored in this run (--environments). */
function pauseEnvProblems(options: Options, config: Config): string[] {
	const configured = Object.keys(config.environments);
	const known = (name: string) => Object.hasOwn(config.environments, name) || isRowOfSplit(config, name);
	const monitored = options.environments ? options.environments.filter(name => known(name)) : configured;
	const within = (name: string) => monitored.includes(name) || (isRowOfSplit(config, name) && monitored.includes(name.slice(0, name.lastIndexOf('@'))));
	return (options.pauseEnv ?? []).filter(name => !within(name)).map(name => known(name)
		? `--pause-env ${name}: not monitored in this run (${options.environmentsFlag} ${monitored.join(',')}) — expected one of: ${monitored.join(', ')}`
		: `--pause-env ${name}: not a configured environment — expected one of: ${configured.join(', ')}`);
}

/**
 * The one place the command line becomes the configuration's flags layer: `--interval` is
 * pollIntervalSeconds (already checked by its rule), `--region` regions; a demo polls every 5 s and
 * watches the simulated regions unless told otherwise.
 */
export function configFlags(options: Pick<Options, 'pollIntervalSeconds' | 'regions' | 'demo'>): {pollIntervalSeconds?: number; regions?: string[] | 'all'} {
	const flags: {pollIntervalSeconds?: number; regions?: string[] | 'all'} = {};
	if (options.pollIntervalSeconds !== undefined) {
		flags.pollIntervalSeconds = options.pollIntervalSeconds;
	} else if (options.demo) {
		// The simulated scenarios unfold within a minute: poll often enough to watch them.
		flags.pollIntervalSeconds = 5;
	}

	if (options.regions) {
		// `--region all`: every region enabled for the account, as `regions: "all"` in a file.
		flags.regions = options.regions.join() === 'all' ? 'all' : options.regions;
	} else if (options.demo) {
		flags.regions = simRegions;
	}

	return flags;
}

/**
 * The run's configuration: its file, the user's store and the flags (configFlags); in a demo, the
 * simulated account's launch template for each environment that names none.
 */
export function runConfig(options: Options, env: NodeJS.ProcessEnv): Config {
	const {config} = loadConfig({configFile: options.configFile, flags: configFlags(options), env});
	if (options.demo) {
		// The simulated account has a launch template per environment; use it where none is set.
		for (const [name, environment] of Object.entries(config.environments)) {
			environment.launchTemplate ??= {name: `sim-${name}-agent`};
		}
	}

	return config;
}

/**
 * `guard`: at a hand-over, the environments the engine before this one guarded, guarded instead
 * of this run's own set when every one of them is configured here (the session says when the set
 * differs all the same). `config`: the run's, when it was loaded already (to open the coordination
 * table), else loaded here.
 */
export async function createRuntime(options: Options, io: Io, stateDir: string, checkState = stateDirCheck(options, io, stateDir), guard?: readonly string[], hold?: EngineHold, config = runConfig(options, io.env)): Promise<Runtime> {
	const asked = resolveEnvironments(options, config);
	// Every secret variable is checked before anything is opened, polled or stopped.
	const targets = notifyTargets(config, io.env);
	const drainSeconds = integerFromEnv(io.env, 'ENVWATCH_NOTIFY_DRAIN_SECONDS', 1, 300, defaultDrainMs / 1000);
	// A demo keeps its own fresh state (resolveStateDir), so a previous run's history is never taken for a spike.
	const auditFile = options.auditLog ?? path.join(stateDir, 'audit.log');
	checkWritable(options, io, checkState, auditFile);
	const provider = await createProvider({demo: options.demo, connection: awsConnection(options), env: process.env}, config);
	// With accounts: environments split by account become one row per account; `dev` names all of its rows.
	const own = splitForAccounts(config, provider.accounts?.(), asked, options.environmentsFlag);
	for (const key of ['confirm', 'pauseEnv'] as const) {
		if (options[key]) {
			options[key] = expandNames(options[key], config.environments);
		}
	}

	const monitored = guard && guard.length > 0 && guard.every(name => Object.hasOwn(config.environments, name)) ? [...guard] : own;
	const store = new SnapshotStore();
	// Commands from socket clients are recorded with `via: "socket"`.
	const audit: AuditLog = new OriginAuditLog(auditFile);
	try {
		audit.open();
	} catch (error) {
		throw new UsageError(`${options.auditLog === undefined ? 'the audit log' : '--audit-log'} ${audit.file}: cannot open it for appending (${osError(error)}) — expected a writable file path`);
	}

	const reports = new Reports(io.stderr);
	if (!options.headless && options.command === 'monitor' && dashboardSupported(io.stdin, io.stdout).ok) {
		// The dashboard shows problems on its status line; stderr lines would tear its screen.
		reports.hold();
	}

	const notifier = createNotifier(options, targets, {store, audit, reports});
	const runtime: Runtime = {
		options, config, monitored, store, monitor: undefined as unknown as Monitor, audit, stateDir, reports, provider,
		...(notifier ? {notifier} : {}), ...(drainSeconds === undefined ? {} : {notifyDrainMs: drainSeconds * 1000}),
	};
	runtime.monitor = new Monitor({
		provider,
		config,
		monitored,
		store,
		// The state dir, or the coordination table (`hold.medium`); each stop batch fenced by the lock, and the lease when coordinated.
		state: new StateStore(hold?.medium ?? stateDir),
		...(hold ? {fence: hold.fence} : {}),
		audit,
		clock: Date.now,
		options: {
			dryRun: options.dryRun,
			readOnly: options.readOnly,
			actor: actorName(),
			paused: options.command === 'stop' || options.command === 'start' || options.command === 'reset' || options.command === 'undo',
			pausedEnvironments: options.pauseEnv ?? [],
			report: line => reports.write(line),
			onGiveUp: error => runtime.giveUp?.(error),
		},
	});
	return runtime;
}

/** The notify targets with their secrets from `env`; a missing variable is a usage error (exit 2). */
export function notifyTargets(config: Config, env: NodeJS.ProcessEnv): NotifyTarget[] {
	const problems: string[] = [];
	const targets = resolveTargets(config.notify ?? [], env, problems);
	if (problems.length > 0) {
		throw new UsageError(problems, 'secrets come from the environment variables named in the configuration');
	}

	return targets;
}

/**
 * The notifier, listening to the audit log (see source/notify/attach.ts); a delivery given up or
 * refused is reported like any other problem (stderr, or held while the dashboard shows).
 */
function createNotifier(options: Options, targets: NotifyTarget[], parts: {store: SnapshotStore; audit: AuditLog; reports: Reports}): Notifier | undefined {
	if (targets.length === 0) {
		return undefined;
	}

	return attachNotifier({
		targets,
		audit: parts.audit,
		store: parts.store,
		host: os.hostname(),
		report: line => parts.reports.write(`envwatch: ${line}`),
		publishSns: snsPublisher(awsConnection(options)),
	});
}

/**
 * Waits (at most `boundMs`, else the run's ENVWATCH_NOTIFY_DRAIN_SECONDS, else 20 s) for queued
 * notifications before the process ends (the engine's `down` among them); what is left is recorded
 * as dropped.
 */
export async function flushNotifications(runtime: Runtime | undefined, io: Io, bound?: number): Promise<void> {
	const boundMs = bound ?? runtime?.notifyDrainMs ?? defaultDrainMs;
	const notifier = runtime?.notifier;
	if (!notifier) {
		return;
	}

	const queued = notifier.health().reduce((sum, target) => sum + target.queued, 0);
	if (queued > 0 && !(await notifier.drain(Math.min(1000, boundMs)))) {
		io.stderr.write(`envwatch: delivering ${plural(queued, 'notification')} before exiting (at most ${Math.round(boundMs / 1000)}s)\n`);
		await notifier.drain(Math.max(0, boundMs - 1000));
	}

	notifier.close();
	// Outcomes recorded after the engine closed its audit log reopened it: close it again.
	runtime.audit.close();
}

/** The AWS connection of this run: --profile and --endpoint-url, else the SDK's defaults. */
export function awsConnection(options: Pick<Options, 'profile' | 'endpointUrl'>): AwsConnection {
	return {...(options.profile ? {profile: options.profile} : {}), ...(options.endpointUrl ? {endpointUrl: options.endpointUrl} : {})};
}
