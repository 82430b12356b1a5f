import type {Options} from '../app/args.js';
import {checkAgents, launchCost, tableBook, UsageError} from '../domain/index.js';
import type {Snapshot} from '../engine/index.js';
import type {RemoteEngine} from '../serve/index.js';
import type {CommandSide} from './side.js';

// The running server as the side `--once`, `stop`, `start` and `reset` act through: its latest snapshot, its enforcer.

export async function snapshotOf(remote: RemoteEngine): Promise<Snapshot> {
	// The server's first poll may be under way: wait for it (a slow account answers within a minute).
	const snapshot = await remote.firstSnapshot(60_000);
	if (!snapshot) {
		throw new Error(`the server (pid ${remote.server.pid}) has not finished a poll within 60s: nothing to show; try again`);
	}

	if (snapshot.refused) {
		// Its latest figures could not be believed (snapshot-check.ts): nothing is judged on older ones.
		throw new Error(`${snapshot.refused}: nothing judged or acted on here`);
	}

	return snapshot;
}

export function checkMonitored(remote: RemoteEngine, snapshot: Snapshot, names: string[], flag: string): void {
	const watched = snapshot.environments.map(view => view.name);
	const missing = names.filter(name => !watched.includes(name));
	if (missing.length > 0) {
		throw new UsageError(missing.map(name => `${flag} ${name}: not an environment the running server (pid ${remote.server.pid} on ${remote.server.host}) monitors — expected one of: ${watched.join(', ')}`));
	}
}

/** The server's side of `stop`, `start` and `reset`: its last poll's figures (its enforcer lists and checks afresh). */
export async function remoteSide(remote: RemoteEngine, options: Options): Promise<{names: string[]; side: CommandSide}> {
	const snapshot = await snapshotOf(remote);
	const names = [...new Set(options.environments ?? [])];
	checkMonitored(remote, snapshot, names, options.environmentsFlag);
	checkMonitored(remote, snapshot, options.confirm ?? [], '--confirm');
	const view = (name: string) => snapshot.environments.find(item => item.name === name)!;
	const side: CommandSide = {
		dryRun: snapshot.mode.dryRun,
		asOf: ' (as of the server\'s last poll)',
		monitorOnly: name => view(name).policy.onBreach === 'alert',
		prepare: async () => snapshot,
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
		// The server's mode is its own: a --read-only run sends it nothing that acts (as a local
		// --read-only stop executes nothing), and says so.
		command: async command => options.readOnly
			? {outcome: 'skipped', summary: `read-only: ${command.kind}${'environment' in command && command.environment !== undefined ? ` ${command.environment}` : ''} not sent to the server (pid ${remote.server.pid} on ${remote.server.host}); nothing done`}
			: remote.command(command),
	};
	return {names, side};
}
