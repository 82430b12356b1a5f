import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts';
import {checkAnswers} from './answers.js';
import {clientConfig, credentialsUsageError, isCredentialError, type AwsConnection} from './clients.js';

export type CallerIdentity = {account: string; arn: string};

/** STS GetCallerIdentity through the default chain; credential problems become a UsageError (exit 2). */
export async function callerIdentity(connection: AwsConnection, region: string): Promise<CallerIdentity> {
	const client = new STSClient(clientConfig(connection, region));
	checkAnswers(client, region, 'xml');
	try {
		const identity = await client.send(new GetCallerIdentityCommand({}));
		if (typeof identity.Account !== 'string' || !/^\d{12}$/.test(identity.Account)) {
			throw new Error(`STS GetCallerIdentity answered without a 12-digit account ID (got ${JSON.stringify(identity.Account ?? null).slice(0, 20)})`);
		}

		return {account: identity.Account, arn: identity.Arn ?? 'unknown'};
	} catch (error) {
		if (isCredentialError(error)) {
			throw credentialsUsageError(error, connection);
		}

		throw error;
	} finally {
		client.destroy();
	}
}
