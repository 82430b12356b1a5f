import {describe, expect, it} from 'vitest';
import type {AuditEntry} from '../../source/engine/state/audit.js';
import {text, type Notice, type ViewFigures} from '../../source/notify/messages.js';

const figures = (overrides: Partial<ViewFigures>): ViewFigures => ({status: 'WARNING', hourlyUsd: 0.155, baselineUsd: 0.15, increasePct: 3.3, thresholdPct: 5, windowMinutes: 30, maxHourlyUsd: 1200, agentsRunning: 1, agentsAllowed: 'all', stale: null, ...overrides});
const entry: AuditEntry = {seq: 1, at: '2026-11-27T09:00:00.000Z', dryRun: false, type: 'decision', actor: 'auto', kind: 'alert', environments: ['qa'], reason: 'qa +3.3% > 3.0%', instanceIds: []};
const notice = (view: ViewFigures): Notice => ({event: 'breach', entry, decisionFigures: undefined, snapshot: {qa: view}, host: 'guard-host'});

// A message says the figures as the dashboard does: a change is seen, large sums are grouped.
describe('a notification\'s figures', () => {
	it('show enough digits to see a small change, and group dollars over 1,000 as the dashboard does', () => {
		const line = text(notice(figures({}))).split('\n')[1];
		expect(line).toBe('qa: $0.150 -> $0.155/h, +3.3% vs 5% threshold over 30m, cap $1,200/h; WARNING');
	});

	it('mark a figure that holds an estimate or volumes not known yet with ~, as the dashboard does', () => {
		const line = text(notice(figures({hourlyUsdEstimated: true}))).split('\n')[1];
		expect(line).toBe('qa: $0.150 -> ~$0.155/h, +3.3% vs 5% threshold over 30m, cap $1,200/h; WARNING');
	});

	it('say -- for a figure that is not known, never $0', () => {
		const line = text(notice(figures({hourlyUsd: 0.16, baselineUsd: null, increasePct: null}))).split('\n')[1];
		expect(line).toBe('qa: -- -> $0.16/h, -- vs 5% threshold over 30m, cap $1,200/h; WARNING');
	});
});
