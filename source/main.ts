import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline/promises';
import {parseArgs, help, type Options} from './args.js';
import {loadConfig, readJsonFile} from './config/load.js';
import type {Config} from './config/schema.js';
import {checkStart, launchCost} from './domain/agents.js';
import {money} from './domain/format.js';
import {UsageError, exitCodes} from './errors.js';
import type {AuditLog} from './engine/audit.js';
import {Monitor} from './engine/monitor.js';
import {plural} from './engine/enforcer.js';
import {defaultStateDir, StateStore} from './engine/state.js';
import {doctor} from './doctor.js';
import {SnapshotStore} from './engine/store.js';
import {toJson} from './engine/snapshot.js';
import {formatDashboard, printHeadless} from './headless.js';
import {createProvider} from './providers/index.js';
import {packageRoot} from './paths.js';
import {simRegions} from './providers/sim/account.js';
import {dashboardSupported} from './ui/terminal.js';
import {OriginAuditLog} from './serve/origin.js';
import {attachOrLock, EngineBusy, EngineSession, socketPathOf} from './serve/session.js';
import {onceRemote, printStatus, startRemote, stopRemote} from './serve/cli.js';

export type Io = {
	stdout: NodeJS.WriteStream;
	stderr: NodeJS.WriteStream;
	stdin: NodeJS.ReadStream;
	env: NodeJS.ProcessEnv;
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
};

function resolveEnvironments(options: Options, config: Config): string[] {
	const configured = Object.keys(config.environments);
	if (!options.environments) {
		return configured;
	}

	const unknown = options.environments.filter(name => !configured.includes(name));
	if (unknown.length > 0) {
		throw new UsageError(unknown.map(name => `--environments ${name}: not a configured environment — expected one of: ${configured.join(', ')}`));
	}

	return [...new Set(options.environments)];
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

async function createRuntime(options: Options, io: Io, stateDir: string): Promise<Runtime> {
	const flags: Record<string, unknown> = {};
	if (options.intervalSeconds !== undefined) {
		flags['pollIntervalSeconds'] = options.intervalSeconds;
	} else if (options.demo) {
		// The simulated scenarios unfold within a minute: poll often enough to watch them.
		flags['pollIntervalSeconds'] = 5;
	}

	if (options.regions) {
		flags['regions'] = options.regions;
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

	const monitored = resolveEnvironments(options, config);
	// A demo keeps its own fresh state (resolveStateDir), so a previous run's history is never taken for a spike.
	const provider = await createProvider(options, config);
	const store = new SnapshotStore();
	const audit: AuditLog = new OriginAuditLog(options.auditLog ?? path.join(stateDir, 'audit.log'));
	try {
		audit.open();
	} catch (error) {
		throw new UsageError(`--audit-log ${audit.file}: cannot open it for appending (${(error as NodeJS.ErrnoException).code ?? String(error)}) — expected a writable file path`);
	}

	const monitor = new Monitor({
		provider,
		config,
		monitored,
		store,
		state: new StateStore(stateDir),
		audit,
		clock: Date.now,
		options: {dryRun: options.dryRun, readOnly: options.readOnly, actor: actorName(), paused: options.command === 'stop' || options.command === 'start' || options.command === 'reset'},
	});
	return {options, config, monitored, store, monitor, audit, stateDir};
}

async function runOnce(runtime: Runtime, io: Io): Promise<number> {
	const polled = await runtime.monitor.poll();
	// Billed cost is fetched at most once per refresh interval; when this run fetches it, show it.
	const snapshot = (await runtime.monitor.settled()) ?? polled;
	await runtime.monitor.stop();
	io.stdout.write(`${runtime.options.json ? JSON.stringify(toJson(snapshot)) : formatDashboard(snapshot)}\n`);
	const breach = [...snapshot.environments, snapshot.global].some(view => view.level === 'breach' && !view.stale);
	if (breach) {
		return exitCodes.breach;
	}

	// Stale data is not "all clear": cron must hear that envwatch could not look.
	return snapshot.error ? exitCodes.failure : exitCodes.ok;
}

async function runStop(runtime: Runtime, io: Io): Promise<number> {
	const {monitor, options} = runtime;
	const snapshot = await monitor.poll();
	let failed = false;
	for (const name of runtime.monitored) {
		const view = snapshot.environments.find(item => item.name === name)!;
		const listed = await monitor.enforcer.targets([name], ['pending', 'running']);
		const ids = listed.instances.map(instance => instance.id);
		const saves = listed.instances.reduce((sum, instance) => sum + (runtime.config.prices[instance.type] ?? 0), 0);
		const blast = `${ids.length} agent${ids.length === 1 ? '' : 's'} in ${name}${ids.length > 0 ? ` (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', ...' : ''})` : ''}, saving ${money(saves)}/h of ${money(view.hourlyUsd)}/h`;
		if (!(await confirm(io, options, `Stop ${blast}?`, `--stop-env ${name}: refusing to stop ${blast}`))) {
			io.stdout.write(`Not stopped: ${name}.\n`);
			continue;
		}

		const result = await monitor.command({kind: 'stop', environment: name});
		if (result) {
			io.stdout.write(`${options.dryRun ? '[dry run] ' : ''}${result.summary}\n`);
			failed ||= result.outcome === 'failed';
		}
	}

	await monitor.stop();
	return failed ? exitCodes.failure : exitCodes.ok;
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
	const {monitor, options, config} = runtime;
	await monitor.poll();
	// Every environment is checked before any is started: a start refused for one starts none.
	const plans: Array<{name: string; count: number; running: number; type: string | undefined}> = [];
	let refusal: number | undefined;
	for (const name of runtime.monitored) {
		const policy = config.environments[name]!;
		const plan = await monitor.launcher.plan(name);
		const count = options.count ?? plan?.count ?? 1;
		const listed = await monitor.enforcer.targets([name], ['pending', 'running']);
		if (listed.errors.length > 0) {
			io.stderr.write(`envwatch: start in ${name} refused: cannot count its running agents (${listed.errors.join('; ')})\n`);
			refusal ??= exitCodes.failure;
			continue;
		}

		const running = listed.instances.length;
		const check = checkStart(name, policy, running, count);
		if (!check.ok) {
			io.stderr.write(`envwatch: start ${plural(count, 'agent')} in ${name} refused: ${check.reason}\n`);
			refusal = exitCodes.usage;
			continue;
		}

		plans.push({name, count, running, type: plan!.instanceType});
	}

	if (refusal !== undefined) {
		io.stderr.write(`envwatch: nothing started${plans.length > 0 ? ` (not ${plans.map(plan => plan.name).join(', ')} either)` : ''}\n`);
		await monitor.stop();
		return refusal;
	}

	let code: number = exitCodes.ok;
	for (const {name, count, running, type} of plans) {
		const policy = config.environments[name]!;
		const question = `Start ${plural(count, `${type ?? ''} agent`.trim())} in ${name} (${running} running${typeof policy.maxAgents === 'number' ? `, at most ${policy.maxAgents}` : ''}), adding ${launchCost(config.prices, type, count)}?`;
		if (!(await confirm(io, options, question, `start: refusing to start ${plural(count, 'agent')} in ${name}`))) {
			io.stdout.write(`Not started: ${name}.\n`);
			continue;
		}

		const result = await monitor.command({kind: 'start', environment: name, count});
		if (result) {
			io.stdout.write(`${options.dryRun ? '[dry run] ' : ''}${result.summary}\n`);
			if (result.outcome === 'failed' || result.outcome === 'refused') {
				code = result.outcome === 'refused' ? exitCodes.usage : exitCodes.failure;
			}
		}
	}

	await monitor.stop();
	return code;
}

/**
 * The dashboard, headless mode and `serve`: attached to the server on the state dir when one
 * answers, else running the engine here and serving the same socket (so a second dashboard
 * attaches instead of starting a second enforcer). `serve` only ever runs the engine.
 */
async function runMonitor(options: Options, io: Io, stateDir: string): Promise<number> {
	const serve = options.command === 'serve';
	const supported = dashboardSupported(io.stdin, io.stdout);
	const dashboard = !serve && !options.headless && supported.ok;
	const log = dashboard ? () => undefined : (line: string) => io.stderr.write(`envwatch: ${line}\n`);
	const session = new EngineSession({
		stateDir,
		mode: serve ? 'serve' : dashboard ? 'dashboard' : 'headless',
		client: 'dashboard',
		actor: actorName(),
		version,
		group: options.socketGroup,
		createEngine: async () => createRuntime(options, io, stateDir),
		log,
		serveOnly: serve,
		readOnly: options.readOnly,
	});
	// Subscribed first: an attached run prints the server's latest snapshot, handed over on attaching.
	const unsubscribe = dashboard ? () => undefined : printHeadless(session.store, line => io.stdout.write(`${line}\n`), options.json);
	const where = await session.open();
	if (where === 'running' && serve) {
		log(`serving ${socketPathOf(stateDir)} (pid ${process.pid})${options.demo && !options.stateDir ? `; attach with: envwatch --demo --state-dir ${stateDir}` : ''}`);
	} else if (where === 'attached' && !dashboard) {
		log(`attached to ${session.attachedTo!.mode} pid ${session.attachedTo!.pid} (${session.attachedTo!.host}) on ${socketPathOf(stateDir)}`);
	}

	if (dashboard) {
		// The Ink dashboard (issue 3), loaded only here so headless runs never load Ink or React.
		const {runDashboard} = await import('./ui/run.js');
		return runDashboard({store: session.store, monitor: session, noColor: !options.color, ascii: options.ascii, env: io.env, stdout: io.stdout, stdin: io.stdin, stderr: io.stderr});
	}

	if (!options.headless && !serve && !supported.ok) {
		io.stderr.write(`${supported.note}\n`);
	}

	session.start();
	return new Promise(resolve => {
		const finish = (signal: NodeJS.Signals) => {
			for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
				process.removeAllListeners(name);
			}

			// An action under way is finished, not abandoned; a second signal abandons it (each batch
			// done so far is already recorded, and the next start reports the rest as cut short).
			const progress = session.monitor?.enforcer.progress;
			if (progress) {
				io.stderr.write(`envwatch: ${signal}: finishing the ${progress.kind} of ${progress.environments.join(', ')} first: ${progress.planned - progress.done} of ${plural(progress.planned, 'agent')} left; send the signal again to abandon it\n`);
			}

			void session.stop().then(() => {
				unsubscribe();
				// As the dashboard: 128 + the signal's number (SIGHUP 129, SIGINT 130, SIGTERM 143).
				resolve(128 + (os.constants.signals[signal] ?? 0));
			});
		};

		for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
			process.once(name, finish);
		}
	});
}

/** `reset`: each environment's tripped breaker reset, here or by the server; exit 2 when one was not tripped. */
async function runReset(options: Options, io: Io, reset: (name: string) => Promise<{outcome: string; summary: string} | undefined>): Promise<number> {
	let code: number = exitCodes.ok;
	for (const name of options.environments ?? []) {
		const result = await reset(name);
		if (result?.outcome === 'refused') {
			io.stderr.write(`envwatch: reset ${name}: ${result.summary}\n`);
			code = exitCodes.usage;
		} else {
			io.stdout.write(`${name}: breaker reset; agents may run there again\n`);
		}
	}

	return code;
}

/**
 * `--once`, `stop`, `start` and `reset`: through the running server when there is one (no second poll, no
 * race), else with the engine lock taken for this run.
 */
async function runCommand(options: Options, io: Io, stateDir: string): Promise<number> {
	const command = options.command as 'once' | 'stop' | 'start' | 'reset';
	const found = await attachOrLock({stateDir, mode: command, client: command, actor: actorName()});
	if (found.kind === 'attached') {
		const {remote} = found;
		try {
			const ask = async (question: string, refusal: string) => confirm(io, options, question, refusal);
			if (command === 'reset') {
				return await runReset(options, io, async name => remote.command({kind: 'reset', environment: name}));
			}

			return command === 'once' ? await onceRemote(remote, options, io) : command === 'stop' ? await stopRemote(remote, options, io, ask) : await startRemote(remote, options, io, ask);
		} finally {
			remote.close();
		}
	}

	let runtime: Runtime | undefined;
	try {
		runtime = await createRuntime(options, io, stateDir);
		if (command === 'reset') {
			const {monitor} = runtime;
			return await runReset(options, io, async name => monitor.command({kind: 'reset', environment: name}));
		}

		return command === 'once' ? await runOnce(runtime, io) : command === 'stop' ? await runStop(runtime, io) : await runStart(runtime, io);
	} finally {
		await runtime?.monitor.stop().catch(() => undefined);
		runtime?.audit.close();
		found.lock.release();
	}
}

function describeLayers(options: Options, io: Io): string {
	const {config, layers} = loadConfig({configFile: options.configFile, env: io.env});
	const sources = layers.map(layer => `//   ${layer.label}${layer.path ? `: ${layer.path}${layer.label === 'store' && !fs.existsSync(layer.path) ? ' (not created yet)' : ''}` : ''}`);
	return `// effective configuration, from (later wins):\n${sources.join('\n')}\n${JSON.stringify(config, null, 2)}`;
}

/** Runs envwatch; resolves to the exit code. Never throws for a usage problem. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
	try {
		const options = parseArgs(argv, version);
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
			io.stderr.write(`envwatch: ${error.problems.length > 1 ? `${error.problems.length} problems:\n  ` : ''}${error.problems.join('\n  ')}\n${error.hint ? `(${error.hint})\n` : ''}`);
			return exitCodes.usage;
		}

		io.stderr.write(`envwatch: ${error instanceof Error ? error.message : String(error)}\n`);
		return exitCodes.failure;
	}
}
