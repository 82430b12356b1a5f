import {afterEach, describe, expect, it} from 'vitest';
import {splitKeys} from '../../source/ui/keymap.js';
import {FakeController, FakeStore, snapshot} from './fixtures.js';
import {renderApp, type Harness} from './harness.js';

/** The dashboard in edge states: keys arriving together, unknown figures, short terminals, breakers. */
let open: Harness | undefined;
afterEach(() => {
	open?.unmount();
	open = undefined;
});

async function app(options: Parameters<typeof renderApp>[0]): Promise<Harness> {
	open = await renderApp(options);
	return open;
}

describe('keys that arrive together', () => {
	it('splits CSI and SS3 sequences, plain characters, Enter and a lone Esc', () => {
		expect(splitKeys('\u001B[B\u001B[B')).toEqual([['', {downArrow: true}], ['', {downArrow: true}]]);
		expect(splitKeys('k\u001B[A')).toEqual([['k', {}], ['', {upArrow: true}]]);
		expect(splitKeys('\u001BOA\u001BOB')).toEqual([['', {upArrow: true}], ['', {downArrow: true}]]);
		expect(splitKeys('y\r')).toEqual([['y', {}], ['\r', {return: true}]]);
		expect(splitKeys('\u001B')).toEqual([['', {escape: true, meta: true}]]);
		// An Esc followed by a key that starts no sequence stays an Esc, then the key.
		expect(splitKeys('\u001Bq')).toEqual([['', {escape: true, meta: true}], ['q', {}]]);
		expect(splitKeys('\u001B\u001B[A')).toEqual([['', {escape: true, meta: true}], ['', {upArrow: true}]]);
		expect(splitKeys('ab\u007F')).toEqual([['a', {}], ['b', {}], ['', {backspace: true}]]);
	});

	it('two Downs in one chunk move two rows; k and Up together move two rows', async () => {
		const ui = await app({store: new FakeStore(snapshot()), controller: new FakeController()});
		await ui.press('\u001B[B\u001B[B');
		expect(ui.lastFrame()).toMatch(/› production/);
		await ui.press('k\u001B[A');
		expect(ui.lastFrame()).toMatch(/› dev/);
		await ui.press('jj');
		expect(ui.lastFrame()).toMatch(/› production/);
	});
});
