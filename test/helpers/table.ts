import {CreateTableCommand, DynamoDBClient, PutItemCommand, type AttributeValue} from '@aws-sdk/client-dynamodb';
import {DynamoTable} from '../../source/providers/aws/table.js';
import {testCredentials} from './moto.js';

/** The coordination table as deploy/envwatch.yaml makes it (keys pk and sk, strings), in moto. */
export async function createTable(url: string, name = 'envwatch', region = 'us-east-1'): Promise<DynamoTable> {
	const client = new DynamoDBClient({region, endpoint: url, credentials: testCredentials, maxAttempts: 1});
	await client.send(new CreateTableCommand({
		TableName: name,
		BillingMode: 'PAY_PER_REQUEST',
		AttributeDefinitions: [{AttributeName: 'pk', AttributeType: 'S'}, {AttributeName: 'sk', AttributeType: 'S'}],
		KeySchema: [{AttributeName: 'pk', KeyType: 'HASH'}, {AttributeName: 'sk', KeyType: 'RANGE'}],
	}));
	client.destroy();
	return new DynamoTable(name, region, {endpointUrl: url, credentials: testCredentials, maxAttempts: 1});
}

/** Puts an item as it is (raw attribute values): a table damaged or written by something else. */
export async function putRaw(url: string, item: Record<string, AttributeValue>, name = 'envwatch', region = 'us-east-1'): Promise<void> {
	const client = new DynamoDBClient({region, endpoint: url, credentials: testCredentials, maxAttempts: 1});
	await client.send(new PutItemCommand({TableName: name, Item: item}));
	client.destroy();
}
