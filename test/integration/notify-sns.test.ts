import fs from 'node:fs';
import path from 'node:path';
import {CreateTopicCommand, SNSClient, SubscribeCommand} from '@aws-sdk/client-sns';
import {CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient} from '@aws-sdk/client-sqs';
import {afterEach, describe, expect, it} from 'vitest';
import {isolatedEnv, runCli} from '../helpers/cli.js';
import {launch, motoEnv, testCredentials, useFaultProxy, useMoto} from '../helpers/moto.js';
import {useReceivers} from '../helpers/receiver.js';

// SNS against moto_server (which speaks SNS and SQS): an SQS queue subscribed to the topic receives
// what envwatch published, as AWS would deliver it to an email, SMS or chat subscription.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const moto = useMoto();
const proxy = useFaultProxy(moto);
const receiver = useReceivers();
const dirs: string[] = [];
afterEach(() => {
	for (const dir of dirs.splice(0)) {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

const clientOptions = () => ({region: 'us-east-1', endpoint: moto.url, credentials: testCredentials});

/** A topic with an SQS queue subscribed to it (raw delivery off: the SNS envelope, as email/HTTP get it). */
async function topicWithQueue(): Promise<{topicArn: string; read: () => Promise<Json[]>}> {
	const sns = new SNSClient(clientOptions());
	const sqs = new SQSClient(clientOptions());
	const {TopicArn} = await sns.send(new CreateTopicCommand({Name: 'envwatch-alerts'}));
	const {QueueUrl} = await sqs.send(new CreateQueueCommand({QueueName: 'envwatch-inbox'}));
	const attributes = await sqs.send(new GetQueueAttributesCommand({QueueUrl, AttributeNames: ['QueueArn']}));
	await sns.send(new SubscribeCommand({TopicArn, Protocol: 'sqs', Endpoint: attributes.Attributes!['QueueArn']}));
	return {
		topicArn: TopicArn!,
		async read() {
			const answer = await sqs.send(new ReceiveMessageCommand({QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1}));
			return (answer.Messages ?? []).map(message => JSON.parse(message.Body!) as Json);
		},
	};
}

function setup(notify: Json[]) {
	const base = isolatedEnv();
	const env = motoEnv(proxy.url, {ENVWATCH_CONFIG_DIR: base['ENVWATCH_CONFIG_DIR']!, ENVWATCH_STATE_DIR: base['ENVWATCH_STATE_DIR']!, HOOK_URL: ''});
	dirs.push(base['ENVWATCH_CONFIG_DIR']!, base['ENVWATCH_STATE_DIR']!);
	const config = path.join(base['ENVWATCH_CONFIG_DIR']!, 'team.json');
	fs.writeFileSync(config, JSON.stringify({notify}));
	return {env, config, state: base['ENVWATCH_STATE_DIR']!};
}

describe('SNS against moto', () => {
	it('a dev stop against moto is published to the topic (subject and JSON message) and reaches the webhook too', async () => {
		const devAgents = await launch(moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'});
		const topic = await topicWithQueue();
		const server = await receiver();
		const {env, config, state} = setup([{type: 'sns', topicArn: topic.topicArn}, {type: 'webhook', url: {env: 'HOOK_URL'}}]);
		env['HOOK_URL'] = `${server.url}/hook`;
		const result = await runCli(['--stop-env', 'dev', '--yes', '--region', 'us-east-1', '--config', config, '--state-dir', state], {env});
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(result.stdout).toMatch(/^stopped 2\/2 agents in dev/m);

		const messages = await topic.read();
		expect(messages).toHaveLength(1);
		expect(messages[0]).toMatchObject({Type: 'Notification', TopicArn: topic.topicArn, Subject: 'envwatch: stop of dev'});
		const body = JSON.parse(messages[0]!['Message'] as string) as Json;
		expect(body).toMatchObject({event: 'stop', type: 'action', kind: 'stop', environments: ['dev'], outcome: 'executed'});
		expect([...(body['instanceIds'] as string[])].sort()).toEqual([...devAgents].sort());
		expect(proxy.seen.filter(request => request.action === 'Publish')).toHaveLength(1);
		expect(server.at('/hook').map(request => (request.json as Json)['seq'])).toEqual([body['seq']]);

		const audit = fs.readFileSync(path.join(state, 'audit.log'), 'utf8').trim().split('\n').map(line => JSON.parse(line) as Json);
		expect(audit.filter(entry => entry['type'] === 'notify').map(entry => [entry['figures']['targetType'], entry['outcome']]).sort()).toEqual([['sns', 'delivered'], ['webhook', 'delivered']]);
	});

	it('PagerDuty against moto: the stop of dev triggers an incident, the reset of dev resolves it', async () => {
		await launch(moto.url, {region: 'us-east-1', count: 2, environment: 'dev', role: 'agent'});
		const server = await receiver();
		const {env, config, state} = setup([{type: 'pagerduty', routingKey: {env: 'PD_KEY'}, url: `${server.url}/pagerduty`}]);
		env['PD_KEY'] = 'pdkey-0123456789';
		const run = async (args: string[]) => runCli([...args, '--yes', '--region', 'us-east-1', '--config', config, '--state-dir', state], {env});
		const stop = await run(['--stop-env', 'dev']);
		expect(stop.code).toBe(0);
		const reset = await run(['reset', '--environments', 'dev']);
		expect(reset.stderr).toBe('');
		expect(reset.code).toBe(0);
		const pages = server.at('/pagerduty').map(request => request.json as Json);
		expect(pages.map(page => `${page['event_action']} ${page['dedup_key']}`)).toEqual(['trigger envwatch/dev', 'resolve envwatch/dev']);
		expect(pages[0]).toMatchObject({routing_key: 'pdkey-0123456789', payload: {severity: 'error', summary: 'envwatch: stop of dev', component: 'dev'}});
	});

	it('SNS answering 500 is retried; a topic that does not exist is given up at once, named, without retries', async () => {
		await launch(moto.url, {region: 'us-east-1', count: 1, environment: 'dev', role: 'agent'});
		const topic = await topicWithQueue();
		proxy.rule = request => (request.action === 'Publish' && request.n === 1 ? {status: 500, code: 'InternalError', message: 'try again'} : undefined);
		const missing = topic.topicArn.replace('envwatch-alerts', 'no-such-topic');
		const {env, config, state} = setup([{type: 'sns', topicArn: topic.topicArn, events: ['stop']}, {type: 'sns', name: 'gone', topicArn: missing, events: ['stop']}]);
		const result = await runCli(['--stop-env', 'dev', '--yes', '--region', 'us-east-1', '--config', config, '--state-dir', state], {env});
		expect(result.code).toBe(0);
		expect(result.stderr).toMatch(/^envwatch: stop notification to gone \(sns\): failed: NotFound/m);
		expect(await topic.read()).toHaveLength(1);
		const outcomes = fs.readFileSync(path.join(state, 'audit.log'), 'utf8').trim().split('\n').map(line => JSON.parse(line) as Json).filter(entry => entry['type'] === 'notify');
		const byTarget = Object.fromEntries(outcomes.map(entry => [entry['figures']['target'], [entry['outcome'].split(':')[0], entry['figures']['attempts']]]));
		expect(byTarget).toEqual({'sns#1': ['delivered', 2], gone: ['failed', 1]});
	});

	it('doctor shows a target whose last delivery was given up, and a secret variable that is not set; exit 1', async () => {
		const topic = await topicWithQueue();
		const {env, config, state} = setup([{type: 'sns', topicArn: topic.topicArn}, {type: 'webhook', name: 'hook', url: {env: 'HOOK_URL'}}, {type: 'slack', url: {env: 'SLACK_URL_UNSET'}}]);
		env['HOOK_URL'] = 'http://127.0.0.1:9/hooks/SECRETPATHdoctor';
		const line = (target: string, outcome: string) => JSON.stringify({at: '2026-11-27T09:00:00.000Z', dryRun: false, type: 'notify', actor: 'auto', kind: 'notify', environments: ['dev'], reason: `stop notification to ${target}`, figures: {target, event: 'stop', attempts: 5}, instanceIds: [], outcome, seq: 1});
		fs.writeFileSync(path.join(state, 'audit.log'), `${line('hook', 'delivered')}\n${line('sns#1', 'delivered')}\n${line('hook', 'gave-up: HTTP 500 (busy)')}\n`);
		const result = await runCli(['doctor', '--region', 'us-east-1', '--config', config, '--state-dir', state], {env});
		expect(result.code).toBe(1);
		expect(result.stdout).toMatch(/✓ notify sns#1 \(sns\).*last delivery \(stop, 2026-11-27T09:00:00.000Z\): delivered/);
		expect(result.stdout).toMatch(/✗ notify hook \(webhook\).*last delivery \(stop, 2026-11-27T09:00:00.000Z\): gave-up: HTTP 500 \(busy\)/);
		expect(result.stdout).toContain('envwatch notify test --target 2');
		expect(result.stdout).toMatch(/✗ notify slack#3 \(slack\).*the environment variable SLACK_URL_UNSET is not set/);
		expect(result.stdout).not.toContain('SECRETPATHdoctor');
	});
});
