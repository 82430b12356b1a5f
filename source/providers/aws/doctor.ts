import {CostExplorerClient, GetCostAndUsageCommand, ListCostAllocationTagsCommand} from '@aws-sdk/client-cost-explorer';
import {DescribeSpotPriceHistoryCommand, DescribeVolumesCommand, StartInstancesCommand, StopInstancesCommand} from '@aws-sdk/client-ec2';
import type {Config} from '../../config/index.js';
import {errorMessage, plural, UsageError} from '../../domain/index.js';
import {checkAnswers, firstPage, leanResultOf} from './answers.js';
import {costExplorerRegion, period} from './billing.js';
import {clientConfig, describeError, errorCode, type AwsConnection} from './clients.js';
import type {LeanPage} from './describe.js';
import {AwsFleet} from './fleet.js';
import {callerIdentity} from './identity.js';
import {AwsPrices} from './pricing.js';
import {AccountHandle, isOrganization, listedPlans, organizationAccounts, organizationPlans, type AccountPlan} from './accounts.js';

export type DoctorCheck = {
	name: string;
	/** `unknown`: the check could not tell (it does not fail the run). */
	status: 'ok' | 'fail' | 'unknown';
	detail: string;
	/** What to do about a failure. */
	fix?: string;
};

export type DoctorReport = {account: string | undefined; regions: string[]; checks: DoctorCheck[]; ok: boolean; paidRequests: number};

const policyHint = 'see the least-privilege policy in docs/aws.md';

/**
 * The preflight checklist behind `envwatch doctor`: credentials, each region, each permission
 * envwatch needs, and Cost Explorer. Every failure comes with a fix. Read-only: StopInstances and
 * StartInstances are only tried with DryRun.
 */
export async function runDoctor(config: Config, connection: AwsConnection & {pricingEndpointUrl?: string}): Promise<DoctorReport> {
	const checks: DoctorCheck[] = [];
	const regions = config.regions;
	let account: string | undefined;
	let paidRequests = 0;
	try {
		const identity = await callerIdentity(connection, regions[0] ?? 'us-east-1');
		account = identity.account;
		checks.push({name: 'credentials', status: 'ok', detail: `account ${identity.account} as ${identity.arn}`});
	} catch (error) {
		const usage = error instanceof UsageError;
		checks.push({
			name: 'credentials',
			status: 'fail',
			detail: usage ? 'no usable credentials' : `STS GetCallerIdentity failed: ${describeError(error)}`,
			fix: usage ? error.message : 'check the network path to STS (proxy, --endpoint-url, AWS_ENDPOINT_URL) and retry',
		});
		return {account, regions, checks, ok: false, paidRequests};
	}

	const fleet = new AwsFleet({...connection, regions, pageSize: 5});
	const prices = new AwsPrices({...connection, ec2: region => fleet.client(region)});
	try {
		// With accounts: each account's role (or profile) and its regions' permissions, named by account.
		const perRegion = config.accounts
			? [await accountChecks(config, connection, account)]
			: await Promise.all(regions.map(async region => regionChecks(fleet, config, region)));
		checks.push(...perRegion.flat());
		checks.push(await priceListCheck(prices, regions[0] ?? 'us-east-1'));
	} finally {
		prices.close();
		fleet.close();
	}

	if (config.costExplorer.enabled) {
		const client = new CostExplorerClient(clientConfig(connection, costExplorerRegion));
		checkAnswers(client, costExplorerRegion, 'json');
		try {
			const {today, end} = period(Date.now());
			try {
				paidRequests++;
				// A probe: its first page says whether the call answers.
				// With accounts, grouped by linked account too: the management account's view of every member.
				const groupBy = [...(config.accounts ? [{Type: 'DIMENSION' as const, Key: 'LINKED_ACCOUNT'}] : []), {Type: 'TAG' as const, Key: config.envTagKey}];
				await firstPage(async options => client.send(new GetCostAndUsageCommand({TimePeriod: {Start: today, End: end}, Granularity: 'DAILY', Metrics: ['UnblendedCost'], GroupBy: groupBy}), options));
				checks.push({name: 'Cost Explorer', status: 'ok', detail: 'GetCostAndUsage answered (us-east-1)'});
			} catch (error) {
				const denied = /AccessDenied|Unauthorized/i.test(errorCode(error) ?? '');
				checks.push({
					name: 'Cost Explorer',
					status: 'fail',
					detail: `GetCostAndUsage: ${describeError(error)}`,
					fix: denied
						? `grant ce:GetCostAndUsage (${policyHint}), or set costExplorer.enabled to false`
						: 'enable Cost Explorer for the account (Billing console, once, by the management account), or set costExplorer.enabled to false',
				});
			}

			checks.push(await allocationTagCheck(client, config.envTagKey, () => {
				paidRequests++;
			}));
		} finally {
			client.destroy();
		}
	}

	return {account, regions, checks, ok: checks.every(check => check.status !== 'fail'), paidRequests};
}

export async function regionChecks(fleet: AwsFleet, config: Config, region: string): Promise<DoctorCheck[]> {
	const checks: DoctorCheck[] = [];
	const listing = await fleet.list({envTagKey: config.envTagKey, role: {key: config.roleTag.key, value: config.roleTag.agent}, states: ['pending', 'running', 'stopping', 'stopped'], regions: [region]});
	const failure = listing.errors[0];
	if (failure) {
		if (failure.code === 'UnauthorizedOperation' || failure.code === 'AccessDenied') {
			checks.push({name: `region ${region} reachable`, status: 'ok', detail: 'EC2 answered'});
			checks.push({name: `${region} ec2:DescribeInstances permitted`, status: 'fail', detail: failure.message, fix: `grant ec2:DescribeInstances (${policyHint})`});
		} else {
			checks.push({
				name: `region ${region} reachable`,
				status: 'fail',
				detail: failure.message,
				fix: failure.code === 'AuthFailure' || failure.code === 'OptInRequired'
					? `enable the region ${region} for the account, or remove it from regions / --region`
					: `check the region name, the network path to ec2.${region}.amazonaws.com (proxy, --endpoint-url, AWS_ENDPOINT_URL_EC2) and retry`,
			});
		}

		return checks;
	}

	checks.push({name: `region ${region} reachable`, status: 'ok', detail: 'EC2 answered'});
	checks.push({name: `${region} ec2:DescribeInstances permitted`, status: 'ok', detail: `${listing.instances.length} agent instances seen (first page)`});
	// DryRun needs a real instance ID: an agent's when there is one, so tag conditions apply as they will.
	const agent = listing.instances[0];
	const id = agent?.id ?? 'i-00000000000000000';
	for (const verb of ['StopInstances', 'StartInstances'] as const) {
		try {
			const input = {InstanceIds: [id], DryRun: true};
			await (verb === 'StopInstances' ? fleet.client(region).send(new StopInstancesCommand(input)) : fleet.client(region).send(new StartInstancesCommand(input)));
			checks.push({name: `${region} ec2:${verb} permitted`, status: 'unknown', detail: 'the endpoint answered as if DryRun were not set: it may not honour DryRun'});
		} catch (error) {
			const code = errorCode(error);
			if (code === 'DryRunOperation') {
				checks.push({name: `${region} ec2:${verb} permitted`, status: 'ok', detail: `DryRun on ${id} would have succeeded`});
			} else if (code === 'UnauthorizedOperation') {
				checks.push({name: `${region} ec2:${verb} permitted`, status: 'fail', detail: `DryRun on ${id}: UnauthorizedOperation`, fix: `grant ec2:${verb} on instances tagged ${config.roleTag.key}=${config.roleTag.agent} (${policyHint})`});
			} else if (!agent && code?.startsWith('InvalidInstanceID')) {
				checks.push({name: `${region} ec2:${verb} permitted`, status: 'unknown', detail: 'no agent instance to try a DryRun on'});
			} else {
				checks.push({name: `${region} ec2:${verb} permitted`, status: 'unknown', detail: `DryRun on ${id}: ${describeError(error)}`});
			}
		}
	}

	checks.push(await spotCheck(fleet, region), await volumesCheck(fleet, region, id));
	return checks;
}

const denied = (error: unknown) => /AccessDenied|Unauthorized/i.test(errorCode(error) ?? '');
const fallbackNote = 'until then envwatch prices from the shipped table (us-east-1 Linux) and conservative estimates (~)';

/** Free calls (the Price List and the spot price history cost nothing): one small question each. */
async function priceListCheck(prices: AwsPrices, region: string): Promise<DoctorCheck> {
	const name = 'pricing:GetProducts permitted';
	try {
		const {usd} = await prices.onDemand({region, type: 't3.micro', operatingSystem: 'Linux', preInstalledSw: 'NA', tenancy: 'Shared'});
		return {name, status: 'ok', detail: `the Price List answered (us-east-1): t3.micro Linux in ${region} ${usd === null ? 'has no product' : `$${usd}/h`}`};
	} catch (error) {
		return {
			name,
			status: 'fail',
			detail: `GetProducts: ${describeError(error)}`,
			fix: denied(error)
				? `grant pricing:GetProducts (${policyHint}); ${fallbackNote}`
				: `check the network path to api.pricing.us-east-1.amazonaws.com (proxy, AWS_ENDPOINT_URL_PRICING); ${fallbackNote}`,
		};
	}
}

async function spotCheck(fleet: AwsFleet, region: string): Promise<DoctorCheck> {
	const name = `${region} ec2:DescribeSpotPriceHistory permitted`;
	try {
		await firstPage(async options => fleet.client(region).send(new DescribeSpotPriceHistoryCommand({InstanceTypes: ['t3.micro'], ProductDescriptions: ['Linux/UNIX'], StartTime: new Date(), MaxResults: 5}), options));
		return {name, status: 'ok', detail: 'spot prices answered'};
	} catch (error) {
		return {
			name,
			status: denied(error) ? 'fail' : 'unknown',
			detail: `DescribeSpotPriceHistory: ${describeError(error)}`,
			fix: `grant ec2:DescribeSpotPriceHistory (${policyHint}); until then spot instances are priced at their on-demand price, marked ~`,
		};
	}
}

async function volumesCheck(fleet: AwsFleet, region: string, id: string): Promise<DoctorCheck> {
	const name = `${region} ec2:DescribeVolumes permitted`;
	try {
		const answer = await firstPage(async options => fleet.client(region).send(new DescribeVolumesCommand({Filters: [{Name: 'attachment.instance-id', Values: [id]}], MaxResults: 5}), options));
		// Read by the fleet's lean decoder: the SDK's own output is then empty.
		const lean = leanResultOf(answer) as LeanPage<unknown> | undefined;
		return {name, status: 'ok', detail: `${plural(lean ? lean.items.length : answer.Volumes?.length ?? 0, 'volume')} of ${id} seen`};
	} catch (error) {
		return {
			name,
			status: denied(error) ? 'fail' : 'unknown',
			detail: `DescribeVolumes: ${describeError(error)}`,
			fix: `grant ec2:DescribeVolumes (${policyHint}); until then EBS volumes are not counted in any environment's $/h`,
		};
	}
}

async function allocationTagCheck(client: CostExplorerClient, envTagKey: string, paid: () => void): Promise<DoctorCheck> {
	const name = `cost allocation tag ${envTagKey}`;
	const activate = `activate it in the Billing console (Cost allocation tags), or: aws ce update-cost-allocation-tags-status --cost-allocation-tags-status TagKey=${envTagKey},Status=Active`;
	try {
		paid();
		// One tag key asked for: the first page has it, if anything does.
		const answer = await firstPage(async options => client.send(new ListCostAllocationTagsCommand({TagKeys: [envTagKey], Type: 'UserDefined'}), options));
		const tag = answer.CostAllocationTags?.find(item => item.TagKey === envTagKey);
		if (!tag) {
			return {name, status: 'fail', detail: 'not known to billing yet (no tagged usage seen, or never activated)', fix: activate};
		}

		return tag.Status === 'Active'
			? {name, status: 'ok', detail: 'active: billed cost can be grouped per environment'}
			: {name, status: 'fail', detail: `status ${tag.Status ?? 'unknown'}: billed cost all lands in "untagged"`, fix: activate};
	} catch (error) {
		return {name, status: 'unknown', detail: `could not tell (ListCostAllocationTags: ${describeError(error)}); grant ce:ListCostAllocationTags to let doctor check`};
	}
}

/** The checklist as text: one line per check, a fix under each failure, a summary line. */
export function formatDoctor(report: DoctorReport): string {
	const mark = {ok: '✓', fail: '✗', unknown: '?'} as const;
	const lines = [`envwatch doctor: aws ${report.account ?? '(no account)'} ${report.regions.join(',')}`];
	for (const check of report.checks) {
		lines.push(`  ${mark[check.status]} ${check.name}: ${check.detail}`);
		if (check.fix && check.status === 'fail') {
			lines.push(`      fix: ${check.fix}`);
		}
	}

	const count = (status: DoctorCheck['status']) => report.checks.filter(check => check.status === status).length;
	lines.push(`${count('ok')} ok, ${count('fail')} failed, ${count('unknown')} could not tell${report.paidRequests > 0 ? `; Cost Explorer requests: ${report.paidRequests} ($${(report.paidRequests * 0.01).toFixed(2)})` : ''}`);
	return lines.join('\n');
}

// Doctor per account (`accounts` configured): may envwatch list the organization, does each role
// assume (or profile work), and what each of its regions permits.
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
				detail: errorMessage(error),
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
