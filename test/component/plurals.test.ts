import {describe, expect, it} from 'vitest';
import {statusText} from '../../source/ui/components/StatusLine.js';
import {spendLines} from '../../source/ui/views/chart.js';
import {makeTheme} from '../../source/ui/theme.js';
import {snapshot, t0, view} from './fixtures.js';

/** Counts the dashboard writes: one of a thing is singular ("1 sample", never "1 samples"). */

const glyphs = makeTheme({colour: false}).glyphs;

describe('one of a thing on the dashboard', () => {
	it.each([
		[1, '1 tagged instance belongs to no configured environment (qa)'],
		[2, '2 tagged instances belong to no configured environment (qa)'],
	])('the status line: %i tagged instance(s) outside every environment', (instances, text) => {
		expect(statusText({snapshot: snapshot({unknown: {instances, hourlyUsd: 0.1, tagValues: ['qa']}}), now: t0}).text).toBe(text);
	});

	it.each([
		[[2.34], '1 sample'],
		[[2.31, 2.34], '2 samples'],
	])('the spend chart\'s title: %o is %s', (trend, words) => {
		const shot = snapshot({environments: [view('dev', {trend})]});
		const [title] = spendLines({kind: 'spend', target: 'dev'}, {snapshot: shot, now: t0, columns: 80, height: 12, glyphs, ascii: false});
		expect(title![0]!.text).toContain(`(30m window, ${words})`);
	});
});
