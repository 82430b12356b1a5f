import {staticBook} from './pricing.js';
import {money, plural, type PriceBook} from '../domain/index.js';
import type {Config} from '../config/index.js';
import type {Fleet} from '../providers/index.js';
import type {AuditEntry} from './state/audit.js';
import type {BreakerRequest} from './breakers.js';
import {messageOf} from './state/record.js';
import type {EnforcerOptions} from './enforcer.js';

// Starting agents from an environment's launch template (the orchestrator), fenced as a stop is.

export type StartRequest = {environment: string; count: number; actor: string; reason: string; instanceType?: string};

export type StartResult = {outcome: 'executed' | 'dry-run' | 'skipped' | 'failed' | 'refused'; summary: string; ids: string[]; entry: AuditEntry};

export class Launcher {
	constructor(
		private readonly fleet: Fleet,
		private readonly config: Config,
		private readonly record: (entry: Omit<AuditEntry, 'seq'>) => AuditEntry,
		private readonly options: EnforcerOptions & {launchedBy: string},
		private readonly clock: () => number,
		private readonly onChanged: (environments: string[], kind: 'stopped' | 'started', request: BreakerRequest) => void,
	) {}

	/** Prices what an action saves or adds: the monitor's live book once it runs, the configuration's before. */
	priceBook: () => PriceBook = () => staticBook(this.config);

	/** The region and template an environment's agents launch from, and their instance type. */
	async plan(environment: string): Promise<{region: string; template: {id?: string; name?: string; version: string}; instanceType: string | undefined; count: number; account?: string} | undefined> {
		const launchTemplate = this.config.environments[environment]?.launchTemplate;
		// A row split by account launches in its account; an environment that spans accounts in the first one.
		const account = this.config.environments[environment]?.account;
		if (!launchTemplate) {
			return undefined;
		}

		const region = launchTemplate.region ?? this.config.regions[0]!;
		const template = {...(launchTemplate.id ? {id: launchTemplate.id} : {name: launchTemplate.name!}), version: launchTemplate.version ?? '$Default'};
		let instanceType = launchTemplate.instanceType;
		if (!instanceType && this.fleet.templateInstanceType) {
			instanceType = await this.fleet.templateInstanceType(region, template, account).catch(() => undefined);
		}

		return {region, template, instanceType, count: launchTemplate.count ?? 1, ...(account ? {account} : {})};
	}

	async start(request: StartRequest): Promise<StartResult> {
		const log = (entry: Omit<AuditEntry, 'seq' | 'at' | 'dryRun'>) => this.record({at: new Date(this.clock()).toISOString(), dryRun: this.options.dryRun, ...entry});
		log({type: 'decision', actor: request.actor, kind: 'start', environments: [request.environment], reason: request.reason, instanceIds: []});
		const finish = (outcome: StartResult['outcome'], summary: string, ids: string[] = []): StartResult => {
			const entry = log({type: 'action', actor: request.actor, kind: 'start', environments: [request.environment], reason: summary, instanceIds: ids, outcome});
			return {outcome, summary, ids, entry};
		};

		if (this.options.readOnly) {
			return finish('skipped', `read-only: start ${plural(request.count, 'agent')} in ${request.environment} not executed`);
		}

		const plan = await this.plan(request.environment);
		if (!plan || !this.fleet.launch) {
			return finish('refused', plan ? 'this provider cannot launch instances' : `${request.environment} has no launch template`);
		}

		try {
			await this.options.fence?.();
		} catch (error) {
			return finish('failed', `start ${plural(request.count, 'agent')} in ${request.environment} not sent: ${messageOf(error)}`);
		}

		const roleTag = this.config.roleTag;
		const tags = {
			[this.config.envTagKey]: this.config.environments[request.environment]!.tagValues[0]!,
			[roleTag.key]: roleTag.agent,
			'envwatch:launched-by': this.options.launchedBy,
		};
		try {
			const override = request.instanceType ?? this.config.environments[request.environment]!.launchTemplate?.instanceType;
			const instanceType = override ?? plan.instanceType;
			const outcome = await this.fleet.launch({region: plan.region, ...(plan.account ? {account: plan.account} : {}), template: plan.template, count: request.count, ...(override ? {instanceType: override} : {}), tags, dryRun: this.options.dryRun});
			const ids = outcome.instances.map(instance => instance.id);
			if (outcome.result === 'permitted') {
				return finish('dry-run', `start ${plural(request.count, 'agent')} in ${request.environment}: permitted`);
			}

			if (outcome.result !== 'launched') {
				return finish('failed', `start ${plural(request.count, 'agent')} in ${request.environment} failed: ${outcome.result}${outcome.message ? ` (${outcome.message})` : ''}`, ids);
			}

			this.onChanged([request.environment], 'started', request);
			const type = outcome.instances[0]?.type ?? instanceType;
			const price = type === undefined ? undefined : this.priceBook().price({region: plan.region, type})?.usd;
			return finish('executed', `started ${plural(ids.length, `${type ?? ''} agent`.trim())} in ${request.environment} (${price === undefined ? 'unpriced' : `adds ${money(price * ids.length)}/h`}); window re-baselined`, ids);
		} catch (error) {
			return finish('failed', `start ${plural(request.count, 'agent')} in ${request.environment} failed: ${messageOf(error)}`);
		}
	}
}
