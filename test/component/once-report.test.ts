import {describe, expect, it} from 'vitest';
import {formatDashboard} from '../../source/app/headless.js';
import {snapshot, view} from './fixtures.js';

// What `--once` prints for cron mail: it says which limit was passed, and never an unknown as $0.
describe('--once text: what breached, in words that are true', () => {
	it('a breach of the hourly cap alone names the cap and does not call the increase over its threshold', () => {
		const global = view('global', {status: 'BREACH', level: 'breach', hourlyUsd: 2.07, maxHourlyUsd: 2, increasePct: 0, baselineUsd: 2.07, thresholdPct: 1, windowMinutes: 60, byIncrease: 'ok', byCap: 'breach', reasons: ['$2.07/h > cap $2.00/h'], policy: {agents: 'global', onBreach: 'emergency-stop'}});
		const text = formatDashboard(snapshot({global}));
		expect(text).toContain('- Global: 0.0% increase (under 1.0% threshold); $2.07/hr OVER cap $2.00/hr BREACH');
		expect(text).not.toMatch(/OVER 1\.0% threshold/);
	});

	it('a breach of the increase alone says so, and a cap only neared is said as near', () => {
		const dev = view('dev', {status: 'BREACH', level: 'breach', hourlyUsd: 4, maxHourlyUsd: 5, increasePct: 3, thresholdPct: 2, byIncrease: 'breach', byCap: 'warn'});
		const text = formatDashboard(snapshot({environments: [dev]}));
		expect(text).toContain('- Dev: 3.0% increase (OVER 2.0% threshold); $4.00/hr near cap $5.00/hr BREACH');
	});

	it('a snapshot without the limits\' own levels (an older server) is judged from its figures: the cap alone is not an increase over its threshold', () => {
		const global = view('global', {status: 'BREACH', level: 'breach', hourlyUsd: 2.07, maxHourlyUsd: 2, increasePct: 0, thresholdPct: 1, policy: {agents: 'global', onBreach: 'emergency-stop'}});
		expect(formatDashboard(snapshot({global}))).toContain('- Global: 0.0% increase (under 1.0% threshold); $2.07/hr OVER cap $2.00/hr BREACH');
	});
});
