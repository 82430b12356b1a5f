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
import {AuditLog} from './engine/audit.js';
import {Monitor} from './engine/monitor.js';
import {defaultStateDir, StateStore} from './engine/state.js';
import {doctor} from './doctor.js';
import {SnapshotStore} from './engine/store.js';
import {toJson} from './engine/snapshot.js';
import {formatDashboard, printHeadless} from './headless.js';
import {createProvider} from './providers/index.js';
import {packageRoot} from './paths.js';
import {simRegions} from './providers/sim/account.js';
import {dashboardSupported} from './ui/terminal.js';

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
	const isConfigured = (name: string) => Object.hasOwn(config.environments, name);
	const problems = [
		...(options.environments ?? []).filter(name => !isConfigured(name)).map(name => `${options.environmentsFlag} ${name}: not a configured environment — expected one of: ${configured.join(', ')}`),
		...(options.confirm ?? []).filter(name => !isConfigured(name)).map(name => `--confirm ${name}: not a configured environment — expected one of: ${configured.join(', ')}`),
	];
	if (problems.length > 0) {
		throw new UsageError(problems);
	}

	return options.environments ? [...new Set(options.environments)] : configured;
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
	fs.writeFileSync(probe, 'envwatch write check\n', {flag: 'wx'});
	fs.unlinkSync(probe);
}

function osError(error: unknown): string {
	const {code, message} = error as NodeJS.ErrnoException;
	return code ? `${code}: ${message.replace(`${code}: `, '')}` : String(error);
}

/**
 * The state dir and the audit log must be writable before anything polls: a guard that cannot
 * record what it did must not act. The problem names where the path came from.
 */
function checkWritable(options: Options, env: NodeJS.ProcessEnv, stateDir: string, auditFile: string): void {
	const stateSource = options.stateDir !== undefined ? '--state-dir' : env['ENVWATCH_STATE_DIR'] ? 'ENVWATCH_STATE_DIR' : 'the state dir';
	try {
		probeDirectory(stateDir);
	} catch (error) {
		throw new UsageError(`${stateSource} ${stateDir}: cannot create or write it (${osError(error)}) — expected a writable directory`);
	}

	const auditSource = options.auditLog !== undefined ? '--audit-log' : `the audit log (in ${stateSource})`;
	try {
		probeDirectory(path.dirname(auditFile));
		fs.closeSync(fs.openSync(auditFile, 'a', 0o600));
	} catch (error) {
		throw new UsageError(`${auditSource} ${auditFile}: cannot create or append to it (${osError(error)}) — expected a writable file path`);
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

async function createRuntime(options: Options, io: Io): Promise<Runtime> {
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
	// A demo keeps its own fresh state, so a previous run's history is never taken for a spike.
	const stateDir = options.stateDir ?? (options.demo ? demoStateDir() : defaultStateDir(io.env));
	const auditFile = options.auditLog ?? path.join(stateDir, 'audit.log');
	checkWritable(options, io.env, stateDir, auditFile);
	const provider = await createProvider(options, config);
	const store = new SnapshotStore();
	const audit = new AuditLog(auditFile);
	try {
		audit.open();
	} catch (error) {
		throw new UsageError(`${options.auditLog === undefined ? 'the audit log' : '--audit-log'} ${audit.file}: cannot open it for appending (${osError(error)}) — expected a writable file path`);
	}

	const monitor = new Monitor({
		provider,
		config,
		monitored,
		store,
		state: new StateStore(stateDir),
		audit,
		clock: Date.now,
		options: {dryRun: options.dryRun, readOnly: options.readOnly, actor: actorName(), paused: options.command === 'stop' || options.command === 'start'},
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
			io.stdout.write(`${result.summary}\n`);
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
	let code: number = exitCodes.ok;
	for (const name of runtime.monitored) {
		const policy = config.environments[name]!;
		const plan = await monitor.launcher.plan(name);
		const count = options.count ?? plan?.count ?? 1;
		const listed = await monitor.enforcer.targets([name], ['pending', 'running']);
		if (listed.errors.length > 0) {
			io.stderr.write(`envwatch: start in ${name} refused: cannot count its running agents (${listed.errors.join('; ')})\n`);
			code = exitCodes.failure;
			continue;
		}

		const running = listed.instances.length;
		const check = checkStart(name, policy, running, count);
		if (!check.ok) {
			io.stderr.write(`envwatch: start ${count} agent${count === 1 ? '' : 's'} in ${name} refused: ${check.reason}\n`);
			code = exitCodes.usage;
			continue;
		}

		const type = plan!.instanceType;
		const question = `Start ${count} ${type ?? ''} agent${count === 1 ? '' : 's'} in ${name} (${running} running${typeof policy.maxAgents === 'number' ? `, at most ${policy.maxAgents}` : ''}), adding ${launchCost(config.prices, type, count)}?`;
		if (!(await confirm(io, options, question.replace('  ', ' '), `start: refusing to start ${count} agents in ${name}`))) {
			io.stdout.write(`Not started: ${name}.\n`);
			continue;
		}

		const result = await monitor.command({kind: 'start', environment: name, count});
		if (result) {
			io.stdout.write(`${result.summary}\n`);
			if (result.outcome === 'failed' || result.outcome === 'refused') {
				code = result.outcome === 'refused' ? exitCodes.usage : exitCodes.failure;
			}
		}
	}

	await monitor.stop();
	return code;
}

async function runMonitor(runtime: Runtime, io: Io): Promise<number> {
	const {monitor, store, options, audit} = runtime;
	const supported = dashboardSupported(io.stdin, io.stdout);
	if (!options.headless && supported.ok) {
		// The Ink dashboard (issue 3), loaded only here so headless runs never load Ink or React.
		const {runDashboard} = await import('./ui/run.js');
		return runDashboard({store, monitor, audit, noColor: !options.color, ascii: options.ascii, env: io.env, stdout: io.stdout, stdin: io.stdin, stderr: io.stderr});
	}

	if (!options.headless && !supported.ok) {
		io.stderr.write(`${supported.note}\n`);
	}

	const unsubscribe = printHeadless(store, line => io.stdout.write(`${line}\n`), options.json);
	monitor.start();
	return new Promise(resolve => {
		const finish = (signal: NodeJS.Signals) => {
			for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
				process.removeAllListeners(name);
			}

			void monitor.stop().then(() => {
				unsubscribe();
				audit.close();
				// As the dashboard: 128 + the signal's number (SIGHUP 129, SIGINT 130, SIGTERM 143).
				resolve(128 + (os.constants.signals[signal] ?? 0));
			});
		};

		for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
			process.once(name, finish);
		}
	});
}

/** `config show`: the effective configuration and the layers it came from (later wins). */
function describeLayers(options: Options, io: Io): string {
	const {config, layers} = loadConfig({configFile: options.configFile, env: io.env});
	const sources = layers.map(layer => ({label: layer.label, ...(layer.path ? {path: layer.path, exists: fs.existsSync(layer.path)} : {})}));
	if (options.json) {
		return JSON.stringify({config, layers: sources}, null, 2);
	}

	const lines = sources.map(layer => `//   ${layer.label}${layer.path ? `: ${layer.path}${layer.exists ? '' : ' (not created yet)'}` : ''}`);
	return `// effective configuration, from (later wins):\n${lines.join('\n')}\n${JSON.stringify(config, null, 2)}`;
}

/** Runs envwatch; resolves to the exit code. Never throws for a usage problem. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
	let runtime: Runtime | undefined;
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

		runtime = await createRuntime(options, io);
		switch (options.command) {
			case 'once': {
				return await runOnce(runtime, io);
			}

			case 'stop': {
				return await runStop(runtime, io);
			}

			case 'start': {
				return await runStart(runtime, io);
			}

			case 'reset': {
				throw new UsageError('reset: not implemented in this build yet — expected a build with breakers (nothing was changed)');
			}

			default: {
				return await runMonitor(runtime, io);
			}
		}
	} catch (error) {
		await runtime?.monitor.stop().catch(() => undefined);
		runtime?.audit.close();
		if (error instanceof UsageError) {
			io.stderr.write(`envwatch: ${error.total > 1 ? `${error.total} problems:\n  ` : ''}${error.problems.join('\n  ')}\n${error.hint ? `(${error.hint})\n` : ''}`);
			return exitCodes.usage;
		}

		io.stderr.write(`envwatch: ${error instanceof Error ? error.message : String(error)}\n`);
		return exitCodes.failure;
	}
}
