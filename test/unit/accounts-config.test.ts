import fs from 'node:fs';
import {describe, expect, it} from 'vitest';
import {defaultConfigPath, validateConfig} from '../../source/config/load.js';
import {accountSlug, expandNames, splitRows} from '../../source/domain/accounts.js';
import {aggregate} from '../../source/domain/classify.js';
import type {RawInstance} from '../../source/domain/types.js';
import {UsageError} from '../../source/domain/errors.js';
import {staleByRow} from '../../source/engine/accounts.js';
import {organizationPlans} from '../../source/providers/aws/accounts.js';

const defaults = () => JSON.parse(fs.readFileSync(defaultConfigPath, 'utf8')) as Record<string, unknown>;

function problems(value: Record<string, unknown>): string[] {
	try {
		validateConfig(value);
	} catch (error) {
		expect(error).toBeInstanceOf(UsageError);
		return (error as UsageError).problems;
	}

	throw new Error('expected a UsageError');
}

describe('accounts in the configuration', () => {
	it('takes a list of profiles and roles (each with its own regions) or an organization; without it nothing is added', () => {
		const listed = validateConfig({...defaults(), accounts: [
			{name: 'sandbox-a', profile: 'sandbox-a'},
			{name: 'staging', roleArn: 'arn:aws:iam::222222222222:role/envwatch-member', externalId: 'envwatch-1', sessionName: 'envwatch', regions: ['eu-west-1']},
		]});
		expect(listed.accounts).toEqual([
			{name: 'sandbox-a', profile: 'sandbox-a'},
			{name: 'staging', roleArn: 'arn:aws:iam::222222222222:role/envwatch-member', externalId: 'envwatch-1', sessionName: 'envwatch', regions: ['eu-west-1']},
		]);
		const organization = validateConfig({...defaults(), accounts: {organization: {roleName: 'OrganizationAccountAccessRole', exclude: ['333333333333']}}});
		expect(organization.accounts).toEqual({organization: {roleName: 'OrganizationAccountAccessRole', exclude: ['333333333333']}});
		expect(validateConfig(defaults())).not.toHaveProperty('accounts');
	});

	it('names each bad key by its path and says what is expected, every problem at once', () => {
		expect(problems({...defaults(), accounts: [
			{name: 'Sandbox A', profile: 'a'},
			{name: 'b', roleArn: 'arn:aws:iam::12345:role/x'},
			{name: 'c'},
			{name: 'd', profile: 'd', roleArn: 'arn:aws:iam::444444444444:role/x'},
			{name: 'e', profile: 'e', externalId: 'xyz'},
			{name: 'b', roleArn: 'arn:aws:iam::222222222222:role/x', regions: ['mars-1']},
			{name: 'f', roleArn: 'arn:aws:iam::222222222222:role/y', bogus: true},
		]})).toEqual(expect.arrayContaining([
			'accounts.0.name: "Sandbox A" — expected lower-case letters, digits and -, starting with a letter, at most 32 (it names the account\'s rows, dev@NAME)',
			'accounts.1.roleArn: "arn:aws:iam::12345:role/x" — expected an IAM role ARN like arn:aws:iam::123456789012:role/envwatch-member',
			'accounts.5.regions: ["mars-1"] — expected a non-empty list of region names like us-east-1 (default: the top-level regions)',
			expect.stringMatching(/^accounts\.6\.bogus: unknown key — allowed: name, profile, roleArn, externalId, sessionName, regions/),
			'accounts.2: neither "profile" nor "roleArn" — expected exactly one of them (how envwatch reaches the account)',
			'accounts.3: both "profile" and "roleArn" — expected exactly one of them (how envwatch reaches the account)',
			'accounts.4.externalId: given without "roleArn" — expected it only with a role to assume',
			'accounts.5.name: "b" is also the name of accounts.1 — expected each account named once',
			'accounts.6.roleArn: account 222222222222 is also accounts.5\'s — expected each account once (its instances would be counted twice)',
		]));
		expect(problems({...defaults(), accounts: {organization: {roleName: 'bad role!', include: []}}})).toEqual([
			'accounts.organization.roleName: "bad role!" — expected an IAM role name like OrganizationAccountAccessRole (1 to 64 letters, digits or +=,.@-)',
			'accounts.organization.include: [] — expected a non-empty list of account IDs (12 digits) or names as the organization lists them',
		]);
		expect(problems({...defaults(), accounts: []})).toEqual([expect.stringMatching(/^accounts: \[\] — expected a non-empty list of accounts/)]);
		expect(problems({...defaults(), accounts: 'all'})).toEqual([expect.stringMatching(/^accounts: "all" — expected a non-empty list of accounts, .* or \{"organization"/)]);
	});

	it('splitBy: "account" needs accounts, and no other value', () => {
		const environments = defaults()['environments'] as Record<string, Record<string, unknown>>;
		expect(problems({...defaults(), environments: {...environments, dev: {...environments['dev'], splitBy: 'account'}}})).toEqual([
			'environments.dev.splitBy: "account" — expected "accounts" in the configuration as well (with one account there is nothing to split by)',
		]);
		expect(problems({...defaults(), accounts: [{name: 'a', profile: 'a'}], environments: {...environments, dev: {...environments['dev'], splitBy: 'region'}}})).toEqual([
			'environments.dev.splitBy: "region" — expected one of "account"',
		]);
	});
});

describe('rows split by account', () => {
	const instance = (id: string, value: string, account?: string): RawInstance => ({id, region: 'us-east-1', type: 't3.large', state: 'running', tags: {Environment: value, Role: 'agent'}, ...(account ? {account: {id: account === 'a' ? '111111111111' : '222222222222', name: account}} : {})});
	const tags = {envTagKey: 'Environment', roleTag: {key: 'Role', agent: 'agent', monitor: 'monitor'}};

	it('an environment split by account is one row per account; the others span every account', () => {
		const rows = splitRows({dev: {tagValues: ['dev'], splitBy: 'account'}, staging: {tagValues: ['staging']}}, ['a', 'b']);
		expect(Object.keys(rows)).toEqual(['dev@a', 'dev@b', 'staging']);
		expect(rows['dev@b']).toEqual({tagValues: ['dev'], splitBy: 'account', account: 'b', splitOf: 'dev'});
		const {byEnvironment} = aggregate([instance('i-1', 'dev', 'a'), instance('i-2', 'Dev', 'b'), instance('i-3', 'dev', 'b'), instance('i-4', 'staging', 'a'), instance('i-5', 'staging', 'b')], tags, rows, {'t3.large': 1});
		expect(byEnvironment.get('dev@a')?.agentsRunning).toBe(1);
		expect(byEnvironment.get('dev@b')?.agentIds.map(agent => agent.id)).toEqual(['i-2', 'i-3']);
		expect(byEnvironment.get('staging')?.agentsRunning).toBe(2);
		expect(byEnvironment.get('dev@a')?.instances?.[0]).toMatchObject({id: 'i-1', account: '111111111111', accountName: 'a'});
		expect(expandNames(['dev', 'staging', 'dev@b'], rows)).toEqual(['dev@a', 'dev@b', 'staging']);
	});

	it('a failing account makes its own rows stale and every row that spans accounts; the reason names it', () => {
		const rows = {'dev@a': {account: 'a'}, 'dev@b': {account: 'b'}, staging: {}};
		const stale = staleByRow([
			{region: 'us-east-1', message: 'cannot assume arn:aws:iam::222222222222:role/x (AccessDenied)', account: {name: 'b', id: '222222222222'}},
			{region: 'eu-west-1', message: 'cannot assume arn:aws:iam::222222222222:role/x (AccessDenied)', account: {name: 'b', id: '222222222222'}},
		], rows)!;
		expect(stale.reason).toBe('account b (222222222222): cannot assume arn:aws:iam::222222222222:role/x (AccessDenied) (us-east-1, eu-west-1)');
		expect([...stale.rows.keys()]).toEqual(['dev@b', 'staging']);
		expect(stale.rows.get('staging')).toBe(stale.reason);
		// One account: errors carry no account, and the whole listing is stale, as ever.
		expect(staleByRow([{region: 'us-east-1', message: 'throttled'}], rows)).toBeUndefined();
	});

	it('an organization: ACTIVE accounts, include and exclude by ID or name, the account envwatch runs as with its own credentials, names made unique', () => {
		const accounts = [
			{id: '123456789012', name: 'master', state: 'ACTIVE'},
			{id: '111111111111', name: 'Sandbox A', state: 'ACTIVE', joined: Date.UTC(2026, 5, 2)},
			{id: '222222222222', name: 'sandbox a', state: 'ACTIVE', joined: Date.UTC(2026, 5, 1)},
			{id: '333333333333', name: 'closed', state: 'SUSPENDED'},
			{id: '444444444444', name: 'staging', state: 'ACTIVE'},
		];
		expect(organizationPlans({roleName: 'Member'}, accounts, '123456789012')).toEqual([
			{name: 'master', id: '123456789012', via: 'self'},
			// Both would be sandbox-a: the one that joined first keeps it.
			{name: 'sandbox-a-111111111111', id: '111111111111', via: 'role', role: {roleArn: 'arn:aws:iam::111111111111:role/Member'}},
			{name: 'sandbox-a', id: '222222222222', via: 'role', role: {roleArn: 'arn:aws:iam::222222222222:role/Member'}},
			{name: 'staging', id: '444444444444', via: 'role', role: {roleArn: 'arn:aws:iam::444444444444:role/Member'}},
		]);
		expect(organizationPlans({roleName: 'Member', include: ['staging'], exclude: ['111111111111']}, accounts, '123456789012').map(plan => plan.name)).toEqual(['master', 'staging']);
		expect(organizationPlans({roleName: 'Member', exclude: ['123456789012', 'Sandbox A']}, accounts, '123456789012').map(plan => plan.name)).toEqual(['sandbox-a', 'staging']);
		// Accounts that join later take no name already watched, whatever their IDs; a join time unknown counts as last.
		const joining = [...accounts, {id: '000000000001', name: 'Staging', state: 'ACTIVE', joined: Date.UTC(2026, 11, 7)}, {id: '000000000002', name: 'Sandbox A!', state: 'ACTIVE'}];
		joining[4] = {...joining[4]!, joined: Date.UTC(2026, 5, 3)};
		expect(organizationPlans({roleName: 'Member'}, joining, '123456789012').map(plan => plan.name)).toEqual(['master', 'sandbox-a-111111111111', 'sandbox-a', 'staging', 'staging-000000000001', 'sandbox-a-000000000002']);
		expect(accountSlug('Sandbox A (team 3)')).toBe('sandbox-a-team-3');
		expect(accountSlug('42')).toBe('a-42');
		expect(accountSlug('!!!')).toBe('account');
	});
});
