import {describe, expect, it} from 'vitest';
import {statusText} from '../../source/ui/components/StatusLine.js';
import {snapshot, t0} from './fixtures.js';

/** Counts the dashboard writes: one of a thing is singular ("1 tagged instance", never "1 tagged instances"). (The spend chart's title names its range, and counts no samples.) */

describe('one of a thing on the dashboard', () => {
	it.each([
		[1, '1 tagged instance belongs to no configured environment (qa)'],
		[2, '2 tagged instances belong to no configured environment (qa)'],
	])('the status line: %i tagged instance(s) outside every environment', (instances, text) => {
		expect(statusText({snapshot: snapshot({unknown: {instances, hourlyUsd: 0.1, tagValues: ['qa']}}), now: t0}).text).toBe(text);
	});
});
