import os from 'node:os';
import type {Options} from '../app/args.js';
import {loadConfig, targetName} from '../config/index.js';
import {UsageError, exitCodes} from '../domain/index.js';
import {destinationOf, Notifier} from '../notify/index.js';
import {snsPublisher} from '../providers/index.js';
import type {Io} from '../app/io.js';
import {awsConnection, notifyTargets} from '../app/runtime.js';

// `envwatch notify test`.

/** `envwatch notify test [--target N]`: a test message to each target (or one); exit 1 if one failed. */
export async function notifyTest(options: Options, io: Io): Promise<number> {
	const {config} = loadConfig({configFile: options.configFile, env: io.env});
	const targets = notifyTargets(config, io.env);
	if (targets.length === 0) {
		throw new UsageError('notify test: no notify targets configured — add a "notify" list to the configuration, e.g. [{"type": "slack", "url": {"env": "SLACK_WEBHOOK_URL"}}] (see docs/operations.md, "Notifications")');
	}

	let only: number | undefined;
	if (options.target !== undefined) {
		const byName = targets.findIndex(target => target.name === options.target);
		const position = /^\d+$/.test(options.target) ? Number(options.target) - 1 : -1;
		only = byName >= 0 ? byName : position >= 0 && position < targets.length ? position : undefined;
		if (only === undefined) {
			throw new UsageError(`--target ${options.target}: no such notify target — expected a position from 1 to ${targets.length} or a name: ${(config.notify ?? []).map((target, index) => targetName(target, index)).join(', ')}`);
		}
	}

	const notifier = new Notifier(targets, {
		host: os.hostname(),
		publishSns: snsPublisher(awsConnection(options)),
	});
	const outcomes = await notifier.test(only);
	notifier.close();
	let failed = false;
	for (const [index, outcome] of outcomes.entries()) {
		const target = targets[only ?? index]!;
		const ok = outcome.outcome === 'delivered';
		failed ||= !ok;
		io.stdout.write(`${ok ? 'ok' : 'FAILED'}  ${target.name} (${target.type}, ${destinationOf(target)}): ${ok ? 'test message delivered' : `${outcome.outcome}: ${outcome.error ?? ''}`}\n`);
	}

	return failed ? exitCodes.failure : exitCodes.ok;
}
