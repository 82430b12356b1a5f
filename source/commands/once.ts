import {exitCodes} from '../domain/errors.js';
import {toJson} from '../engine/snapshot.js';
import {formatDashboard} from '../app/headless.js';
import type {Io} from '../app/io.js';
import type {Runtime} from '../app/runtime.js';

// `--once`: one poll, its figures printed, an exit code for cron.

export async function runOnce(runtime: Runtime, io: Io): Promise<number> {
	// One poll that waits (bounded) for the prices and volumes its figures need, and for the billed
	// cost when this run fetches it.
	const snapshot = await runtime.monitor.once();
	await runtime.monitor.stop();
	// A reader that went away (`| head -0`) does not turn the result into a stack trace.
	io.stdout.on('error', (error: NodeJS.ErrnoException) => {
		if (error.code !== 'EPIPE') {
			io.stderr.write(`envwatch: cannot write to stdout (${error.code ?? error.message})\n`);
		}
	});
	io.stdout.write(`${runtime.options.json ? JSON.stringify(toJson(snapshot)) : formatDashboard(snapshot)}\n`);
	// A breach the poll found counts even when its stop already ended it (the figures show the result).
	const breach = snapshot.breachFound ?? [...snapshot.environments, snapshot.global].some(view => view.level === 'breach' && !view.stale);
	if (breach) {
		return exitCodes.breach;
	}

	// Stale data is not "all clear", nor is an action or decision that could not be recorded:
	// cron must hear that envwatch could not look, or could not write down what it did.
	return snapshot.error || snapshot.recordError ? exitCodes.failure : exitCodes.ok;
}
