import type {Config} from '../config/index.js';
import {launchCost} from '../domain/index.js';
import type {Monitor, Snapshot} from '../engine/index.js';
import type {CommandSide} from './side.js';

/** The engine in this process, for `stop`, `start` and `reset`: agents listed and counted afresh after a poll. */
export function localSide(monitor: Monitor, config: Config, dryRun: boolean): CommandSide {
	let snapshot: Snapshot | undefined;
	return {
		dryRun,
		asOf: '',
		monitorOnly: name => config.environments[name]!.onBreach === 'alert',
		async prepare() {
			snapshot = await monitor.poll();
			return snapshot;
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
