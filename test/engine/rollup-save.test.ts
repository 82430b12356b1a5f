import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it, vi} from 'vitest';
import {hourMs} from '../../source/domain/rollup.js';
import {useSimHarnesses} from '../helpers/sim.js';

const {start} = useSimHarnesses();

type Saved = {version: number; series: Record<string, Array<[number, number]>>};

// The hourly rollup grows to about 60 KB over its 35 days: written whole every poll, a 1 s interval
// would write 60 KB a second.
describe('the hourly rollup on disk', () => {
	it('is written once a minute while polls change it, when an hour begins, and when the engine stops', async () => {
		const sim = start({scenario: 'calm', flags: {pollIntervalSeconds: 5}});
		// 09:58:00: 5 s polls up to 10:00:55.
		sim.clock.nowMs = Date.UTC(2026, 10, 27, 9, 58);
		const saves = vi.spyOn(sim.state, 'saveRollup');
		let devHourly = 0;
		for (let poll = 0; poll < 36; poll++) {
			devHourly = (await sim.poll(5000)).environments.find(view => view.name === 'dev')!.hourlyUsd;
		}

		// At the first poll (09:58:00), a minute later (09:59:00), as 10:00 begins, and not again
		// before 10:01:00, though 36 polls changed it.
		expect(saves).toHaveBeenCalledTimes(3);
		const file = path.join(sim.dir, 'state', 'rollup.json');
		const tenOclock = Date.UTC(2026, 10, 27, 10);
		const read = () => (JSON.parse(fs.readFileSync(file, 'utf8')) as Saved).series['dev']!;
		expect(read().map(([hour]) => hour)).toEqual([tenOclock - hourMs]);

		// Stopping writes what accrued since: dev's first 55 s of 10:00 (the last poll was at 10:00:55).
		await sim.monitor.stop();
		expect(saves).toHaveBeenCalledTimes(4);
		expect(read().map(([hour]) => hour)).toEqual([tenOclock - hourMs, tenOclock]);
		expect(read()[1]![1]).toBeCloseTo(devHourly * 55 / 3600, 9);
	});
});
