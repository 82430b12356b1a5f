import type {Config} from '../config/index.js';
import {BILLED_STATES, byText, environmentIndex, environmentOf, plural, tagOf} from '../domain/index.js';
import type {Provider, RegionError} from '../providers/index.js';
import {messageOf} from './state/record.js';
import type {Recorder} from './recorder.js';
import type {StateStore} from './state/store.js';
import type {SweepRecord} from './state/validate.js';

/** Agents (and other instances) of a monitored environment running in a region this run does not watch. */
export type Unwatched = {environment: string; region: string; agents: number; instances: number; ids: string[]};

/** What the snapshot says of the last sweep of the regions not watched. */
export type SweepView = {
	/** When the last sweep finished (epoch ms); null before the first has. */
	at: number | null;
	/** The regions enabled for the account that this run does not watch, as last swept. */
	regions: string[];
	/** What it found there, by environment and region. */
	found: Array<Omit<Unwatched, 'ids'>>;
	/** Why the last sweep failed, or which regions it could not look in: what it did not see is not "nothing found". */
	error: string | null;
	/** A sweep is under way. */
	running: boolean;
	/**
	 * The sweep shown is an earlier run's, read from the state dir (younger than 10 minutes, so not
	 * made again). Absent when this run made it.
	 */
	reused?: true;
};

/** The sweep runs at most this often (DescribeRegions, then one listing per region not watched). */
export const sweepEveryMs = 10 * 60_000;

/**
 * `dev: 3 agents in us-west-2, not watched` (and how many other instances run there beside them);
 * without the environment where it is named already (an audit entry's).
 */
export function unwatchedText(found: Omit<Unwatched, 'ids'>, named = true): string {
	const others = found.instances - found.agents;
	const what = found.agents > 0 ? `${plural(found.agents, 'agent')}${others > 0 ? ` (and ${plural(others, 'other instance')})` : ''}` : plural(found.instances, 'instance');
	return `${named ? `${found.environment}: ` : ''}${what} in ${found.region}, not watched`;
}

/**
 * Agents where nobody looks: in the background, at most every `sweepEveryMs`, the regions enabled
 * for the account that this run does not watch are listed for instances carrying the environment
 * tag key (pending or running), and what belongs to a monitored environment is reported: in the
 * snapshot, and as an audit entry (`unwatched`, a notification event) when it is first found, when
 * it changes and when it is gone. A sweep that fails, in part or whole, says so: never "nothing
 * found". A provider that cannot tell its regions has no sweep.
 *
 * The last sweep is kept in the state dir (sweep.json), so every process on it (cron's `--once`
 * runs, a restarted server) sweeps at most every `sweepEveryMs` between them: one that starts within
 * that time of the last sweep for the same regions and environments shows it (`reused`, with its
 * time) and does not record again what it found. A record dated after now, or one that is not what
 * envwatch writes, is not believed: a sweep runs.
 */
export class RegionSweep {
	private lastStartedAt: number | undefined;
	private running: Promise<void> | undefined;
	private view_: SweepView = {at: null, regions: [], found: [], error: null, running: false};
	/** What was last logged per environment and region (its text), so an entry is written on change. */
	private readonly logged = new Map<string, string>();
	private lastError: string | undefined;

	constructor(private readonly deps: {
		config: Config;
		provider: Provider;
		monitored: readonly string[];
		recorder: Recorder;
		clock: () => number;
		/** Called when a sweep's result changed what the snapshot shows. */
		changed: () => void;
		everyMs?: number;
		/** Where the last sweep is kept for the processes after this one. */
		state?: Pick<StateStore, 'loadSweep' | 'saveSweep'>;
	}) {
		this.basis = JSON.stringify({
			envTagKey: deps.config.envTagKey,
			role: [deps.config.roleTag.key, deps.config.roleTag.agent],
			watched: [...deps.config.regions].sort(),
			environments: [...deps.monitored].sort().map(name => [name, deps.config.environments[name]?.tagValues ?? []]),
		});
		if (this.enabled) {
			this.restore();
		}
	}

	/** What a sweep looks for: a record made for anything else is not this run's to reuse. */
	private readonly basis: string;

	/** Takes over the last sweep from the state dir, when it is this run's kind and younger than `sweepEveryMs`. */
	private restore(): void {
		const record = this.deps.state?.loadSweep();
		const now = this.deps.clock();
		if (!record || record.basis !== this.basis || record.at > now || now - record.at >= (this.deps.everyMs ?? sweepEveryMs)) {
			return;
		}

		this.lastStartedAt = record.at;
		this.view_ = {at: record.at, regions: record.regions, found: record.found, error: record.error, running: false, reused: true};
		// Said when it was found: recorded (and notified) again only when it changes.
		for (const item of record.found) {
			this.logged.set(`${item.environment}\u0000${item.region}`, unwatchedText(item, false));
		}

		this.lastError = record.error ?? undefined;
	}

	/** Keeps this sweep for the processes after this one; a failure to write is the store's to report. */
	private save(): void {
		const {at, regions, found, error} = this.view_;
		if (at !== null && this.deps.state) {
			const record: SweepRecord = {version: 1, at, basis: this.basis, regions, found, error};
			this.deps.state.saveSweep(record);
		}
	}

	/** Whether this provider can sweep at all. */
	get enabled(): boolean {
		return this.deps.provider.enabledRegions !== undefined;
	}

	/** What the snapshot shows; null without a sweep. */
	view(): SweepView | null {
		return this.enabled ? {...this.view_, running: this.running !== undefined} : null;
	}

	/** Starts a sweep in the background when one is due (never two at once). */
	due(at: number): void {
		const every = this.deps.everyMs ?? sweepEveryMs;
		const last = this.lastStartedAt;
		if (!this.enabled || this.running || (last !== undefined && at - last < every && at >= last)) {
			return;
		}

		this.lastStartedAt = at;
		this.running = this.sweep().catch((error: unknown) => {
			// Nothing may reject unheard; sweep() catches its own failures, so this is a bug's.
			this.deps.recorder.report(`envwatch: the region sweep failed unexpectedly: ${messageOf(error)}`);
		}).finally(() => {
			this.running = undefined;
			this.deps.changed();
		});
	}

	/** Resolves when no sweep is under way. */
	async settled(): Promise<void> {
		await this.running;
	}

	private async sweep(): Promise<void> {
		const {config, provider} = this.deps;
		const watched = new Set(config.regions);
		let regions: string[];
		try {
			regions = (await provider.enabledRegions!()).filter(region => !watched.has(region));
		} catch (error) {
			this.failed(`the region sweep could not list the account's regions (${messageOf(error)}): agents in regions not watched cannot be seen`, []);
			return;
		}

		if (regions.length === 0) {
			this.done([], new Set(), [], undefined);
			return;
		}

		let listing;
		try {
			listing = await provider.fleet.list({envTagKey: config.envTagKey, states: [...BILLED_STATES], regions, unwatched: true});
		} catch (error) {
			this.failed(`the region sweep of ${regions.join(', ')} failed (${messageOf(error)}): agents there cannot be seen`, regions);
			return;
		}

		const index = environmentIndex(config.environments);
		const monitored = new Set(this.deps.monitored);
		const found = new Map<string, Unwatched>();
		for (const instance of listing.instances) {
			const value = tagOf(instance.tags, config.envTagKey);
			const name = value === undefined ? undefined : environmentOf(index, value, instance.account?.name);
			// An account's fleet lists only what that account does not watch (its regions may be its own).
			if (name === undefined || !monitored.has(name) || (watched.has(instance.region) && !instance.account)) {
				continue;
			}

			const key = `${name}\u0000${instance.region}`;
			const entry = found.get(key) ?? {environment: name, region: instance.region, agents: 0, instances: 0, ids: []};
			entry.instances++;
			if (tagOf(instance.tags, config.roleTag.key) === config.roleTag.agent) {
				entry.agents++;
				entry.ids.push(instance.id);
			}

			found.set(key, entry);
		}

		const failed = failures(listing.errors);
		const swept = new Set(regions.filter(region => !listing.errors.some(error => error.region === region)));
		this.done(regions, swept, [...found.values()].sort((a, b) => byText(a.environment, b.environment) || byText(a.region, b.region)), failed.length > 0 ? `the region sweep could not look in ${failed.join('; ')}: agents there cannot be seen` : undefined);
	}

	private failed(error: string, regions: string[]): void {
		// What was found before stays shown: a failed look is not "they are gone".
		const {reused: _reused, ...view} = this.view_;
		this.view_ = {...view, at: this.deps.clock(), regions, error};
		this.save();
		this.logError(error);
	}

	/** `swept`: the regions looked in without error (what is not found there is gone). */
	private done(regions: string[], swept: ReadonlySet<string>, found: Unwatched[], error: string | undefined): void {
		const at = this.deps.clock();
		const seen = new Set<string>();
		for (const item of found) {
			const key = `${item.environment}\u0000${item.region}`;
			seen.add(key);
			const text = unwatchedText(item, false);
			if (this.logged.get(key) !== text) {
				this.logged.set(key, text);
				this.deps.recorder.log({type: 'decision', actor: 'auto', kind: 'unwatched', environments: [item.environment], reason: `${text} (envwatch watches ${this.deps.config.regions.join(', ')}: add ${item.region} to regions, or set regions to "all")`, instanceIds: item.ids, outcome: 'found'});
			}
		}

		// Gone from a region looked in, or one watched now (one that could not be looked in says nothing of it).
		for (const [key, text] of [...this.logged]) {
			const [environment, region] = key.split('\u0000') as [string, string];
			if (!seen.has(key) && (swept.has(region) || !regions.includes(region))) {
				this.logged.delete(key);
				this.deps.recorder.log({type: 'decision', actor: 'auto', kind: 'unwatched', environments: [environment], reason: `no longer found: ${text.replace(/, not watched$/, '')}`, instanceIds: [], outcome: 'cleared'});
			}
		}

		this.view_ = {at, regions, found: found.map(({ids: _ids, ...rest}) => rest), error: error ?? null, running: false};
		this.save();
		if (error) {
			this.logError(error);
		} else if (this.lastError !== undefined) {
			this.lastError = undefined;
			this.deps.recorder.log({type: 'decision', actor: 'auto', kind: 'unwatched', environments: [], reason: `the region sweep looks in every region again (${plural(regions.length, 'region')} not watched)`, instanceIds: [], outcome: 'cleared'});
		}
	}

	/** A failure is written (and so notified) once, until the sweep works again or fails otherwise. */
	private logError(error: string): void {
		if (this.lastError === error) {
			return;
		}

		this.lastError = error;
		this.deps.recorder.report(`envwatch: ${error}`);
		this.deps.recorder.log({type: 'decision', actor: 'auto', kind: 'unwatched', environments: [], reason: error, instanceIds: [], outcome: `failed: ${error}`});
	}
}

/**
 * Where the sweep could not look: `region: why` each; with accounts, an account's one failure
 * (its role could not be assumed) once, with its regions counted, not once per region.
 */
function failures(errors: readonly RegionError[]): string[] {
	const grouped = new Map<string, string[]>();
	for (const error of errors) {
		const key = error.account ? `account ${error.account.name}: ${error.message}` : '';
		if (key === '') {
			grouped.set(`${error.region}: ${error.message}`, []);
		} else {
			grouped.set(key, [...(grouped.get(key) ?? []), error.region]);
		}
	}

	return [...grouped].map(([text, regions]) => (regions.length === 0 ? text : `${text} (${regions.length > 3 ? `${regions.length} regions` : regions.join(', ')})`));
}
