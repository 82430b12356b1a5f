import {describe, expect, it} from 'vitest';
import {ActionCutShort} from '../../source/engine/enforcer.js';
import {halted, live, useSimHarnesses} from '../helpers/sim.js';

const {start, pollsBeforeSpike} = useSimHarnesses();

// The engine's fence (the lock's or the lease's, source/engine/state/lease.ts) runs right before
// each batch's call: these drive it directly, on the simulated account, whose dev agents sit in two
// regions (one batch each).
describe('the fence before each batch', () => {
	it('refused: no batch is sent, dev runs on, and each instance of the action says why', async () => {
		let fenced = 0;
		const sim = start({scenario: 'dev-spike', fence: async () => {
			fenced++;
			throw new Error('refused: another engine holds the lease of DynamoDB table envwatch (us-east-1) now');
		}});
		await pollsBeforeSpike(sim);
		await sim.poll();
		expect(fenced).toBe(2);
		expect(sim.agents('dev', live)).toEqual(sim.agents('dev'));
		const action = sim.auditLines().find(entry => entry.type === 'action' && entry.kind === 'stop')!;
		expect(action.outcome).toBe('failed');
		expect(action.results!.map(result => result.result)).toEqual(Array(sim.agents('dev').length).fill('error'));
		expect(action.results![0]!.message).toMatch(/refused: another engine holds the lease/);
	});

	it('cut short by the run\'s bound: the batch done is recorded, the rest is not sent, and the next engine resumes the stop', async () => {
		// This run's time runs out after its first batch; the next run has time.
		let batchesLeft = 1;
		const sim = start({scenario: 'dev-spike', fence: async () => {
			if (batchesLeft-- <= 0) {
				throw new ActionCutShort('10 s left of the invocation');
			}
		}});
		await pollsBeforeSpike(sim);
		await sim.poll();
		const stopped = sim.agents('dev', halted);
		expect(stopped.length).toBeGreaterThan(0);
		expect(sim.agents('dev', live).length).toBeGreaterThan(0);
		const action = sim.auditLines().find(entry => entry.type === 'action' && entry.kind === 'stop')!;
		expect(action.reason).toMatch(/cut short \(10 s left of the invocation\): the rest is resumed by the next run/);
		expect(sim.state.loadActionInFlight()).toMatchObject({kind: 'stop', environments: ['dev']});
		// The next run on the same state (the next invocation).
		batchesLeft = Number.POSITIVE_INFINITY;
		sim.newMonitor();
		await sim.poll();
		expect(sim.auditLines().some(entry => entry.kind === 'interrupted' && /a stop of dev .* was cut short/.test(entry.reason))).toBe(true);
		expect(sim.agents('dev', live)).toEqual([]);
		expect(sim.auditLines().at(-1)).toMatchObject({type: 'action', kind: 'respawn', outcome: 'executed'});
	});
});
