import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {History} from '../domain/history.js';
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
		const history: History = {};
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
}
