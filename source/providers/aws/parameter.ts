import {GetParameterCommand, SSMClient} from '@aws-sdk/client-ssm';
import {UsageError} from '../../domain/index.js';
import {checkAnswers} from './answers.js';
import {clientConfig, describeError, errorCode, type AwsConnection} from './clients.js';

/**
 * The text of an SSM parameter (the Lambda's configuration, `ENVWATCH_CONFIG_PARAMETER`), read with
 * decryption (a SecureString read without it is ciphertext). A missing parameter, or one this role
 * may not read, is a UsageError naming the variable, the parameter and what would be right.
 */
export async function readParameter(connection: AwsConnection, name: string, region: string, variable = 'ENVWATCH_CONFIG_PARAMETER'): Promise<string> {
	const client = new SSMClient(clientConfig(connection, region));
	checkAnswers(client, region, 'json');
	try {
		const answer = await client.send(new GetParameterCommand({Name: name, WithDecryption: true}));
		const value = answer.Parameter?.Value;
		if (typeof value !== 'string') {
			throw new UsageError(`${variable} ${name}: the SSM parameter answered without a value — expected a String parameter holding the configuration as JSON`);
		}

		return value;
	} catch (error) {
		const code = errorCode(error);
		if (code === 'ParameterNotFound' || code === 'ParameterVersionNotFound') {
			throw new UsageError(`${variable} ${name}: no such SSM parameter in ${region} — expected the name of a String parameter holding the configuration as JSON (aws ssm put-parameter --name ${name} --type String --value file://config.json)`);
		}

		if (code === 'AccessDeniedException' || code === 'AccessDenied') {
			throw new UsageError(`${variable} ${name}: this role may not read it (${code}) — expected ssm:GetParameter on the parameter (and kms:Decrypt on its key, for a SecureString with a key of your own)`);
		}

		if (error instanceof UsageError) {
			throw error;
		}

		throw new Error(`${variable} ${name}: cannot read the SSM parameter (${describeError(error)})`);
	} finally {
		client.destroy();
	}
}
