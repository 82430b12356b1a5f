/**
 * A small dev entry for the dashboard against the simulated account, for trying the UI before
 * the real CLI (`source/cli.tsx`) wires it in: `node dist/ui/dev.js --demo cascade`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {loadConfig} from '../config/load.js';
import {AuditLog} from '../engine/audit.js';
import {Monitor} from '../engine/monitor.js';
import {StateStore} from '../engine/state.js';
import {SnapshotStore} from '../engine/store.js';
import {SimAccount} from '../providers/sim/account.js';
import {isScenario} from '../providers/sim/scenarios.js';
import {runDashboard} from './run.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string) => {
	const index = args.indexOf(`--${name}`);
	return index === -1 ? undefined : args[index + 1];
};

const scenario = value('demo') ?? 'calm';
if (!isScenario(scenario)) {
	throw new Error(`unknown scenario ${scenario}`);
}

const {config} = loadConfig({noStore: true, flags: value('interval') ? {pollIntervalSeconds: Number(value('interval'))} : {}});
const stateDir = value('state-dir') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-dev-'));
const sim = new SimAccount({scenario, now: Date.now, envTagKey: config.envTagKey, roleTag: config.roleTag, tagValueOf: name => config.environments[name]?.tagValues[0] ?? name, prices: config.prices});
const store = new SnapshotStore();
const audit = new AuditLog(value('audit-log') ?? path.join(stateDir, 'audit.log'));
const monitor = new Monitor({
	provider: {source: 'SIMULATED', fleet: sim, billing: sim},
	config,
	monitored: Object.keys(config.environments),
	store,
	state: new StateStore(stateDir),
	audit,
	clock: Date.now,
	options: {dryRun: flag('dry-run'), readOnly: flag('read-only'), actor: `${os.userInfo().username}@${os.hostname()}`},
});
const code = await runDashboard({store, monitor, audit, noColor: flag('no-color'), ascii: flag('ascii')});
process.exitCode = code;
