import {describe, expect, it} from 'vitest';
import {loadConfig} from '../../source/config/load.js';
import {agentCap, checkStart, findViolation, hourlyOf} from '../../source/domain/agents.js';
import {emptySpend} from '../../source/domain/classify.js';
import type {EnvironmentPolicy, Spend} from '../../source/domain/types.js';

const config = loadConfig({noStore: true}).config;
const withTemplate = (name: string): EnvironmentPolicy => ({...config.environments[name]!, launchTemplate: {name: `sim-${name}-agent`}});

function spendWith(agents: Array<{id: string; launchedAt?: number}>): Spend {
	return {...emptySpend(), agentsRunning: agents.length, agentIds: agents.map(agent => ({...agent, region: 'us-east-1', type: 't3.micro'}))};
}

describe('agent policy', () => {
	it('caps: all has none, limited its maxAgents, monitor-only zero', () => {
		expect(agentCap(config.environments['dev']!)).toBeUndefined();
		expect(agentCap(config.environments['staging']!)).toBe(2);
		expect(agentCap(config.environments['production']!)).toBe(0);
	});

	it('a start within the cap is allowed; beyond it is refused with the numbers', () => {
		expect(checkStart('staging', withTemplate('staging'), 1, 1)).toEqual({ok: true});
		expect(checkStart('staging', withTemplate('staging'), 1, 2)).toEqual({ok: false, reason: 'staging allows at most 2 agents (limited): 1 running + 2 requested = 3; at most 1 more'});
		expect(checkStart('production', withTemplate('production'), 0, 1)).toMatchObject({ok: false, reason: expect.stringMatching(/monitor only/)});
		expect(checkStart('dev', config.environments['dev']!, 0, 1)).toMatchObject({ok: false, reason: expect.stringMatching(/no launch template/)});
		expect(checkStart('dev', withTemplate('dev'), 0, 0)).toMatchObject({ok: false});
		expect(checkStart('dev', withTemplate('dev'), 100, 50)).toEqual({ok: true});
	});

	it('a violation names the newest agents beyond the cap, and any agent in a monitor-only environment', () => {
		const staging = findViolation('staging', config.environments['staging']!, spendWith([{id: 'i-old', launchedAt: 1}, {id: 'i-new', launchedAt: 3}, {id: 'i-mid', launchedAt: 2}, {id: 'i-newest', launchedAt: 4}]));
		expect(staging).toEqual({environment: 'staging', reason: 'staging runs 4 agents, over its cap of 2', agentIds: ['i-newest', 'i-new']});
		expect(findViolation('staging', config.environments['staging']!, spendWith([{id: 'a'}, {id: 'b'}]))).toBeUndefined();
		expect(findViolation('production', config.environments['production']!, spendWith([{id: 'i-rogue'}]))).toMatchObject({agentIds: ['i-rogue'], reason: expect.stringMatching(/monitor only.*rogue/)});
		expect(findViolation('dev', config.environments['dev']!, spendWith(Array.from({length: 50}, (_, index) => ({id: `i-${index}`}))))).toBeUndefined();
	});
});

// An action's summary says what the agents it acted on cost; an unknown price is never $0.
describe('what agents cost, said in an action\'s summary', () => {
	it('sums known prices, marks estimates with ~, and names the agents without a price', () => {
		expect(hourlyOf([{usd: 0.5, source: 'table'}, {usd: 1.69, source: 'spot'}])).toBe('$2.19/h');
		expect(hourlyOf([{usd: 0.5, source: 'table'}, {usd: 1, source: 'estimate'}])).toBe('~$1.50/h');
		expect(hourlyOf([{usd: 0.5, source: 'table'}, undefined])).toBe('$0.50/h + 1 agent unpriced');
		expect(hourlyOf([undefined, undefined])).toBe('an unpriced amount (2 agents)');
		expect(hourlyOf([])).toBe('$0.00/h');
	});
});
