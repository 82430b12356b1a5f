import {DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, TransactWriteItemsCommand, type AttributeValue, type TransactWriteItem} from '@aws-sdk/client-dynamodb';
import type {CoordinationTable, ItemCondition, TableCondition, TableItem, TableKey, TableValue, TableWrite, TableWritten} from '../types.js';
import {checkAnswers, MalformedAnswerError} from './answers.js';
import {clientConfig, errorCode, type AwsConnection} from './clients.js';

/** At most this many pages of one partition (1 MB each): far more than the state ever holds. */
const maxQueryPages = 200;

/** A transaction holds at most 100 items: 99 writes and the condition on another item. */
export const maxTransactWrites = 99;

/**
 * The coordination table in DynamoDB (`coordination.dynamodb`), through the real SDK client. Every
 * read is consistent; every answer passes the answers layer's check (an HTML 200 is an error, never
 * an empty table). A condition that does not hold is an answer (`written: false`, with the item as
 * the table has it), never an exception; everything else (throttled after the SDK's retries, no
 * such table, access denied) rejects with the SDK's error.
 */
export class DynamoTable implements CoordinationTable {
	readonly name: string;
	private readonly client: DynamoDBClient;

	constructor(readonly table: string, readonly region: string, connection: AwsConnection = {}) {
		this.name = `DynamoDB table ${table} (${region})`;
		// A lease's heartbeat must not wait a poll's 15 s on one request.
		this.client = new DynamoDBClient(clientConfig({requestTimeoutMs: 5000, ...connection}, region));
		checkAnswers(this.client, region, 'json');
	}

	async get(key: TableKey): Promise<TableItem | undefined> {
		const answer = await this.client.send(new GetItemCommand({TableName: this.table, Key: keyOf(key), ConsistentRead: true}));
		return answer.Item ? this.itemOf(answer.Item, 'GetItem') : undefined;
	}

	async query(pk: string, prefix?: string): Promise<TableItem[]> {
		const items: TableItem[] = [];
		const seen = new Set<string>();
		let start: Record<string, AttributeValue> | undefined;
		for (let page = 1; ; page++) {
			const answer = await this.client.send(new QueryCommand({
				TableName: this.table,
				ConsistentRead: true,
				KeyConditionExpression: prefix === undefined ? '#pk = :pk' : '#pk = :pk AND begins_with(#sk, :prefix)',
				ExpressionAttributeNames: prefix === undefined ? {'#pk': 'pk'} : {'#pk': 'pk', '#sk': 'sk'},
				ExpressionAttributeValues: prefix === undefined ? {':pk': {S: pk}} : {':pk': {S: pk}, ':prefix': {S: prefix}},
				...(start ? {ExclusiveStartKey: start} : {}),
			}));
			if (answer.Items !== undefined && !Array.isArray(answer.Items)) {
				throw new MalformedAnswerError(this.region, `Query of ${this.table} page ${page} has Items that are not a list`);
			}

			for (const item of answer.Items ?? []) {
				items.push(this.itemOf(item, 'Query'));
			}

			const next = answer.LastEvaluatedKey;
			if (next === undefined) {
				return items;
			}

			// The same rules as every other paginated answer (answers.ts): a key seen before, or no end
			// within the cap, is an answer that is not believed.
			const where = JSON.stringify(next);
			if (seen.has(where)) {
				throw new MalformedAnswerError(this.region, `Query of ${this.table} page ${page} ends at a key it ended at before: an answer that repeats itself, not believed`);
			}

			if (page >= maxQueryPages) {
				throw new MalformedAnswerError(this.region, `Query of ${this.table} still had more pages after ${maxQueryPages}: not believed`);
			}

			seen.add(where);
			start = next;
		}
	}

	async put(item: TableItem, when?: ItemCondition): Promise<TableWritten> {
		try {
			await this.client.send(new PutItemCommand({
				TableName: this.table,
				Item: attributesOf(item),
				...(when ? {...conditionOf(when), ReturnValuesOnConditionCheckFailure: 'ALL_OLD'} : {}),
			}));
			return {written: true};
		} catch (error) {
			if (errorCode(error) === 'ConditionalCheckFailedException') {
				const current = (error as {Item?: Record<string, AttributeValue>}).Item;
				return {written: false, current: current ? this.itemOf(current, 'PutItem') : undefined};
			}

			throw error;
		}
	}

	async transact(writes: TableWrite[], when?: TableCondition): Promise<TableWritten> {
		if (writes.length === 0 || writes.length > maxTransactWrites) {
			throw new Error(`a transaction of ${writes.length} writes: expected 1 to ${maxTransactWrites}`);
		}

		const same = (key: TableKey) => when !== undefined && key.pk === when.key.pk && key.sk === when.key.sk;
		const items: TransactWriteItem[] = writes.map(write => {
			const key = 'put' in write ? {pk: write.put.pk, sk: write.put.sk} : write.delete;
			// DynamoDB allows one operation per item in a transaction: a condition on a written item goes on its write.
			const condition = when && same(key) ? {...conditionOf(when), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const} : {};
			return 'put' in write
				? {Put: {TableName: this.table, Item: attributesOf(write.put), ...condition}}
				: {Delete: {TableName: this.table, Key: keyOf(write.delete), ...condition}};
		});
		let checked = items.findIndex((_item, index) => {
			const write = writes[index]!;
			return same('put' in write ? write.put : write.delete);
		});
		if (when && checked === -1) {
			items.unshift({ConditionCheck: {TableName: this.table, Key: keyOf(when.key), ...conditionOf(when), ReturnValuesOnConditionCheckFailure: 'ALL_OLD'}});
			checked = 0;
		}

		try {
			await this.client.send(new TransactWriteItemsCommand({TransactItems: items}));
			return {written: true};
		} catch (error) {
			const reasons = (error as {CancellationReasons?: Array<{Code?: string; Item?: Record<string, AttributeValue>}>}).CancellationReasons;
			const reason = checked >= 0 ? reasons?.[checked] : undefined;
			if (errorCode(error) === 'TransactionCanceledException' && reason?.Code === 'ConditionalCheckFailed') {
				return {written: false, current: reason.Item ? this.itemOf(reason.Item, 'TransactWriteItems') : undefined};
			}

			throw error;
		}
	}

	close(): void {
		this.client.destroy();
	}

	/** An item as the table holds it, in plain values: one without string keys is not believed. */
	private itemOf(attributes: Record<string, AttributeValue>, call: string): TableItem {
		const pk = attributes['pk']?.S;
		const sk = attributes['sk']?.S;
		if (typeof pk !== 'string' || typeof sk !== 'string') {
			throw new MalformedAnswerError(this.region, `${call} of ${this.table} answered an item without string keys pk and sk`);
		}

		const item: TableItem = Object.assign(Object.create(null) as TableItem, {pk, sk});
		for (const [name, value] of Object.entries(attributes)) {
			const plain = valueOf(value);
			// Another kind (a list, a map, a set, null): left out, so a reader that needs it says it is missing.
			if (plain !== undefined && name !== 'pk' && name !== 'sk') {
				item[name] = plain;
			}
		}

		return item;
	}
}

function keyOf(key: TableKey): Record<string, AttributeValue> {
	return {pk: {S: key.pk}, sk: {S: key.sk}};
}

function attributeOf(value: TableValue): AttributeValue {
	if (typeof value === 'string') {
		return {S: value};
	}

	if (typeof value === 'number') {
		if (!Number.isFinite(value)) {
			throw new TypeError(`a table value ${value}: expected a finite number`);
		}

		return {N: String(value)};
	}

	return typeof value === 'boolean' ? {BOOL: value} : {B: value};
}

function attributesOf(item: TableItem): Record<string, AttributeValue> {
	const attributes: Record<string, AttributeValue> = {};
	for (const [name, value] of Object.entries(item)) {
		attributes[name] = attributeOf(value);
	}

	return attributes;
}

function valueOf(value: AttributeValue): TableValue | undefined {
	if (value.S !== undefined) {
		return value.S;
	}

	if (value.N !== undefined) {
		// Not a number DynamoDB would store: NaN, which every reader's check refuses.
		return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value.N) ? Number(value.N) : Number.NaN;
	}

	if (value.BOOL !== undefined) {
		return value.BOOL;
	}

	return value.B instanceof Uint8Array ? value.B : undefined;
}

/** `attribute_not_exists(pk)`, or each attribute equal to its value (names and values always as placeholders: `token` is a reserved word). */
function conditionOf(when: ItemCondition): {ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Record<string, AttributeValue>} {
	if ('absent' in when) {
		return {ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: {'#pk': 'pk'}};
	}

	const entries = Object.entries(when.equals);
	if (entries.length === 0) {
		throw new TypeError('a condition without attributes');
	}

	return {
		ConditionExpression: entries.map((_entry, index) => `#c${index} = :c${index}`).join(' AND '),
		ExpressionAttributeNames: Object.fromEntries(entries.map(([name], index) => [`#c${index}`, name])),
		ExpressionAttributeValues: Object.fromEntries(entries.map(([, value], index) => [`:c${index}`, attributeOf(value)])),
	};
}
