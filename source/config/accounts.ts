import * as z from 'zod/mini';
import {isPlainObject} from '../domain/index.js';

/**
 * `accounts`: the AWS accounts envwatch watches besides (or instead of) the one its credentials
 * belong to. Either a list, each account reached through a named profile or a role envwatch
 * assumes, or an AWS Organization whose active accounts envwatch lists and assumes a role in.
 * Without it envwatch watches the one account, as it always did.
 */

/** What names an account in rows (`dev@sandbox-a`), the audit log and the metrics. */
export const accountNamePattern = /^[a-z][a-z0-9-]{0,31}$/;
export const accountNameText = 'lower-case letters, digits and -, starting with a letter, at most 32 (it names the account\'s rows, dev@NAME)';
/** An IAM role ARN; group 1 is its account ID. */
export const roleArnPattern = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
const roleArnText = 'an IAM role ARN like arn:aws:iam::123456789012:role/envwatch-member';
const externalIdText = 'an external ID of 2 to 1224 letters, digits or +=,.@:/-';
const sessionNameText = 'a role session name of 2 to 64 letters, digits or +=,.@-';
const roleNameText = 'an IAM role name like OrganizationAccountAccessRole (1 to 64 letters, digits or +=,.@-)';

type Helpers = {
	object: <T extends z.core.$ZodLooseShape>(shape: T) => z.ZodMiniObject<T, z.core.$strict>;
	string: (pattern: RegExp, text: string) => z.ZodMiniString;
	strings: (pattern: RegExp, itemsText: string) => z.ZodMiniArray<z.ZodMiniString>;
	regionsText: string;
	regionPattern: RegExp;
};

export const accountsText = 'a non-empty list of accounts, each {"name", "profile"} or {"name", "roleArn", "externalId"?, "sessionName"?} with optional "regions"; or {"organization": {"roleName", "include"?, "exclude"?}}';

/** The schema of `accounts` (the helpers are config/schema.ts's, so problems read like the rest). */
export function accountsSchema({object, string, strings, regionPattern, regionsText}: Helpers) {
	const listText = 'a non-empty list of accounts, each {"name", "profile"} or {"name", "roleArn", "externalId"?, "sessionName"?} with optional "regions"';
	const entry = object({
		name: string(accountNamePattern, accountNameText),
		profile: z.optional(string(/\S/, 'a profile name of the shared AWS config (~/.aws/config)')),
		roleArn: z.optional(string(roleArnPattern, roleArnText)),
		externalId: z.optional(string(/^[\w+=,.@:/-]{2,1224}$/, externalIdText)),
		sessionName: z.optional(string(/^[\w+=,.@-]{2,64}$/, sessionNameText)),
		regions: z.optional(strings(regionPattern, `region names like us-east-1 (default: ${regionsText})`)),
	});
	const idsOrNames = () => z.optional(strings(/\S/, 'account IDs (12 digits) or names as the organization lists them'));
	const organization = object({
		organization: object({
			roleName: string(/^[\w+=,.@-]{1,64}$/, roleNameText),
			include: idsOrNames(),
			exclude: idsOrNames(),
		}),
	});
	return z.union([z.array(entry, {error: listText}).check(z.minLength(1, {error: listText})), organization], {error: accountsText}).check(z.describe(accountsText));
}

/** One entry of the list form, as parsed. */
export type AccountEntry = {name: string; profile?: string; roleArn?: string; externalId?: string; sessionName?: string; regions?: string[]};
export type OrganizationEntry = {organization: {roleName: string; include?: string[]; exclude?: string[]}};
export type AccountsConfig = AccountEntry[] | OrganizationEntry;

/**
 * The rules of `accounts` that span keys: each listed account reached one way (a profile or a role),
 * named once, its account ID once; a role's options only with a role; `splitBy` only where there
 * are accounts to split by.
 */
export function checkAccounts(config: Record<string, unknown>, problems: {push(problem: string): void}): void {
	const accounts = Object.hasOwn(config, 'accounts') ? config['accounts'] : undefined;
	if (Array.isArray(accounts)) {
		const names = new Map<string, number>();
		const ids = new Map<string, number>();
		for (const [index, entry] of accounts.entries()) {
			if (!isPlainObject(entry)) {
				continue;
			}

			const has = (key: string) => Object.hasOwn(entry, key);
			if (has('profile') === has('roleArn')) {
				problems.push(`accounts.${index}: ${has('profile') ? 'both "profile" and "roleArn"' : 'neither "profile" nor "roleArn"'} — expected exactly one of them (how envwatch reaches the account)`);
			}

			for (const key of ['externalId', 'sessionName']) {
				if (has(key) && !has('roleArn')) {
					problems.push(`accounts.${index}.${key}: given without "roleArn" — expected it only with a role to assume`);
				}
			}

			const name = entry['name'];
			if (typeof name === 'string') {
				const first = names.get(name);
				if (first !== undefined) {
					problems.push(`accounts.${index}.name: "${name}" is also the name of accounts.${first} — expected each account named once`);
				}

				names.set(name, index);
			}

			const id = typeof entry['roleArn'] === 'string' ? roleArnPattern.exec(entry['roleArn'])?.[1] : undefined;
			if (id !== undefined) {
				const first = ids.get(id);
				if (first !== undefined) {
					problems.push(`accounts.${index}.roleArn: account ${id} is also accounts.${first}'s — expected each account once (its instances would be counted twice)`);
				}

				ids.set(id, index);
			}
		}
	}

	const environments = Object.hasOwn(config, 'environments') ? config['environments'] : undefined;
	if (accounts === undefined && isPlainObject(environments)) {
		for (const [name, environment] of Object.entries(environments)) {
			if (isPlainObject(environment) && Object.hasOwn(environment, 'splitBy')) {
				problems.push(`environments.${name}.splitBy: ${JSON.stringify(environment['splitBy'])} — expected "accounts" in the configuration as well (with one account there is nothing to split by)`);
			}
		}
	}
}
