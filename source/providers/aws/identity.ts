import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts';
import {clientConfig, credentialsUsageError, isCredentialError, type AwsConnection} from './clients.js';

export type CallerIdentity = {account: string; arn: string};

/** STS GetCallerIdentity through the default chain; credential problems become a UsageError (exit 2). */
export async function callerIdentity(connection: AwsConnection, region: string): Promise<CallerIdentity> {
	const client = new STSClient(clientConfig(connection, region));
	try {
		const identity = await client.send(new GetCallerIdentityCommand({}));
		return {account: identity.Account ?? 'unknown', arn: identity.Arn ?? 'unknown'};
	} catch (error) {
		if (isCredentialError(error)) {
			throw credentialsUsageError(error, connection);
		}

		throw error;
	} finally {
		client.destroy();
	}
}
