import {describe, expect, it} from 'vitest';
import {loadConfig} from '../../source/config/load.js';
import {checkAgents, checkStartCost, findViolation} from '../../source/domain/agents.js';
import {emptySpend} from '../../source/domain/classify.js';
import {plural} from '../../source/domain/format.js';
import type {EnvironmentPolicy} from '../../source/domain/types.js';
import {formatDashboard} from '../../source/app/headless.js';
import {lastPollLine} from '../../source/commands/status.js';
import {snapshot, view} from '../component/fixtures.js';

/** Counts in what envwatch says: one of a thing is singular (never "1 agents", "1 volumes", "1 polls"). */

const config = loadConfig({noStore: true}).config;
const limited = (maxAgents: number): EnvironmentPolicy => ({...config.environments['staging']!, agents: 'limited', maxAgents});

describe('one of a thing', () => {
	it('plural: 0 and 2 are plural, 1 is not', () => {
		expect([0, 1, 2].map(count => plural(count, 'poll'))).toEqual(['0 polls', '1 poll', '2 polls']);
	});

	it.each([
		[1, 'staging allows at most 1 agent (limited): 1 running + 1 requested = 2'],
		[2, 'staging allows at most 2 agents (limited): 2 running + 1 requested = 3'],
	])('a start over a cap of %i', (cap, reason) => {
		expect(checkAgents('staging', limited(cap), cap, 1)).toEqual({ok: false, reason});
	});

	it.each([
		[0, 1, 'staging runs 1 agent, over its cap of 0'],
		[1, 2, 'staging runs 2 agents, over its cap of 1'],
	])('a violation: cap %i, %i running', (cap, running, reason) => {
		const spend = {...emptySpend(), agentsRunning: running, agentIds: Array.from({length: running}, (_, index) => ({id: `i-${index}`, region: 'us-east-1', type: 't3.micro'}))};
		expect(findViolation('staging', limited(cap), spend)?.reason).toBe(reason);
	});

	it('a start of 1 agent of a type the template does not name, over a cap', () => {
		const check = checkStartCost('dev', {each: {usd: 3.06, source: 'table'}, type: undefined, count: 1, environment: {usd: 2.34, cap: 5}, global: {usd: 4.34, cap: 100}});
		expect(check).toMatchObject({ok: false, reason: expect.stringContaining('for 1 agent of a type the launch template does not name') as string});
		const four = checkStartCost('dev', {each: {usd: 3.06, source: 'table'}, type: undefined, count: 4, environment: {usd: 2.34, cap: 5}, global: {usd: 4.34, cap: 100}});
		expect(four).toMatchObject({ok: false, reason: expect.stringContaining('for 4 agents of a type') as string});
		const endless = checkStartCost('dev', {each: {usd: Number.POSITIVE_INFINITY, source: 'table'}, type: 't3.large', count: 1, environment: {usd: 2.34, cap: 5}, global: {usd: 4.34, cap: 100}});
		expect(endless).toMatchObject({ok: false, reason: expect.stringMatching(/^1 agent at /) as string});
	});

	it('the headless view: 1 agent running, 1 instance no environment claims', () => {
		const text = formatDashboard(snapshot({environments: [view('dev', {agents: {running: 1, allowed: 'all'}})], unknown: {instances: 1, hourlyUsd: 0.1, tagValues: ['qa']}}));
		expect(text).toContain('1 agent running');
		expect(text).toContain('(qa): 1 instance, $0.10/hr, not guarded');
		expect(formatDashboard(snapshot({environments: [view('dev', {agents: {running: 2, allowed: 'all'}})]}))).toContain('2 agents running');
	});

	it.each([
		[1, '(1 poll; '],
		[2, '(2 polls; '],
	])('envwatch status after %i poll(s)', (polls, words) => {
		expect(lastPollLine({lastPoll: Date.UTC(2026, 0, 5, 10), polls, lastSuccessAt: Date.UTC(2026, 0, 5, 10), error: null})).toBe(`last poll: 2026-01-05T10:00:00.000Z ${words}last fresh data 2026-01-05T10:00:00.000Z)`);
	});
});
