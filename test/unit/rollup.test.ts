import {describe, expect, it} from 'vitest';
import {accrue, billCheckLine, checkAgainstBill, hourMs, liveDay, newRollup, pruneRollup} from '../../source/domain/rollup.js';
import {parseCostResults} from '../../source/providers/aws/billing.js';

const day = Date.UTC(2026, 10, 26);

describe('the hourly rollup of live spend', () => {
	it('integrates $/h over time into UTC hours, across an hour boundary, and keeps 35 days', () => {
		const rollup = newRollup();
		accrue(rollup, 'dev', day + 45 * 60_000, day + hourMs + 15 * 60_000, 2);
		expect(rollup['dev']).toEqual([[day, 0.5], [day + hourMs, 0.5]]);
		accrue(rollup, 'constructor', day, day + 2 * hourMs, 1);
		expect(liveDay(rollup, 'constructor', day)).toEqual({usd: 2, hours: 2});
		pruneRollup(rollup, day + 36 * 24 * hourMs);
		expect(rollup['dev']).toEqual([]);
	});

	it('says how the live estimate compares with the bill, and why when it is off by more than 25%', () => {
		expect(checkAgainstBill({usd: 97, hours: 24}, 100, false)).toEqual({liveUsd: 97, billedUsd: 100, pct: -3, hours: 24, causes: []});
		const high = checkAgainstBill({usd: 141, hours: 24}, 100, true);
		expect(high.pct).toBeCloseTo(41, 6);
		expect(high.causes).toEqual(expect.arrayContaining(['savings plans, reserved instances or credits lower the bill', 'estimates (~) above the real price']));
		expect(checkAgainstBill({usd: 50, hours: 14}, 100, false).causes).toEqual(expect.arrayContaining(["envwatch watched 14h of the day's 24", expect.stringContaining('untagged or unattached volumes')]));
		expect(billCheckLine([{name: 'dev', billed: {yesterday: {pct: -3.2}}}, {name: 'staging', billed: {yesterday: {pct: 41}}}, {name: 'production', billed: null}])).toEqual({text: 'live vs billed yesterday: dev -3%, staging +41%', mismatch: true});
		expect(billCheckLine([{name: 'dev', billed: {todayUsd: 1} as never}])).toBeUndefined();
	});
});

describe("Cost Explorer's yesterday", () => {
	const result = (start: string, estimated: boolean, usd: string) => ({TimePeriod: {Start: start, End: start}, Estimated: estimated, Groups: [{Keys: ['Environment$dev'], Metrics: {UnblendedCost: {Amount: usd, Unit: 'USD'}}}]});

	it('is read once final (Estimated false); the day before the month is not month to date', () => {
		const parsed = parseCostResults([result('2026-11-30', false, '40'), result('2026-12-01', true, '3')], 'Environment', '2026-12-01', {monthStart: '2026-12-01', yesterday: '2026-11-30'});
		expect(parsed.yesterday).toEqual({date: '2026-11-30', usd: {dev: 40}});
		expect({...parsed.monthToDateUsd}).toEqual({dev: 3});
		const pending = parseCostResults([result('2026-11-30', true, '40')], 'Environment', '2026-12-01', {monthStart: '2026-12-01', yesterday: '2026-11-30'});
		expect(pending.yesterday).toBeUndefined();
	});
});
