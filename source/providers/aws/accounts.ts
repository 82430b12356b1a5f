import {DescribeOrganizationCommand, ListAccountsCommand, OrganizationsClient} from '@aws-sdk/client-organizations';
import type {AccountEntry, AccountsConfig, OrganizationEntry} from '../../config/index.js';
import {accountSlug, plural, type AccountRef} from '../../domain/index.js';
import type {AccountInfo} from '../types.js';
import {Budget, checkAnswers, MalformedAnswerError, paginate, Unique} from './answers.js';
import {clientConfig, describeError, errorCode, isCredentialError, type AwsConnection} from './clients.js';
import {AssumedRole} from './credentials.js';
import {AwsFleet, type AwsFleetOptions} from './fleet.js';
import {callerIdentity} from './identity.js';

/** Organizations is a global service, answered in us-east-1 (the aws partition). */
const organizationsRegion = 'us-east-1';
/** ListAccounts answers at most 20 accounts a page: 500 pages are 10,000 accounts, past any organization's quota. */
const maxAccountPages = 500;

/** How one account is reached: the credentials envwatch runs with, a named profile, or a role assumed with them. */
export type AccountPlan = {
	/** The name envwatch gives it (rows `dev@NAME`, the audit log, metrics). */
	name: string;
	/** Known up front for a role (its ARN) or an organization's account; a profile's is asked (GetCallerIdentity). */
	id: string | null;
	via: AccountInfo['via'];
	profile?: string;
	role?: {roleArn: string; externalId?: string; sessionName?: string};
	/** Its own regions, else the configured ones. */
	regions?: string[];
};

/** The accounts of the list form, as configured. */
export function listedPlans(entries: readonly AccountEntry[]): AccountPlan[] {
	return entries.map(entry => ({
		name: entry.name,
		id: entry.roleArn ? /:iam::(\d{12}):/.exec(entry.roleArn)?.[1] ?? null : null,
		via: entry.roleArn ? 'role' : 'profile',
		...(entry.profile ? {profile: entry.profile} : {}),
		...(entry.roleArn ? {role: {roleArn: entry.roleArn, ...(entry.externalId ? {externalId: entry.externalId} : {}), ...(entry.sessionName ? {sessionName: entry.sessionName} : {})}} : {}),
		...(entry.regions ? {regions: entry.regions} : {}),
	}));
}

/** `joined`: when it joined the organization (ms; absent or unreadable: last), which decides who keeps a shared name. */
export type OrganizationAccount = {id: string; name: string; state: string; joined?: number};

/**
 * The organization's accounts, every page of ListAccounts (DescribeOrganization first: an account
 * that is in no organization, or a caller that may not ask, is an error, never "no accounts", which
 * is what emulators answer a member account). Each account must carry a 12-digit ID, a name and a
 * state, and be listed once; the management account must be among them.
 */
export async function organizationAccounts(connection: AwsConnection, {budgetMs = 60_000, maxPages = maxAccountPages}: {budgetMs?: number; maxPages?: number} = {}): Promise<{organizationId: string; managementId: string; accounts: OrganizationAccount[]}> {
	const client = new OrganizationsClient(clientConfig(connection, organizationsRegion));
	checkAnswers(client, organizationsRegion, 'json');
	const budget = new Budget(budgetMs, `the organization listing's time budget of ${Math.round(budgetMs / 1000)} s`);
	try {
		const described = await client.send(new DescribeOrganizationCommand({}), {abortSignal: budget.signal});
		const organizationId = described.Organization?.Id;
		const managementId = described.Organization?.MasterAccountId;
		if (typeof organizationId !== 'string' || typeof managementId !== 'string' || !/^\d{12}$/.test(managementId)) {
			throw new MalformedAnswerError(organizationsRegion, 'DescribeOrganization answered without the organization\'s ID and its management account\'s 12-digit ID');
		}

		const accounts: OrganizationAccount[] = [];
		const once = new Unique('ListAccounts', organizationsRegion);
		for await (const {output, page} of paginate({
			call: 'ListAccounts',
			region: organizationsRegion,
			maxPages,
			budget,
			send: async (paging, options) => client.send(new ListAccountsCommand({MaxResults: 20, ...paging}), options),
		})) {
			const list: unknown = output.Accounts;
			if (!Array.isArray(list)) {
				throw new MalformedAnswerError(organizationsRegion, `ListAccounts page ${page} has no Accounts list: expected the organization's accounts`);
			}

			for (const account of output.Accounts ?? []) {
				const state = account.State ?? account.Status;
				if (typeof account.Id !== 'string' || !/^\d{12}$/.test(account.Id) || typeof account.Name !== 'string' || typeof state !== 'string') {
					throw new MalformedAnswerError(organizationsRegion, `ListAccounts page ${page} lists an account without a 12-digit ID, a name and a state (${JSON.stringify(account.Id ?? null).slice(0, 20)})`);
				}

				once.add(account.Id, page);
				const joined = account.JoinedTimestamp instanceof Date ? account.JoinedTimestamp.getTime() : Number.NaN;
				accounts.push({id: account.Id, name: account.Name, state, ...(Number.isFinite(joined) ? {joined} : {})});
			}
		}

		// The management account is a member of its own organization: a listing without it was cut
		// short (by a proxy, a partial page), and believing it would take every member account for gone.
		if (!accounts.some(account => account.id === managementId)) {
			throw new MalformedAnswerError(organizationsRegion, `ListAccounts did not list the management account ${managementId} (${plural(accounts.length, 'account')} listed): a listing cut short, not believed`);
		}

		return {organizationId, managementId, accounts};
	} finally {
		budget.done();
		client.destroy();
	}
}

/**
 * The organization's accounts envwatch watches: the ACTIVE ones, `include` (IDs or names; all when
 * absent) less `exclude`, each reached by assuming `roleName` in it; the account envwatch runs as
 * (`self`) is watched with its own credentials, whatever `include` says, unless `exclude` names it.
 * Names are made from the organization's (`accountSlug`); a name two accounts would share is made
 * unique with each one's ID.
 */
export function organizationPlans(spec: OrganizationEntry['organization'], accounts: readonly OrganizationAccount[], self: string): AccountPlan[] {
	const named = (account: OrganizationAccount, list: readonly string[]) => list.some(item => item === account.id || item === account.name || item.toLowerCase() === accountSlug(account.name));
	const chosen = accounts.filter(account => account.state === 'ACTIVE'
		&& !named(account, spec.exclude ?? [])
		&& (account.id === self || !spec.include || named(account, spec.include)));
	if (!accounts.some(account => account.id === self) && !(spec.exclude ?? []).includes(self)) {
		// A delegated administrator's own account is listed too; anything else envwatch runs as is watched all the same.
		chosen.unshift({id: self, name: self, state: 'ACTIVE'});
	}

	const names = uniqueNames(chosen);
	return chosen.map(account => account.id === self
		? {name: names.get(account.id)!, id: account.id, via: 'self'}
		: {name: names.get(account.id)!, id: account.id, via: 'role', role: {roleArn: `arn:aws:iam::${account.id}:role/${spec.roleName}`}});
}

/**
 * Each account's name from the organization's: lower-case letters, digits and -. Where two would be
 * alike, the one that joined first keeps it and the others get their ID added, so an account that
 * joins later never renames one already watched (its rows, windows and breakers go by the name).
 */
function uniqueNames(accounts: readonly OrganizationAccount[]): Map<string, string> {
	const first = new Map<string, OrganizationAccount>();
	const before = (a: OrganizationAccount, b: OrganizationAccount) => (a.joined ?? Infinity) - (b.joined ?? Infinity) || a.id.localeCompare(b.id);
	for (const account of accounts) {
		const slug = accountSlug(account.name);
		const holder = first.get(slug);
		if (!holder || before(account, holder) < 0) {
			first.set(slug, account);
		}
	}

	return new Map(accounts.map(account => {
		const slug = accountSlug(account.name);
		return [account.id, first.get(slug) === account ? slug : `${slug.slice(0, 19)}-${account.id}`];
	}));
}

/** Whether `accounts` is the organization form. */
export function isOrganization(accounts: AccountsConfig): accounts is OrganizationEntry {
	return !Array.isArray(accounts);
}

/**
 * One account and its own fleet: its credentials (its profile, or the role assumed and refreshed),
 * its EC2 clients and rate buckets, made once its ID is known. `ready` makes sure the credentials
 * work (and learns a profile's account ID) before a listing, so a role that cannot be assumed is one
 * clear reason for the account, not one error per region.
 */
export class AccountHandle {
	readonly role: AssumedRole | undefined;
	private fleet_: AwsFleet | undefined;
	/** The fleet before the last renewal (see `renew`). */
	private retired: AwsFleet | undefined;
	private ref: AccountRef | undefined;
	private readonly connection: AwsConnection;

	constructor(readonly plan: AccountPlan, base: AwsConnection, private readonly fleetOptions: Omit<AwsFleetOptions, 'regions' | 'account' | keyof AwsConnection>, private readonly topRegions: readonly string[], stsRegion: string) {
		const {credentials: _credentials, profile: _profile, ...shared} = base;
		if (plan.role) {
			this.role = new AssumedRole(plan.role, base, {region: stsRegion});
			this.connection = {...shared, credentials: this.role.provider};
		} else if (plan.profile) {
			this.connection = {...shared, profile: plan.profile};
		} else {
			this.connection = base;
		}

		if (plan.id !== null) {
			this.ref = {id: plan.id, name: plan.name};
		}
	}

	get name(): string {
		return this.plan.name;
	}

	get id(): string | null {
		return this.ref?.id ?? null;
	}

	/** The regions it watches: its own, else the configured ones (read now: `regions: "all"` fills them in at start). */
	get regions(): string[] {
		return this.plan.regions ?? [...this.topRegions];
	}

	info(): AccountInfo {
		const through = this.plan.role?.roleArn ?? this.plan.profile;
		return {name: this.name, id: this.id, via: this.plan.via, ...(through ? {through} : {}), regions: this.regions};
	}

	/** The fleet, once `ready` succeeded. */
	get fleet(): AwsFleet | undefined {
		return this.fleet_;
	}

	/**
	 * Credentials that work and the account's ID known: a role assumed (or its session still good),
	 * a profile's identity asked once. Throws what went wrong, in one line.
	 */
	async ready(): Promise<AwsFleet> {
		try {
			if (this.role) {
				await this.role.get();
			} else if (!this.ref) {
				const identity = await callerIdentity(this.connection, this.regions[0] ?? 'us-east-1');
				this.ref = {id: identity.account, name: this.name};
			}
		} catch (error) {
			throw new Error(this.failure(error));
		}

		this.fleet_ ??= new AwsFleet({...this.fleetOptions, ...this.connection, regions: this.regions, account: this.ref!});
		return this.fleet_;
	}

	/**
	 * AWS rejected the role's session before envwatch's clock said it ends (revoked, or the clocks
	 * disagree): forget it and the clients that signed with it, so the next `ready` assumes the role
	 * again and builds clients that use the new session.
	 */
	renew(): void {
		this.role?.forget();
		// A stop may still be using the fleet before: it is closed at the next renewal, or with the handle.
		this.retired?.close();
		this.retired = this.fleet_;
		this.fleet_ = undefined;
	}

	/** Why the account's credentials did not work, and what to do. */
	private failure(error: unknown): string {
		if (this.role) {
			const code = errorCode(error);
			const denied = code === 'AccessDenied' || code === 'AccessDeniedException';
			return `cannot assume ${this.role.spec.roleArn} (${describeError(error)})${denied ? ': deploy the member role there (config/envwatch-member-role.json) and check its trust policy and external ID' : ''}`;
		}

		if (isCredentialError(error) || (error instanceof Error && error.name === 'UsageError')) {
			return `the credentials of profile "${this.plan.profile ?? ''}" do not work (${errorCode(error) ?? 'rejected'}): run \`aws sso login --profile ${this.plan.profile ?? ''}\` or check ~/.aws/config`;
		}

		return `profile "${this.plan.profile ?? ''}": STS GetCallerIdentity failed (${describeError(error)})`;
	}

	close(): void {
		this.fleet_?.close();
		this.retired?.close();
		this.role?.close();
	}
}
