import type {Options} from '../app/args.js';
import {checkAgents, launchCost} from '../domain/agents.js';
import {tableBook} from '../domain/pricing.js';
import {money, plural} from '../domain/format.js';
import {describeHolder, inspectLock} from '../engine/state/lock.js';
import type {Command} from '../engine/monitor.js';
import {toJson, type Snapshot} from '../engine/snapshot.js';
import {exitCodes, UsageError} from '../domain/errors.js';
import {formatDashboard} from '../app/headless.js';
import {connectServer, type RemoteEngine} from '../serve/client.js';
import {socketPathOf} from '../serve/session.js';

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

/** The engine's side of `stop` and `start`, whether it runs in this process or behind the socket. */
export type CommandSide = {
	/** `[dry run]`: this run's --dry-run when the engine runs here, the server's mode when attached. */
	dryRun: boolean;
	/** Where the figures in the questions come from ('' when counted afresh here). */
	asOf: string;
	monitorOnly: (name: string) => boolean;
	/** Runs after the monitor-only refusal and before the first question (a poll, here). */
	prepare?: () => Promise<void>;
	/** What stopping `name` stops: its agents, the $/h they cost (null: unpriced), its total (null: stale, with why). */
	stopTargets: (name: string) => Promise<{ids: string[]; savesUsd: number | null; totalUsd: number | null; stale: string | null} | {error: string}>;
	/** The start check of `count` (undefined: the launch template's) more agents in `name`. */
	planStart: (name: string, count: number | undefined) => Promise<StartPlan | {refused: string; counted: boolean}>;
	command: (command: Command) => Promise<{outcome: string; summary: string} | undefined>;
};

export type StartPlan = {count: number; running: number; cap: number | undefined; type: string | undefined; cost: string};

type Prompts = {confirm: Confirm; ask: (question: string) => Promise<string>};

function isTerminal(io: Io): boolean {
	return Boolean((io.stdin as NodeJS.ReadStream | undefined)?.isTTY && (io.stdout as NodeJS.WriteStream).isTTY);
}

/**
 * `stop` / `--stop-env`, wherever the engine runs: a monitor-only environment is stopped only when
 * the person names it (typed, or --confirm; --yes is not enough), each environment after a
 * confirmation naming what it stops and saves; exit 1 when a stop failed or its agents could not
 * be listed.
 */
export async function stopEach(names: string[], side: CommandSide, options: Options, io: Io, prompts: Prompts): Promise<number> {
	const flag = options.environmentsFlag;
	const unnamed = names.filter(name => side.monitorOnly(name) && !(options.confirm ?? []).includes(name));
	if (unnamed.length > 0 && (options.yes || !isTerminal(io))) {
		throw new UsageError(unnamed.map(name => `${flag} ${name}: ${name} is monitor only (onBreach: alert) — name it to stop it: --confirm ${name}${options.yes ? ' (--yes alone is not enough)' : ''}; nothing was stopped`));
	}

	await side.prepare?.();
	let failed = false;
	for (const name of names) {
		const targets = await side.stopTargets(name);
		if ('error' in targets) {
			io.stderr.write(`envwatch: stop ${name} not done: cannot list its agents (${targets.error})\n`);
			failed = true;
			continue;
		}

		const {ids, savesUsd, totalUsd, stale} = targets;
		// Stale figures are shown as unknown, never as $0; so is what unpriced agents cost.
		const of = totalUsd === null ? `of an unknown total (${stale ?? 'no figures yet'})` : `of ${money(totalUsd)}/h`;
		const blast = `${plural(ids.length, 'agent')} in ${name}${ids.length > 0 ? ` (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', ...' : ''})` : ''}, saving ${savesUsd === null ? (stale ? 'an unknown amount' : 'an unpriced amount') : `${money(savesUsd)}/h`} ${of}${side.asOf}`;
		let typed = (options.confirm ?? []).includes(name) ? name : undefined;
		if (side.monitorOnly(name) && typed === undefined) {
			typed = await prompts.ask(`${name} is monitor only. Stop ${blast}? Type ${name} to confirm:`);
			if (typed !== name) {
				io.stdout.write(`Not stopped: ${name} (the name was not typed).\n`);
				continue;
			}
		} else if (!(await prompts.confirm(`Stop ${blast}?`, `${flag === '--stop-env' ? '--stop-env' : 'stop'} ${name}: refusing to stop ${blast}`))) {
			io.stdout.write(`Not stopped: ${name}.\n`);
			continue;
		}

		const result = await side.command({kind: 'stop', environment: name, ...(typed === undefined ? {} : {confirm: typed})});
		if (result) {
			io.stdout.write(`${side.dryRun ? '[dry run] ' : ''}${result.summary}\n`);
			failed ||= result.outcome === 'failed';
		}
	}

	return failed ? exitCodes.failure : exitCodes.ok;
}

/**
 * `start`, wherever the engine runs: every environment is checked before any is started (a start
 * refused for one starts none: exit 2 for the policy, 1 when agents could not be counted), then
 * each is started after a confirmation naming what it adds. The engine checks again on each start.
 */
export async function startEach(names: string[], side: CommandSide, options: Options, io: Io, confirm: Confirm): Promise<number> {
	await side.prepare?.();
	const plans: Array<StartPlan & {name: string}> = [];
	let refusal: number | undefined;
	for (const name of names) {
		const plan = await side.planStart(name, options.count);
		if ('refused' in plan) {
			io.stderr.write(`envwatch: start ${plural(options.count ?? 1, 'agent')} in ${name} refused: ${plan.refused}\n`);
			// Agents that could not be counted are a failure (exit 1), a start the policy forbids a usage error (2).
			refusal = plan.counted ? exitCodes.usage : refusal ?? exitCodes.failure;
			continue;
		}

		plans.push({name, ...plan});
	}

	if (refusal !== undefined) {
		io.stderr.write(`envwatch: nothing started${plans.length > 0 ? ` (not ${plans.map(plan => plan.name).join(', ')} either)` : ''}\n`);
		return refusal;
	}

	let code: number = exitCodes.ok;
	for (const {name, count, running, cap, type, cost} of plans) {
		const question = `Start ${plural(count, `${type ?? ''} agent`.trim())} in ${name} (${running} running${cap === undefined ? '' : `, at most ${cap}`}), adding ${cost}${side.asOf}?`;
		if (!(await confirm(question, `start: refusing to start ${plural(count, 'agent')} in ${name}`))) {
			io.stdout.write(`Not started: ${name}.\n`);
			continue;
		}

		const result = await side.command({kind: 'start', environment: name, count});
		if (result) {
			io.stdout.write(`${side.dryRun ? '[dry run] ' : ''}${result.summary}\n`);
			if (result.outcome === 'failed' || result.outcome === 'refused') {
				code = result.outcome === 'refused' ? exitCodes.usage : exitCodes.failure;
			}
		}
	}

	return code;
}

/** The server's side of `stop` and `start`: its last poll's figures (its enforcer lists and checks afresh). */
async function remoteSide(remote: RemoteEngine, options: Options): Promise<{names: string[]; side: CommandSide}> {
	const snapshot = await snapshotOf(remote);
	const names = [...new Set(options.environments ?? [])];
	checkMonitored(remote, snapshot, names, options.environmentsFlag);
	checkMonitored(remote, snapshot, options.confirm ?? [], '--confirm');
	const view = (name: string) => snapshot.environments.find(item => item.name === name)!;
	const side: CommandSide = {
		dryRun: snapshot.mode.dryRun,
		asOf: ' (as of the server\'s last poll)',
		monitorOnly: name => view(name).policy.onBreach === 'alert',
		async stopTargets(name) {
			const {agentIds, agentHourlyUsd, hourlyUsd, stale, unpriced} = view(name);
			// The server's agent $/h counts an unpriced agent as nothing, and stale figures are old: neither is what a stop saves.
			const known = !stale && unpriced === 0 && typeof agentHourlyUsd === 'number';
			return {ids: agentIds ?? [], savesUsd: known ? agentHourlyUsd : null, totalUsd: stale ? null : hourlyUsd, stale};
		},
		async planStart(name, wanted) {
			const {agents, policy, launch, stale} = view(name);
			const count = wanted ?? launch?.count ?? 1;
			if (stale) {
				return {refused: `cannot count ${name}'s running agents (the server's data is stale: ${stale})`, counted: false};
			}

			const cap = typeof agents.allowed === 'number' ? agents.allowed : undefined;
			// The engine's start check on the server's figures (the server checks again, counting afresh).
			const check = checkAgents(name, {agents: policy.agents === 'global' ? 'all' : policy.agents, maxAgents: cap}, agents.running, count);
			if (!check.ok) {
				return {refused: check.reason, counted: true};
			}

			const type = launch?.instanceType ?? undefined;
			const prices: Record<string, number> = type && launch?.usdPerHourEach !== null && launch?.usdPerHourEach !== undefined ? {[type]: launch.usdPerHourEach} : {};
			return {count, running: agents.running, cap, type, cost: launchCost(tableBook(prices), '', type, count)};
		},
		command: async command => remote.command(command),
	};
	return {names, side};
}

/** `stop` / `--stop-env` through the server: the same confirmations, the server's figures, its enforcer. */
export async function stopRemote(remote: RemoteEngine, options: Options, io: Io, prompts: Prompts): Promise<number> {
	const {names, side} = await remoteSide(remote, options);
	return stopEach(names, side, options, io, prompts);
}

/** `start` through the server: the same checks on its figures first; its own check (counting afresh) decides. */
export async function startRemote(remote: RemoteEngine, options: Options, io: Io, confirm: Confirm): Promise<number> {
	const {names, side} = await remoteSide(remote, options);
	return startEach(names, side, options, io, confirm);
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
			`attached: ${clients.length === 0 ? 'nobody' : clients.map(client => `${client.actor} (${client.client}, pid ${client.pid}, ${client.uid === undefined ? '' : client.uid === null ? 'uid not proved, ' : `uid ${client.uid}, `}since ${iso(client.connectedAt)})`).join('; ')}`,
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
