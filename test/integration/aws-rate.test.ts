import {describe, expect, test} from 'vitest';
import {credentialsUsageError, describeError, isCredentialError} from '../../source/providers/aws/clients.js';
import {filtersFor} from '../../source/providers/aws/instances.js';
import {backoffMs, TokenBucket, type Timer} from '../../source/providers/aws/rate.js';

// Pure pieces of the AWS provider, with a fake clock: no moto needed.
function fakeTimer(): Timer & {slept: number[]; at: number} {
	const timer = {
		at: 0,
		slept: [] as number[],
		now: () => timer.at,
		sleep: async (ms: number) => {
			timer.slept.push(ms);
			timer.at += ms;
		},
	};
	return timer;
}

describe('TokenBucket', () => {
	test('EC2 StopInstances: 2,000 instances take (2000 - 1000) / 20 = 50 s of refill', async () => {
		const timer = fakeTimer();
		const bucket = new TokenBucket({capacity: 1000, refillPerSecond: 20}, timer);
		let left = 2000;
		const batches: number[] = [];
		while (left > 0) {
			const size = bucket.nextBatch(left, 1000);
			await bucket.take(size);
			batches.push(size);
			left -= size;
		}

		expect(batches[0]).toBe(1000);
		expect(batches.slice(1).every(size => size === 20)).toBe(true);
		expect(batches.reduce((sum, size) => sum + size, 0)).toBe(2000);
		expect(timer.at).toBe(50_000);
	});

	test('a refund makes tokens available again, never above capacity', async () => {
		const timer = fakeTimer();
		const bucket = new TokenBucket({capacity: 10, refillPerSecond: 1}, timer);
		await bucket.take(10);
		bucket.refund(4);
		expect(bucket.available()).toBe(4);
		bucket.refund(100);
		expect(bucket.available()).toBe(10);
	});

	test('backoff is exponential with full jitter and a cap', () => {
		expect(backoffMs(0, 1000, 20_000, () => 0.999)).toBe(999);
		expect(backoffMs(3, 1000, 20_000, () => 0.5)).toBe(4000);
		expect(backoffMs(10, 1000, 20_000, () => 0.5)).toBe(10_000);
		expect(backoffMs(5, 1000, 20_000, () => 0)).toBe(0);
	});
});

describe('filters', () => {
	test('the monitor lists everything carrying the key; the enforcer exact values and the agent role', () => {
		expect(filtersFor({envTagKey: 'Environment', states: ['running']})).toEqual([
			{Name: 'tag-key', Values: ['Environment']},
			{Name: 'instance-state-name', Values: ['running']},
		]);
		expect(filtersFor({envTagKey: 'Env', envTagValues: ['dev', 'dev', 'development'], role: {key: 'Role', value: 'agent'}, states: ['pending', 'running']})).toEqual([
			// EC2 filters are case-sensitive and envwatch's matching is not: the usual spellings go along.
			{Name: 'tag:Env', Values: ['dev', 'DEV', 'Dev', 'development', 'DEVELOPMENT', 'Development']},
			{Name: 'tag:Role', Values: ['agent']},
			{Name: 'instance-state-name', Values: ['pending', 'running']},
		]);
	});
});

describe('errors', () => {
	test('credential errors are recognised by code and message', () => {
		expect(isCredentialError(Object.assign(new Error('Could not load credentials from any providers'), {name: 'CredentialsProviderError'}))).toBe(true);
		expect(isCredentialError(Object.assign(new Error('The security token included in the request is expired'), {name: 'ExpiredToken'}))).toBe(true);
		expect(isCredentialError(Object.assign(new Error('Rate exceeded'), {name: 'RequestLimitExceeded'}))).toBe(false);
	});

	test('the usage paragraph names the profile and quotes only the error code', () => {
		const error = Object.assign(new Error('token AKIAXXXXSECRET expired at /home/me/.aws/sso/cache/abc.json'), {name: 'ExpiredTokenException'});
		const message = credentialsUsageError(error, {profile: 'ops'}).message;
		expect(message).toContain('AWS rejected the credentials (ExpiredTokenException');
		expect(message).toContain('for profile "ops"');
		expect(message).toContain('aws sso login --profile ops');
		expect(message).not.toContain('AKIAXXXXSECRET');
		expect(message).not.toContain('sso/cache');
	});

	test('describeError drops the encoded authorization blob and counts attempts', () => {
		const denied = Object.assign(new Error('You are not authorized to perform this operation. Encoded authorization failure message: QUJD'), {name: 'UnauthorizedOperation', $metadata: {attempts: 1}});
		expect(describeError(denied)).toBe('UnauthorizedOperation: You are not authorized to perform this operation.');
		const throttled = Object.assign(new Error('Request limit exceeded.'), {name: 'RequestLimitExceeded', $metadata: {attempts: 3}});
		expect(describeError(throttled)).toBe('RequestLimitExceeded: Request limit exceeded. (after 3 attempts)');
	});
});
