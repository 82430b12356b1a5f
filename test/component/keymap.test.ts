import {describe, expect, it} from 'vitest';
import {confirmBarItems} from '../../source/ui/components/KeyBar.js';
import {activeBindings, bindings, keyBarItems, matchKey, type KeyContext, type KeySpec, type KeyState, type Scope} from '../../source/ui/keymap.js';
import {instanceColumns} from '../../source/ui/views/instances.js';
import {detailView, viewBarItems, viewHelp, type View} from '../../source/ui/views/state.js';

const normal: KeyContext = {readOnly: false, pending: false, paused: false};

describe('matchKey', () => {
	it.each([
		['k', {}, 'up'],
		['', {upArrow: true}, 'up'],
		['j', {}, 'down'],
		['', {downArrow: true}, 'down'],
		['s', {}, 'stop'],
		['c', {}, 'cascade'],
		['E', {}, 'emergency'],
		['u', {}, 'undo'],
		['p', {}, 'pause'],
		['P', {}, 'pause-env'],
		['r', {}, 'refresh'],
		['e', {}, 'open-events'],
		['?', {}, 'help'],
		['q', {}, 'quit'],
		['c', {ctrl: true}, 'quit'],
	] as const)('%j %j -> %s', (input, key, command) => {
		expect(matchKey(input, key, normal)).toBe(command);
	});

	it('leaves unbound keys alone, case included', () => {
		expect(matchKey('w', {}, normal)).toBeUndefined();
		expect(matchKey('S', {}, normal)).toBeUndefined();
		expect(matchKey('s', {ctrl: true}, normal)).toBeUndefined();
		expect(matchKey('s', {meta: true}, normal)).toBeUndefined();
	});

	it('does not bind the dangerous keys at all in read-only mode', () => {
		const readOnly = {...normal, readOnly: true};
		for (const input of ['s', 'c', 'E', 'u']) {
			expect(matchKey(input, {}, readOnly)).toBeUndefined();
		}

		expect(matchKey('p', {}, readOnly)).toBe('pause');
		expect(matchKey('q', {}, readOnly)).toBe('quit');
	});

	it('binds x only while an automatic action counts down', () => {
		expect(matchKey('x', {}, normal)).toBeUndefined();
		expect(matchKey('x', {}, {...normal, pending: true})).toBe('cancel-pending');
	});
});

describe('the key bar comes from the same table', () => {
	it('offers exactly the bound bar commands', () => {
		const labels = keyBarItems(normal).map(item => item.label);
		expect(labels).toEqual(['select', 'stop', 'cascade', 'emergency', 'undo', 'add agents', 'pause', 'refresh', 'help', 'quit']);
		for (const binding of activeBindings(normal).filter(item => item.inBar)) {
			expect(labels).toContain(binding.label);
		}
	});

	it('drops the dangerous keys under read-only and says resume when paused', () => {
		const labels = keyBarItems({readOnly: true, pending: false, paused: true}).map(item => item.label);
		expect(labels).toEqual(['select', 'resume', 'refresh', 'help', 'quit']);
	});

	it('offers x during a grace countdown', () => {
		expect(keyBarItems({...normal, pending: true}).map(item => item.keys)).toContain('x');
	});

	it('every dangerous binding changes the fleet or its guard (stop-like, undo, start, breaker reset)', () => {
		expect(bindings.filter(binding => binding.dangerous).map(binding => binding.command).sort()).toEqual(['cascade', 'emergency', 'mark', 'reset', 'start', 'stop', 'stop-env', 'stop-instances', 'stop-instances', 'undo']);
	});
});

const scopes: Scope[] = ['table', 'detail', 'describe', 'log', 'entry', 'spend', 'region', 'filter', 'command', 'confirm', 'confirm-typed'];
/** A press of the key a spec names (a character class: one of its characters). */
function pressOf(spec: KeySpec): [string, KeyState] {
	if (spec.printable || spec.digit) {
		return ['7', {}];
	}

	const key: KeyState = {upArrow: spec.upArrow, downArrow: spec.downArrow, pageUp: spec.pageUp, pageDown: spec.pageDown, return: spec.return, escape: spec.escape, backspace: spec.backspace, ctrl: spec.ctrl, tab: spec.tab};
	return [spec.input ?? (spec.return ? '\r' : ''), key];
}

const everything: KeyContext = {readOnly: false, pending: true, breaker: true, count: true};

describe('one table for every screen', () => {
	it.each(scopes)('%s: every key reaches its own binding (none is bound twice in one scope)', scope => {
		for (const binding of activeBindings(everything, scope)) {
			for (const spec of binding.keys) {
				// A class of characters (typing a filter, a count) comes after the named keys it would also match.
				if (spec.printable || spec.digit) {
					continue;
				}

				const [input, key] = pressOf(spec);
				expect(matchKey(input, key, everything, scope), `${scope}: ${binding.keyLabel}`).toBe(binding.command);
			}
		}
	});

	it.each(scopes)('%s under --read-only: no key means a dangerous action, and none is offered', scope => {
		const readOnly = {...everything, readOnly: true};
		for (const binding of bindings.filter(item => item.scopes.includes(scope) && item.dangerous)) {
			for (const spec of binding.keys) {
				const [input, key] = pressOf(spec);
				expect(matchKey(input, key, readOnly, scope)).toBeUndefined();
			}
		}

		expect(keyBarItems(readOnly, '↑↓', scope).map(item => item.label)).not.toContain('stop env');
	});

	it('the views\' key bars come from it, and --read-only drops the detail view\'s s', () => {
		const bar = (view: View, readOnly = false) => viewBarItems(view, '↑↓', readOnly).map(item => `${item.keys} ${item.label}`);
		expect(bar(detailView('dev'))).toEqual(['↑↓ select', '/ filter', '<> sort', 'Space mark', 'x stop', 'd describe', 'c copy link', 's stop env', 'Esc back', '? help', 'q quit']);
		expect(bar(detailView('dev'), true)).toEqual(['↑↓ select', '/ filter', '<> sort', 'd describe', 'c copy link', 'Esc back', '? help', 'q quit']);
		expect(bar({kind: 'log', tail: {entries: [], skipped: 0, truncated: false, error: null}, filter: '', editing: false, cursor: 0})).toEqual(['↑↓ select', '/ filter', 'Enter entry', 'r reload', 'Esc back', '? help', 'q quit']);
		// An entry opened in full: its keys scroll it, Esc goes back to the list.
		expect(bar({kind: 'log', tail: {entries: [], skipped: 0, truncated: false, error: null}, filter: '', editing: false, cursor: 0, entry: 0})).toEqual(['↑↓ scroll', 'Esc back', '? help', 'q quit']);
		expect(bar({kind: 'spend', target: 'dev'})).toEqual(['↑↓ environment', '<> range', 'Esc back', '? help', 'q quit']);
		expect(bar({kind: 'region', environment: 'dev'})).toEqual(['↑↓ environment', 'Esc back', '? help', 'q quit']);
		expect(bar({...detailView('dev'), editing: true} as View)).toEqual(['type filter', 'Enter keep', 'Esc clear']);
		expect(confirmBarItems({typed: false, count: true}).map(item => `${item.keys} ${item.label}`)).toEqual(['0-9 count', 'y yes', 'n/Esc/Enter no']);
		expect(confirmBarItems({typed: false}).map(item => `${item.keys} ${item.label}`)).toEqual(['y yes', 'n/Esc/Enter no']);
		expect(confirmBarItems({typed: true}).map(item => `${item.keys} ${item.label}`)).toEqual(['Enter confirm', 'Esc cancel']);
	});

	it('so does a view\'s help: a line a key, in the table\'s order, with --ascii arrows', () => {
		expect(viewHelp(detailView('dev'), false)).toEqual([
			'↑↓ jk    select an instance (PgUp PgDn: a page)',
			'/        filter: every word must appear in a cell; Enter keeps, Esc clears',
			'< >      sort by the column to the left or right; again reverses',
			'I N T Z  sort by ID, NAME, TYPE, REGION/AZ',
			'L S A B  sort by LIFE(cycle), STATE, AGE, BY (envwatch:launched-by)',
			'O P      sort by ROLE, $/H (unpriced: billed at a price not known)',
			'Space    mark or unmark the instance (running agents only); Esc clears marks',
			'x        stop the marked instances, or the one under the cursor (asks first)',
			'd        describe it: tags, AMI, launch, price and source, volumes, link',
			'c        copy its EC2 console link (OSC 52) and show it whole',
			's        stop this environment\'s agents (same confirmation as the table)',
			'Esc      back to the table (or close this help)',
			'q ^C     quit; automatic guarding stops with it',
		]);
		expect(viewHelp(detailView('dev'), true).join('\n')).not.toMatch(/^s /m);
		expect(viewHelp({kind: 'spend', target: 'dev'}, false, 'UpDn')).toEqual(['UpDn jk  the environment (or global) charted', 'The axis starts at $0; the cap and the threshold are lines', '< >      a shorter or longer range: 1h, 6h (polls), 24h, 7d (hourly rollup)', 'Esc      back to the table (or close this help)', 'q ^C     quit; automatic guarding stops with it']);
	});

	it('the detail view\'s sort keys are the instance columns\' own', () => {
		const bound = bindings.filter(binding => binding.command === 'sort-column').flatMap(binding => binding.keys.map(spec => spec.input));
		expect(bound).toEqual(instanceColumns.map(column => column.sortKey));
	});
});
