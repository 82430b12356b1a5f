import {DescribeRegionsCommand, EC2Client} from '@aws-sdk/client-ec2';
import {checkAnswers, MalformedAnswerError} from './answers.js';
import {clientConfig, credentialsUsageError, describeError, isCredentialError, type AwsConnection} from './clients.js';

/**
 * A region name as AWS gives them: a two-letter area, GovCloud's `-gov` or an isolated partition's
 * `-iso`/`-isob`/`-isoe`..., a direction, a number (`us-east-1`, `ap-southeast-4`, `us-gov-west-1`,
 * `us-isob-east-1`, `cn-northwest-1`). `zz-fake-1` is not one.
 */
const regionName = /^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}$/;
/**
 * More regions than envwatch believes an account can have: AWS has about 35 today, adding two or
 * three a year. Each one not watched costs the sweep a listing, so an answer past this is refused.
 */
export const maxRegions = 64;
const optInStatuses = new Set(['opt-in-not-required', 'opted-in', 'not-opted-in']);

/**
 * The regions enabled for the account: EC2 DescribeRegions (without AllRegions, EC2 answers only
 * those that need no opt-in and those opted in; one answered `not-opted-in` is left out), asked in
 * `home`. The answer is checked like every other: a well-formed, complete XML document
 * (answers.ts), then at most `maxRegions` regions, names of AWS's shape, each once, with a known
 * opt-in status, at least one enabled.
 * Anything else is a MalformedAnswerError: never "no regions", which would read as "nothing found".
 */
export async function enabledRegions(connection: AwsConnection, home = 'us-east-1'): Promise<string[]> {
	const client = new EC2Client(clientConfig(connection, home));
	checkAnswers(client, home, 'xml');
	try {
		const answer = await client.send(new DescribeRegionsCommand({}));
		return regionsOf(answer.Regions, home);
	} finally {
		client.destroy();
	}
}

/** The region names of a DescribeRegions answer, checked (see `enabledRegions`). */
export function regionsOf(regions: unknown, home: string): string[] {
	if (!Array.isArray(regions) || regions.length === 0) {
		throw new MalformedAnswerError(home, 'DescribeRegions answered without any region: expected the regions enabled for the account (at least the one asked)');
	}

	if (regions.length > maxRegions) {
		throw new MalformedAnswerError(home, `DescribeRegions answered ${regions.length} regions: more than the ${maxRegions} envwatch believes an account can have (AWS has about 35): not believed`);
	}

	const names = new Set<string>();
	const disabled = new Set<string>();
	for (const region of regions as Array<{RegionName?: unknown; OptInStatus?: unknown}>) {
		const name = region?.RegionName;
		if (typeof name !== 'string' || !regionName.test(name)) {
			throw new MalformedAnswerError(home, `DescribeRegions answered a region named ${JSON.stringify(name)}: expected names like us-east-1`);
		}

		if (region.OptInStatus !== undefined && !optInStatuses.has(region.OptInStatus as string)) {
			throw new MalformedAnswerError(home, `DescribeRegions answered ${name} with opt-in status ${JSON.stringify(region.OptInStatus)}: expected one of ${[...optInStatuses].join(', ')}`);
		}

		if (names.has(name)) {
			throw new MalformedAnswerError(home, `DescribeRegions answered ${name} twice: a region is listed once`);
		}

		names.add(name);
		if (region.OptInStatus === 'not-opted-in') {
			// Answered though not asked for (an emulator, or AllRegions): not enabled, nothing can run there.
			disabled.add(name);
		}
	}

	const enabled = [...names].filter(name => !disabled.has(name)).sort();
	if (enabled.length === 0) {
		throw new MalformedAnswerError(home, 'DescribeRegions answered no enabled region: expected at least the one asked');
	}

	return enabled;
}

/**
 * `regions: "all"`: the regions to watch, asked once as envwatch starts. Credentials that do not
 * work are the usual paragraph (exit 2); any other failure says what failed and what to do
 * instead: envwatch does not guess which regions to watch.
 */
export async function allRegions(connection: AwsConnection, home = process.env['AWS_REGION'] || 'us-east-1'): Promise<string[]> {
	try {
		return await enabledRegions(connection, home);
	} catch (error) {
		if (isCredentialError(error)) {
			throw credentialsUsageError(error, connection);
		}

		throw new Error(`regions "all": cannot list the regions enabled for the account (DescribeRegions in ${home}: ${describeError(error)}) — try again, or list the regions to watch (regions in the configuration, or --region)`);
	}
}
