import {describe, expect, it} from 'vitest';
import {activeBindings, bindings, keyBarItems, matchKey, type KeyContext} from '../../source/ui/keymap.js';

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
		['?', {}, 'help'],
		['q', {}, 'quit'],
		['c', {ctrl: true}, 'quit'],
	] as const)('%j %j -> %s', (input, key, command) => {
		expect(matchKey(input, key, normal)).toBe(command);
	});

	it('leaves unbound keys alone, case included', () => {
		expect(matchKey('e', {}, normal)).toBeUndefined();
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
		expect(bindings.filter(binding => binding.dangerous).map(binding => binding.command).sort()).toEqual(['cascade', 'emergency', 'reset', 'start', 'stop', 'undo']);
	});
});
