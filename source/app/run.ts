import path from 'node:path';
import type {Options} from './args.js';
import {exitCodes, plural, printable, UsageError} from '../domain/index.js';
import {auditSource} from '../engine/index.js';
import {printHeadless} from './headless.js';
import {dashboardSupported, loadDashboard} from '../ui/index.js';
import {crashReason, EngineSession, type EngineHold, hasTerminal, ignoresHangup, signalExitCode, signalReason, socketPathOf, watchCrashes, watchSignals, type SignalHandlers} from '../serve/index.js';
import {withNotifyStatus} from '../notify/index.js';
import {actorName, version, type Io} from './io.js';
import {stateDirCheck} from './state-dir.js';
import {createRuntime, flushNotifications, type Runtime} from './runtime.js';
import {startMetrics} from '../metrics/index.js';
import {openCoordination} from './coordination.js';

// The monitor's lifecycle: the dashboard, headless and serve runs, from start to their one `down` line.

const ignoreError = () => undefined;

/**
 * The dashboard, headless mode and `serve`: attached to the server on the state dir when one
 * answers, else running the engine here and serving the same socket (so a second dashboard
 * attaches instead of starting a second enforcer). `serve` only ever runs the engine.
 */
export async function runMonitor(options: Options, io: Io, stateDir: string, build?: (guard?: readonly string[], hold?: EngineHold) => Promise<Runtime>): Promise<number> {
	const checkState = stateDirCheck(options, io, stateDir);
	// `coordination.dynamodb`: one engine per table (the lease), the others standbys showing its figures.
	const {config, coordination} = await openCoordination(options, io.env);
	build ??= async (guard, hold) => createRuntime(options, io, stateDir, checkState, guard, hold, config);
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
		async createEngine(guard, hold) {
			runtime = await build(guard, hold);
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
		...(coordination ? {coordination} : {}),
	});
	// Metrics listen before anything polls; their counters follow the engine this process runs.
	const metrics = await startMetrics(options.metricsListen, session.store, line => log(line));
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
		// What the server says of itself comes from a socket peer: escaped, never sent to the terminal as it is.
		const server = session.attachedTo!;
		log(`attached to ${printable(server.mode)} pid ${server.pid} (${printable(server.host)}) on ${socketPathOf(stateDir)}`);
	}

	if (dashboard) {
		return runDashboardSession({options, io, stateDir, session, metrics, runtime: () => runtime, onStopped: handler => (stopped = handler)}).finally(() => coordination?.table.close());
	}

	if (!options.headless && !serve && !supported.ok) {
		io.stderr.write(`${supported.note}\n`);
	}

	return runUntilEnd({io, session, serve, log, ignoreHangup, metrics, unsubscribe, runtime: () => runtime, setClosed: () => (closed = true), setGiveUp: handler => (giveUp = handler), setStopped: handler => (stopped = handler)}).finally(() => coordination?.table.close());
}

/** A headless or serve run as runMonitor starts it: its session, its metrics and output, and setters of its handlers. */
type Running = {
	io: Io;
	session: EngineSession;
	serve: boolean;
	log: (line: string) => void;
	ignoreHangup: boolean;
	metrics: Metrics;
	/** Stops printing snapshots. */
	unsubscribe: () => void;
	/** The engine this process runs, when it runs one. */
	runtime: () => Runtime | undefined;
	/** stdout is gone: print no more. */
	setClosed: () => void;
	setGiveUp: (handler: (error: string) => void) => void;
	setStopped: (handler: (reason: string) => void) => void;
};

type Metrics = Awaited<ReturnType<typeof startMetrics>>;

/**
 * A headless or serve run until it ends: on a signal, a crash, stdout going away, the engine giving
 * up or stopping by itself; each is the engine's one `down` line (written by the session as it stops).
 */
async function runUntilEnd(running: Running): Promise<number> {
	const {io, session, metrics, unsubscribe} = running;
	const events = io.events ?? process;
	return new Promise(resolve => {
		let finished = false;
		let stopWatching = () => undefined as void;
		let crashTimer: NodeJS.Timeout | undefined;
		const done = async (code: number, bound?: number) => {
			clearTimeout(crashTimer);
			await metrics?.close();
			await flushNotifications(running.runtime(), io, bound);
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
			running.setClosed();
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
		running.setGiveUp(error => {
			io.stderr.write(`envwatch: giving up: ${error}\n`);
			finish(exitCodes.failure, `gave up: ${error}`);
		});

		running.setStopped(reason => {
			io.stderr.write(`envwatch: ${reason}; exiting (1)\n`);
			finish(exitCodes.failure, reason);
		});

		const unwatchSignals = watchSignals(signalHandlers(running, finish, abandon), events);
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

/** A second signal abandons what the first lets finish; SIGHUP is ignored (said once) where it should be. */
function signalHandlers(running: Running, finish: (code: number, reason: string) => void, abandon: (code: number, reason: string) => void): SignalHandlers {
	return {
		ignoreHangup: running.ignoreHangup,
		onHangup(count) {
			if (count === 1) {
				const why = `SIGHUP ignored: ${running.serve ? 'a server' : 'a run without a terminal'} goes on when the terminal it was started from goes away (stop it with SIGTERM); said once`;
				running.log(why);
				running.session.note({type: 'decision', actor: 'auto', kind: 'signal', environments: [], reason: why, instanceIds: []});
			}
		},
		// As the dashboard: 128 + the signal's number (SIGHUP 129, SIGINT 130, SIGTERM 143).
		onSignal(signal, count) {
			// An action under way is finished, not abandoned; a second signal abandons it (each batch
			// done so far is already recorded, and the next start reports the rest as cut short).
			const progress = running.session.monitor?.enforcer.progress;
			const what = progress ? `the ${progress.kind} of ${progress.environments.join(', ')}` : undefined;
			const left = progress ? `${what}: ${progress.planned - progress.done} of ${plural(progress.planned, 'agent')} left` : undefined;
			if (count === 1) {
				if (progress) {
					running.io.stderr.write(`envwatch: ${signal}: finishing ${what} first: ${progress.planned - progress.done} of ${plural(progress.planned, 'agent')} left; send the signal again to abandon it\n`);
				}

				finish(signalExitCode(signal), signalReason(signal));
			} else {
				running.io.stderr.write(`envwatch: ${signal} again: ending now${left ? `, abandoning ${left}` : ''}\n`);
				abandon(signalExitCode(signal), `${signalReason(signal)} again: ended at once${left ? `, abandoning ${left}` : ''}`);
			}
		},
	};
}

/**
 * The dashboard's run: it ends on `q`, a signal, the terminal going away, a crash, or its engine
 * stopping by itself; each is the engine's one `down` line (written by the session as it stops).
 */
async function runDashboardSession(parts: {options: Options; io: Io; stateDir: string; session: EngineSession; metrics: Metrics; runtime: () => Runtime | undefined; onStopped: (handler: (reason: string) => void) => void}): Promise<number> {
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
	const runDashboard = await loadDashboard();
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
