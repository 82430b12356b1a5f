import type {Config} from '../../config/index.js';
import {AccountHandle, isOrganization, listedPlans, organizationAccounts, organizationPlans, type AccountPlan} from './accounts.js';
import {describeError, errorCode, type AwsConnection} from './clients.js';
import {regionChecks, type DoctorCheck} from './doctor.js';

const templateHint = 'config/envwatch-member-role.json (docs/accounts.md: the StackSet commands)';

/**
 * `doctor` with accounts: may envwatch list the organization (its credentials must be the
 * management account's, or a delegated administrator's), and then, per account, does its role
 * assume (or its profile work), and what does each of its regions permit. Every check is named
 * by its account, so what is missing where reads at a glance.
 */
export async function accountChecks(config: Config, connection: AwsConnection, self: string | undefined): Promise<DoctorCheck[]> {
	const checks: DoctorCheck[] = [];
	const accounts = config.accounts!;
	let plans: AccountPlan[];
	if (isOrganization(accounts)) {
		try {
			const listed = await organizationAccounts(connection);
			plans = organizationPlans(accounts.organization, listed.accounts, self ?? listed.managementId);
			checks.push({name: 'organizations:ListAccounts permitted', status: 'ok', detail: `organization ${listed.organizationId}: ${listed.accounts.length} accounts, ${plans.length} watched (ACTIVE, include/exclude)`});
		} catch (error) {
			const code = errorCode(error) ?? '';
			checks.push({
				name: 'organizations:ListAccounts permitted',
				status: 'fail',
				detail: describeError(error),
				fix: /NotInUse/.test(code)
					? 'this account is in no organization: list the accounts instead (accounts: [{"name", "profile" or "roleArn"}])'
					: 'run envwatch with the management account\'s credentials (or a delegated administrator\'s) allowed organizations:DescribeOrganization and organizations:ListAccounts',
			});
			return checks;
		}
	} else {
		plans = listedPlans(accounts);
	}

	const perAccount = await Promise.all(plans.map(async plan => oneAccount(plan, config, connection)));
	return [...checks, ...perAccount.flat()];
}

async function oneAccount(plan: AccountPlan, config: Config, connection: AwsConnection): Promise<DoctorCheck[]> {
	const handle = new AccountHandle(plan, connection, {pageSize: 5}, config.regions, config.regions[0] ?? 'us-east-1');
	const how = plan.role ? `sts:AssumeRole of ${plan.role.roleArn}` : plan.profile ? `profile ${plan.profile}` : 'envwatch\'s own credentials';
	try {
		let fleet;
		try {
			fleet = await handle.ready();
		} catch (error) {
			return [{
				name: `account ${plan.name}: ${how}`,
				status: 'fail',
				detail: error instanceof Error ? error.message : String(error),
				fix: plan.role
					? `deploy the member role ${plan.role.roleArn.split('/').at(-1)} in ${plan.id ?? 'the account'}, trusting this account (${templateHint}); with an external ID, the same one in the role's trust policy and in accounts`
					: `check the profile in ~/.aws/config, or run \`aws sso login --profile ${plan.profile ?? ''}\``,
			}];
		}

		const checks: DoctorCheck[] = [{name: `account ${plan.name}: ${how}`, status: 'ok', detail: `account ${handle.id ?? '?'}`}];
		const perRegion = await Promise.all(handle.regions.map(async region => regionChecks(fleet, config, region)));
		// Spot prices are asked with envwatch's own credentials (the market is the same in every
		// account): a member role needs no ec2:DescribeSpotPriceHistory.
		for (const check of perRegion.flat().filter(check => plan.via === 'self' || !check.name.endsWith('ec2:DescribeSpotPriceHistory permitted'))) {
			checks.push({...check, name: `${plan.name} ${check.name}`, ...(check.fix && plan.role ? {fix: `${check.fix}; the member role's policy is in ${templateHint}`} : {})});
		}

		return checks;
	} finally {
		handle.close();
	}
}
