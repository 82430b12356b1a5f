import {describe, expect, it} from 'vitest';
// Ink's own Output, unpatched (the package exports only its entry, so by path).
import InkOutput from '../../node_modules/ink/build/output.js';
import {rowCachedFrame, rowsBuilt, type InkOutput as Patchable} from '../../source/ui/ink-row-cache.js';

type Write = [x: number, y: number, text: string, transformers?: Array<(line: string, index: number) => string>];

/** Ink's Output as the bundle patches it: `get()` through the row cache, the original as `wholeFrame()`. */
class RowCached extends InkOutput {
	wholeFrame() {
		return super.get();
	}

	override get() {
		return rowCachedFrame(this as unknown as Patchable, RowCached as unknown as new (options: {width: number; height: number}) => Patchable);
	}
}

function frames(width: number, height: number, writes: readonly Write[], clip?: {x1: number; x2: number; y1: number; y2: number}) {
	const make = <T extends InkOutput>(output: T) => {
		if (clip) {
			output.clip(clip);
		}

		for (const [x, y, text, transformers = []] of writes) {
			output.write(x, y, text, {transformers});
		}

		if (clip) {
			output.unclip();
		}

		return output.get();
	};

	return {ink: make(new InkOutput({width, height})), cached: make(new RowCached({width, height}))};
}

const red = (line: string) => `\u001B[31m${line}\u001B[39m`;
const numbered = (line: string, index: number) => `${index}:${line}`;

describe('the row cache gives exactly Ink\'s frame', () => {
	const cases: Array<[string, number, number, Write[]]> = [
		['plain lines, one a row', 20, 4, [[0, 0, 'envwatch'], [0, 1, 'dev  ACTIVE'], [0, 3, 'q quit']]],
		['colours, bold, inverse and a reset inside', 30, 3, [[0, 0, '\u001B[1menvwatch\u001B[22m \u001B[36mSIMULATED\u001B[39m'], [2, 1, '\u001B[7m selected \u001B[27m'], [0, 2, '\u001B[2mdim\u001B[22m plain']]],
		['texts placed side by side and over each other, later wins', 20, 2, [[0, 0, 'aaaaaaaaaa'], [3, 0, 'bbb'], [5, 0, '\u001B[32mc\u001B[39m'], [15, 1, 'far']]],
		['wide glyphs and emoji', 20, 3, [[0, 0, '日本語 ok'], [0, 1, '🔒 READ-ONLY'], [1, 2, '▁▂▃▄▅▆▇█ ∞']]],
		['a text of several lines, cut at the last row', 10, 3, [[0, 1, 'one\ntwo\nthree\nfour']]],
		['a text starting above or below the frame is dropped', 10, 2, [[0, -1, 'above\nin'], [0, 2, 'below'], [0, 0, 'kept']]],
		['empty lines and texts past the width', 5, 3, [[0, 0, ''], [0, 1, 'a\n\nb'], [3, 2, 'overflowing']]],
		['transformers, by line index', 20, 3, [[0, 0, 'x\ny\nz', [red, numbered]]]],
		['trailing styled blanks stay, plain ones go', 20, 2, [[0, 0, 'text   '], [0, 1, '\u001B[7m   \u001B[27m']]],
		['identical rows', 10, 4, [[0, 0, 'same'], [0, 1, 'same'], [0, 3, 'same']]],
		['nothing at all', 10, 0, []],
	];

	it.each(cases)('%s', (_name, width, height, writes) => {
		const {ink, cached} = frames(width, height, writes);
		expect(cached).toEqual(ink);
		// Again, now from the cache.
		expect(frames(width, height, writes).cached).toEqual(ink);
	});

	it('a clipped frame (a Box with overflow) is built whole, as Ink does', () => {
		const writes: Write[] = [[0, 0, 'abcdefghij\nklmnopqrst'], [2, 1, 'XYZ']];
		const clip = {x1: 1, x2: 6, y1: 0, y2: 1};
		const {ink, cached} = frames(10, 2, writes, clip);
		expect(cached).toEqual(ink);
		expect(ink.output).not.toContain('a');
	});

	it('frame after frame with random texts, colours and positions, it matches Ink every time', () => {
		let seed = 42;
		const random = (below: number) => {
			seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
			return seed % below;
		};

		const pieces = ['dev', 'ACTIVE', '$1.23', '🔒', '日本', '▁▃▅', '\u001B[31mBREACH\u001B[39m', '\u001B[1m\u001B[7mx\u001B[27m\u001B[22m', ' ', 'updated 4s ago'];
		const base: Write[] = Array.from({length: 12}, (_, row) => [random(4), row, pieces[random(pieces.length)]!]);
		for (let frame = 0; frame < 80; frame++) {
			// Mostly the same frame, a few texts changed, as a dashboard's frames are.
			const writes = base.map(([x, y, text]): Write => (random(6) === 0 ? [random(30), y + random(2), `${text}${pieces[random(pieces.length)]!}`] : [x, y, text]));
			const {ink, cached} = frames(40, 12, writes);
			expect(cached).toEqual(ink);
		}
	});
});

describe('an idle frame rebuilds only what changed', () => {
	it('builds the one changed row, and none when nothing changed', () => {
		const frame = (age: string): Write[] => [[0, 0, `\u001B[1menvwatch\u001B[22m updated ${age} ago`], ...Array.from({length: 20}, (_, row): Write => [0, row + 1, `\u001B[32mdev-${row}\u001B[39m  ACTIVE  $1.${row}`])];
		frames(80, 23, frame('3s'));
		const before = rowsBuilt();
		frames(80, 23, frame('4s'));
		expect(rowsBuilt() - before).toBe(1);
		frames(80, 23, frame('4s'));
		expect(rowsBuilt() - before).toBe(1);
	});
});
