import {exitCodes, printable} from '../domain/index.js';
import {setTimeout as delay} from 'node:timers/promises';
import {describeLease, onceWaitMs, readLease, readMirrored, toJson, type CoordinationTable, type LeaseInfo, type Snapshot} from '../engine/index.js';
import {version} from '../app/io.js';
import {heldElsewhere} from '../app/coordination.js';
import {formatDashboard} from '../app/headless.js';
import type {Io} from '../app/io.js';
import type {Runtime} from '../app/runtime.js';
import type {Options} from '../app/args.js';
import type {RemoteEngine} from '../serve/index.js';
import {checkMonitored, snapshotOf} from './remote.js';
import type {CommandIo} from './side.js';

// `--once`: one poll, its figures printed, an exit code for cron.

export async function runOnce(runtime: Runtime, io: Io): Promise<number> {
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
	if (breachFound(snapshot)) {
		return exitCodes.breach;
	}

	// Stale data is not "all clear", nor is an action or decision that could not be recorded:
	// cron must hear that envwatch could not look, or could not write down what it did.
	return snapshot.error || snapshot.recordError ? exitCodes.failure : exitCodes.ok;
}

/** `--once` beside a server: its latest snapshot, no poll of this process's own. Exit codes as a local `--once`. */
export async function onceRemote(remote: RemoteEngine, options: Options, io: CommandIo): Promise<number> {
	const served = await snapshotOf(remote);
	// --environments picks rows of the server's figures (its global total stays the server's).
	if (options.environments) {
		checkMonitored(remote, served, options.environments, '--environments');
	}

	return printServed(served, {pid: remote.server.pid, host: remote.server.host, says: `serve pid ${remote.server.pid} on ${printable(remote.server.host)}`}, options, io);
}

/**
 * `--once` while another host's engine holds the coordination table's lease: its latest figures
 * from the table (no poll, nothing acted on here), exit codes as a local `--once`. A leader that has
 * written no figures yet (on its first poll; the table's may be an earlier engine's, never shown as
 * its) is waited for up to `waitMs`, as a local `--once` waits for its prices; without its figures
 * by then, or if it lets the lease go meanwhile, exit 1 saying who holds the lease: cron must hear
 * that nothing looked, and this run never polls or acts beside a leader.
 */
export async function onceFromTable(table: CoordinationTable, leader: LeaseInfo, options: Options, io: CommandIo, waitMs = onceWaitMs): Promise<number> {
	const until = Date.now() + waitMs;
	let current = leader;
	for (;;) {
		const mirrored = await readMirrored(table, version, current);
		if ('snapshot' in mirrored) {
			return printServed(mirrored.snapshot, {pid: current.pid, host: current.host, says: `${printable(describeLease(current))}, the holder of the lease of ${table.name}`}, options, io);
		}

		let why = mirrored.problem;
		if (mirrored.pending && Date.now() < until) {
			await delay(Math.min(1000, Math.max(0, until - Date.now())));
			const now = await readLease(table);
			if (now && !now.released) {
				current = now;
				continue;
			}

			why = `${why}; then it let the lease go (its engine ended) while this run waited: run again`;
		} else if (mirrored.pending) {
			why = `${why} within ${Math.round(waitMs / 1000)}s`;
		}

		io.stderr.write(`envwatch: this --once does not poll: ${printable(heldElsewhere(table, current))}; its figures cannot be shown (${printable(why)}): nothing looked at or acted on here (exit 1)\n`);
		return exitCodes.failure;
	}
}

/** Another engine's figures printed as --once prints its own, saying whose they are; the exit code from them. */
function printServed(served: Snapshot, by: {pid: number; host: string; says: string}, options: Options, io: CommandIo): number {
	const snapshot = options.environments ? {...served, environments: served.environments.filter(view => options.environments!.includes(view.name))} : served;
	const {attachedTo: _attached, ...plain} = snapshot;
	io.stdout.write(`${options.json ? JSON.stringify({...toJson(plain), servedBy: {pid: by.pid, host: by.host}}) : `${formatDashboard(plain)}\n(from the engine of ${by.says})`}\n`);
	if (breachFound(snapshot, options.environments)) {
		return exitCodes.breach;
	}

	return snapshot.error ? exitCodes.failure : exitCodes.ok;
}

/**
 * A breach the poll found counts even when its stop already ended it (the figures show the
 * action's result); with `names` (a server's `--once -e`), only those environments' and the
 * total's. A snapshot that does not say (an older server's) is judged by its figures.
 */
function breachFound(snapshot: Snapshot, names?: readonly string[]): boolean {
	if (snapshot.breachFoundIn) {
		return snapshot.breachFoundIn.some(name => name === 'global' || !names || names.includes(name));
	}

	return (names ? undefined : snapshot.breachFound) ?? [...snapshot.environments, snapshot.global].some(view => view.level === 'breach' && !view.stale);
}
