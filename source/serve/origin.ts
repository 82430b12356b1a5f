import {AsyncLocalStorage} from 'node:async_hooks';
import {AuditLog, type AuditEntry, type AuditPeer} from '../engine/index.js';

/** Who sent the command being carried out, when it came over the socket: what it says, and who it is. */
export type Origin = {actor: string; via: 'socket'; peer?: AuditPeer};

const current = new AsyncLocalStorage<Origin>();

/** Runs `work` (a command from a socket client) so that what it records says `via: "socket"`. */
export async function withOrigin<T>(origin: Origin, work: () => Promise<T>): Promise<T> {
	return current.run(origin, work);
}

/**
 * The audit log, marking the entries a socket client's command writes with `via: "socket"` and
 * the client's real identity, `peer` (automatic entries written meanwhile, actor `auto`, are the
 * engine's own and stay unmarked).
 */
export class OriginAuditLog extends AuditLog {
	override append(entry: Omit<AuditEntry, 'seq'>): AuditEntry {
		const origin = current.getStore();
		return super.append(origin && entry.actor === origin.actor ? {...entry, via: origin.via, ...(origin.peer ? {peer: origin.peer} : {})} : entry);
	}
}
