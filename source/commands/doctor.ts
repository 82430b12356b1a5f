import type {Options} from '../app/args.js';
import {loadConfig, type Config} from '../config/index.js';
import path from 'node:path';
import {billMismatchPct, exitCodes, pct, UsageError} from '../domain/index.js';
import {billedYesterday, readAuditTail, StateStore} from '../engine/index.js';
import {defaultStateDir} from '../app/state-dir.js';
import {deliveryTailBytes, notifyChecks} from '../notify/index.js';
import {loadAwsDoctor} from '../providers/index.js';
import {awsConnection} from '../app/runtime.js';

type Io = {stdout: NodeJS.WritableStream; env: NodeJS.ProcessEnv};

/**
 * `envwatch doctor`: the AWS preflight checklist, each failure with its fix. Exit 0 when every
 * check passes (or could not tell), 1 when one fails, 2 for a usage problem. The AWS SDK is
 * loaded here, on demand, never for --demo.
 */
export async function doctor(options: Options, io: Io): Promise<number> {
	if (options.demo) {
		throw new UsageError('doctor with --demo: doctor checks an AWS account — drop --demo (the simulated account needs no checks)');
	}

	const {config} = loadConfig({configFile: options.configFile, flags: options.regions ? {regions: options.regions.join() === 'all' ? 'all' : options.regions} : {}, env: io.env});
	const {runDoctor, formatDoctor, allRegions} = await loadAwsDoctor();
	const connection = awsConnection(options);
	if (config.allRegions) {
		// `regions: "all"`: every region enabled for the account is checked.
		config.regions = await allRegions(connection);
	}

	const report = await runDoctor(config, connection);
	// Notification targets: secrets set, and each one's last recorded delivery (from the audit log).
	const auditFile = options.auditLog ?? path.join(options.stateDir ?? defaultStateDir(io.env), 'audit.log');
	const checks = notifyChecks(config.notify ?? [], io.env, readAuditTail(auditFile, Number.POSITIVE_INFINITY, deliveryTailBytes), auditFile);
	report.checks.push(...checks, ...billChecks(config, new StateStore(options.stateDir ?? defaultStateDir(io.env), Date.now, true)));
	report.ok &&= report.checks.every(check => check.status !== 'fail');
	io.stdout.write(`${formatDoctor(report)}\n`);
	return report.ok ? exitCodes.ok : exitCodes.failure;
}

type Check = {name: string; status: 'ok' | 'fail' | 'unknown'; detail: string; fix?: string};

/**
 * Whether to trust the live figure: yesterday's live estimate (the hourly rollup in the state dir)
 * against its final bill (the billed-cost cache), per environment. Read only: nothing is fetched,
 * paid for or moved.
 */
function billChecks(config: Config, state: StateStore): Check[] {
	const yesterday = state.loadBilling()?.cost?.yesterday;
	if (!yesterday) {
		return [{name: 'live vs billed yesterday', status: 'unknown', detail: 'no final bill for yesterday in the state dir yet (a run with Cost Explorer on fetches it)'}];
	}

	const rollup = state.loadRollup();
	return Object.entries(config.environments).map(([name, environment]): Check => {
		// The live figure of a doctor run has no estimates to blame: none is made here.
		const check = billedYesterday(yesterday, environment.tagValues, rollup, name, false);
		if (!check) {
			return {name: `live vs billed yesterday: ${name}`, status: 'unknown', detail: `the final bill's date ${JSON.stringify(yesterday.date)} is not a day`};
		}

		const figure = check.pct === null ? `live $${check.liveUsd.toFixed(2)}, nothing billed` : `live ${check.pct > 0 ? '+' : ''}${pct(check.pct)} against billed $${check.billedUsd.toFixed(2)}`;
		const off = check.pct === null ? check.liveUsd > 0 : Math.abs(check.pct) > billMismatchPct;
		return {
			name: `live vs billed yesterday: ${name}`,
			status: off ? 'fail' : check.causes.length > 0 ? 'unknown' : 'ok',
			detail: `${yesterday.date}: ${figure}${check.causes.length > 0 ? `; likely: ${check.causes.join('; ')}` : ''}`,
			...(off ? {fix: `the live $/h differs from the bill by more than ${billMismatchPct}%: check the likely causes (${check.causes.join('; ')}); set prices overrides for what the bill charges`} : {}),
		};
	});
}
