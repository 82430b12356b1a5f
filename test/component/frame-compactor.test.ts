import {execFileSync, spawnSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import {afterEach, describe, expect, it} from 'vitest';
import {cellsOf, frameCompactor, lineEdit} from '../../source/ui/frame-compactor.js';
import {requireTmux} from '../helpers/tmux.js';

const esc = '\u001B';
/** An incremental frame as Ink 6.8 writes it (with the cursor fix applied): null is an unchanged line. */
const frame = (lines: Array<string | null>) => `${esc}[${lines.length}A` + lines.map(line => line === null ? `${esc}[E` : `${esc}[1G${line}${esc}[K\n`).join('');
const header = (age: number) => `${esc}[1menvwatch${esc}[22m ${esc}[35mSIMULATED (calm)${esc}[39m${esc}[2m every 5s ${esc}[22m${esc}[32mupdated ${age}s ago${esc}[39m  ${esc}[1m${esc}[32mAUTO${esc}[39m${esc}[22m`;

describe('the frame compactor (fewer bytes for the same incremental frame)', () => {
	it('moves past a run of unchanged lines with one sequence', () => {
		const compactor = frameCompactor();
		expect(compactor.compact(frame([null, null, null, 'x', null, null]))).toBe(`${esc}[6A${esc}[3E${esc}[1Gx${esc}[K\n${esc}[2E`);
		expect(compactor.compact(frame([null, 'y', null, null, null, null]))).toBe(`${esc}[6A${esc}[E${esc}[1Gy${esc}[K\n${esc}[4E`);
	});

	it('redraws only the cells of a line that changed, in their colour, then resets the colour', () => {
		const compactor = frameCompactor();
		// The first time a line is drawn it is written whole: nothing is known of what it replaces.
		const first = frame([header(4), null, null]);
		expect(compactor.compact(first)).toBe(first.replace(`${esc}[E${esc}[E`, `${esc}[2E`));
		const edit = compactor.compact(frame([header(5), null, null]));
		// "envwatch SIMULATED (calm) every 5s updated " is 43 columns: the 4 is in column 44.
		expect(edit).toBe(`${esc}[3A${esc}[44G${esc}[32m5${esc}[0m\n${esc}[2E`);
		expect(edit.length).toBeLessThan(frame([header(5), null, null]).length / 4);
		// A change of colour alone is a change.
		expect(compactor.compact(frame([header(5).replace(`${esc}[32mupdated`, `${esc}[33mupdated`), null, null]))).toBe(`${esc}[3A${esc}[36G${esc}[33mupdated 5s ago${esc}[0m\n${esc}[2E`);
	});

	it('rewrites from the change to the end of the line, and erases past it, when the length changes', () => {
		expect(lineEdit('updated 9s ago  AUTO', 'updated 10s ago  AUTO', '')).toBe(`${esc}[9G10s ago  AUTO${esc}[K`);
		expect(lineEdit('updated 10s ago', 'updated 1m ago', '')).toBe(`${esc}[10Gm ago${esc}[K`);
		expect(lineEdit('abc', 'ab', '')).toBe(`${esc}[3G${esc}[K`);
		expect(lineEdit('same', 'same', '')).toBe('');
	});

	it('writes the whole line where a column cannot be known in every terminal, or the line is not plain text', () => {
		// Before the change: a glyph some terminals draw two columns wide.
		expect(lineEdit('› dev  $2.34', '› dev  $2.35', '')).toBeUndefined();
		expect(lineEdit('日本 1', '日本 2', '')).toBeUndefined();
		// After it, fine: the rest of the line is rewritten (and erased past), not placed by column.
		expect(lineEdit('dev 1 ▁▁▂', 'dev 2 ▁▂▃', '')).toBe(`${esc}[5G2 ▁▂▃${esc}[K`);
		expect(lineEdit('dev ▁▁▂ $2.34', 'dev ▁▂▃ $2.35', '')).toBeUndefined();
		expect(cellsOf(`a${esc}]8;;https://x${esc}\\b`)).toBeUndefined();
		expect(cellsOf('a\tb')).toBeUndefined();
		const compactor = frameCompactor();
		compactor.compact(frame(['› dev  $2.34']));
		expect(compactor.compact(frame(['› dev  $2.35']))).toBe(frame(['› dev  $2.35']));
	});

	it('the colour in force before an edit is reset when it is not known to be the default', () => {
		// After a line that left bold on (Ink closes its codes, but this does not rely on it).
		expect(lineEdit(`a${esc}[31mb${esc}[39m`, `a${esc}[31mc${esc}[39m`, '1')).toBe(`${esc}[2G${esc}[0;31mc${esc}[0m`);
		expect(lineEdit('ab', 'ac', undefined)).toBe(`${esc}[2G${esc}[0mc`);
		expect(lineEdit('ab', 'ac', '')).toBe(`${esc}[2Gc`);
		expect(lineEdit(`a${esc}[38;5;208mb`, `a${esc}[38;5;208mc`, '')).toBe(`${esc}[2G${esc}[38;5;208mc${esc}[0m`);
	});

	it('forgets every line after anything it does not recognise, a change of height, or a reset', () => {
		const compactor = frameCompactor();
		compactor.compact(frame(['line 1', 'line 2']));
		// A full redraw (Ink's erase and rewrite, console output, a shrinking frame): passed through.
		const redraw = `${esc}[2K${esc}[1A${esc}[2K${esc}[Gline 1\nline 3\n`;
		expect(compactor.compact(redraw)).toBe(redraw);
		expect(compactor.compact(frame([null, 'line 4']))).toBe(frame([null, 'line 4']));
		expect(compactor.compact(frame([null, 'line 5']))).toBe(`${esc}[2A${esc}[E${esc}[6G5\n`);
		// Synchronized-update and cursor toggles do not move anything: remembered across them.
		expect(compactor.compact(`${esc}[?2026h`)).toBe(`${esc}[?2026h`);
		expect(compactor.compact(frame([null, 'line 6']))).toBe(`${esc}[2A${esc}[E${esc}[6G6\n`);
		// Three lines now: the rows may have moved.
		expect(compactor.compact(frame([null, 'line 7', null]))).toBe(frame([null, 'line 7', null]));
		compactor.reset();
		expect(compactor.compact(frame([null, 'line 8', null]))).toBe(frame([null, 'line 8', null]));
	});
});

describe('the compacted frames in a real terminal (tmux)', () => {
	const socket = `envwatch-compact-${crypto.randomBytes(6).toString('hex')}`;
	const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'});
	afterEach(() => {
		spawnSync('tmux', ['-L', socket, 'kill-server']);
	});

	it('show exactly what Ink\'s own frames show, colours included, over 300 random frames', async () => {
		requireTmux();
		// Two panes side by side in one window, each 60x20, running nothing that writes.
		tmux('new-session', '-d', '-s', 't', '-x', '121', '-y', '20', 'sleep 600');
		tmux('set-option', '-t', 't', 'status', 'off');
		tmux('split-window', '-h', '-t', 't', '-l', '60', 'sleep 600');
		const panes = tmux('list-panes', '-t', 't', '-F', '#{pane_index} #{pane_tty} #{pane_width}').trim().split('\n').map(line => line.split(' '));
		expect(panes.map(pane => pane[2])).toEqual(['60', '60']);
		const [ink, compacted] = panes.map(pane => fs.openSync(pane[1]!, 'w')) as [number, number];
		try {
			// A seeded generator: the same frames on every run.
			let seed = 12_345;
			const random = (below: number) => {
				seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
				return seed % below;
			};

			const words = ['updated', '4s', 'ago', '$2.34', '▁▂▃', '∞', '›', 'dev', '日本', 'AUTO', '0.0%/2.0%', 'x', ''];
			const styles = ['', '1', '2', '32', '35', '7;36', '33;41', '38;5;208', '1;2;4'];
			const line = () => {
				let text = '';
				let width = 0;
				for (let count = random(6); count > 0; count--) {
					const word = words[random(words.length)]!;
					const style = styles[random(styles.length)]!;
					// Never wider than the pane (日本 is two columns a character).
					const columns = [...word].reduce((sum, char) => sum + (char >= '\u3000' ? 2 : 1), 0) + 1;
					if (width + columns > 58) {
						break;
					}

					width += columns;
					text += style ? `${esc}[${style}m${word}${esc}[0m ` : `${word} `;
				}

				return text;
			};

			const height = 12;
			let lines = Array.from({length: height}, () => line());
			const compactor = frameCompactor();
			const write = (fd: number, text: string) => fs.writeSync(fd, text);
			write(ink, `${lines.join('\n')}\n`);
			write(compacted, compactor.compact(`${lines.join('\n')}\n`));
			let saved = 0;
			let total = 0;
			for (let index = 0; index < 300; index++) {
				const next = lines.map(previous => {
					const roll = random(10);
					// Mostly unchanged; some a new line; some one word's digits changed (as ages and figures do).
					return roll < 6 ? previous : roll < 8 ? line() : previous.replace(/\d/, digit => String((Number(digit) + 1 + random(8)) % 10));
				});
				const chunk = frame(next.map((text, row) => text === lines[row] ? null : text));
				const out = compactor.compact(chunk);
				total += chunk.length;
				saved += chunk.length - out.length;
				write(ink, chunk);
				write(compacted, out);
				lines = next;
			}

			const capture = (pane: string) => tmux('capture-pane', '-p', '-e', '-t', `t.${pane}`);
			const deadline = Date.now() + 10_000;
			while (capture('0') !== capture('1') && Date.now() < deadline) {
				await new Promise(resolve => setTimeout(resolve, 100));
			}

			expect(capture('1')).toBe(capture('0'));
			// And both show the last frame's text.
			const plain = tmux('capture-pane', '-p', '-t', 't.0').split('\n').slice(0, height).map(row => row.trimEnd());
			// eslint-disable-next-line no-control-regex -- strip colour codes
			expect(plain).toEqual(lines.map(text => text.replace(/\u001B\[[\d;]*m/g, '').trimEnd()));
			expect(saved).toBeGreaterThan(total / 4);
		} finally {
			fs.closeSync(ink);
			fs.closeSync(compacted);
		}
	});
});
