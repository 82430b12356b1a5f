import {exitCodes, plural} from '../domain/index.js';
import {describeHolder, inspectLock} from '../engine/index.js';
import {connectServer, socketPathOf, type SessionCoordination} from '../serve/index.js';
import {leaseLine} from '../app/coordination.js';
import type {CommandIo} from './side.js';

// `envwatch status`.

const iso = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString());

/** The status's line on polls: when the last was, how many, the last fresh data, and a failure. */
export function lastPollLine(status: {lastPoll: number | null; polls: number; lastSuccessAt: number | null; error: string | null}): string {
	return `last poll: ${iso(status.lastPoll)} (${plural(status.polls, 'poll')}; last fresh data ${iso(status.lastSuccessAt)})${status.error ? `; failing: ${status.error}` : ''}`;
}

/**
 * `envwatch status`: who runs the engine on the state dir, who is attached, the last poll, and with
 * `coordination.dynamodb` who holds the lease (the leader and its host). 0 when a server answers, 1 otherwise.
 */
export async function printStatus(stateDir: string, actor: string, io: CommandIo, coordination?: () => Promise<SessionCoordination | undefined>): Promise<number> {
	const code = await printLocal(stateDir, actor, io);
	const coordinated = await coordination?.();
	if (coordinated) {
		io.stdout.write(`${await leaseLine(coordinated)}\n`);
		coordinated.table.close();
	}

	return code;
}

async function printLocal(stateDir: string, actor: string, io: CommandIo): Promise<number> {
	const connection = await connectServer(socketPathOf(stateDir), {actor, client: 'status'});
	if (connection.kind === 'attached') {
		const status = await connection.remote.status();
		connection.remote.close();
		const clients = status.clients.filter(client => client.client !== 'status');
		io.stdout.write([
			`engine: ${status.mode} pid ${status.pid} on ${status.host}, since ${iso(status.since)} (envwatch ${status.version})`,
			`state dir: ${status.stateDir}`,
			lastPollLine(status),
			`attached: ${clients.length === 0 ? 'nobody' : clients.map(client => `${client.actor} (${client.client}, pid ${client.pid}, ${client.uid === undefined ? '' : client.uid === null ? 'uid not proved, ' : `uid ${client.uid}, `}since ${iso(client.connectedAt)})`).join('; ')}`,
		].join('\n') + '\n');
		return exitCodes.ok;
	}

	if (connection.kind === 'denied' || connection.kind === 'silent' || connection.kind === 'refused') {
		io.stderr.write(`envwatch: ${connection.message}\n`);
	}

	const lock = inspectLock(stateDir);
	switch (lock.kind) {
		case 'free': {
			io.stdout.write(`engine: none runs on ${stateDir} (no server, no lock)\n`);
			break;
		}

		case 'held': {
			io.stdout.write(`engine: held by ${describeHolder(lock.info)}, last heartbeat ${iso(lock.info.heartbeatAt)}; its socket does not answer${lock.info.mode === 'serve' || lock.info.mode === 'dashboard' ? '' : ' (a one-off run: it serves no socket)'}\n`);
			break;
		}

		case 'stale': {
			io.stdout.write(`engine: none runs on ${stateDir}; a stale lock is left from ${describeHolder(lock.info)}: ${lock.why} (the next run takes it over)\n`);
			break;
		}

		case 'unreadable': {
			io.stdout.write(`engine: unknown — ${lock.why}\n`);
			break;
		}
	}

	return exitCodes.failure;
}
