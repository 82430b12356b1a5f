import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline/promises';
import {parseArgs, help, type Options} from '../app/args.js';
import {loadConfig, readJsonFile} from '../config/load.js';
import type {Config} from '../config/schema.js';
import {launchCost} from '../domain/agents.js';
import {UsageError, exitCodes} from '../domain/errors.js';
import type {AuditLog} from '../engine/state/audit.js';
import {auditSource} from '../engine/state/audit-reader.js';
import {Monitor} from '../engine/monitor.js';
import {plural} from '../domain/format.js';
import {defaultStateDir, StateStore} from '../engine/state/store.js';
import {doctor} from './doctor.js';
import {SnapshotStore} from '../engine/snapshot-store.js';
import {toJson, type Snapshot} from '../engine/snapshot.js';
import {formatDashboard, printHeadless} from '../app/headless.js';
import {createProvider} from '../providers/index.js';
import {packageRoot} from '../config/package-root.js';
import {simRegions} from '../providers/sim/account.js';
import {dashboardSupported} from '../ui/terminal.js';
import {OriginAuditLog} from '../serve/origin.js';
import {describeHolder, type EngineLock} from '../engine/state/lock.js';
import {attachOrLock, EngineBusy, EngineSession, socketPathOf} from '../serve/session.js';
import {crashReason, hasTerminal, ignoresHangup, signalExitCode, signalReason, watchCrashes, watchSignals, type ProcessEvents} from '../serve/lifecycle.js';
import {onceRemote, printStatus, resetEach, resetRemote, startEach, startRemote, stopEach, stopRemote, type CommandSide} from './remote.js';
import type {Provider} from '../providers/types.js';
import type {MetricsFeed, MetricsSource} from '../metrics/attach.js';
import {isLoopback} from '../metrics/listen.js';
import type {MetricsServer} from '../metrics/server.js';
import {destinationOf, redactNotify, resolveTargets, targetName, type NotifyTarget} from '../notify/config.js';
import {Notifier} from '../notify/notifier.js';
import {attachNotifier, lazySnsPublisher} from '../notify/attach.js';
import {withNotifyStatus} from '../notify/status.js';

export type Io = {
	stdout: NodeJS.WriteStream;
	stderr: NodeJS.WriteStream;
	stdin: NodeJS.ReadStream;
	env: NodeJS.ProcessEnv;
	/** Where signals and crashes are heard. @default process */
	events?: ProcessEvents;
};

const packageJson = readJsonFile(path.join(packageRoot, 'package.json'), 'package.json');
export const version = String(packageJson['version']);

export function actorName(): string {
	try {
		return `${os.userInfo().username}@${os.hostname()}`;
	} catch {
		return `uid${process.getuid?.() ?? '?'}@${os.hostname()}`;
	}
}

/** Everything a run needs, built from options and configuration. */
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
	const isConfigured = (name: string) => Object.hasOwn(config.environments, name);
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
	const monitored = options.environments ? options.environments.filter(name => Object.hasOwn(config.environments, name)) : configured;
	return (options.pauseEnv ?? []).filter(name => !monitored.includes(name)).map(name => Object.hasOwn(config.environments, name)
		? `--pause-env ${name}: not monitored in this run (${options.environmentsFlag} ${monitored.join(',')}) — expected one of: ${monitored.join(', ')}`
		: `--pause-env ${name}: not a configured environment — expected one of: ${configured.join(', ')}`);
}

/** Creates `dir` one level at a time (Node 20's recursive mkdir spins forever under /proc). */
function makeDirectory(dir: string): void {
	const missing: string[] = [];
	for (let at = path.resolve(dir); ; at = path.dirname(at)) {
		let stat: fs.Stats | undefined;
		try {
			stat = fs.statSync(at);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
				throw error;
			}
		}

		if (stat) {
			if (!stat.isDirectory()) {
				throw Object.assign(new Error(`ENOTDIR: not a directory, ${at}`), {code: 'ENOTDIR'});
			}

			break;
		}

		missing.unshift(at);
		if (path.dirname(at) === at) {
			break;
		}
	}

	for (const at of missing) {
		fs.mkdirSync(at);
	}
}

/** Creates `dir` and writes and removes a small file in it; throws the OS error when it cannot. */
function probeDirectory(dir: string): void {
	makeDirectory(dir);
	const probe = path.join(dir, `.envwatch-probe-${process.pid}`);
	try {
		fs.writeFileSync(probe, 'envwatch write check\n', {flag: 'wx'});
	} finally {
		// Also when the write failed after creating it (a full disk): no probe is left behind.
		fs.rmSync(probe, {force: true});
	}
}

/**
 * A full disk is not a wrong path: the guard still runs (stopping spend comes first) and reports
 * every record it cannot write. Only a path that can never work is refused.
 */
function diskFull(error: unknown): boolean {
	const code = (error as NodeJS.ErrnoException).code;
	return code === 'ENOSPC' || code === 'EDQUOT';
}

function osError(error: unknown): string {
	const {code, message} = error as NodeJS.ErrnoException;
	return code ? `${code}: ${message.replace(`${code}: `, '')}` : String(error);
}

/** The state dir must be writable (also before the engine lock is taken in it); returns where its path came from. */
function checkStateDir(options: Options, io: Io, stateDir: string): string {
	const stateSource = options.stateDir !== undefined ? '--state-dir' : io.env['ENVWATCH_STATE_DIR'] ? 'ENVWATCH_STATE_DIR' : 'the state dir';
	try {
		probeDirectory(stateDir);
	} catch (error) {
		if (!diskFull(error)) {
			throw new UsageError(`${stateSource} ${stateDir}: cannot create or write it (${osError(error)}) — expected a writable directory`);
		}

		io.stderr.write(`envwatch: ${stateSource} ${stateDir}: the disk is full (${osError(error)}); envwatch runs and acts, and reports every record it cannot write\n`);
	}

	return stateSource;
}

/**
 * The state dir check of one start: before the engine lock is taken (again on each retry while
 * another holder finishes) and when the engine is built, it probes the dir and warns only once.
 */
function stateDirCheck(options: Options, io: Io, stateDir: string): () => string {
	let stateSource: string | undefined;
	return () => (stateSource ??= checkStateDir(options, io, stateDir));
}

/**
 * The state dir and the audit log must be writable before anything polls: a guard that cannot
 * record what it did must not act. The problem names where the path came from.
 */
function checkWritable(options: Options, io: Io, checkState: () => string, auditFile: string): void {
	const stateSource = checkState();

	const auditSource = options.auditLog !== undefined ? '--audit-log' : `the audit log (in ${stateSource})`;
	try {
		// Opening for append is the check (a device such as /dev/full opens, then fails each write: that
		// is reported as it happens); its directory is made first when it does not exist yet.
		if (!fs.existsSync(path.dirname(auditFile))) {
			makeDirectory(path.dirname(auditFile));
		}

		fs.closeSync(fs.openSync(auditFile, 'a', 0o600));
	} catch (error) {
		if (!diskFull(error)) {
			throw new UsageError(`${auditSource} ${auditFile}: cannot create or append to it (${osError(error)}) — expected a writable file path`);
		}

		io.stderr.write(`envwatch: ${auditSource} ${auditFile}: the disk is full (${osError(error)}); envwatch runs and acts, and reports every record it cannot write\n`);
	}
}

/**
 * A fresh state dir for a demo run (its audit log stays there to read afterwards); demo dirs
 * older than a day are removed, so demos do not pile up in the temporary directory.
 */
function demoStateDir(): string {
	const dayAgo = Date.now() - 86_400_000;
	for (const name of fs.readdirSync(os.tmpdir())) {
		if (name.startsWith('envwatch-demo-')) {
			const dir = path.join(os.tmpdir(), name);
			try {
				if (fs.statSync(dir).mtimeMs < dayAgo) {
					fs.rmSync(dir, {recursive: true, force: true});
				}
			} catch {
				// Another user's, or already gone: not ours to worry about.
			}
		}
	}

	return fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-demo-'));
}

/** The state dir of this run: --state-dir, else a fresh one for a demo, else the user's. */
function resolveStateDir(options: Options, io: Io): string {
	return options.stateDir ?? (options.demo ? demoStateDir() : defaultStateDir(io.env));
}

/**
 * `guard`: at a hand-over, the environments the engine before this one guarded, guarded instead
 * of this run's own set when every one of them is configured here (the session says when the set
 * differs all the same).
 */
async function createRuntime(options: Options, io: Io, stateDir: string, checkState = stateDirCheck(options, io, stateDir), guard?: readonly string[]): Promise<Runtime> {
	const flags: Record<string, unknown> = {};
	if (options.intervalSeconds !== undefined) {
		flags['pollIntervalSeconds'] = options.intervalSeconds;
	} else if (options.demo) {
		// The simulated scenarios unfold within a minute: poll often enough to watch them.
		flags['pollIntervalSeconds'] = 5;
	}

	if (options.regions) {
		// `--region all`: every region enabled for the account, as `regions: "all"` in a file.
		flags['regions'] = options.regions.join() === 'all' ? 'all' : options.regions;
	} else if (options.demo) {
		flags['regions'] = simRegions;
	}

	const {config} = loadConfig({configFile: options.configFile, flags, env: io.env});
	if (options.demo) {
		// The simulated account has a launch template per environment; use it where none is set.
		for (const [name, environment] of Object.entries(config.environments)) {
			environment.launchTemplate ??= {name: `sim-${name}-agent`};
		}
	}

	const own = resolveEnvironments(options, config);
	const monitored = guard && guard.length > 0 && guard.every(name => Object.hasOwn(config.environments, name)) ? [...guard] : own;
	// Every secret variable is checked before anything is opened, polled or stopped.
	const targets = notifyTargets(config, io.env);
	// A demo keeps its own fresh state (resolveStateDir), so a previous run's history is never taken for a spike.
	const auditFile = options.auditLog ?? path.join(stateDir, 'audit.log');
	checkWritable(options, io, checkState, auditFile);
	const provider = await createProvider(options, config);
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
	const runtime: Runtime = {options, config, monitored, store, monitor: undefined as unknown as Monitor, audit, stateDir, reports, provider, ...(notifier ? {notifier} : {})};
	runtime.monitor = new Monitor({
		provider,
		config,
		monitored,
		store,
		state: new StateStore(stateDir),
		audit,
		clock: Date.now,
		options: {
			dryRun: options.dryRun,
			readOnly: options.readOnly,
			actor: actorName(),
			paused: options.command === 'stop' || options.command === 'start' || options.command === 'reset',
			pausedEnvironments: options.pauseEnv ?? [],
			report: line => reports.write(line),
			onGiveUp: error => runtime.giveUp?.(error),
		},
	});
	return runtime;
}

/** The notify targets with their secrets from `env`; a missing variable is a usage error (exit 2). */
function notifyTargets(config: Config, env: NodeJS.ProcessEnv): NotifyTarget[] {
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
		connection: {
			...(options.profile ? {profile: options.profile} : {}),
			...(options.endpointUrl ? {endpointUrl: options.endpointUrl} : {}),
		},
	});
}

/**
 * `--metrics-listen`: /metrics and /healthz with the figures of `store` (the views' snapshots),
 * counters from an engine running in this process (`feed.attachEngine`). Listening comes before
 * the first poll: a port in use is a usage error with nothing polled.
 */
export async function startMetrics(options: Options, store: MetricsSource, reports: (line: string) => void): Promise<{feed: MetricsFeed; close(): Promise<void>} | undefined> {
	const address = options.metricsListen;
	if (!address) {
		return undefined;
	}

	// prom-client is loaded only here: a run without --metrics-listen never pays for it.
	const [{attachMetrics}, {serveMetrics}] = await Promise.all([import('../metrics/attach.js'), import('../metrics/server.js')]);
	const feed = attachMetrics({store});
	let server: MetricsServer;
	try {
		server = await serveMetrics(feed.metrics, store.getSnapshot, address);
	} catch (error) {
		feed.detach();
		throw error;
	}

	reports(`metrics on ${server.url}/metrics, health on ${server.url}/healthz${isLoopback(address.host) ? '' : ' (not loopback: reachable from other hosts)'}`);
	return {
		feed,
		async close() {
			feed.detach();
			await server.close();
		},
	};
}

/** `envwatch notify test [--target N]`: a test message to each target (or one); exit 1 if one failed. */
async function notifyTest(options: Options, io: Io): Promise<number> {
	const {config} = loadConfig({configFile: options.configFile, env: io.env});
	const targets = notifyTargets(config, io.env);
	if (targets.length === 0) {
		throw new UsageError('notify test: no notify targets configured — add a "notify" list to the configuration, e.g. [{"type": "slack", "url": {"env": "SLACK_WEBHOOK_URL"}}] (see the readme)');
	}

	let only: number | undefined;
	if (options.target !== undefined) {
		const byName = targets.findIndex(target => target.name === options.target);
		const position = /^\d+$/.test(options.target) ? Number(options.target) - 1 : -1;
		only = byName >= 0 ? byName : position >= 0 && position < targets.length ? position : undefined;
		if (only === undefined) {
			throw new UsageError(`--target ${options.target}: no such notify target — expected a position from 1 to ${targets.length} or a name: ${(config.notify ?? []).map((target, index) => targetName(target, index)).join(', ')}`);
		}
	}

	const notifier = new Notifier(targets, {
		host: os.hostname(),
		publishSns: lazySnsPublisher({
			...(options.profile ? {profile: options.profile} : {}),
			...(options.endpointUrl ? {endpointUrl: options.endpointUrl} : {}),
		}),
	});
	const outcomes = await notifier.test(only);
	notifier.close();
	let failed = false;
	for (const [index, outcome] of outcomes.entries()) {
		const target = targets[only ?? index]!;
		const ok = outcome.outcome === 'delivered';
		failed ||= !ok;
		io.stdout.write(`${ok ? 'ok' : 'FAILED'}  ${target.name} (${target.type}, ${destinationOf(target)}): ${ok ? 'test message delivered' : `${outcome.outcome}: ${outcome.error ?? ''}`}\n`);
	}

	return failed ? exitCodes.failure : exitCodes.ok;
}

/**
 * Waits (at most `boundMs`) for queued notifications before the process ends (the engine's `down`
 * among them); what is left is recorded as dropped.
 */
export async function flushNotifications(runtime: Runtime | undefined, io: Io, boundMs = 20_000): Promise<void> {
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

async function runOnce(runtime: Runtime, io: Io): Promise<number> {
	// One poll that waits (bounded) for the prices and volumes its figures need, and for the billed
	// cost when this run fetches it.
	const snapshot = await runtime.monitor.once();
	await runtime.monitor.stop();
	// A reader that went away (`| head -0`) does not turn the result into a stack trace.
	io.stdout.on('error', (error: NodeJS.ErrnoException) => {
		if (error.code !== 'EPIPE') {
			io.stderr.write(`envwatch: cannot write to stdout (${error.code ?? error.message})\n`);
		}
	});
	io.stdout.write(`${runtime.options.json ? JSON.stringify(toJson(snapshot)) : formatDashboard(snapshot)}\n`);
	// A breach the poll found counts even when its stop already ended it (the figures show the result).
	const breach = snapshot.breachFound ?? [...snapshot.environments, snapshot.global].some(view => view.level === 'breach' && !view.stale);
	if (breach) {
		return exitCodes.breach;
	}

	// Stale data is not "all clear", nor is an action or decision that could not be recorded:
	// cron must hear that envwatch could not look, or could not write down what it did.
	return snapshot.error || snapshot.recordError ? exitCodes.failure : exitCodes.ok;
}

/** The engine in this process, for `stop` and `start`: agents listed and counted afresh after a poll. */
function localSide(runtime: Runtime): CommandSide {
	const {monitor, options, config} = runtime;
	let snapshot: Snapshot | undefined;
	return {
		dryRun: options.dryRun,
		asOf: '',
		monitorOnly: name => config.environments[name]!.onBreach === 'alert',
		async prepare() {
			snapshot = await monitor.poll();
		},
		async stopTargets(name) {
			const view = snapshot?.environments.find(item => item.name === name);
			const listed = await monitor.enforcer.targets([name], ['pending', 'running']);
			if (listed.errors.length > 0) {
				return {error: listed.errors.join('; ')};
			}

			const book = monitor.enforcer.priceBook();
			const prices = listed.instances.map(instance => book.price(instance)?.usd);
			const savesUsd = prices.every(usd => usd !== undefined) ? prices.reduce<number>((sum, usd) => sum + usd!, 0) : null;
			return {ids: listed.instances.map(instance => instance.id), savesUsd, totalUsd: !view || view.stale ? null : view.hourlyUsd, stale: view?.stale ?? null};
		},
		async planStart(name, wanted) {
			const plan = await monitor.launcher.plan(name);
			const count = wanted ?? plan?.count ?? 1;
			// The engine's start check (the same one a start from the dashboard or a socket client meets).
			const check = await monitor.checkStart(name, count);
			if (!check.ok) {
				return {refused: check.reason, counted: check.counted};
			}

			const cap = config.environments[name]!.maxAgents;
			return {count, running: check.running, cap: typeof cap === 'number' ? cap : undefined, type: plan!.instanceType, cost: launchCost(monitor.enforcer.priceBook(), plan!.region, plan!.instanceType, count)};
		},
		command: async command => monitor.command(command),
	};
}

async function runStop(runtime: Runtime, io: Io): Promise<number> {
	const code = await stopEach(runtime.monitored, localSide(runtime), runtime.options, io, {confirm: async (question, refusal) => confirm(io, runtime.options, question, refusal), ask: async question => ask(io, runtime.options, question)});
	await runtime.monitor.stop();
	return code;
}

/** Resets tripped breakers (`envwatch reset -e dev`) with the engine in this process. */
async function runReset(runtime: Runtime, io: Io): Promise<number> {
	const {monitor, options} = runtime;
	const snapshot = await monitor.poll();
	const code = await resetEach(runtime.monitored, snapshot, async command => monitor.command(command), io, async (question, refusal) => confirm(io, options, question, refusal));
	await monitor.stop();
	return code;
}

/** Asks for a typed answer on the terminal (the caller checked there is one). */
async function ask(io: Io, options: Options, question: string): Promise<string> {
	const prompt = readline.createInterface({input: io.stdin, output: io.stdout});
	const answer = await prompt.question(`${options.dryRun ? '[dry run] ' : ''}${question} `);
	prompt.close();
	return answer.trim();
}

/** Asks on the terminal; without one, refuses (exit 2) unless --yes was given. */
async function confirm(io: Io, options: Options, question: string, refusal: string): Promise<boolean> {
	if (options.yes) {
		return true;
	}

	if (!io.stdin.isTTY || !io.stdout.isTTY) {
		throw new UsageError(`${refusal} without confirmation — no terminal to ask; pass --yes to confirm`);
	}

	const prompt = readline.createInterface({input: io.stdin, output: io.stdout});
	const answer = await prompt.question(`${options.dryRun ? '[dry run] ' : ''}${question} [y/N] `);
	prompt.close();
	return /^y(es)?$/i.test(answer.trim());
}

async function runStart(runtime: Runtime, io: Io): Promise<number> {
	const code = await startEach(runtime.monitored, localSide(runtime), runtime.options, io, async (question, refusal) => confirm(io, runtime.options, question, refusal));
	await runtime.monitor.stop();
	return code;
}

const ignoreError = () => undefined;

/**
 * The dashboard, headless mode and `serve`: attached to the server on the state dir when one
 * answers, else running the engine here and serving the same socket (so a second dashboard
 * attaches instead of starting a second enforcer). `serve` only ever runs the engine.
 */
export async function runMonitor(options: Options, io: Io, stateDir: string, build?: (guard?: readonly string[]) => Promise<Runtime>): Promise<number> {
	const checkState = stateDirCheck(options, io, stateDir);
	build ??= async guard => createRuntime(options, io, stateDir, checkState, guard);
	const serve = options.command === 'serve';
	const supported = dashboardSupported(io.stdin, io.stdout);
	const dashboard = !serve && !options.headless && supported.ok;
	const mode = serve ? 'serve' : dashboard ? 'dashboard' : 'headless';
	const log = dashboard ? () => undefined : (line: string) => io.stderr.write(`envwatch: ${line}\n`);
	// The engine this process runs, when it runs one (from the start, or after taking over).
	let runtime: Runtime | undefined;
	let giveUp: ((error: string) => void) | undefined;
	// The engine stopped by itself (it lost the engine lock): this process ends, exit 1.
	let stopped: (reason: string) => void = () => undefined;
	const session = new EngineSession({
		stateDir,
		mode,
		client: 'dashboard',
		actor: actorName(),
		version,
		group: options.socketGroup,
		async createEngine(guard) {
			runtime = await build(guard);
			runtime.giveUp = error => giveUp?.(error);
			metrics?.feed.attachEngine({audit: runtime.audit, ...(runtime.notifier ? {notifier: runtime.notifier} : {}), ...(runtime.provider ? {fleet: runtime.provider.fleet} : {})});
			return {...runtime, pausedAtStart: {paused: false, pausedEnvironments: options.pauseEnv ?? []}};
		},
		environmentsNamed: options.environments !== undefined,
		onStopped: reason => stopped(reason),
		log,
		beforeLock: checkState,
		serveOnly: serve,
		readOnly: options.readOnly,
	});
	// Metrics listen before anything polls; their counters follow the engine this process runs.
	const metrics = await startMetrics(options, session.store, line => log(line));
	let closed = false;
	// Subscribed first: an attached run prints the server's latest snapshot, handed over on attaching.
	const unsubscribe = dashboard ? () => undefined : printHeadless(session.store, line => {
		if (!closed && !io.stdout.destroyed) {
			io.stdout.write(`${line}\n`);
		}
	}, options.json);
	const where = await session.open();
	if (where === 'attached' && options.pauseEnv) {
		if (options.readOnly) {
			// A read-only run changes nothing of the server's protection: said before anything is sent.
			await session.stop();
			throw new UsageError(`--pause-env ${options.pauseEnv.join(', ')} with --read-only: the engine runs in the server (pid ${session.attachedTo?.pid ?? '?'}) and a --read-only run sends it nothing that changes its protection — drop --read-only, or press P in a dashboard that is not read-only`);
		}

		// The server runs the engine: the pauses go to it as commands, as `P` would send them.
		await pauseAttached(session, options.pauseEnv, log);
	}

	const ignoreHangup = ignoresHangup(mode, hasTerminal(io));
	if (where === 'running' && serve) {
		log(`serving ${socketPathOf(stateDir)} (pid ${process.pid})${options.demo && !options.stateDir ? `; attach with: envwatch --demo --state-dir ${stateDir}` : ''}`);
	} else if (where === 'attached' && !dashboard) {
		log(`attached to ${session.attachedTo!.mode} pid ${session.attachedTo!.pid} (${session.attachedTo!.host}) on ${socketPathOf(stateDir)}`);
	}

	if (dashboard) {
		return runDashboardSession({options, io, stateDir, session, metrics, runtime: () => runtime, onStopped: handler => (stopped = handler)});
	}

	if (!options.headless && !serve && !supported.ok) {
		io.stderr.write(`${supported.note}\n`);
	}

	const events = io.events ?? process;
	return new Promise(resolve => {
		let finished = false;
		let stopWatching = () => undefined as void;
		let crashTimer: NodeJS.Timeout | undefined;
		const done = async (code: number, bound?: number) => {
			clearTimeout(crashTimer);
			await metrics?.close();
			await flushNotifications(runtime, io, bound);
			stopWatching();
			unsubscribe();
			io.stdout.off('error', onWriteError);
			io.stderr.off('error', ignoreError);
			resolve(code);
		};

		// Commands in flight finish and are recorded, then the `down` line; the socket and the lock are removed.
		const finish = (code: number, reason: string) => {
			if (finished) {
				return;
			}

			finished = true;
			void session.stop(reason).then(async () => done(code));
		};

		// At once, for what cannot wait: the `down` line, the lock and socket removed, notifications given a few seconds.
		let abandoned = false;
		const abandon = (code: number, reason: string) => {
			if (abandoned) {
				return;
			}

			abandoned = true;
			finished = true;
			session.abandon(reason);
			void done(code, 3000);
		};

		// A reader that went away (`| head -n1`) ends the run quietly, as other CLIs do.
		const onWriteError = (error: NodeJS.ErrnoException) => {
			closed = true;
			if (error.code === 'EPIPE') {
				finish(exitCodes.ok, 'the reader of its output went away (EPIPE)');
			} else {
				io.stderr.write(`envwatch: cannot write to stdout (${error.code ?? error.message}); stopping\n`);
				finish(exitCodes.failure, `cannot write to stdout (${error.code ?? error.message})`);
			}
		};

		io.stdout.on('error', onWriteError);
		// A closed stderr (`2>&1 | head -n1`) has no one left to tell: it must not end the guard.
		io.stderr.on('error', ignoreError);
		// The same unexpected error on every poll for 5 minutes: exit 1 so a supervisor restarts it.
		giveUp = error => {
			io.stderr.write(`envwatch: giving up: ${error}\n`);
			finish(exitCodes.failure, `gave up: ${error}`);
		};

		stopped = reason => {
			io.stderr.write(`envwatch: ${reason}; exiting (1)\n`);
			finish(exitCodes.failure, reason);
		};

		const unwatchSignals = watchSignals({
			ignoreHangup,
			onHangup(count) {
				if (count === 1) {
					const why = `SIGHUP ignored: ${serve ? 'a server' : 'a run without a terminal'} goes on when the terminal it was started from goes away (stop it with SIGTERM); said once`;
					log(why);
					session.note({type: 'decision', actor: 'auto', kind: 'signal', environments: [], reason: why, instanceIds: []});
				}
			},
			// As the dashboard: 128 + the signal's number (SIGHUP 129, SIGINT 130, SIGTERM 143).
			onSignal(signal, count) {
				// An action under way is finished, not abandoned; a second signal abandons it (each batch
				// done so far is already recorded, and the next start reports the rest as cut short).
				const progress = session.monitor?.enforcer.progress;
				const what = progress ? `the ${progress.kind} of ${progress.environments.join(', ')}` : undefined;
				const left = progress ? `${what}: ${progress.planned - progress.done} of ${plural(progress.planned, 'agent')} left` : undefined;
				if (count === 1) {
					if (progress) {
						io.stderr.write(`envwatch: ${signal}: finishing ${what} first: ${progress.planned - progress.done} of ${plural(progress.planned, 'agent')} left; send the signal again to abandon it\n`);
					}

					finish(signalExitCode(signal), signalReason(signal));
				} else {
					io.stderr.write(`envwatch: ${signal} again: ending now${left ? `, abandoning ${left}` : ''}\n`);
					abandon(signalExitCode(signal), `${signalReason(signal)} again: ended at once${left ? `, abandoning ${left}` : ''}`);
				}
			},
		}, events);
		// A crash is recorded and ends the run (exit 1); what does not finish within 10 s is abandoned.
		const unwatchCrashes = watchCrashes(error => {
			io.stderr.write(`envwatch: crashed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
			const reason = crashReason(error);
			finish(exitCodes.failure, reason);
			crashTimer ??= setTimeout(() => abandon(exitCodes.failure, `${reason} (and it did not end within 10s)`), 10_000);
		}, events);
		stopWatching = () => {
			unwatchSignals();
			unwatchCrashes();
		};

		session.start();
	});
}

/**
 * The dashboard's run: it ends on `q`, a signal, the terminal going away, a crash, or its engine
 * stopping by itself; each is the engine's one `down` line (written by the session as it stops).
 */
async function runDashboardSession(parts: {options: Options; io: Io; stateDir: string; session: EngineSession; metrics: Awaited<ReturnType<typeof startMetrics>>; runtime: () => Runtime | undefined; onStopped: (handler: (reason: string) => void) => void}): Promise<number> {
	const {options, io, stateDir, session, metrics} = parts;
	// The first poll starts before Ink and React are loaded: on a fast source (the simulated
	// account) the first frame then already has data, rather than "waiting for the first poll"
	// followed by the data one frame interval later; on AWS the poll is under way sooner.
	session.start();
	let end: (reason: string) => void = () => undefined;
	const ended = new Promise<string>(resolve => {
		end = resolve;
	});
	parts.onStopped(reason => end(reason));
	const unwatchCrashes = watchCrashes(error => {
		io.stderr.write(`envwatch: crashed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
		end(crashReason(error));
	}, io.events ?? process);
	// The Ink dashboard (issue 3), loaded only here so headless runs never load Ink or React.
	const {runDashboard} = await import('../ui/run.js');
	const runtime = parts.runtime();
	try {
		// A failing notification target is shown on the status line (this process's engine's targets).
		const notifier = runtime?.notifier;
		// The log view reads the audit log of the engine this process runs, else the state dir's
		// (the server's, when attached); only when the view opens.
		const audit = auditSource(() => parts.runtime()?.audit.file ?? options.auditLog ?? path.join(stateDir, 'audit.log'));
		return await runDashboard({store: notifier ? withNotifyStatus(session.store, notifier) : session.store, monitor: session, auditSource: audit, noColor: !options.color, ascii: options.ascii, env: io.env, stdout: io.stdout, stdin: io.stdin, stderr: io.stderr, start: false, end: ended});
	} finally {
		unwatchCrashes();
		await metrics?.close();
		// What the status line showed, for the terminal's scrollback once the screen is gone.
		parts.runtime()?.reports.release();
		await flushNotifications(parts.runtime(), io);
	}
}

/**
 * `--pause-env` on a process attached to a server: one pause-env command each. A name the server
 * refuses (not monitored there) ends the run with exit 2, as it would before polling locally.
 */
async function pauseAttached(session: EngineSession, names: readonly string[], log: (line: string) => void): Promise<void> {
	const problems: string[] = [];
	for (const name of names) {
		const result = await session.command({kind: 'pause-env', environment: name});
		if (result?.outcome === 'refused') {
			problems.push(`--pause-env ${name}: ${result.summary.replace(/^refused: /, '')} (the server's configuration)`);
		} else {
			log(`automatic actions paused for ${name} on the server`);
		}
	}

	if (problems.length > 0) {
		await session.stop();
		throw new UsageError(problems);
	}
}

/**
 * `--once`, `stop`, `start` and `reset`: through the running server when there is one (no second
 * poll, no race), else with the engine lock taken for this run.
 */
async function runCommand(options: Options, io: Io, stateDir: string): Promise<number> {
	const command = options.command as 'once' | 'stop' | 'start' | 'reset';
	const checkState = stateDirCheck(options, io, stateDir);
	const found = await attachOrLock({stateDir, mode: command, client: command, actor: actorName(), beforeLock: checkState});
	if (found.kind === 'attached') {
		const {remote} = found;
		try {
			const prompts = {confirm: async (question: string, refusal: string) => confirm(io, options, question, refusal), ask: async (question: string) => ask(io, options, question)};
			if (command === 'once') {
				return await onceRemote(remote, options, io);
			}

			if (command === 'stop') {
				return await stopRemote(remote, options, io, prompts);
			}

			return command === 'start' ? await startRemote(remote, options, io, prompts.confirm) : await resetRemote(remote, options, io, prompts.confirm);
		} finally {
			remote.close();
		}
	}

	let runtime: Runtime | undefined;
	try {
		runtime = await createRuntime(options, io, stateDir, checkState);
		noteStaleLock(runtime, found.lock, stateDir);
		if (command === 'once') {
			return await runOnce(runtime, io);
		}

		if (command === 'stop') {
			return await runStop(runtime, io);
		}

		return command === 'start' ? await runStart(runtime, io) : await runReset(runtime, io);
	} finally {
		await runtime?.monitor.stop().catch(() => undefined);
		// The command's output is written and its actions done: only now wait for its notifications.
		await flushNotifications(runtime, io).catch(() => undefined);
		runtime?.audit.close();
		found.lock.release();
	}
}

/** A stale engine lock this run broke to take it: the takeover line says whose it was and why it was stale. */
function noteStaleLock(runtime: Runtime, lock: EngineLock, stateDir: string): void {
	if (lock.tookOver) {
		runtime.monitor.note({type: 'decision', actor: actorName(), kind: 'takeover', environments: [...runtime.monitored], reason: `took over the engine lock of ${stateDir} from ${describeHolder(lock.tookOver.info)}: ${lock.tookOver.why}`, instanceIds: []});
	}
}

/** `config show`: the effective configuration and the layers it came from (later wins). */
function describeLayers(options: Options, io: Io): string {
	const {config, layers} = loadConfig({configFile: options.configFile, env: io.env});
	const sources = layers.map(layer => ({label: layer.label, ...(layer.path ? {path: layer.path, exists: fs.existsSync(layer.path)} : {})}));
	// A secret written into the configuration itself is never printed; `regions: "all"` reads as written.
	const {allRegions, ...plain} = config;
	const asWritten = allRegions ? {...plain, regions: 'all'} : plain;
	const shown = config.notify ? {...asWritten, notify: redactNotify(config.notify)} : asWritten;
	if (options.json) {
		return JSON.stringify({config: shown, layers: sources}, null, 2);
	}

	const lines = sources.map(layer => `//   ${layer.label}${layer.path ? `: ${layer.path}${layer.exists ? '' : ' (not created yet)'}` : ''}`);
	return `// effective configuration, from (later wins):\n${lines.join('\n')}\n${JSON.stringify(shown, null, 2)}`;
}

/** Runs envwatch; resolves to the exit code. Never throws for a usage problem. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
	try {
		const options = parseArgs(argv);
		if (options.help) {
			io.stdout.write(`${help.trim()}\n`);
			return exitCodes.ok;
		}

		if (options.version) {
			io.stdout.write(`${version}\n`);
			return exitCodes.ok;
		}

		switch (options.command) {
			case 'config-path': {
				const {storePath} = loadConfig({env: io.env});
				io.stdout.write(`${storePath}\n`);
				return exitCodes.ok;
			}

			case 'config-show': {
				io.stdout.write(`${describeLayers(options, io)}\n`);
				return exitCodes.ok;
			}

			case 'doctor': {
				return await doctor(options, io);
			}

			case 'notify-test': {
				return await notifyTest(options, io);
			}

			default: {
				break;
			}
		}

		if (options.command === 'status' && options.demo && !options.stateDir) {
			throw new UsageError('status --demo: each demo has its own state dir — expected --state-dir DIR (serve --demo prints it)');
		}

		const stateDir = resolveStateDir(options, io);
		switch (options.command) {
			case 'status': {
				return await printStatus(stateDir, actorName(), io);
			}

			case 'once':
			case 'stop':
			case 'start':
			case 'reset': {
				return await runCommand(options, io, stateDir);
			}

			default: {
				return await runMonitor(options, io, stateDir);
			}
		}
	} catch (error) {
		if (error instanceof EngineBusy) {
			io.stderr.write(`envwatch: ${error.message}\n`);
			return exitCodes.failure;
		}

		if (error instanceof UsageError) {
			io.stderr.write(`envwatch: ${error.total > 1 ? `${error.total} problems:\n  ` : ''}${error.problems.join('\n  ')}\n${error.hint ? `(${error.hint})\n` : ''}`);
			return exitCodes.usage;
		}

		io.stderr.write(`envwatch: ${error instanceof Error ? error.message : String(error)}\n`);
		return exitCodes.failure;
	}
}
