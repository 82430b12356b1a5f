import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {globalKey} from '../../source/domain/history.js';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {AuditLog} from '../../source/engine/state/audit.js';
import {StateStore} from '../../source/engine/state/store.js';
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

	it('round-trips the EBS rates by region (null: the Price List has none there); a prices.json from before them still loads', () => {
		const state = new StateStore(path.join(dir, 'state'));
		const rates = {gbMonth: {gp2: 0.11, gp3: 0.088}, gp3IopsMonth: 0.0055, gp3ThroughputMonth: 0.044, io1IopsMonth: 0.072, io2IopsMonth: [0.072, 0.0504, 0.03528] as [number, number, number]};
		const cache = {version: 1 as const, onDemand: [], spot: [], storage: [], ebs: [['eu-west-1', rates, 7], ['ap-southeast-2', null, 8]] as Array<[string, typeof rates | null, number]>};
		state.savePrices(cache);
		expect(new StateStore(state.dir).loadPrices()).toEqual(cache);
		fs.writeFileSync(path.join(state.dir, 'prices.json'), '{"version": 1, "onDemand": [], "spot": [], "storage": [["us-east-1", "i-0abc", 0.0137, false]]}');
		expect(new StateStore(state.dir).loadPrices()).toEqual({version: 1, onDemand: [], spot: [], storage: [['us-east-1', 'i-0abc', 0.0137, false]]});
	});

	it('round-trips the history and the last stop, leaving no temporary files', () => {
		const state = new StateStore(path.join(dir, 'nested', 'state'));
		state.saveHistory({dev: [{at: 1, usd: 2.3364}, {at: 2, usd: 2.4196}], '*global': [{at: 1, usd: 4.3286}]});
		expect(state.loadHistory()).toEqual({dev: [{at: 1, usd: 2.3364}, {at: 2, usd: 2.4196}], '*global': [{at: 1, usd: 4.3286}]});
		const last = {at: 5, actor: 'auto', environments: ['dev'], targets: [{id: 'i-1', region: 'us-east-1'}], dryRun: false as const};
		state.saveLastStop(last);
		expect(new StateStore(state.dir).loadLastStop()).toEqual(last);
		// What an undo adds back is kept with it (null: some agent had no price).
		for (const usdPerHour of [2.1, null]) {
			state.saveLastStop({...last, usdPerHour});
			expect(new StateStore(state.dir).loadLastStop()).toEqual({...last, usdPerHour});
		}

		state.saveLastStop(undefined);
		expect(state.loadLastStop()).toBeUndefined();
		expect(fs.readdirSync(state.dir).filter(name => name.endsWith('.tmp'))).toEqual([]);
	});

	it('a state dir removed under a running guard is made again by the next write: history (appended and compacted) and the last stop are saved, nothing reported', () => {
		const state = new StateStore(path.join(dir, 'nested', 'state'));
		const history = {dev: [{at: 1, usd: 2.3364}]};
		state.saveHistory(history);
		fs.rmSync(path.join(dir, 'nested'), {recursive: true});
		history.dev.push({at: 2, usd: 2.4196});
		// The log is appended to: the append recreates the dir.
		state.saveHistory(history);
		expect(state.error).toBeNull();
		expect(fs.readdirSync(state.dir)).toEqual(['samples.log']);
		fs.rmSync(path.join(dir, 'nested'), {recursive: true});
		history.dev.push({at: 3, usd: 2.5});
		state.saveHistory(history, true);
		expect(new StateStore(state.dir).loadHistory()).toEqual(history);
		fs.rmSync(path.join(dir, 'nested'), {recursive: true});
		const last = {at: 5, actor: 'auto', environments: ['dev'], targets: [{id: 'i-1', region: 'us-east-1'}], dryRun: false as const};
		state.saveLastStop(last);
		expect(new StateStore(state.dir).loadLastStop()).toEqual(last);
		expect(state.error).toBeNull();
		expect(state.takeNotices()).toEqual([]);
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
		// The prices the history is priced under: a price of $0 or a volume's cost below it was never stored.
		['samples.json', '{"version": 1, "series": {}, "basis": {"table": "fnv1a:0", "overrides": [], "onDemand": [["us-east-1|m5.large|Linux|NA|Shared", 0]], "spot": [], "storage": []}}', 'basis.onDemand[0][1]: number 0 — expected a price in $/h greater than 0'],
		['samples.json', '{"version": 1, "series": {}, "basis": {"table": "fnv1a:0", "overrides": [], "onDemand": [], "spot": [], "storage": [["i-0abc", -1, false]]}}', 'basis.storage[0][1]: number -1 — expected a price in $/h of at least 0'],
		['last-stop.json', `{"at": ${t}, "actor": "a", "environments": ["dev"], "targets": null, "dryRun": false}`, 'targets: null — expected an array of {id, region}'],
		['last-stop.json', `{"at": ${t}, "actor": "a", "environments": ["dev"], "targets": [], "dryRun": false, "usdPerHour": -2}`, 'usdPerHour: number -2 — expected a cost in $/h, 0 or more, or null'],
		['last-stop.json', `{"at": ${t}, "actor": "a", "environments": ["dev"], "targets": [], "dryRun": false, "usdPerHour": "2.10"}`, 'usdPerHour: string "2.10" — expected a cost in $/h, 0 or more, or null'],
		['billing.json', '{"cost": null, "calls": 3, "costUsd": 0.03, "other": 1}', 'the content: unexpected field "other"'],
		['billing.json', `{"cost": {"todayUsd": {"dev": null}, "monthToDateUsd": {}, "fetchedAt": ${t}}, "calls": 1, "costUsd": 0.01}`, 'cost.todayUsd["dev"]: null — expected a cost in $'],
		// A cached price of $0 would make instances free: never read as one.
		['prices.json', `{"version": 1, "onDemand": [["us-east-1|m5.large|Linux|NA|Shared", 0, ${t}]], "spot": [], "storage": []}`, 'onDemand[0][1]: number 0 — expected a price in $/h greater than 0'],
		['prices.json', `{"version": 1, "onDemand": [], "spot": [["us-east-1|us-east-1a|m5.large|Linux/UNIX", null, ${t}]], "storage": []}`, 'spot[0][1]: null — expected a price in $/h greater than 0'],
		['prices.json', '{"version": 1, "onDemand": {}, "spot": [], "storage": []}', 'onDemand: an object — expected an array of [key, usd, fetchedAt]'],
		// A cached EBS rate of $0 would make volumes free: never read as one.
		['prices.json', `{"version": 1, "onDemand": [], "spot": [], "storage": [], "ebs": [["eu-west-1", {"gbMonth": {"gp3": 0}, "gp3IopsMonth": 0.0055, "gp3ThroughputMonth": 0.044, "io1IopsMonth": 0.072, "io2IopsMonth": [0.072, 0.0504, 0.03528]}, ${t}]]}`, 'ebs[0][1].gbMonth["gp3"]: number 0 — expected a rate in $ per month greater than 0'],
		['prices.json', `{"version": 1, "onDemand": [], "spot": [], "storage": [], "ebs": [["eu-west-1", {"gbMonth": {"gp3": 0.088}, "gp3IopsMonth": 0.0055, "gp3ThroughputMonth": 0.044, "io1IopsMonth": 0.072, "io2IopsMonth": [0.072]}, ${t}]]}`, 'ebs[0][1].io2IopsMonth: an array — expected three rates (io2 IOPS tiers)'],
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

	it('a log whose directory is removed under a running guard is started again there, seq going on (it used to write into the deleted file)', () => {
		const file = path.join(dir, 'logs', 'audit.jsonl');
		const log = new AuditLog(file);
		log.append({at: '2026-11-27T09:00:00.000Z', type: 'decision', actor: 'auto', kind: 'stop', environments: ['dev'], reason: 'before', instanceIds: ['i-1'], dryRun: false});
		fs.rmSync(path.join(dir, 'logs'), {recursive: true});
		log.append({at: '2026-11-27T09:00:01.000Z', type: 'action', actor: 'auto', kind: 'stop', environments: ['dev'], reason: 'after', instanceIds: ['i-1'], dryRun: false, outcome: 'executed'});
		log.close();
		expect(log.error).toBeNull();
		const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map(line => JSON.parse(line) as {reason: string; seq: number});
		expect(lines.map(line => [line.reason, line.seq])).toEqual([['after', 2]]);
		expect(log.takeNotices().map(notice => notice.message)).toEqual([`the audit log ${file} was moved or removed while envwatch ran; it goes on in a new ${file} from seq 2`]);
	});

	it('a log rotated by renaming it (logrotate without copytruncate) goes on in a new file at its path, said once, seq going on', () => {
		const file = path.join(dir, 'audit.jsonl');
		const log = new AuditLog(file);
		const line = (reason: string) => ({at: '2026-11-27T09:00:00.000Z', type: 'decision' as const, actor: 'auto', kind: 'warn' as const, environments: ['dev'], reason, instanceIds: [], dryRun: false});
		log.append(line('before'));
		fs.renameSync(file, `${file}.1`);
		log.append(line('after'));
		log.append(line('later'));
		log.close();
		const read = (name: string) => fs.readFileSync(name, 'utf8').trim().split('\n').map(text => JSON.parse(text) as {reason: string; seq: number}).map(entry => [entry.reason, entry.seq]);
		expect(read(`${file}.1`)).toEqual([['before', 1]]);
		expect(read(file)).toEqual([['after', 2], ['later', 3]]);
		expect(log.takeNotices()).toHaveLength(1);
		expect(fs.statSync(file).mode & 0o077).toBe(0);
	});
});

describe('sample history: samples.json plus an append-only samples.log', () => {
	type Hist = Record<string, Array<{at: number; usd: number}>>;
	/** An hour of 15 s polls for three environments and global, then polls that prune and reset. */
	function polls(count: number, start = 1_800_000_000_000): Hist[] {
		const history: Hist = JSON.parse('{"constructor": [], "__proto__": []}') as Hist;
		history['dev'] = [];
		history['*global'] = [];
		const states: Hist[] = [];
		for (let index = 0; index < count; index++) {
			const at = start + index * 15_000;
			for (const key of Object.keys(history)) {
				history[key]!.push({at, usd: 1 + ((index * 7) % 13) / 1000});
				// The window: the last 60 samples.
				history[key] = history[key]!.slice(-60);
			}

			if (index === count - 3) {
				// An environment's history reset (as after a stop), then started again.
				delete history['dev'];
			} else if (index === count - 2) {
				history['dev'] = [];
			}

			states.push(structuredClone(history));
		}

		return states;
	}

	const plain = (history: Hist) => JSON.parse(JSON.stringify(Object.entries(history))) as unknown;

	it('appends a small line per poll, rewrites samples.json only to compact, and reads back what was saved', () => {
		const state = new StateStore(path.join(dir, 'state'));
		const json = path.join(state.dir, 'samples.json');
		const log = path.join(state.dir, 'samples.log');
		const states = polls(200);
		let compactions = 0;
		let appendBytes = 0;
		for (const [index, history] of states.entries()) {
			const before = fs.existsSync(json) ? fs.statSync(json).mtimeMs + fs.readFileSync(json, 'utf8') : '';
			const logBefore = fs.existsSync(log) ? fs.statSync(log).size : 0;
			state.saveHistory(history);
			const after = fs.statSync(json).mtimeMs + fs.readFileSync(json, 'utf8');
			if (after === before) {
				appendBytes = Math.max(appendBytes, fs.statSync(log).size - logBefore);
			} else {
				compactions++;
			}

			// A restart at any poll reads exactly what was saved, odd keys included.
			if (index % 17 === 0 || index >= states.length - 4) {
				expect(plain(new StateStore(state.dir).loadHistory()), `poll ${index}`).toEqual(plain(history));
			}
		}

		expect(state.error).toBeNull();
		// The first save (nothing loaded) and a few as the log outgrew samples.json, never one a poll.
		expect(compactions).toBeGreaterThanOrEqual(2);
		expect(compactions).toBeLessThan(20);
		expect(appendBytes).toBeGreaterThan(0);
		expect(appendBytes).toBeLessThan(1024);
	});

	it('a crash at any byte of an append: the torn last line is ignored, and the next save starts clean', () => {
		const stateDir = path.join(dir, 'state');
		const state = new StateStore(stateDir);
		const states = polls(10);
		for (const history of states.slice(0, 9)) {
			state.saveHistory(history);
		}

		const log = path.join(stateDir, 'samples.log');
		const json = path.join(stateDir, 'samples.json');
		const whole = fs.readFileSync(log, 'utf8');
		const snapshot = fs.readFileSync(json, 'utf8');
		state.saveHistory(states[9]!);
		const line = fs.readFileSync(log, 'utf8').slice(whole.length);
		expect(line.endsWith('\n')).toBe(true);
		for (let cut = 0; cut < line.length; cut++) {
			fs.writeFileSync(log, whole + line.slice(0, cut));
			const restarted = new StateStore(stateDir);
			expect(plain(restarted.loadHistory()), `cut at ${cut}`).toEqual(plain(states[8]!));
			expect(restarted.takeNotices()).toEqual([]);
			// Never appended onto the torn line: the next save compacts.
			restarted.saveHistory(states[9]!);
			expect(plain(new StateStore(stateDir).loadHistory())).toEqual(plain(states[9]!));
			fs.writeFileSync(log, whole);
			fs.writeFileSync(json, snapshot);
		}
	});

	it('a damaged line in the log: the log is moved aside, samples.json is kept, and it says so', () => {
		const stateDir = path.join(dir, 'state');
		const state = new StateStore(stateDir, () => Date.UTC(2026, 10, 27, 9, 30, 5, 123));
		const states = polls(5);
		for (const history of states) {
			state.saveHistory(history);
		}

		const log = path.join(stateDir, 'samples.log');
		const lines = fs.readFileSync(log, 'utf8').split('\n');
		expect(lines.length).toBeGreaterThanOrEqual(4);
		lines[1] = lines[1]!.replace(/\[\[(\d+),/, '[["$1",');
		fs.writeFileSync(log, lines.join('\n'));
		const restarted = new StateStore(stateDir, () => Date.UTC(2026, 10, 27, 9, 30, 5, 123));
		// What samples.json holds: the first save's history.
		expect(plain(restarted.loadHistory())).toEqual(plain(states[0]!));
		expect(restarted.takeNotices().map(notice => notice.message)).toEqual([
			expect.stringMatching(/samples\.log is damaged \(line 2\.add\[".*"\]\[0\]\[0\]: string "\d+" — expected a time in ms\); moved it aside to .*samples\.log\.damaged-2026-11-27T093005\.123Z; the samples since its last compaction are lost/),
		]);
		expect(fs.readdirSync(stateDir).sort()).toEqual(['samples.json', 'samples.log.damaged-2026-11-27T093005.123Z']);
	});

	it('an old samples.json alone (before the log) is read, and the first save compacts it with the new samples', () => {
		const stateDir = path.join(dir, 'state');
		fs.mkdirSync(stateDir);
		fs.writeFileSync(path.join(stateDir, 'samples.json'), JSON.stringify({version: 1, series: {dev: [[1, 2], [2, 3]]}}));
		const state = new StateStore(stateDir);
		const history = state.loadHistory();
		expect(history).toEqual({dev: [{at: 1, usd: 2}, {at: 2, usd: 3}]});
		history['dev']!.push({at: 3, usd: 4});
		state.saveHistory(history);
		history['dev']!.push({at: 4, usd: 5});
		state.saveHistory(history);
		expect(fs.readdirSync(stateDir).sort()).toEqual(['samples.json', 'samples.log']);
		expect(new StateStore(stateDir).loadHistory()).toEqual({dev: [{at: 1, usd: 2}, {at: 2, usd: 3}, {at: 3, usd: 4}, {at: 4, usd: 5}]});
	});
});

describe('sample history log: restarts and crashes around a compaction', () => {
	it('the log of an older samples.json (a crash between a compaction and its removal of the log) is not replayed', () => {
		const stateDir = path.join(dir, 'state');
		const state = new StateStore(stateDir);
		const history = {dev: [{at: 1, usd: 1}]};
		state.saveHistory(history);
		history.dev.push({at: 2, usd: 2});
		state.saveHistory(history);
		history.dev.push({at: 3, usd: 3});
		state.saveHistory(history);
		const oldLog = fs.readFileSync(path.join(stateDir, 'samples.log'), 'utf8');
		// A compaction (a store that loaded nothing compacts first), then the old log put back.
		const compacted = {dev: [{at: 2, usd: 2}, {at: 3, usd: 3}, {at: 4, usd: 4}]};
		new StateStore(stateDir).saveHistory(compacted);
		expect(fs.existsSync(path.join(stateDir, 'samples.log'))).toBe(false);
		fs.writeFileSync(path.join(stateDir, 'samples.log'), oldLog);
		const restarted = new StateStore(stateDir);
		expect(restarted.loadHistory()).toEqual(compacted);
		expect(restarted.takeNotices()).toEqual([]);
	});

	it('two polls with the same time both persist (a clock that did not move)', () => {
		const stateDir = path.join(dir, 'state');
		const state = new StateStore(stateDir);
		const history = {dev: [{at: 1, usd: 1}]};
		state.saveHistory(history);
		history.dev.push({at: 1, usd: 2});
		state.saveHistory(history);
		history.dev.push({at: 1, usd: 3}, {at: 5, usd: 4});
		state.saveHistory(history);
		expect(new StateStore(stateDir).loadHistory()).toEqual(history);
	});
});

describe('history saved whole when saved samples change', () => {
	it('samples restated after they were appended to the log are read back restated (a price change is never a spike after a restart)', () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-restate-'));
		try {
			const state = new StateStore(dir);
			const history = {dev: [{at: 1000, usd: 0.096}]};
			state.saveHistory(history);
			history.dev.push({at: 2000, usd: 0.096});
			state.saveHistory(history);
			// Volumes became known: every sample of dev is restated (+$0.0011/h), as Samples.restate does.
			for (const sample of history.dev) {
				sample.usd += 0.0011;
			}

			history.dev.push({at: 3000, usd: 0.0971});
			state.saveHistory(history, true);
			expect(new StateStore(dir).loadHistory()['dev']!.map(sample => Math.round(sample.usd * 1e4) / 1e4)).toEqual([0.0971, 0.0971, 0.0971]);
		} finally {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});
});
