import {exitCodes, expandNames, printable, UsageError} from '../domain/index.js';
import {pollInterval} from '../config/index.js';
import {setTimeout as delay} from 'node:timers/promises';
import {breachFound, describeLease, onceWaitMs, readLease, readMirrored, toJson, type CoordinationTable, type LeaseInfo, type Snapshot} from '../engine/index.js';
import {version} from '../app/io.js';
import {heldElsewhere} from '../app/coordination.js';
import {formatDashboard} from '../app/headless.js';
import type {Io} from '../app/io.js';
import type {Runtime} from '../app/runtime.js';
import type {Options} from '../app/args.js';
import type {RemoteEngine} from '../serve/index.js';
import {snapshotOf} from './remote.js';
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
	const engine = `the running server (pid ${remote.server.pid} on ${remote.server.host})`;
	return printServed(served, {pid: remote.server.pid, host: remote.server.host, says: `serve pid ${remote.server.pid} on ${printable(remote.server.host)}`}, rowsNamed(served, options, engine), options, io);
}

/**
 * `--once` while another host's engine holds the coordination table's lease: its latest figures
 * from the table (no poll, nothing acted on here), exit codes as a local `--once`. A leader that has
 * written no figures yet (on its first poll; the table's may be an earlier engine's, never shown as
 * its) is waited for up to `waitMs`, as a local `--once` waits for its prices; without its figures
 * by then, or if it lets the lease go meanwhile, exit 1 saying who holds the lease: cron must hear
 * that nothing looked, and this run never polls or acts beside a leader. Figures too old to be a
 * live leader's (`tooOld`) are exit 1 too, never "all clear".
 */
export async function onceFromTable(table: CoordinationTable, leader: LeaseInfo, options: Options, io: CommandIo, waitMs = onceWaitMs, clock: () => number = Date.now): Promise<number> {
	const until = Date.now() + waitMs;
	let current = leader;
	for (;;) {
		const mirrored = await readMirrored(table, version, current, clock());
		if ('snapshot' in mirrored) {
			const {snapshot} = mirrored;
			const names = rowsNamed(snapshot, options, `the engine holding the lease of ${table.name} (${describeLease(current)})`);
			const code = printServed(snapshot, {pid: current.pid, host: current.host, says: `${printable(describeLease(current))}, the holder of the lease of ${table.name}`}, names, options, io);
			const old = tooOld(snapshot, clock());
			if (old === undefined) {
				return code;
			}

			io.stderr.write(`envwatch: ${printable(old)}: not taken for "all clear" (exit 1)\n`);
			return exitCodes.failure;
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

/**
 * Why the leader's figures (from the table) are too old to be a live leader's: older than three of
 * its polls and a minute, by this host's clock (the leader's may differ); undefined when they are
 * not. Its mirror writes may be failing (it says so in its log) while this run would see "all clear".
 */
export function tooOld(snapshot: Snapshot, now: number): string | undefined {
	const interval = snapshot.pollIntervalSeconds;
	if (typeof interval !== 'number' || !(interval >= pollInterval.min && interval <= pollInterval.max)) {
		return `the leader's figures say a poll interval of ${String(interval).slice(0, 20)} s, not one envwatch uses (${pollInterval.min} to ${pollInterval.max}): their age cannot be judged`;
	}

	const boundMs = (3 * interval + 60) * 1000;
	const ageMs = now - snapshot.at;
	if (ageMs <= boundMs) {
		return undefined;
	}

	return `the leader's figures are ${age(ageMs)} old by this host's clock (made at ${new Date(snapshot.at).toISOString()} by its clock; the two may differ), more than 3 polls of ${interval}s and a minute: its engine may be stuck, or failing to write them to the table (its log says which)`;
}

function age(ms: number): string {
	const seconds = Math.round(ms / 1000);
	return seconds < 120 ? `${seconds}s` : seconds < 7200 ? `${Math.round(seconds / 60)}m` : `${Math.round(seconds / 3600)}h`;
}

/**
 * `--environments` on another engine's figures: each name as its rows (a name split by account
 * means all of its rows, `dev` -> `dev@sandbox`, as the runtime expands it); a name that engine
 * does not monitor is a usage error (exit 2) naming it. Undefined without the flag (every row).
 */
function rowsNamed(snapshot: Snapshot, options: Options, engine: string): string[] | undefined {
	if (!options.environments) {
		return undefined;
	}

	const rows: Record<string, {splitOf?: string}> = Object.create(null) as Record<string, {splitOf?: string}>;
	for (const view of snapshot.environments) {
		const at = view.name.lastIndexOf('@');
		rows[view.name] = at > 0 ? {splitOf: view.name.slice(0, at)} : {};
	}

	const known = new Set([...Object.keys(rows), ...Object.values(rows).flatMap(row => (row.splitOf === undefined ? [] : [row.splitOf]))]);
	const missing = [...new Set(options.environments)].filter(name => !known.has(name));
	if (missing.length > 0) {
		throw new UsageError(missing.map(name => `${options.environmentsFlag} ${name}: not an environment ${engine} monitors — expected one of: ${[...known].join(', ')}`));
	}

	return expandNames(options.environments, rows);
}

/** Another engine's figures printed as --once prints its own, saying whose they are; `names`: the rows asked for (all when undefined); the exit code from them. */
function printServed(served: Snapshot, by: {pid: number; host: string; says: string}, names: readonly string[] | undefined, options: Options, io: CommandIo): number {
	const snapshot = names ? {...served, environments: served.environments.filter(view => names.includes(view.name))} : served;
	const {attachedTo: _attached, ...plain} = snapshot;
	io.stdout.write(`${options.json ? JSON.stringify({...toJson(plain), servedBy: {pid: by.pid, host: by.host}}) : `${formatDashboard(plain)}\n(from the engine of ${by.says})`}\n`);
	if (breachFound(snapshot, names)) {
		return exitCodes.breach;
	}

	return snapshot.error ? exitCodes.failure : exitCodes.ok;
}
