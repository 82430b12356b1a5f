import type {Options} from '../app/args.js';
import {describeHolder, type EngineLock} from '../engine/state/lock.js';
import {attachOrLock} from '../serve/session.js';
import {onceRemote, resetEach, resetRemote, startEach, startRemote, stopEach, stopRemote} from './remote.js';
import {actorName, type Io} from '../app/io.js';
import {stateDirCheck} from '../app/state-dir.js';
import {createRuntime, flushNotifications, type Runtime} from '../app/runtime.js';
import {runOnce} from './once.js';
import {ask, confirm} from './prompts.js';
import {localSide} from './local.js';

// `--once`, `stop`, `start` and `reset`: through a running server, else with the engine lock taken here.

async function runStop(runtime: Runtime, io: Io): Promise<number> {
	const code = await stopEach(runtime.monitored, localSide(runtime), runtime.options, io, {confirm: async (question, refusal) => confirm(io, runtime.options, question, refusal), ask: async question => ask(io, runtime.options, question)});
	await runtime.monitor.stop();
	return code;
}

/** Resets tripped breakers (`envwatch reset -e dev`) with the engine in this process. */
async function runReset(runtime: Runtime, io: Io): Promise<number> {
	const {monitor, options} = runtime;
	const snapshot = await monitor.poll();
	const code = await resetEach(runtime.monitored, snapshot, async command => monitor.command(command), io, async (question, refusal) => confirm(io, options, question, refusal));
	await monitor.stop();
	return code;
}

async function runStart(runtime: Runtime, io: Io): Promise<number> {
	const code = await startEach(runtime.monitored, localSide(runtime), runtime.options, io, async (question, refusal) => confirm(io, runtime.options, question, refusal));
	await runtime.monitor.stop();
	return code;
}

/**
 * `--once`, `stop`, `start` and `reset`: through the running server when there is one (no second
 * poll, no race), else with the engine lock taken for this run.
 */
export async function runCommand(options: Options, io: Io, stateDir: string): Promise<number> {
	const command = options.command as 'once' | 'stop' | 'start' | 'reset';
	const checkState = stateDirCheck(options, io, stateDir);
	const found = await attachOrLock({stateDir, mode: command, client: command, actor: actorName(), beforeLock: checkState});
	if (found.kind === 'attached') {
		const {remote} = found;
		try {
			const prompts = {confirm: async (question: string, refusal: string) => confirm(io, options, question, refusal), ask: async (question: string) => ask(io, options, question)};
			if (command === 'once') {
				return await onceRemote(remote, options, io);
			}

			if (command === 'stop') {
				return await stopRemote(remote, options, io, prompts);
			}

			return command === 'start' ? await startRemote(remote, options, io, prompts.confirm) : await resetRemote(remote, options, io, prompts.confirm);
		} finally {
			remote.close();
		}
	}

	let runtime: Runtime | undefined;
	try {
		runtime = await createRuntime(options, io, stateDir, checkState);
		noteStaleLock(runtime, found.lock, stateDir);
		if (command === 'once') {
			return await runOnce(runtime, io);
		}

		if (command === 'stop') {
			return await runStop(runtime, io);
		}

		return command === 'start' ? await runStart(runtime, io) : await runReset(runtime, io);
	} finally {
		await runtime?.monitor.stop().catch(() => undefined);
		// The command's output is written and its actions done: only now wait for its notifications.
		await flushNotifications(runtime, io).catch(() => undefined);
		runtime?.audit.close();
		found.lock.release();
	}
}

/** A stale engine lock this run broke to take it: the takeover line says whose it was and why it was stale. */
function noteStaleLock(runtime: Runtime, lock: EngineLock, stateDir: string): void {
	if (lock.tookOver) {
		runtime.monitor.note({type: 'decision', actor: actorName(), kind: 'takeover', environments: [...runtime.monitored], reason: `took over the engine lock of ${stateDir} from ${describeHolder(lock.tookOver.info)}: ${lock.tookOver.why}`, instanceIds: []});
	}
}
