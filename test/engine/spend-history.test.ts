import {describe, expect, it} from 'vitest';
import {hourMs} from '../../source/domain/rollup.js';
import {bucketValues, hourlyValues, newTrail, noteSpend, pruneTrail} from '../../source/domain/spend-history.js';
import {useSimHarnesses} from '../helpers/sim.js';

/**
 * The spend chart's history (`t`): 1h and 6h from the polls, not restarted by envwatch's own
 * stops as the policy's windows are; 24h and 7d from the hourly rollup. A bucket nothing was
 * watched in is null, never $0.
 */
const {start, pollsBeforeSpike} = useSimHarnesses();

describe('the spend chart\'s history', () => {
	it('keeps the spike that caused a stop, while the policy\'s window restarts after it', async () => {
		const sim = start({scenario: 'dev-spike'});
		await pollsBeforeSpike(sim);
		// The spike, and the automatic stop it causes in the same poll.
		await sim.poll(30_000);
		expect(sim.fleet.stops).toHaveLength(1);
		const after = await sim.poll(30_000);
		const dev = after.environments.find(view => view.name === 'dev')!;
		// The window (the TREND column, the policy) starts again after envwatch's own stop...
		expect(dev.trend.length).toBeLessThanOrEqual(2);
		// ...the chart keeps what happened: $2.34, the spike to about $2.42, then the stop.
		const series = after.history!.ranges['1h'].series['dev']!;
		expect(series).toHaveLength(120);
		const drawn = series.filter((value): value is number => value !== null);
		expect(Math.max(...drawn)).toBeGreaterThan(2.4);
		expect(drawn[0]).toBeCloseTo(2.34, 2);
		expect(drawn.at(-1)!).toBeLessThan(1);
		// Buckets before envwatch watched are not $0: unknown.
		expect(series[0]).toBeNull();
		expect(after.history!.ranges['1h'].series['global']!.filter(value => value !== null).length).toBe(drawn.length);
	});

	it('24 hours and 7 days come from the hourly rollup, whole hours only, summed over the guarded set for the total', async () => {
		const sim = start({scenario: 'calm'});
		const now = sim.clock.now();
		const hour = Math.floor(now / hourMs) * hourMs;
		sim.state.saveRollup({dev: [[hour - 3 * hourMs, 2], [hour - hourMs, 2.5], [hour, 0.4]], staging: [[hour - hourMs, 1]], production: []});
		sim.newMonitor();
		const snapshot = await sim.poll();
		const day = snapshot.history!.ranges['24h'];
		expect(day.stepMs).toBe(hourMs);
		expect(day.series['dev']).toHaveLength(24);
		expect(day.series['dev']!.slice(-3)).toEqual([2, null, 2.5]);
		expect(day.series['global']!.slice(-3)).toEqual([2, null, 3.5]);
		expect(snapshot.history!.ranges['7d'].series['staging']).toHaveLength(168);
	});
});

describe('buckets', () => {
	it('keep each bucket\'s highest $/h, place values by time, and forget what is older than the range', () => {
		const trail = newTrail();
		const t = 10 * hourMs;
		noteSpend(trail, 'dev', t, 1);
		noteSpend(trail, 'dev', t + 5000, 4);
		noteSpend(trail, 'dev', t + 10_000, 2);
		noteSpend(trail, 'dev', t + 60_000, Number.NaN);
		noteSpend(trail, 'dev', t + 60_000, 3);
		expect(bucketValues(trail.fine['dev'], t + 60_000, 30_000, 4)).toEqual([null, 4, null, 3]);
		pruneTrail(trail, t + 2 * hourMs);
		expect(trail.fine['dev']).toBeUndefined();
		expect(trail.coarse['dev']).toEqual([[t, 4]]);
		expect(hourlyValues({dev: [[t - hourMs, 5]], staging: [[t - hourMs, -1]]}, ['dev', 'staging'], t + 10, 2)).toEqual([null, 5]);
	});
});
