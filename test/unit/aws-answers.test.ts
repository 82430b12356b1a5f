import {describe, expect, test} from 'vitest';
import {checkAnswer} from '../../source/providers/aws/answers.js';
import {instancesOf} from '../../source/providers/aws/fleet.js';

// The pure halves of the answer checks; the same checks through the SDK against moto and the
// fault proxy are in test/integration/aws-faults.test.ts.
const bytes = (text: string) => new TextEncoder().encode(text);
const complete = '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet/></DescribeInstancesResponse>\n';

describe('checkAnswer', () => {
	test('a complete EC2 answer passes; the same cut off, under another root or as HTML does not', () => {
		expect(checkAnswer('DescribeInstances', 'xml', 200, 'text/xml;charset=UTF-8', bytes(complete))).toBeUndefined();
		expect(checkAnswer('DescribeInstances', 'xml', 200, 'text/xml', bytes(complete.slice(0, 120)))).toMatch(/cut off before <\/DescribeInstancesResponse>/);
		expect(checkAnswer('StopInstances', 'xml', 200, 'text/xml', bytes(complete))).toMatch(/expected an XML <StopInstancesResponse> document/);
		expect(checkAnswer('DescribeInstances', 'xml', 200, 'text/xml', bytes('<html><body>Log in</body></html>'))).toContain('starting "<html><body>Log in</body></html>"');
		expect(checkAnswer('DescribeInstances', 'xml', 200, 'text/html', bytes(complete))).toContain('HTTP 200 text/html');
	});

	test('what came back is quoted short and printable: 40 characters, no control characters', () => {
		const message = checkAnswer('DescribeInstances', 'xml', 200, undefined, bytes(`\u0007\u001b[31m${'x'.repeat(100)}`))!;
		expect(message).toContain('(no content type), 106 bytes, starting "[31m');
		// eslint-disable-next-line no-control-regex
		expect(message).not.toMatch(/[\u0000-\u001F]/);
		expect(/starting "([^"]*)"/.exec(message)![1]!.length).toBeLessThanOrEqual(43);
	});

	test('AWS error answers are left to the SDK; an HTML error page is named', () => {
		expect(checkAnswer('StopInstances', 'xml', 400, 'text/xml', bytes('<?xml version="1.0"?><Response><Errors><Error><Code>X</Code></Error></Errors></Response>'))).toBeUndefined();
		expect(checkAnswer('GetCallerIdentity', 'xml', 403, 'text/xml', bytes('<ErrorResponse><Error><Code>ExpiredToken</Code></Error></ErrorResponse>'))).toBeUndefined();
		expect(checkAnswer('StopInstances', 'xml', 502, 'text/html', bytes('<html>Bad gateway</html>'))).toBe('StopInstances answered HTTP 502 text/html, 24 bytes, starting "<html>Bad gateway</html>": not an AWS error answer');
	});

	test('JSON answers (Cost Explorer): an object, complete', () => {
		expect(checkAnswer('GetCostAndUsage', 'json', 200, 'application/x-amz-json-1.1', bytes('{"ResultsByTime":[]}'))).toBeUndefined();
		expect(checkAnswer('GetCostAndUsage', 'json', 200, 'application/x-amz-json-1.1', bytes('{"ResultsByTime":['))).toMatch(/not valid JSON \(cut off\?\)/);
		expect(checkAnswer('GetCostAndUsage', 'json', 200, 'application/x-amz-json-1.1', bytes('[]'))).toMatch(/expected a JSON object/);
		expect(checkAnswer('GetCostAndUsage', 'json', 200, 'text/html', bytes('<html><body>Log in</body></html>'))).toMatch(/HTTP 200 text\/html, 32 bytes, starting "<html><body>Log in<\/body><\/html>": expected a JSON object/);
		expect(checkAnswer('GetCostAndUsage', 'json', 200, 'application/json', bytes(''))).toMatch(/0 bytes: expected a JSON object/);
	});
});

describe('instancesOf (one DescribeInstances page)', () => {
	const good = {InstanceId: 'i-0aaaaaaaaaaaaaaa1', InstanceType: 't3.large' as const, State: {Name: 'running' as const}};

	test('complete instances become raw instances', () => {
		expect(instancesOf({Reservations: [{Instances: [{...good, Tags: [{Key: 'Environment', Value: 'constructor'}]}]}]}, 'us-east-1')).toEqual([
			{id: 'i-0aaaaaaaaaaaaaaa1', region: 'us-east-1', type: 't3.large', state: 'running', tags: {Environment: 'constructor'}, lifecycle: 'on-demand'},
		]);
		expect(instancesOf({}, 'us-east-1')).toEqual([]);
		// What it is billed as: market, OS (Platform windows alone is Windows), AZ and tenancy.
		expect(instancesOf({Reservations: [{Instances: [{...good, InstanceLifecycle: 'spot', Platform: 'windows' as never, Placement: {AvailabilityZone: 'us-east-1b', Tenancy: 'dedicated'}}]}]}, 'us-east-1')[0])
			.toMatchObject({lifecycle: 'spot', platformDetails: 'Windows', availabilityZone: 'us-east-1b', tenancy: 'dedicated'});
		expect(instancesOf({Reservations: [{Instances: [{...good, PlatformDetails: 'Red Hat Enterprise Linux'}]}]}, 'us-east-1')[0]).toMatchObject({platformDetails: 'Red Hat Enterprise Linux'});
	});

	test('an instance missing its state, type or ID makes the page (and so its region) err instead of being skipped', () => {
		expect(() => instancesOf({Reservations: [{Instances: [good, {InstanceId: 'i-0aaaaaaaaaaaaaaa2', InstanceType: 't3.large'}]}]}, 'us-east-1', 2))
			.toThrow('DescribeInstances page 2: instance i-0aaaaaaaaaaaaaaa2 has no state: expected one of pending, running, stopping, stopped, shutting-down, terminated');
		expect(() => instancesOf({Reservations: [{Instances: [{...good, State: {Name: 'hibernating' as never}}]}]}, 'us-east-1')).toThrow(/unknown state "hibernating"/);
		expect(() => instancesOf({Reservations: [{Instances: [{...good, InstanceType: undefined}]}]}, 'us-east-1')).toThrow(/has no instance type/);
		expect(() => instancesOf({Reservations: [{Instances: [{...good, InstanceId: undefined}]}]}, 'us-east-1')).toThrow(/\(no ID\) has no valid instance ID/);
	});
});
