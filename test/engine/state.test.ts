import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {globalKey} from '../../source/domain/history.js';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {AuditLog} from '../../source/engine/audit.js';
import {StateStore} from '../../source/engine/state.js';
import {SimHarness} from '../helpers/sim.js';

let dir: string;
beforeEach(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-state-'));
});
afterEach(() => {
	fs.rmSync(dir, {recursive: true, force: true});
});

describe('StateStore', () => {
	it('round-trips the price cache; a product the Price List does not have stays null, never $0', () => {
		const state = new StateStore(path.join(dir, 'state'));
		const cache = {version: 1 as const, onDemand: [['eu-west-1|m5.large|Linux|NA|Shared', 0.107, 5], ['eu-west-1|t3.micro|Linux|NA|Shared', null, 5]] as Array<[string, number | null, number]>, spot: [['us-east-1|us-east-1a|m5.large|Linux/UNIX', 0.035, 6]] as Array<[string, number, number]>, storage: [['us-east-1', 'i-0abc', 0.0137, false]] as Array<[string, string, number, boolean]>};
		state.savePrices(cache);
		expect(new StateStore(state.dir).loadPrices()).toEqual(cache);
	});

	it('round-trips the history and the last stop, leaving no temporary files', () => {
		const state = new StateStore(path.join(dir, 'nested', 'state'));
		state.saveHistory({dev: [{at: 1, usd: 2.3364}, {at: 2, usd: 2.4196}], '*global': [{at: 1, usd: 4.3286}]});
		expect(state.loadHistory()).toEqual({dev: [{at: 1, usd: 2.3364}, {at: 2, usd: 2.4196}], '*global': [{at: 1, usd: 4.3286}]});
		const last = {at: 5, actor: 'auto', environments: ['dev'], targets: [{id: 'i-1', region: 'us-east-1'}], dryRun: false as const};
		state.saveLastStop(last);
		expect(new StateStore(state.dir).loadLastStop()).toEqual(last);
		state.saveLastStop(undefined);
		expect(state.loadLastStop()).toBeUndefined();
		expect(fs.readdirSync(state.dir).filter(name => name.endsWith('.tmp'))).toEqual([]);
	});

	it('damaged or missing state costs history only: it starts fresh rather than refusing to guard', async () => {
		const stateDir = path.join(dir, 'state');
		fs.mkdirSync(stateDir);
		fs.writeFileSync(path.join(stateDir, 'samples.json'), '{"version": 1, "series": {"dev": [[1, 2');
		fs.writeFileSync(path.join(stateDir, 'last-stop.json'), 'not json');
		const state = new StateStore(stateDir, () => Date.UTC(2026, 10, 27, 9, 30, 5, 123));
		expect(state.loadHistory()).toEqual({});
		expect(state.loadLastStop()).toBeUndefined();
		// Moved aside, not lost, and each reported once.
		expect(fs.readdirSync(stateDir).sort()).toEqual(['last-stop.json.damaged-2026-11-27T093005.123Z', 'samples.json.damaged-2026-11-27T093005.123Z']);
		expect(fs.readFileSync(path.join(stateDir, 'last-stop.json.damaged-2026-11-27T093005.123Z'), 'utf8')).toBe('not json');
		expect(state.takeNotices().map(notice => notice.message)).toEqual([
			expect.stringMatching(/samples\.json is damaged \(malformed JSON .*\); moved it aside to .*samples\.json\.damaged-2026-11-27T093005\.123Z; the sample history starts fresh/),
			expect.stringMatching(/last-stop\.json is damaged \(malformed JSON .*\); .*; the last stop is forgotten/),
		]);
		expect(new StateStore(path.join(dir, 'nowhere')).loadHistory()).toEqual({});

		const sim = new SimHarness({scenario: 'calm', dir});
		try {
			const snapshot = await sim.poll();
			expect(snapshot.error).toBeNull();
			expect(sim.state.loadHistory()['dev']).toHaveLength(1);
		} finally {
			await sim.close();
		}
	});
});

describe('state files are checked on read', () => {
	const t = Date.UTC(2026, 10, 27, 9, 0, 0);
	it.each([
		['samples.json', '{"version": 1, "series": null}', 'series: null — expected an object of sample series'],
		['samples.json', '7', 'the content: number 7 — expected an object with version, series'],
		['samples.json', `{"version": 1, "series": {"dev": [[${t}, 1, 2]]}}`, 'series["dev"][0]: an array — expected a [time, usd] pair of numbers'],
		['samples.json', `{"version": 1, "series": {"dev": [[${t}, "NaN"]]}}`, 'series["dev"][0][1]: string "NaN" — expected a cost in $/h'],
		['samples.json', `{"version": 1, "series": {"dev": [[1e999, 1]]}}`, 'series["dev"][0][0]: number Infinity — expected a time in ms'],
		['last-stop.json', `{"at": ${t}, "actor": "a", "environments": ["dev"], "targets": null, "dryRun": false}`, 'targets: null — expected an array of {id, region}'],
		['billing.json', '{"cost": null, "calls": 3, "costUsd": 0.03, "other": 1}', 'the content: unexpected field "other"'],
		['billing.json', `{"cost": {"todayUsd": {"dev": null}, "monthToDateUsd": {}, "fetchedAt": ${t}}, "calls": 1, "costUsd": 0.01}`, 'cost.todayUsd["dev"]: null — expected a cost in $'],
		// A cached price of $0 would make instances free: never read as one.
		['prices.json', `{"version": 1, "onDemand": [["us-east-1|m5.large|Linux|NA|Shared", 0, ${t}]], "spot": [], "storage": []}`, 'onDemand[0][1]: number 0 — expected a price in $/h greater than 0'],
		['prices.json', `{"version": 1, "onDemand": [], "spot": [["us-east-1|us-east-1a|m5.large|Linux/UNIX", null, ${t}]], "storage": []}`, 'spot[0][1]: null — expected a price in $/h greater than 0'],
		['prices.json', '{"version": 1, "onDemand": {}, "spot": [], "storage": []}', 'onDemand: an object — expected an array of [key, usd, fetchedAt]'],
	])('%s containing %s is moved aside and reported: %s', (name, content, problem) => {
		const stateDir = path.join(dir, 'state');
		fs.mkdirSync(stateDir);
		fs.writeFileSync(path.join(stateDir, name), content);
		const state = new StateStore(stateDir, () => t);
		const loaded = name === 'samples.json' ? state.loadHistory() : name === 'last-stop.json' ? state.loadLastStop() : name === 'prices.json' ? state.loadPrices() : state.loadBilling();
		expect(loaded ?? {}).toEqual({});
		const notices = state.takeNotices();
		expect(notices).toHaveLength(1);
		expect(notices[0]!.damaged).toBe(true);
		expect(notices[0]!.message).toContain(`${name} is damaged (${problem}`);
		expect(fs.readdirSync(stateDir)).toEqual([`${name}.damaged-2026-11-27T090000.000Z`]);
	});

	it('keys from files are plain keys: __proto__ and constructor are environments like any other', () => {
		const state = new StateStore(path.join(dir, 'state'));
		state.saveHistory(JSON.parse('{"constructor": [{"at": 1, "usd": 2}], "__proto__": [{"at": 1, "usd": 3}]}') as Record<string, Array<{at: number; usd: number}>>);
		const history = state.loadHistory();
		expect(Object.keys(history).sort()).toEqual(['__proto__', 'constructor']);
		expect(history['constructor']).toEqual([{at: 1, usd: 2}]);
		expect(history['__proto__']).toEqual([{at: 1, usd: 3}]);
		expect(state.takeNotices()).toEqual([]);

		state.saveBilling({cost: {todayUsd: JSON.parse('{"constructor": 4, "__proto__": 5}') as Record<string, number>, monthToDateUsd: {}, fetchedAt: 1}, calls: 1, costUsd: 0.01});
		const cost = state.loadBilling()!.cost!;
		expect(cost.todayUsd['constructor']).toBe(4);
		expect(cost.todayUsd['__proto__']).toBe(5);
		expect(cost.monthToDateUsd['constructor']).toBeUndefined();
	});
});

describe('the persisted history is pruned past the longest window', () => {
	it('keeps the longest window (plus two polls) and no more', async () => {
		const windows = {dev: {windowMinutes: 1}, staging: {windowMinutes: 1}, production: {windowMinutes: 1}};
		const sim = new SimHarness({scenario: 'calm', flags: {environments: windows, global: {windowMinutes: 2}}});
		try {
			for (let index = 0; index < 40; index++) {
				await sim.poll();
			}

			const history = sim.state.loadHistory();
			// 2 min + 2 x 15 s of 15-second polls: 11 samples.
			for (const key of ['dev', 'staging', 'production', globalKey(['dev', 'staging', 'production'])]) {
				expect(history[key], key).toHaveLength(11);
			}

			const snapshot = sim.store.getSnapshot()!;
			expect(snapshot.global.warmingUp).toBe(false);
			expect(snapshot.environments.find(view => view.name === 'dev')!.trend).toHaveLength(5);
		} finally {
			await sim.close();
		}
	});
});

describe('AuditLog', () => {
	it('appends JSON lines, readable at once, not readable by others, and keeps earlier lines', () => {
		const file = path.join(dir, 'logs', 'audit.jsonl');
		const first = new AuditLog(file);
		first.append({at: '2026-11-27T09:00:00.000Z', type: 'decision', actor: 'auto', kind: 'stop', environments: ['dev'], reason: 'r', instanceIds: ['i-1'], dryRun: false});
		expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
		first.close();
		const second = new AuditLog(file);
		second.append({at: '2026-11-27T09:00:01.000Z', type: 'action', actor: 'auto', kind: 'stop', environments: ['dev'], reason: 'r', instanceIds: ['i-1'], dryRun: false, outcome: 'executed'});
		second.close();
		const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map(line => JSON.parse(line) as {type: string});
		expect(lines.map(line => line.type)).toEqual(['decision', 'action']);
		// Numbering carries on across a restart (or a --once run from cron): seq is unique in the file.
		expect(lines.map(line => (line as {seq?: number}).seq)).toEqual([1, 2]);
		expect(fs.statSync(file).mode & 0o077).toBe(0);
	});
});
