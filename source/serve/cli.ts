import type {Options} from '../args.js';
import {launchCost} from '../domain/agents.js';
import {tableBook} from '../domain/pricing.js';
import {money} from '../domain/format.js';
import {plural} from '../engine/enforcer.js';
import {describeHolder, inspectLock} from '../engine/lock.js';
import {toJson, type Snapshot} from '../engine/snapshot.js';
import {exitCodes, UsageError} from '../errors.js';
import {formatDashboard} from '../headless.js';
import {connectServer, type RemoteEngine} from './client.js';
import {socketPathOf} from './session.js';

/** The subcommands' side of a running server: `--once`, `stop`, `start` and `status` through the socket. */
type Io = {stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; stdin?: NodeJS.ReadableStream};
type Confirm = (question: string, refusal: string) => Promise<boolean>;

const iso = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString());

async function snapshotOf(remote: RemoteEngine): Promise<Snapshot> {
	// The server's first poll may be under way: wait for it (a slow account answers within a minute).
	const snapshot = await remote.firstSnapshot(60_000);
	if (!snapshot) {
		throw new Error(`the server (pid ${remote.server.pid}) has not finished a poll within 60s: nothing to show; try again`);
	}

	return snapshot;
}

/** `--once` beside a server: its latest snapshot, no poll of this process's own. Exit codes as a local `--once`. */
export async function onceRemote(remote: RemoteEngine, options: Options, io: Io): Promise<number> {
	const served = await snapshotOf(remote);
	// --environments picks rows of the server's figures (its global total stays the server's).
	if (options.environments) {
		checkMonitored(remote, served, options.environments, '--environments');
	}

	const snapshot = options.environments ? {...served, environments: served.environments.filter(view => options.environments!.includes(view.name))} : served;
	const {attachedTo: _attached, ...plain} = snapshot;
	io.stdout.write(`${options.json ? JSON.stringify({...toJson(plain), servedBy: {pid: remote.server.pid, host: remote.server.host}}) : `${formatDashboard(plain)}\n(from the engine of serve pid ${remote.server.pid} on ${remote.server.host})`}\n`);
	const breach = [...snapshot.environments, snapshot.global].some(view => view.level === 'breach' && !view.stale);
	if (breach) {
		return exitCodes.breach;
	}

	return snapshot.error ? exitCodes.failure : exitCodes.ok;
}

function checkMonitored(remote: RemoteEngine, snapshot: Snapshot, names: string[], flag: string): void {
	const watched = snapshot.environments.map(view => view.name);
	const missing = names.filter(name => !watched.includes(name));
	if (missing.length > 0) {
		throw new UsageError(missing.map(name => `${flag} ${name}: not an environment the running server (pid ${remote.server.pid} on ${remote.server.host}) monitors — expected one of: ${watched.join(', ')}`));
	}
}

/**
 * `stop` / `--stop-env` through the server: the same confirmations (a monitor-only environment by
 * its typed name or --confirm), the server's figures, its enforcer.
 */
export async function stopRemote(remote: RemoteEngine, options: Options, io: Io, prompts: {confirm: Confirm; ask: (question: string) => Promise<string>}): Promise<number> {
	const snapshot = await snapshotOf(remote);
	const names = options.environments ?? [];
	const flag = options.environmentsFlag;
	checkMonitored(remote, snapshot, names, flag);
	const monitorOnly = (name: string) => snapshot.environments.find(item => item.name === name)?.policy?.onBreach === 'alert';
	const unnamed = names.filter(name => monitorOnly(name) && !(options.confirm ?? []).includes(name));
	const terminal = Boolean((io.stdin as NodeJS.ReadStream | undefined)?.isTTY && (io.stdout as NodeJS.WriteStream).isTTY);
	if (unnamed.length > 0 && (options.yes || !terminal)) {
		throw new UsageError(unnamed.map(name => `${flag} ${name}: ${name} is monitor only (onBreach: alert) — name it to stop it: --confirm ${name}${options.yes ? ' (--yes alone is not enough)' : ''}; nothing was stopped`));
	}

	let failed = false;
	for (const name of names) {
		const view = snapshot.environments.find(item => item.name === name)!;
		const ids = view.agentIds ?? [];
		const blast = `${ids.length} agent${ids.length === 1 ? '' : 's'} in ${name}${ids.length > 0 ? ` (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', ...' : ''})` : ''}, saving ${money(view.agentHourlyUsd ?? 0)}/h of ${money(view.hourlyUsd)}/h (as of the server's last poll)`;
		let typed = (options.confirm ?? []).includes(name) ? name : undefined;
		if (monitorOnly(name) && typed === undefined) {
			typed = await prompts.ask(`${name} is monitor only. Stop ${blast}? Type ${name} to confirm:`);
			if (typed !== name) {
				io.stdout.write(`Not stopped: ${name} (the name was not typed).\n`);
				continue;
			}
		} else if (!(await prompts.confirm(`Stop ${blast}?`, `${flag === '--stop-env' ? '--stop-env' : 'stop'} ${name}: refusing to stop ${blast}`))) {
			io.stdout.write(`Not stopped: ${name}.\n`);
			continue;
		}

		const result = await remote.command({kind: 'stop', environment: name, ...(typed === undefined ? {} : {confirm: typed})});
		if (result) {
			io.stdout.write(`${snapshot.mode.dryRun ? '[dry run] ' : ''}${result.summary}\n`);
			failed ||= result.outcome === 'failed';
		}
	}

	return failed ? exitCodes.failure : exitCodes.ok;
}

/** `start` through the server: its policy check (which counts running agents afresh) decides. */
export async function startRemote(remote: RemoteEngine, options: Options, io: Io, confirm: Confirm): Promise<number> {
	const snapshot = await snapshotOf(remote);
	const names = options.environments ?? [];
	checkMonitored(remote, snapshot, names, '--environments');
	let code: number = exitCodes.ok;
	for (const name of names) {
		const view = snapshot.environments.find(item => item.name === name)!;
		const count = options.count ?? view.launch?.count ?? 1;
		const type = view.launch?.instanceType ?? undefined;
		const prices: Record<string, number> = type && view.launch?.usdPerHourEach !== null && view.launch?.usdPerHourEach !== undefined ? {[type]: view.launch.usdPerHourEach} : {};
		const question = `Start ${plural(count, `${type ?? ''} agent`.trim())} in ${name} (${view.agents.running} running${typeof view.agents.allowed === 'number' ? `, at most ${view.agents.allowed}` : ''}), adding ${launchCost(tableBook(prices), '', type, count)}?`;
		if (!(await confirm(question, `start: refusing to start ${plural(count, 'agent')} in ${name}`))) {
			io.stdout.write(`Not started: ${name}.\n`);
			continue;
		}

		const result = await remote.command({kind: 'start', environment: name, count});
		if (result) {
			io.stdout.write(`${snapshot.mode.dryRun ? '[dry run] ' : ''}${result.summary}\n`);
			if (result.outcome === 'failed' || result.outcome === 'refused') {
				code = result.outcome === 'refused' ? exitCodes.usage : exitCodes.failure;
			}
		}
	}

	return code;
}

/** `reset` through the server: each tripped breaker, after a confirmation naming who tripped it and when. */
export async function resetRemote(remote: RemoteEngine, options: Options, io: Io, confirm: Confirm): Promise<number> {
	const snapshot = await snapshotOf(remote);
	const names = options.environments ?? [];
	checkMonitored(remote, snapshot, names, options.environmentsFlag);
	return resetEach(names, snapshot, async command => remote.command(command), io, confirm);
}

/**
 * `reset` for each named environment, whether the engine runs here or behind the socket: each
 * tripped breaker after a confirmation naming who tripped it and when; one not tripped is said so.
 */
export async function resetEach(names: string[], snapshot: Snapshot, command: (command: {kind: 'reset'; environment: string}) => Promise<{outcome: string; summary: string} | undefined>, io: Io, confirm: Confirm): Promise<number> {
	let code: number = exitCodes.ok;
	for (const name of names) {
		const breaker = snapshot.environments.find(view => view.name === name)?.breaker;
		if (!breaker) {
			io.stdout.write(`${name}: not held (its breaker is not tripped); nothing to reset.\n`);
			continue;
		}

		const held = `${name} is held stopped since ${new Date(breaker.trippedAt).toISOString()} (${breaker.actor}: ${breaker.reason})`;
		if (!(await confirm(`${held}. Reset its breaker, so agents may run in ${name} again (no longer stopped as re-spawns; its limits still apply)?`, `reset ${name}: refusing to reset the breaker`))) {
			io.stdout.write(`Not reset: ${name}.\n`);
			continue;
		}

		const result = await command({kind: 'reset', environment: name});
		if (result?.outcome === 'refused') {
			io.stderr.write(`envwatch: ${result.summary}\n`);
			code = exitCodes.failure;
		} else {
			io.stdout.write(`${name}: breaker reset; agents may run there again.\n`);
		}
	}

	return code;
}

/** `envwatch status`: who runs the engine on the state dir, who is attached, the last poll. 0 when a server answers, 1 otherwise. */
export async function printStatus(stateDir: string, actor: string, io: Io): Promise<number> {
	const connection = await connectServer(socketPathOf(stateDir), {actor, client: 'status'});
	if (connection.kind === 'attached') {
		const status = await connection.remote.status();
		connection.remote.close();
		const clients = status.clients.filter(client => client.client !== 'status');
		io.stdout.write([
			`engine: ${status.mode} pid ${status.pid} on ${status.host}, since ${iso(status.since)} (envwatch ${status.version})`,
			`state dir: ${status.stateDir}`,
			`last poll: ${iso(status.lastPoll)} (${status.polls} polls; last fresh data ${iso(status.lastSuccessAt)})${status.error ? `; failing: ${status.error}` : ''}`,
			`attached: ${clients.length === 0 ? 'nobody' : clients.map(client => `${client.actor} (${client.client}, pid ${client.pid}, since ${iso(client.connectedAt)})`).join('; ')}`,
		].join('\n') + '\n');
		return exitCodes.ok;
	}

	if (connection.kind === 'denied' || connection.kind === 'silent') {
		io.stderr.write(`envwatch: ${connection.message}\n`);
	}

	const lock = inspectLock(stateDir);
	switch (lock.kind) {
		case 'free': {
			io.stdout.write(`engine: none runs on ${stateDir} (no server, no lock)\n`);
			break;
		}

		case 'held': {
			io.stdout.write(`engine: held by ${describeHolder(lock.info)}, last heartbeat ${iso(lock.info.heartbeatAt)}; its socket does not answer${lock.info.mode === 'serve' || lock.info.mode === 'dashboard' ? '' : ' (a one-off run: it serves no socket)'}\n`);
			break;
		}

		case 'stale': {
			io.stdout.write(`engine: none runs on ${stateDir}; a stale lock is left from ${describeHolder(lock.info)}: ${lock.why} (the next run takes it over)\n`);
			break;
		}

		case 'unreadable': {
			io.stdout.write(`engine: unknown — ${lock.why}\n`);
			break;
		}
	}

	return exitCodes.failure;
}
