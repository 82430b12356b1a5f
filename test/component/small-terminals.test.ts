import {describe, expect, it} from 'vitest';
import type {Command} from '../../source/engine/commands.js';
import type {Snapshot} from '../../source/engine/snapshot.js';
import {confirmRefusal, crampedKeys} from '../../source/ui/components/Dashboard.js';
import {keyBarLayout} from '../../source/ui/components/KeyBar.js';
import {statusLines, statusLinesWanted, statusText, type Flash} from '../../source/ui/components/StatusLine.js';
import {initialState, keysFor, reducePress, type KeyEnv} from '../../source/ui/dashboard-reducer.js';
import {bindings} from '../../source/ui/keymap.js';
import {cliAlternative, fitCandidates, sizeRefusalTexts, type AskedKind} from '../../source/ui/refusal.js';
import {makeTheme} from '../../source/ui/theme.js';
import {snapshot, t0, view} from './fixtures.js';

/**
 * A terminal too small for a confirmation: the key bar does not offer the key, and pressing it
 * says, in words that fit the width, the rows it needs and what to run instead.
 */

const glyphs = makeTheme({colour: false}).glyphs;

function env(shot: Snapshot, columns: number, rows: number): KeyEnv {
	return {
		snapshot: shot,
		now: t0 + 1000,
		columns,
		rows,
		cascadeTarget: () => 'dev',
		confirmRefusal: (panel, selected, keys, withdrawn) => confirmRefusal({snapshot: shot, now: t0 + 1000, columns, rows, selected, panel, keys, glyphs}, withdrawn),
	};
}

const afterStop = snapshot({
	environments: [
		view('dev', {status: 'STOPPED', agents: {running: 0, allowed: 'all'}, agentIds: [], breaker: {trippedAt: t0 - 60_000, actor: 'ops@jump', reason: 'manual stop of dev'}}),
		...snapshot().environments.slice(1),
	],
	lastStop: {at: t0 - 60_000, environments: ['dev'], count: 4, ids: ['i-00000005eed000001', 'i-00000005eed000002', 'i-00000005eed000003', 'i-00000005eed000004'], usdPerHour: 2.1},
});

/** The table's dangerous keys, by the command their confirmation runs. */
const asked = bindings.filter(binding => binding.scopes.includes('table') && ['stop', 'cascade', 'emergency', 'undo', 'start', 'reset', 'pause-env'].includes(binding.command));

describe('the key bar never offers a key that cannot work at this size', () => {
	const sizes = [[40, 11], [40, 12], [40, 14], [50, 12], [60, 12], [80, 10], [80, 12], [80, 24], [120, 24]] as const;
	const shots = {'a fresh start': snapshot(), 'after a stop of dev': afterStop};
	it.each(Object.keys(shots))('%s: every key the bar offers opens its confirmation; every key it leaves out for size says why, in words that fit', name => {
		const shot = shots[name as keyof typeof shots];
		for (const [columns, rows] of sizes) {
			for (const selected of ['dev', 'staging', 'production']) {
				const keys = keysFor(shot, selected);
				const cramped = crampedKeys({snapshot: shot, now: t0 + 1000, columns, rows, selected, keys, glyphs, cascadeTarget: 'dev'});
				const offered = keyBarLayout({...keys, cramped}, glyphs, columns).lines.flat().map(item => item.label);
				for (const binding of asked.filter(binding => binding.keys[0]?.input !== undefined && (!binding.needsBreaker || keys.breaker))) {
					const step = reducePress({...initialState, selected}, [binding.keys[0]!.input!, {}], env(shot, columns, rows));
					const opened = step.state.panel?.kind === 'confirm';
					const said = step.effects.find(effect => effect.kind === 'say');
					const where = `${columns}x${rows} ${selected} ${binding.keyLabel}`;
					if (offered.includes(binding.label)) {
						// Offered: it asks, or says why not for a reason that is not the size.
						expect(opened || !/needs \d+ rows/.test(said?.kind === 'say' ? said.text : ''), where).toBe(true);
					}

					if (cramped.includes(binding.command)) {
						expect(offered, where).not.toContain(binding.label);
						expect(opened, where).toBe(false);
						expect(said?.kind, where).toBe('say');
						if (said?.kind === 'say') {
							const status = statusText({snapshot: shot, now: t0 + 1000, flash: {text: said.text, tone: said.tone, until: t0 + 10_000, ...(said.shorter ? {shorter: said.shorter} : {})}});
							const lines = statusLines(status, columns, statusLinesWanted(status, columns));
							for (const line of lines) {
								expect([...line].length, `${where}: ${line}`).toBeLessThanOrEqual(columns);
							}

							expect(lines.join(' '), where).toMatch(new RegExp(`${binding.keyLabel === 'u' ? 'undo|u' : '.'} needs \\d+ rows`));
						}
					}
				}
			}
		}
	});

	it('40x11 after a stop: u is not offered, and pressing it says the rows it needs and that envwatch undo does it, whole', () => {
		const keys = keysFor(afterStop, 'dev');
		const cramped = crampedKeys({snapshot: afterStop, now: t0 + 1000, columns: 40, rows: 11, selected: 'dev', keys, glyphs, cascadeTarget: 'staging'});
		expect(cramped).toContain('undo');
		expect(keyBarLayout({...keys, cramped}, glyphs, 40).lines.flat().map(item => item.keys)).not.toContain('u');
		const step = reducePress({...initialState, selected: 'dev'}, ['u', {}], env(afterStop, 40, 11));
		expect(step.state.panel).toBeUndefined();
		const said = step.effects[0]!;
		expect(said).toMatchObject({kind: 'say', text: 'terminal too small to confirm undo: it needs 13 rows; or run envwatch undo'});
		const flash: Flash = {text: said.kind === 'say' ? said.text : '', tone: 'warn', until: t0 + 10_000, ...(said.kind === 'say' && said.shorter ? {shorter: said.shorter} : {})};
		const status = statusText({snapshot: afterStop, now: t0, flash});
		expect(statusLinesWanted(status, 40)).toBe(2);
		expect(statusLines(status, 40, 2)).toEqual(['terminal too small to confirm undo: it', 'needs 13 rows; or run envwatch undo']);
		// With one line only, the short form, never cut.
		expect(statusLines(status, 40, 1)).toEqual(['u needs 13 rows; or run envwatch undo']);
	});
});

describe('a refusal in words that fit', () => {
	const commands: Array<[AskedKind, Command]> = [
		['stop', {kind: 'stop', environment: 'production', confirm: 'production'}],
		['cascade', {kind: 'cascade', environment: 'staging'}],
		['emergency', {kind: 'emergency'}],
		['undo', {kind: 'undo', stopAt: t0}],
		['start', {kind: 'start', environment: 'dev', count: 12}],
		['reset', {kind: 'reset', environment: 'dev'}],
		['pause-env', {kind: 'pause-env', environment: 'staging'}],
	];

	it('names the command that does the same from a shell (envwatch undo for u); there is none for pausing one environment', () => {
		expect(commands.map(([, command]) => cliAlternative(command, snapshot()))).toEqual([
			'envwatch stop -e production',
			'envwatch stop -e staging',
			'envwatch stop -e dev,staging',
			'envwatch undo',
			'envwatch start -e dev --count 12',
			'envwatch reset -e dev',
			undefined,
		]);
	});

	it.each(commands)('%s: at 40 to 120 columns, in one line or two, fits and keeps the rows it needs', (kind, command) => {
		for (const withdrawn of [false, true]) {
			const texts = sizeRefusalTexts({command, kind, need: {rows: 14}, alternative: cliAlternative(command, snapshot()), withdrawn});
			expect(texts.join('\n').includes('envwatch undo')).toBe(kind === 'undo');
			for (const columns of [40, 50, 60, 80, 120]) {
				for (const lines of [1, 2]) {
					const shown = fitCandidates(texts, columns, lines);
					expect(shown.length).toBeLessThanOrEqual(lines);
					for (const line of shown) {
						expect([...line].length, `${kind} ${columns}/${lines}: ${line}`).toBeLessThanOrEqual(columns);
					}

					expect(shown.join(' ')).toContain('14 rows');
					if (withdrawn) {
						expect(shown.join(' ')).toContain('cancelled');
					}
				}
			}
		}
	});

	it('with two lines at 40 columns, the command to run is said whole', () => {
		const texts = sizeRefusalTexts({command: {kind: 'stop', environment: 'production', confirm: 'production'}, kind: 'stop', need: {rows: 13}, alternative: 'envwatch stop -e production'});
		expect(fitCandidates(texts, 40, 2)).toEqual(['s needs 13 rows; or run envwatch stop -e', 'production']);
		expect(fitCandidates(texts, 40, 1)).toEqual(['s needs 13 rows']);
		expect(fitCandidates(texts, 120, 1)).toEqual(['terminal too small to confirm stop production: it needs 13 rows; or run envwatch stop -e production']);
	});
});
