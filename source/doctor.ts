import type {Options} from './args.js';
import {loadConfig} from './config/load.js';
import path from 'node:path';
import {exitCodes, UsageError} from './errors.js';
import {defaultStateDir} from './engine/state.js';
import {notifyChecks} from './notify/health.js';

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

	const {config} = loadConfig({configFile: options.configFile, flags: options.regions ? {regions: options.regions} : {}, env: io.env});
	const {runDoctor, formatDoctor} = await import('./providers/aws/index.js');
	const report = await runDoctor(config, {
		...(options.profile ? {profile: options.profile} : {}),
		...(options.endpointUrl ? {endpointUrl: options.endpointUrl} : {}),
	});
	// Notification targets: secrets set, and each one's last recorded delivery (from the audit log).
	const checks = notifyChecks(config.notify ?? [], io.env, options.auditLog ?? path.join(options.stateDir ?? defaultStateDir(io.env), 'audit.log'));
	report.checks.push(...checks);
	report.ok &&= checks.every(check => check.status !== 'fail');
	io.stdout.write(`${formatDoctor(report)}\n`);
	return report.ok ? exitCodes.ok : exitCodes.failure;
}
