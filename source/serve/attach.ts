import path from 'node:path';
import {describeHolder, EngineLock, type LockListener, type LockState} from '../engine/index.js';
import {UsageError} from '../domain/index.js';
import {connectServer, type RemoteEngine} from './client.js';
import {socketFileName, type ClientKind} from './protocol.js';

// Finding the engine of a state dir: its server to attach to, or its lock to run it here.

/** Why the engine could not be found nor run: the message names the holder; exit 1. */
export class EngineBusy extends Error {}

export function socketPathOf(stateDir: string): string {
	return path.join(stateDir, socketFileName);
}

export const sleep = async (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Lock holders that finish by themselves: waited for rather than reported. */
const shortLived = new Set(['once', 'stop', 'start', 'reset', 'undo']);

export function lockProblem(state: LockState, stateDir: string): string {
	if (state.kind === 'held') {
		return `the engine of ${stateDir} is held by ${describeHolder(state.info)}, but its socket ${socketPathOf(stateDir)} does not answer; if that process is hung, end it (kill ${state.info.pid}) — envwatch never breaks a live process's lock`;
	}

	if (state.kind === 'unreadable') {
		return `cannot take the engine lock: ${state.why}`;
	}

	return `cannot take the engine lock of ${stateDir}`;
}

type Found = {kind: 'attached'; remote: RemoteEngine} | {kind: 'lock'; lock: EngineLock};

/**
 * Finds the server on a state dir or takes the engine lock, whichever comes first. A short-lived
 * holder (a `--once` from cron) is waited for; a live holder whose socket does not answer, after a
 * grace of `patienceMs` (it may be starting its server), is an EngineBusy naming it.
 */
export async function attachOrLock(options: {stateDir: string; mode: string; client: ClientKind; actor: string; serveOnly?: boolean; patienceMs?: number; onLost?: (why: string) => void; onTrouble?: (why: string) => void; beforeLock?: () => void}): Promise<Found> {
	const socketPath = socketPathOf(options.stateDir);
	const started = Date.now();
	for (;;) {
		const connection = await connectServer(socketPath, {actor: options.actor, client: options.client});
		if (connection.kind === 'attached') {
			if (options.serveOnly) {
				connection.remote.close();
				throw new EngineBusy(`${options.stateDir} is already served by pid ${connection.remote.server.pid} on ${connection.remote.server.host} (${connection.remote.server.mode}, since ${new Date(connection.remote.server.since).toISOString()}): attach to it with envwatch --state-dir ${options.stateDir}`);
			}

			return connection;
		}

		// Something answers that is not an envwatch server: not "no server", and nothing to attach to.
		if (connection.kind === 'denied' || connection.kind === 'refused') {
			throw new EngineBusy(connection.kind === 'refused' ? `${connection.message}; end what listens there (or remove the socket if nothing should), then start envwatch again` : connection.message);
		}

		// No server: this process will run the engine, so the state dir must be writable (checked
		// only now: attaching needs no write access, as an on-call engineer's to a service's state).
		options.beforeLock?.();
		const listener: LockListener = {...(options.onLost ? {lost: options.onLost} : {}), ...(options.onTrouble ? {trouble: options.onTrouble} : {})};
		const taken = EngineLock.acquire(options.stateDir, options.mode, listener);
		if (taken instanceof EngineLock) {
			return {kind: 'lock', lock: taken};
		}

		if (taken.kind === 'unreadable' && taken.cannotCreate) {
			// Not a busy engine: a state dir this user cannot write (and no server to attach to).
			throw new UsageError(`the state dir ${options.stateDir}: cannot create the engine lock in it (${taken.cannotCreate}) — expected a writable directory${connection.kind === 'silent' ? `; ${connection.message}` : ''}`);
		}

		const waited = Date.now() - started;
		const patient = taken.kind === 'held' && shortLived.has(taken.info.mode) ? 120_000 : options.patienceMs ?? 3000;
		if (waited > patient) {
			throw new EngineBusy(connection.kind === 'silent' ? `${connection.message}; ${lockProblem(taken, options.stateDir)}` : lockProblem(taken, options.stateDir));
		}

		await sleep(300);
	}
}
