import {exitCodes} from '../domain/index.js';
import {describeLease, readMirrored, toJson, type CoordinationTable, type LeaseInfo, type Snapshot} from '../engine/index.js';
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

	return printServed(served, {pid: remote.server.pid, host: remote.server.host, says: `serve pid ${remote.server.pid} on ${remote.server.host}`}, options, io);
}

/**
 * `--once` while another host's engine holds the coordination table's lease: its latest figures
 * from the table (no poll, nothing acted on here), exit codes as a local `--once`; without figures
 * to show, exit 1 saying who holds the lease.
 */
export async function onceFromTable(table: CoordinationTable, leader: LeaseInfo, options: Options, io: CommandIo): Promise<number> {
	const mirrored = await readMirrored(table, version);
	if (!('snapshot' in mirrored)) {
		io.stderr.write(`envwatch: this --once does not poll: ${heldElsewhere(table, leader)}; its figures cannot be shown (${mirrored.problem})\n`);
		return exitCodes.failure;
	}

	const snapshot = options.environments ? {...mirrored.snapshot, environments: mirrored.snapshot.environments.filter(view => options.environments!.includes(view.name))} : mirrored.snapshot;
	return printServed(snapshot, {pid: leader.pid, host: leader.host, says: `${describeLease(leader)}, the holder of the lease of ${table.name}`}, options, io);
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
