import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {root} from '../helpers/cli.js';

// deploy/envwatch.yaml, read by cfn-lint (installed beside moto; it checks resource types,
// required properties, enum values and IAM action names) and parsed by cfn-lint's own decoder
// (which reads !GetAtt, !Ref and !Sub) in the same Python process: what the template deploys,
// the handler it names, and that it grants nothing the IAM policies of docs/aws.md do not show.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const template = path.join(root, 'deploy', 'envwatch.yaml');
const script = `
import json, sys
from cfnlint.api import lint, ManualArgs
from cfnlint.decode import decode_str
text = open(sys.argv[1]).read()
decoded, problems = decode_str(text)
matches = lint(text, config=ManualArgs(regions=['us-east-1']))
print(json.dumps({'template': decoded, 'problems': [str(p) for p in problems], 'findings': [str(m) for m in matches]}, default=str))
`;

function read(): {template: Json; problems: string[]; findings: string[]} {
	const run = spawnSync('python3', ['-c', script, template], {encoding: 'utf8'});
	if (run.status !== 0) {
		throw new Error(`cfn-lint could not be run (it comes with moto: pip install 'moto[server]'): ${run.stderr}`);
	}

	return JSON.parse(run.stdout) as {template: Json; problems: string[]; findings: string[]};
}

/** Every action a policy document's statements allow. */
function actionsOf(document: Json): string[] {
	return (document['Statement'] as Json[]).flatMap(statement => [statement['Action']].flat() as string[]);
}

/** The actions of every IAM policy shown in docs/aws.md (its JSON blocks). */
function documentedActions(): Set<string> {
	const text = fs.readFileSync(path.join(root, 'docs', 'aws.md'), 'utf8');
	const blocks = [...text.matchAll(/```json\n([\s\S]*?)```/g)].map(match => JSON.parse(match[1]!) as Json).filter(block => Array.isArray(block['Statement']));
	return new Set(blocks.flatMap(block => actionsOf(block)));
}

describe('deploy/envwatch.yaml', () => {
	it('passes cfn-lint, names the built handler, runs every minute, alarms to the topic, and grants only what docs/aws.md shows', () => {
		const {template: parsed, problems, findings} = read();
		expect(problems).toEqual([]);
		expect(findings).toEqual([]);
		const resources = parsed['Resources'] as Record<string, Json>;
		const ofType = (type: string) => Object.values(resources).filter(resource => resource['Type'] === type);

		// The function runs the zip's lambda.js, whose `handler` export is the built handler.
		const [fn] = ofType('AWS::Lambda::Function');
		expect(fn!['Properties']['Handler']).toBe('lambda.handler');
		expect(fs.readFileSync(path.join(root, 'source', 'lambda.ts'), 'utf8')).toMatch(/export async function handler\(/);
		expect(fs.readFileSync(path.join(root, 'scripts', 'package-lambda.mjs'), 'utf8')).toMatch(/\{name: 'lambda\.js', data: fs\.readFileSync\(`\$\{bundle\}lambda\.js`\)\}/);
		expect(fn!['Properties']['Environment']['Variables']).toMatchObject({ENVWATCH_CONFIG_PARAMETER: {Ref: 'ConfigParameter'}});

		// The table as the code keys it.
		const [table] = ofType('AWS::DynamoDB::Table');
		expect(table!['Properties']['KeySchema']).toEqual([{AttributeName: 'pk', KeyType: 'HASH'}, {AttributeName: 'sk', KeyType: 'RANGE'}]);

		// Every minute, no retries (the next minute is the retry).
		const [schedule] = ofType('AWS::Scheduler::Schedule');
		expect(schedule!['Properties']).toMatchObject({ScheduleExpression: 'rate(1 minute)', Target: {Arn: {'Fn::GetAtt': ['Function', 'Arn']}}});

		// Alarms on the function's errors and on a stale lease, to the SNS topic.
		const alarms = ofType('AWS::CloudWatch::Alarm').map(alarm => alarm['Properties'] as Json);
		expect(alarms.map(alarm => `${alarm['Namespace']}/${alarm['MetricName']}`).sort()).toEqual(['AWS/Lambda/Errors', 'envwatch/StaleLease']);
		expect(alarms.map(alarm => alarm['AlarmActions'] as unknown)).toEqual([[{Ref: 'AlarmTopic'}], [{Ref: 'AlarmTopic'}]]);
		expect(resources['AlarmTopic']!['Type']).toBe('AWS::SNS::Topic');

		// Least privilege: no action outside the policies the docs show, no wildcard action.
		const granted = ofType('AWS::IAM::Role').flatMap(role => (role['Properties']['Policies'] as Json[]).flatMap(policy => actionsOf(policy['PolicyDocument'])));
		expect(granted.length).toBeGreaterThan(10);
		const documented = documentedActions();
		expect(granted.filter(action => !documented.has(action) || action.includes('*'))).toEqual([]);
		expect(granted).not.toContain('ec2:StartInstances');
		expect(granted).not.toContain('ec2:TerminateInstances');
	});
});
