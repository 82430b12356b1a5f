import {describe, expect, it} from 'vitest';
import {billedCells} from '../../source/ui/components/BilledBlock.js';
import {statusText} from '../../source/ui/components/StatusLine.js';
import {formatDashboard} from '../../source/app/headless.js';
import {snapshot, t0} from './fixtures.js';

// What the dashboard and `--once` say about answers envwatch did not believe or could not get: the
// figures those answers would have changed are marked `~` elsewhere (cells.test.ts); these are the reasons.
const refused = 'spot prices in us-east-1: DescribeSpotPriceHistory page 1 item 1: t3.large Linux/UNIX in us-east-1a at $1000000000/h is more than EC2 charges for it on demand (at most $0.0832/h): rejected';

describe('the reasons, where a person looks', () => {
	it('the status line says why a price is not believed (when nothing more urgent is shown)', () => {
		const status = statusText({snapshot: snapshot({pricing: {calls: 2, error: refused, queued: 0}}), now: t0});
		expect(status).toEqual({text: `PRICES: ${refused}`, colour: 'yellow'});
		// A breach's reasons come first; the `~` on the figure still marks it.
		expect(statusText({snapshot: snapshot({pricing: {calls: 2, error: refused, queued: 0}, pending: null, global: {...snapshot().global, level: 'breach', reasons: ['over']}}), now: t0}).text).toBe('global: over');
	});

	it('billed cost no environment claims is a cell of its own, never dropped; a capped fetch is said in --once', () => {
		const billing = {...snapshot().billing, unattributed: {todayUsd: 0.75, monthToDateUsd: 4.75, groups: ['(group "environment$Dev")', 'qa', 'untagged']}};
		expect(billedCells(snapshot({billing}), t0).map(cell => cell.text)).toContain('other $0.75/$4.75 ((group "environment$Dev"), qa, untagged)');
		const text = formatDashboard(snapshot({billing: {...billing, error: 'GetCostAndUsage still had more pages after 20 (costExplorer.maxPagesPerQuery): billed cost is not shown rather than part of it'}, pricing: {calls: 2, error: refused, queued: 0}}));
		expect(text).toContain(`PRICES: ${refused}`);
		expect(text).toContain('BILLING: GetCostAndUsage still had more pages after 20 (costExplorer.maxPagesPerQuery)');
		expect(text).toContain('- Billed to no configured environment: $0.75 today, $4.75 month to date ((group "environment$Dev"), qa, untagged)');
	});
});
