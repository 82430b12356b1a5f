import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {newHistory, type History} from '../domain/history.js';
import type {BilledCost, Target} from '../providers/types.js';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
	if (env['ENVWATCH_STATE_DIR']) {
		return env['ENVWATCH_STATE_DIR'];
	}

	if (process.platform === 'darwin') {
		return path.join(os.homedir(), 'Library', 'Application Support', 'envwatch', 'state');
	}

	if (process.platform === 'win32') {
		return path.join(env['LOCALAPPDATA'] ?? path.join(os.homedir(), 'AppData', 'Local'), 'envwatch', 'State');
	}

	return path.join(env['XDG_STATE_HOME'] || path.join(os.homedir(), '.local', 'state'), 'envwatch');
}

export type LastStop = {at: number; actor: string; environments: string[]; targets: Target[]; dryRun: false};

/** `cost` is null when no fetch has succeeded yet: no data, never $0. */
export type BillingCache = {cost: BilledCost | null; calls: number; costUsd: number};

/**
 * What survives a restart (or a `--once` run from cron): the sample history, the last stop (for
 * undo) and the billing cache. Every write goes to a temporary file renamed into place, so a crash
 * never leaves a half-written file.
 */
export class StateStore {
	constructor(readonly dir: string) {}

	private file(name: string): string {
		return path.join(this.dir, name);
	}

	private read<T>(name: string): T | undefined {
		try {
			return JSON.parse(fs.readFileSync(this.file(name), 'utf8')) as T;
		} catch {
			// Missing or damaged state only costs history: start fresh rather than refuse to guard.
			return undefined;
		}
	}

	private write(name: string, value: unknown): void {
		fs.mkdirSync(this.dir, {recursive: true});
		const target = this.file(name);
		const temporary = `${target}.${process.pid}.tmp`;
		fs.writeFileSync(temporary, JSON.stringify(value));
		fs.renameSync(temporary, target);
	}

	loadHistory(): History {
		const stored = this.read<{version: 1; series: Record<string, Array<[number, number]>>}>('samples.json');
		const history = newHistory();
		if (stored?.version === 1) {
			for (const [key, pairs] of Object.entries(stored.series)) {
				history[key] = pairs.map(([at, usd]) => ({at, usd}));
			}
		}

		return history;
	}

	saveHistory(history: History): void {
		const series: Record<string, Array<[number, number]>> = {};
		for (const [key, samples] of Object.entries(history)) {
			series[key] = samples.map(sample => [sample.at, Math.round(sample.usd * 1e6) / 1e6]);
		}

		this.write('samples.json', {version: 1, series});
	}

	loadLastStop(): LastStop | undefined {
		return this.read<LastStop>('last-stop.json');
	}

	saveLastStop(lastStop: LastStop | undefined): void {
		if (lastStop) {
			this.write('last-stop.json', lastStop);
		} else {
			fs.rmSync(this.file('last-stop.json'), {force: true});
		}
	}

	loadBilling(): BillingCache | undefined {
		return this.read<BillingCache>('billing.json');
	}

	saveBilling(cache: BillingCache): void {
		this.write('billing.json', cache);
	}

	/** Tripped breakers by environment name (a Map: names come from the user's config). */
	loadBreakers(): Map<string, Breaker> {
		const stored = this.read<unknown>('breaker.json');
		const breakers = new Map<string, Breaker>();
		if (isRecord(stored) && stored['version'] === 1 && isRecord(stored['environments'])) {
			for (const [name, value] of Object.entries(stored['environments'])) {
				if (isRecord(value) && Number.isFinite(value['trippedAt']) && typeof value['actor'] === 'string' && typeof value['reason'] === 'string') {
					breakers.set(name, {trippedAt: value['trippedAt'] as number, actor: value['actor'], reason: value['reason']});
				}
			}
		}

		return breakers;
	}

	saveBreakers(breakers: ReadonlyMap<string, Breaker>): void {
		this.write('breaker.json', {version: 1, environments: Object.fromEntries(breakers)});
	}

	/**
	 * The action under way, written before its first call and removed when it ends: one found at
	 * start-up was cut short (the process was killed mid-stop).
	 */
	loadActionInFlight(): ActionInFlight | undefined {
		const stored = this.read<unknown>('action.json');
		if (isRecord(stored) && typeof stored['kind'] === 'string' && Array.isArray(stored['environments']) && stored['environments'].every(name => typeof name === 'string')
			&& Number.isFinite(stored['at']) && typeof stored['actor'] === 'string' && Number.isInteger(stored['planned']) && Number.isInteger(stored['done'])) {
			return stored as ActionInFlight;
		}

		return undefined;
	}

	saveActionInFlight(action: ActionInFlight | undefined): void {
		if (action) {
			this.write('action.json', action);
		} else {
			fs.rmSync(this.file('action.json'), {force: true});
		}
	}
}

/** A tripped breaker: envwatch stopped this environment's agents and holds it stopped. */
export type Breaker = {trippedAt: number; actor: string; reason: string};

export type ActionInFlight = {kind: string; environments: string[]; at: number; actor: string; planned: number; done: number};

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
