import {PublishCommand, SNSClient} from '@aws-sdk/client-sns';
import type {TopicPublisher} from '../types.js';
import {clientConfig, describeError, type AwsConnection} from './clients.js';

/** A failed publish: `retry` false when trying again cannot help (no such topic, no permission). */
function publishError(message: string, retry: boolean): Error {
	return Object.assign(new Error(message), {retry});
}

/**
 * Publishes to SNS topics with the credentials and endpoint the AWS provider uses (`--profile`,
 * `--endpoint-url`, the SDK's default chain). The notifier does the retrying: one SDK attempt each.
 */
export function snsPublisher(connection: AwsConnection): TopicPublisher {
	const clients = new Map<string, SNSClient>();
	return async (target, subject, message, signal) => {
		let client = clients.get(target.region);
		if (!client) {
			client = new SNSClient({...clientConfig({...connection, maxAttempts: 1, requestTimeoutMs: 10_000}, target.region)});
			clients.set(target.region, client);
		}

		let answer: {MessageId?: unknown};
		try {
			answer = await client.send(new PublishCommand({TopicArn: target.topicArn, Subject: subject, Message: message}), {abortSignal: signal});
		} catch (error) {
			const status = (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode;
			// A 4xx other than throttling will not change by trying again (no such topic, no permission).
			throw publishError(describeError(error), status === undefined || status >= 500 || status === 429 || /Throttl/i.test(String((error as Error).name)));
		}

		// The answer's shape, not only its status: a publish without a MessageId was not accepted.
		if (typeof answer.MessageId !== 'string' || answer.MessageId === '') {
			throw publishError('SNS answered without a MessageId: not published', true);
		}
	};
}
