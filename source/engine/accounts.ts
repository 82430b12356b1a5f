import type {Config, EnvironmentConfig} from '../config/index.js';
import {expandNames, rowName, splitRows, UsageError} from '../domain/index.js';
import type {AccountInfo, RegionError} from '../providers/index.js';
import type {Recorder} from './recorder.js';
import type {StateStore} from './state/store.js';

/** What a change of accounts asks of the spend history: restart every window (true when there were samples). */
type WindowRestart = {restartAll(): boolean};

/**
 * The engine's side of many accounts (`accounts`): the rows of environments split by account,
 * which follow the accounts; the windows restarted when the accounts the history was recorded over
 * change; which rows a failing account makes stale, and why.
 */

/** An account as the snapshot shows it: who it is, how it is reached, and whether its share was listed. */
export type AccountView = AccountInfo & {
	status: 'OK' | 'STALE';
	/** Why its share could not be listed (this poll); null when it was. */
	stale: string | null;
	/** Its share of the monitored environments: instances and agents running, and their $/h; null while stale. */
	instances: number | null;
	agents: number | null;
	hourlyUsd: number | null;
};

/**
 * An account's listing state this poll: the account, why it failed (null: listed), and its share of
 * the monitored environments as listed (zero when it failed: the view shows null then).
 */
export type AccountState = AccountInfo & {stale: string | null; instances: number; agents: number; hourlyUsd: number};

/**
 * At start, once the provider knows the accounts: each environment split by account becomes one
 * row per account (`dev@sandbox-a`), and the names the run was asked to monitor (`-e dev` means
 * every row of dev) become rows. A name that is neither is a usage error (exit 2).
 */
export function splitForAccounts(config: Config, accounts: readonly AccountInfo[] | undefined, requested: readonly string[], flag: string): string[] {
	if (accounts) {
		config.environments = splitRows(config.environments, accounts.map(account => account.name));
	}

	const monitored = expandNames(requested, config.environments);
	const unknown = monitored.filter(name => !Object.hasOwn(config.environments, name));
	if (unknown.length > 0) {
		throw new UsageError(unknown.map(name => `${flag} ${name}: not a configured environment or row — expected one of: ${Object.keys(config.environments).join(', ')}`));
	}

	return monitored;
}

/**
 * Names a run may be asked for before the accounts are known: a configured environment, or a row
 * `NAME@ACCOUNT` of one split by account (checked once the accounts are known).
 */
export function isRowOfSplit(config: Config, name: string): boolean {
	const at = name.lastIndexOf('@');
	const base = at > 0 ? name.slice(0, at) : '';
	return at > 0 && Object.hasOwn(config.environments, base) && config.environments[base]!.splitBy === 'account';
}

/**
 * Why each row is stale when accounts failed, or undefined when every error is of an account-less
 * kind (one account: the whole listing is stale, as ever). A row split by account is stale when
 * its own account failed; a row that spans accounts when any did (unknown is never $0). The reason
 * names each account and what failed there.
 */
export function staleByRow(errors: readonly RegionError[], environments: Readonly<Record<string, Pick<EnvironmentConfig, 'account'>>>): {reason: string; rows: Map<string, string>; accounts: Map<string, string>; named: Map<string, string>} | undefined {
	if (errors.length === 0 || errors.some(error => !error.account)) {
		return undefined;
	}

	const byAccount = new Map<string, {id?: string; messages: Map<string, string[]>}>();
	for (const error of errors) {
		const {name, id} = error.account!;
		const entry = byAccount.get(name) ?? {...(id ? {id} : {}), messages: new Map<string, string[]>()};
		entry.messages.set(error.message, [...(entry.messages.get(error.message) ?? []), error.region]);
		byAccount.set(name, entry);
	}

	/** What failed in each account (`accounts`), and the same named (`account NAME (ID): ...`) for a row's reason. */
	const accounts = new Map<string, string>();
	const named = new Map<string, string>();
	for (const [name, {id, messages}] of byAccount) {
		const what = [...messages].map(([message, regions]) => `${message} (${regions.length > 3 ? `${regions.length} regions` : regions.join(', ')})`).join('; ');
		accounts.set(name, what);
		named.set(name, `account ${name}${id ? ` (${id})` : ''}: ${what}`);
	}

	const reason = [...named.values()].join('; ');
	const rows = new Map<string, string>();
	for (const [name, environment] of Object.entries(environments)) {
		const own = environment.account === undefined ? reason : named.get(environment.account);
		if (own !== undefined) {
			rows.set(name, own);
		}
	}

	return {reason, rows, accounts, named};
}

/**
 * Rows that follow the accounts, and windows that restart when the accounts change. `observe`
 * runs on each listing, before it is priced: an account that joined gets a row of every split
 * environment this run monitors as a whole, one that left loses its rows; when the accounts
 * differ from those the history was recorded over (kept in the state dir, so a run from cron
 * notices a change since the last one), every window restarts: an account's spend joining a
 * total is no spike. Each change, and each account that fails or recovers, is an `accounts` entry.
 */
export class AccountRows {
	/** The policy of each split environment (its rows are copies), and whether this run monitors all of its rows. */
	private readonly bases = new Map<string, {policy: EnvironmentConfig; whole: boolean}>();
	private known: Array<{name: string; id: string | null}> | undefined;
	/** Accounts failing as last logged, by name (their reason), so failures and recoveries are logged on change. */
	private failing = new Map<string, string>();
	/** Why the organization's accounts could not be listed again, as last logged. */
	private organizationProblem: string | undefined;

	constructor(private readonly deps: {config: Config; monitored: string[]; samples: WindowRestart; recorder: Recorder; state: StateStore}) {
		const {config, monitored} = deps;
		for (const [name, environment] of Object.entries(config.environments)) {
			if (environment.splitOf === undefined) {
				continue;
			}

			const base = this.bases.get(environment.splitOf);
			const {account: _account, ...policy} = environment;
			this.bases.set(environment.splitOf, {policy: base?.policy ?? policy, whole: (base?.whole ?? true) && monitored.includes(name)});
		}

		this.known = deps.state.loadAccounts();
	}

	/** The accounts of a listing: rows follow them; a change restarts the windows. */
	observe(accounts: readonly AccountInfo[]): void {
		const current = accounts.map(account => ({name: account.name, id: account.id})).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
		const known = this.known;
		if (known && sameAccounts(known, current)) {
			if (current.some((account, index) => account.id !== known[index]!.id)) {
				// An ID learnt (a profile's): the same accounts.
				this.known = current;
				this.deps.state.saveAccounts(current);
			}

			return;
		}

		this.follow(accounts);
		const joined = current.filter(account => !known?.some(other => other.name === account.name));
		const left = (known ?? []).filter(account => !current.some(other => other.name === account.name));
		const what = known === undefined
			? `watching ${describe(current)}`
			: [joined.length > 0 ? `joined: ${describe(joined)}` : '', left.length > 0 ? `left: ${describe(left)}` : ''].filter(Boolean).join('; ') || `changed: ${describe(current)}`;
		const restarted = this.deps.samples.restartAll();
		this.deps.recorder.log({type: 'decision', actor: 'auto', kind: 'accounts', environments: [], reason: `accounts ${what}${restarted ? ': every window restarts from this poll (an account\'s spend joining a total is not a spike; the hourly caps still apply)' : ''}`, instanceIds: [], outcome: 'changed'});
		this.known = current;
		this.deps.state.saveAccounts(current);
	}

	/** Each account that starts failing, or works again, is written once (and so notified as stale data). */
	noteFailures(failing: ReadonlyMap<string, string>): void {
		for (const [name, reason] of failing) {
			if (this.failing.get(name) !== reason) {
				this.deps.recorder.log({type: 'decision', actor: 'auto', kind: 'accounts', environments: this.rowsOf(name), reason: `${reason}: its share is STALE (no automatic action where it counts), the other accounts are still guarded`, instanceIds: [], outcome: `failed: ${name}`});
			}
		}

		for (const name of this.failing.keys()) {
			if (!failing.has(name)) {
				this.deps.recorder.log({type: 'decision', actor: 'auto', kind: 'accounts', environments: this.rowsOf(name), reason: `account ${name} is listed again`, instanceIds: [], outcome: 'recovered'});
			}
		}

		this.failing = new Map(failing);
	}

	/** The organization's list failing to come again (its accounts before are still watched), and working again: written on change. */
	noteOrganization(problem: string | undefined): void {
		if (problem !== undefined && problem !== this.organizationProblem) {
			this.deps.recorder.log({type: 'decision', actor: 'auto', kind: 'accounts', environments: [], reason: problem, instanceIds: [], outcome: 'failed: organization'});
		} else if (problem === undefined && this.organizationProblem !== undefined) {
			this.deps.recorder.log({type: 'decision', actor: 'auto', kind: 'accounts', environments: [], reason: 'the organization\'s accounts are listed again', instanceIds: [], outcome: 'recovered'});
		}

		this.organizationProblem = problem;
	}

	/** The monitored rows an account's failure makes stale: its own rows, and every row that spans accounts. */
	private rowsOf(account: string): string[] {
		return this.deps.monitored.filter(name => {
			const row = this.deps.config.environments[name];
			return row !== undefined && (row.account === undefined || row.account === account);
		});
	}

	/** Rows for the accounts that joined, none for those that left (of split environments this run monitors whole). */
	private follow(accounts: readonly AccountInfo[]): void {
		const {config, monitored} = this.deps;
		const names = new Set(accounts.map(account => account.name));
		for (const [base, {policy, whole}] of this.bases) {
			for (const account of names) {
				const name = rowName(base, account);
				if (!Object.hasOwn(config.environments, name)) {
					config.environments[name] = {...policy, account, splitOf: base};
					if (whole) {
						// Beside its environment's other rows.
						const last = monitored.findLastIndex(other => config.environments[other]?.splitOf === base);
						monitored.splice(last === -1 ? monitored.length : last + 1, 0, name);
					}
				}
			}
		}

		for (const [name, row] of Object.entries(config.environments)) {
			if (row.splitOf !== undefined && row.account !== undefined && !names.has(row.account)) {
				delete config.environments[name];
				const index = monitored.indexOf(name);
				if (index !== -1) {
					monitored.splice(index, 1);
				}
			}
		}
	}
}

function sameAccounts(a: ReadonlyArray<{name: string; id: string | null}>, b: ReadonlyArray<{name: string; id: string | null}>): boolean {
	return a.length === b.length && a.every((account, index) => account.name === b[index]!.name && (account.id === null || b[index]!.id === null || account.id === b[index]!.id));
}

function describe(accounts: ReadonlyArray<{name: string; id: string | null}>): string {
	return accounts.map(account => `${account.name}${account.id ? ` (${account.id})` : ''}`).join(', ');
}
