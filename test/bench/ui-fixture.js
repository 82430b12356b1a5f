// Shared by the ui-* benchmarks (a .js file, so the bench runner does not take it for a bench). A snapshot from the real
// engine over the simulated account, and fake terminal streams that count what Ink writes.
import {EventEmitter} from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dist = new URL('../../dist/', import.meta.url);
const load = file => import(new URL(file, dist).href);

export async function engineSnapshot() {
	const [{loadConfig}, {AuditLog, Monitor, SnapshotStore, StateStore}, {SimAccount}, {fallbackPrices}] = await Promise.all([
		load('config/index.js'), load('engine/index.js'), load('providers/sim/account.js'), load('domain/index.js'),
	]);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-bench-ui-'));
	const {config} = loadConfig({noStore: true});
	let now = Date.UTC(2026, 10, 27, 12, 0, 0);
	const clock = () => now;
	const sim = new SimAccount({scenario: 'calm', now: clock, envTagKey: config.envTagKey, roleTag: config.roleTag, tagValueOf: name => config.environments[name].tagValues[0], prices: fallbackPrices});
	const store = new SnapshotStore();
	const audit = new AuditLog(path.join(dir, 'audit.log'));
	const monitor = new Monitor({provider: {source: 'SIMULATED', fleet: sim, billing: sim}, config, monitored: Object.keys(config.environments), store, state: new StateStore(dir), audit, clock, options: {dryRun: false, readOnly: false, actor: 'bench@jump'}});
	for (let poll = 0; poll < 12; poll++) {
		await monitor.poll();
		now += 15_000;
	}

	await monitor.command({kind: 'pause'});
	await monitor.command({kind: 'resume'});
	const snapshot = await monitor.poll();
	await monitor.stop();
	audit.close();
	fs.rmSync(dir, {recursive: true, force: true});
	return snapshot;
}

export class CountingTty extends EventEmitter {
	isTTY = true;
	columns = 80;
	rows = 24;
	bytes = 0;
	writes = 0;
	output = '';
	write = chunk => {
		this.bytes += globalThis.Buffer.byteLength(chunk);
		this.writes++;
		this.output += chunk;
		return true;
	};

	reset() {
		this.bytes = 0;
		this.writes = 0;
		this.output = '';
	}
}

export class QuietTtyIn extends EventEmitter {
	isTTY = true;
	pending = null;
	setRawMode() {}
	setEncoding() {}
	resume() {}
	pause() {}
	ref() {}
	unref() {}
	read() {
		const {pending} = this;
		this.pending = null;
		return pending;
	}

	/** Types keys, as a terminal would deliver them (to open a view). */
	press(keys) {
		this.pending = keys;
		this.emit('readable');
	}
}

export class ManualStore {
	listeners = new Set();
	constructor(snapshot) {
		this.current = snapshot;
	}

	subscribe = listener => {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	};

	getSnapshot = () => this.current;
	publish(snapshot) {
		this.current = snapshot;
		for (const listener of this.listeners) {
			listener();
		}
	}
}

export function median(values) {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const settle = ms => new Promise(resolve => setTimeout(resolve, ms));
