import os from 'node:os';
import path from 'node:path';
import {loadConfigText, type Config} from '../config/index.js';
import {UsageError} from '../domain/index.js';
import {leaseMs, tableRegion} from '../app/coordination.js';
import {ActionCutShort, AuditLog, breachFound, describeLease, lambdaJudgment, leaseTakenOver, messageOf, Monitor, onceWaitMs, readLease, SnapshotStore, StateStore, TableAudit, TableLease, TableMedium, toJson, type Snapshot} from '../engine/index.js';
import {createProvider, openCoordinationTable, readConfigParameter, type AwsConnection, type CoordinationTable, type Provider} from '../providers/index.js';

/** What Lambda hands the handler: how long it may still run. */
export type LambdaContext = {getRemainingTimeInMillis(): number; functionName?: string; awsRequestId?: string};

/** What an invocation did: `standby` (a live engine holds the lease: nothing else done), or `polled`. */
export type InvocationResult = {
	outcome: 'standby' | 'polled';
	/** The engine that holds the lease (standby), or this invocation's holder id. */
	leader: string;
	/** Why the lease this invocation took over was stale. */
	tookOver?: string;
	breach?: boolean;
	/** The poll's failure (STALE), or what could not be recorded: the invocation then fails after it released the lease. */
	error?: string | null;
};

/** An invocation ends its poll this long before Lambda's timeout: the state and audit entries written, the lease released. */
export const marginMs = 10_000;

/** Where the invocation writes: stdout is the function's log (one line each). */
export type InvocationIo = {write(line: string): void};

/**
 * The configuration of an invocation: ENVWATCH_CONFIG_JSON, or the SSM parameter named by
 * ENVWATCH_CONFIG_PARAMETER; it must name the coordination table (`coordination.dynamodb`), and that
 * must be the table the function was deployed with (ENVWATCH_TABLE) when that is set.
 */
export async function invocationConfig(env: NodeJS.ProcessEnv, connection: AwsConnection): Promise<Config> {
	const json = env['ENVWATCH_CONFIG_JSON'];
	const parameter = env['ENVWATCH_CONFIG_PARAMETER'];
	let config: Config;
	if (json !== undefined && json !== '') {
		if (parameter) {
			throw new UsageError(`ENVWATCH_CONFIG_JSON and ENVWATCH_CONFIG_PARAMETER are both set — expected one of them`);
		}

		config = loadConfigText(json, 'ENVWATCH_CONFIG_JSON').config;
	} else if (parameter) {
		const region = env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
		const text = await readConfigParameter(connection, parameter, region);
		config = loadConfigText(text, `ENVWATCH_CONFIG_PARAMETER ${parameter}`).config;
	} else {
		throw new UsageError('no configuration — expected ENVWATCH_CONFIG_JSON (the configuration as JSON) or ENVWATCH_CONFIG_PARAMETER (the name of an SSM parameter holding it)');
	}

	const table = config.coordination?.dynamodb.table;
	const source = json ? 'ENVWATCH_CONFIG_JSON' : `ENVWATCH_CONFIG_PARAMETER ${parameter}`;
	if (table === undefined) {
		throw new UsageError(`${source}: coordination.dynamodb is missing — expected {"coordination": {"dynamodb": {"table": "envwatch"}}}: the function keeps its lease and state in that table`);
	}

	const deployed = env['ENVWATCH_TABLE'];
	if (deployed && deployed !== table) {
		throw new UsageError(`${source}: coordination.dynamodb.table is "${table}", but this function was deployed with the table "${deployed}" (ENVWATCH_TABLE) — expected the same table`);
	}

	return config;
}

/** One line a CloudWatch embedded-metric record (no API call, no permission): `StaleLease` for the stale-lease alarm. */
export function metricLine(table: string, staleLease: boolean, at = Date.now()): string {
	return JSON.stringify({
		_aws: {Timestamp: at, CloudWatchMetrics: [{Namespace: 'envwatch', Dimensions: [['Table']], Metrics: [{Name: 'StaleLease', Unit: 'Count'}]}]},
		Table: table,
		StaleLease: staleLease ? 1 : 0,
	});
}

/**
 * One invocation of the backstop: one `--once` (docs/design.md, "The Lambda, per invocation").
 * While a live engine holds the lease it only looks (and writes the watch when the lease moved);
 * otherwise it takes the lease, polls, decides, acts, records, and releases. Rejects (a failed
 * invocation: the function's errors alarm) on a bad configuration, a poll that could not look
 * (STALE), or what could not be recorded, always after the lease is released.
 */
export async function invoke(env: NodeJS.ProcessEnv, context: LambdaContext, io: InvocationIo, connection: AwsConnection = {}): Promise<InvocationResult> {
	const config = await invocationConfig(env, connection);
	const coordination = config.coordination!.dynamodb;
	const table = await openCoordinationTable(connection, coordination.table, tableRegion(config, env));
	try {
		const current = await readLease(table);
		const now = Date.now();
		const stale = current && !current.released ? await lambdaJudgment(table, current, now) : undefined;
		if (current && !current.released && stale === undefined) {
			io.write(metricLine(coordination.table, false, now));
			return {outcome: 'standby', leader: describeLease(current, now)};
		}

		const acquired = await TableLease.acquire(table, {
			mode: 'lambda',
			durationMs: leaseMs(config),
			// Only the lease this invocation judged stale, unchanged since: not one a live engine wrote meanwhile.
			stale: info => (current && info.token === current.token && info.version === current.version ? stale : undefined),
		});
		if (acquired.kind === 'held') {
			io.write(metricLine(coordination.table, false, now));
			return {outcome: 'standby', leader: describeLease(acquired.info, now)};
		}

		io.write(metricLine(coordination.table, stale !== undefined, now));
		return await pollHolding(config, table, acquired.lease, env, context, io, connection);
	} finally {
		table.close();
	}
}

/** Holding the lease: the poll, its actions and records, then the lease released (whatever happened). */
async function pollHolding(config: Config, table: CoordinationTable, lease: TableLease, env: NodeJS.ProcessEnv, context: LambdaContext, io: InvocationIo, connection: AwsConnection): Promise<InvocationResult> {
	const remaining = () => context.getRemainingTimeInMillis();
	const report = (line: string) => io.write(JSON.stringify({type: 'report', message: line}));
	lease.hold({lost: why => report(`envwatch: ${why}: this invocation stops acting`), trouble: report});
	let audit: AuditLog | undefined;
	let provider: Provider | undefined;
	let tableAudit: TableAudit | undefined;
	let monitor: Monitor | undefined;
	try {
		const medium = await TableMedium.open(table, {fence: () => lease.condition()});
		const state = new StateStore(medium);
		// The function's own copy of the audit log (its /tmp); every entry also goes to its log and the table.
		audit = new AuditLog(path.join(os.tmpdir(), 'envwatch', 'audit.log'));
		audit.open();
		audit.onAppend(entry => io.write(JSON.stringify(entry)));
		tableAudit = new TableAudit(table, lease.info.holder, report);
		tableAudit.attach(audit);
		provider = await awsProvider(config, connection, env, Math.max(5000, remaining() - marginMs));
		const monitored = Object.keys(config.environments);
		const store = new SnapshotStore();
		monitor = new Monitor({
			provider,
			config,
			monitored,
			store,
			state,
			audit,
			clock: Date.now,
			options: {dryRun: false, readOnly: false, actor: `lambda:${context.functionName ?? 'envwatch'}`, report},
			// Before each batch: time left for it and what follows, the state written, the lease still this invocation's.
			async fence() {
				if (remaining() < marginMs) {
					throw new ActionCutShort(`${Math.round(remaining() / 1000)} s left of the invocation, less than its ${marginMs / 1000} s margin`);
				}

				await state.flush();
				await lease.fence();
			},
		});
		if (lease.tookOver) {
			monitor.note({type: 'decision', actor: 'auto', kind: 'takeover', environments: monitored, reason: leaseTakenOver(table.name, lease.tookOver), instanceIds: []});
		}

		const snapshot = await monitor.once(Math.max(0, Math.min(onceWaitMs, remaining() - marginMs - 5000)));
		await monitor.stop();
		monitor = undefined;
		await state.flush();
		await tableAudit.flush();
		io.write(JSON.stringify(toJson(snapshot)));
		const breach = breachFound(snapshot);
		return {outcome: 'polled', leader: lease.info.holder, ...(lease.tookOver ? {tookOver: lease.tookOver.why} : {}), breach, error: failureOf(snapshot, state, tableAudit)};
	} finally {
		await monitor?.stop().catch(() => undefined);
		await tableAudit?.flush().catch(() => undefined);
		audit?.close();
		provider?.close?.();
		await lease.release();
	}
}

function failureOf(snapshot: Snapshot, state: StateStore, audit: TableAudit): string | null {
	const errors = [snapshot.error, snapshot.recordError ?? null, state.error, audit.error].filter((error): error is string => Boolean(error));
	return errors.length > 0 ? [...new Set(errors)].join('; ') : null;
}

/** The AWS account the invocation watches, its listing bounded by the time the invocation has. */
async function awsProvider(config: Config, connection: AwsConnection, env: NodeJS.ProcessEnv, budgetMs: number): Promise<Provider> {
	return createProvider({connection, env, listBudgetMs: budgetMs}, config);
}

/** A failed invocation's error: what went wrong, without a stack (the function's log has the lines before it). */
export function invocationError(error: unknown): Error {
	if (error instanceof UsageError) {
		return new Error(`envwatch: ${error.problems.join('; ')}`);
	}

	return new Error(`envwatch: ${messageOf(error)}`);
}
