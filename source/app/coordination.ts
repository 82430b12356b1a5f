import type {Options} from './args.js';
import type {Config} from '../config/index.js';
import {errorMessage} from '../domain/index.js';
import {defaultLeaseMs, describeLease, readLease, TableAudit, TableMedium, type AuditLog, type EngineLock, type LeaseInfo, type TableLease} from '../engine/index.js';
import {openCoordinationTable, type CoordinationTable} from '../providers/index.js';
import {acquireLease, EngineBusy, type EngineHold, type SessionCoordination} from '../serve/index.js';
import {awsConnection, runConfig} from './runtime.js';

// `coordination.dynamodb` for the CLI's runs (docs/design.md, "Beyond one host"): the table opened
// beside the state dir, the lease a one-off run holds while it acts.

/** The table's region: its own, else the SDK's, else the first watched region. */
export function tableRegion(config: Config, env: NodeJS.ProcessEnv): string {
	return config.coordination?.dynamodb.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? config.regions[0] ?? 'us-east-1';
}

/** How long the configured lease lasts without a heartbeat. */
export function leaseMs(config: Config): number {
	return (config.coordination?.dynamodb.leaseSeconds ?? defaultLeaseMs / 1000) * 1000;
}

/**
 * The run's configuration (runConfig), loaded once here for the runtime too, and its coordination
 * table opened (its SDK loaded only now); neither in a demo (its runtime loads the configuration
 * when it starts an engine), no table without the key.
 */
export async function openCoordination(options: Options, env: NodeJS.ProcessEnv): Promise<{config?: Config; coordination?: SessionCoordination}> {
	if (options.demo) {
		return {};
	}

	const config = runConfig(options, env);
	const coordination = config.coordination?.dynamodb;
	if (!coordination) {
		return {config};
	}

	const table = await openCoordinationTable(awsConnection(options), coordination.table, tableRegion(config, env));
	return {config, coordination: {table, durationMs: leaseMs(config)}};
}

/** A one-off run (`--once`, `stop`, `start`, `reset`) holding the lease: its engine's hold, and its end. */
export type OneOffLease = {hold: EngineHold; lease: TableLease; medium: TableMedium; audit: (log: AuditLog) => void; end: () => Promise<void>};

/**
 * Takes the lease for a one-off run, or answers who holds it (then this run must not act). The
 * run's state is in the table, every write and each stop batch fenced by the lease; its audit
 * entries go to the table too.
 */
export async function holdForOneOff(coordination: SessionCoordination, mode: string, lock: EngineLock): Promise<{kind: 'held'; info: LeaseInfo} | {kind: 'taken'; held: OneOffLease}> {
	const {table} = coordination;
	const acquired = await acquireLease(coordination, mode);
	if (acquired.kind === 'held') {
		return acquired;
	}

	const {lease} = acquired;
	lease.hold({});
	let medium: TableMedium;
	try {
		medium = await TableMedium.open(table, {fence: () => lease.condition()});
	} catch (error) {
		await lease.release();
		throw new EngineBusy(`cannot read the state in ${table.name}: ${errorMessage(error)}`);
	}

	const tableAudit = new TableAudit(table, lease.info.holder, () => undefined);
	let detach = () => undefined as void;
	const fence = async () => {
		await lock.fence();
		await medium.flush();
		await lease.fence();
	};

	return {
		kind: 'taken',
		held: {
			hold: {fence, medium},
			lease,
			medium,
			audit: log => {
				detach = tableAudit.attach(log);
			},
			async end() {
				await medium.flush().catch(() => undefined);
				await tableAudit.flush().catch(() => undefined);
				detach();
				await lease.release();
			},
		},
	};
}

/** Why a one-off run does not act: another engine holds the lease. */
export function heldElsewhere(table: CoordinationTable, info: LeaseInfo): string {
	return `the engine runs on ${info.host} with the lease of ${table.name}: ${describeLease(info)}; act there, or wait for it to end (a standby takes over within ${Math.round(info.durationMs / 1000)}s of its last heartbeat)`;
}

/** `envwatch status`'s lease line: who holds it, from which host. */
export async function leaseLine(coordination: SessionCoordination): Promise<string> {
	try {
		const info = await readLease(coordination.table);
		if (!info) {
			return `lease: none yet in ${coordination.table.name} (no engine has run with it)`;
		}

		return info.released
			? `lease: free in ${coordination.table.name} (released by ${info.mode} pid ${info.pid} on ${info.host}, fencing token ${info.token})`
			: `lease: the leader is ${describeLease(info)} in ${coordination.table.name}`;
	} catch (error) {
		return `lease: unknown — cannot read it in ${coordination.table.name} (${errorMessage(error)})`;
	}
}
