import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

// config/envwatch-member-role.json: the role a StackSet rolls out to every member account. Checked
// by cfn-lint (resource types, properties, IAM action names), and against what envwatch calls in
// a member account and the least-privilege policy the docs publish.
const root = fileURLToPath(new URL('../..', import.meta.url));
const file = path.join(root, 'config', 'envwatch-member-role.json');
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const template = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
const role = template['Resources']['MemberRole']['Properties'] as Json;
const statements = (role['Policies'][0]['PolicyDocument']['Statement'] as Json[]).map(statement => (statement['Fn::If'] ? statement['Fn::If'][1] : statement) as Json);
const granted = statements.flatMap(statement => statement['Action'] as string[]);

/** The docs' least-privilege policy (the JSON block with the StopStartAgentsOnly statement), wherever the docs keep it. */
function publishedPolicy(): Json {
	const files = ['readme.md', ...fs.readdirSync(path.join(root, 'docs')).filter(name => name.endsWith('.md')).map(name => path.join('docs', name))];
	for (const name of files) {
		for (const block of fs.readFileSync(path.join(root, name), 'utf8').matchAll(/```json\n([\s\S]*?)```/g)) {
			if (block[1]!.includes('StopStartAgentsOnly')) {
				return JSON.parse(block[1]!) as Json;
			}
		}
	}

	throw new Error('no least-privilege IAM policy (a ```json block with StopStartAgentsOnly) in readme.md or docs/');
}

describe('the member role template (StackSet)', () => {
	it('passes cfn-lint', () => {
		const lint = spawnSync('cfn-lint', [file], {encoding: 'utf8'});
		if (lint.error) {
			throw new Error(`cfn-lint is not on PATH (it comes with moto's server extra: pip install "moto[server]==5.2.*", or pip install cfn-lint): ${lint.error.message}`);
		}

		expect(`${lint.stdout}${lint.stderr}`).toBe('');
		expect(lint.status).toBe(0);
	});

	it('grants exactly what envwatch calls in a member account: listing and volumes, stop and start of agents of the stoppable environments only; launching only when asked', () => {
		// Every EC2 call of an account's fleet (source/providers/aws/fleet.ts and the stops and starts
		// of actions.ts) is granted, but TerminateInstances (only with action "terminate": the docs say to add it).
		const fleet = ['fleet.ts', 'actions.ts'].map(name => fs.readFileSync(path.join(root, 'source', 'providers', 'aws', name), 'utf8')).join('\n');
		const called = [...new Set([...fleet.matchAll(/new (\w+)Command\(/g)].map(match => `ec2:${match[1]}`))].filter(action => action !== 'ec2:TerminateInstances');
		// RunInstances tags what it launches (TagSpecifications): that takes ec2:CreateTags.
		called.push('ec2:CreateTags');
		called.sort();
		expect([...granted].sort()).toEqual(called);
		const [list, stopStart, launch] = statements;
		expect(list).toMatchObject({Action: ['ec2:DescribeInstances', 'ec2:DescribeVolumes'], Resource: '*'});
		expect(stopStart).toMatchObject({Action: ['ec2:StopInstances', 'ec2:StartInstances'], Condition: {StringEquals: {'aws:ResourceTag/Role': {Ref: 'AgentTagValue'}, 'aws:ResourceTag/Environment': {Ref: 'StoppableEnvironments'}}}});
		expect(role['Policies'][0]['PolicyDocument']['Statement'][2]['Fn::If'][0]).toBe('Launches');
		expect(launch).toMatchObject({Condition: {StringEquals: {'aws:RequestTag/Role': {Ref: 'AgentTagValue'}}}});
		// The tag keys and the stoppable values are the shipped configuration's.
		const defaults = JSON.parse(fs.readFileSync(path.join(root, 'config', 'default.json'), 'utf8')) as Json;
		expect([defaults['envTagKey'], defaults['roleTag']['key'], defaults['roleTag']['agent']]).toEqual(['Environment', 'Role', template['Parameters']['AgentTagValue']['Default']]);
		const stoppable = Object.values(defaults['environments'] as Record<string, Json>).filter(environment => environment['onBreach'] === 'stop').flatMap(environment => environment['tagValues'] as string[]);
		expect(template['Parameters']['StoppableEnvironments']['Default'].split(',')).toEqual(stoppable);
		// Only envwatch's account may assume it, with the external ID when one is set.
		const trust = role['AssumeRolePolicyDocument']['Statement'][0] as Json;
		expect(trust).toMatchObject({Effect: 'Allow', Action: 'sts:AssumeRole', Principal: {AWS: {'Fn::Sub': 'arn:${AWS::Partition}:iam::${EnvwatchAccountId}:root'}}});
		expect(trust['Condition']['Fn::If'][0]).toBe('HasExternalId');
	});

	it('every action it grants is in the docs\' least-privilege policy, under the same conditions', () => {
		const policy = publishedPolicy();
		const published = (policy['Statement'] as Json[]).flatMap(statement => [statement['Action']].flat() as string[]);
		for (const action of granted) {
			expect(published).toContain(action);
		}

		const stopStart = (policy['Statement'] as Json[]).find(statement => statement['Sid'] === 'StopStartAgentsOnly')!;
		expect(Object.keys(stopStart['Condition']['StringEquals'])).toEqual(['aws:ResourceTag/Role', 'aws:ResourceTag/Environment']);
		// The account envwatch runs in may assume the member roles and list the organization.
		expect(published).toEqual(expect.arrayContaining(['sts:AssumeRole', 'organizations:ListAccounts', 'organizations:DescribeOrganization']));
	});
});
