import {describe, expect, it} from 'vitest';
import {ImplausibleAnswerError, MalformedAnswerError} from '../../source/providers/aws/answers.js';
import {maxDailyUsdPerGroup, parseCostResults, period} from '../../source/providers/aws/billing.js';

// Cost Explorer's answers pass the same discipline as EC2's: a day and group counted once, a day
// inside the query's period and not after today, an amount that one tag value could be billed.
const now = Date.UTC(2026, 10, 27, 9);
const {start, end, today, monthStart, yesterday} = period(now);
const days = {start, end, monthStart, yesterday};
const day = (date: string, amount: string, key = 'Environment$dev') => ({TimePeriod: {Start: date, End: date}, Estimated: true, Groups: [{Keys: [key], Metrics: {UnblendedCost: {Amount: amount, Unit: 'USD'}}}]});
const parse = (results: unknown[]) => () => parseCostResults(results as never, 'Environment', today, days);

describe('Cost Explorer answers that cannot be true', () => {
	it('the same page again under a new token (a day and group listed twice) is a malformed answer, never $30 for $10', () => {
		const page = [day('2026-11-26', '4'), day('2026-11-27', '6')];
		expect(parse(page)()).toMatchObject({todayUsd: {dev: 6}, monthToDateUsd: {dev: 10}});
		expect(parse([...page, ...page, ...page])).toThrow(MalformedAnswerError);
		expect(parse([...page, ...page])).toThrow(/2026-11-26 lists group Environment\$dev twice: an answer that repeats itself, not believed/);
		// One day's groups split over two pages is not a repeat.
		expect(parse([day('2026-11-27', '1'), day('2026-11-27', '2', 'Environment$staging')])()).toMatchObject({todayUsd: {dev: 1, staging: 2}});
	});

	it('a day after today (2099) or outside the query\'s period is refused, never added to month to date', () => {
		expect(parse([day('2026-11-27', '6'), day('2099-01-01', '500')])).toThrow(ImplausibleAnswerError);
		expect(parse([day('2099-01-01', '500')])).toThrow(/a result dated 2099-01-01, after today \(2026-11-27\)/);
		expect(parse([day('2026-10-31', '500')])).toThrow(/a result dated 2026-10-31, outside the period asked for \(2026-11-01 to 2026-11-28\)/);
		expect(parse([day('27/11/2026', '5')])).toThrow(/no TimePeriod\.Start date/);
	});

	it('an amount no tag value can be billed in a day ($1e15) is refused; a large but possible one is believed', () => {
		expect(parse([day('2026-11-27', '1e15')])).toThrow(ImplausibleAnswerError);
		expect(parse([day('2026-11-27', '1000000000000000')])).toThrow(/\$1000000000000000 in one day: more than the \$10,000,000 a day one group could be billed/);
		expect(parse([day('2026-11-27', String(maxDailyUsdPerGroup))])()).toMatchObject({todayUsd: {dev: maxDailyUsdPerGroup}});
	});
});
