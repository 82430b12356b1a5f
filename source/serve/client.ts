import fs from 'node:fs';
import net from 'node:net';
import {checkSnapshot, refusedSnapshot, SnapshotStore, type Command, type Snapshot} from '../engine/index.js';
import {printable} from '../domain/index.js';
import {proveIdentity} from './peer.js';
import {encode, leaderOf, LineSplitter, maxWelcomeBytes, protocolVersion, serverInfoOf, type ClientKind, type ClientMessage, type CommandResult, type ServerInfo, type StatusReport} from './protocol.js';

export type Connection =
	| {kind: 'attached'; remote: RemoteEngine}
	/** No socket file, or nobody listening on it. */
	| {kind: 'none'}
	/** The socket is there but this user may not connect (not in its group). */
	| {kind: 'denied'; message: string}
	/** Something listens but does not speak the protocol in time. */
	| {kind: 'silent'; message: string}
	/** Something answers that is not an envwatch server (an impossible welcome): nothing of it is trusted. */
	| {kind: 'refused'; message: string};

type Pending = {resolve: (value: never) => void; reject: (error: Error) => void};

/**
 * The engine behind the socket, as the dashboard sees an in-process one: a snapshot source and a
 * controller. Snapshots are marked `attachedTo` the server, so the header can say whose they are.
 */
export class RemoteEngine {
	readonly store = new SnapshotStore();
	private target: string | undefined;
	private nextId = 1;
	private readonly pending = new Map<number, Pending>();
	private readonly closeListeners = new Set<(reason: string) => void>();
	private closedWith: string | undefined;
	private byeReason: string | undefined;
	/** The last snapshot that passed its check (what stays shown, marked old, when a later one is refused). */
	private lastGood: Snapshot | undefined;
	/** Why the server refused this client (a fatal error: it closes the connection), if it did. */
	refused: string | undefined;

	constructor(private readonly socket: net.Socket, readonly server: ServerInfo) {}

	/** Called by `connectServer` for every line after the welcome. */
	receive(message: Record<string, unknown>): void {
		switch (message['type']) {
			case 'snapshot': {
				this.snapshot(message['snapshot'], message['cascadeTarget']);
				break;
			}

			case 'result':
			case 'status': {
				const id = message['id'] as number;
				const waiting = this.pending.get(id);
				this.pending.delete(id);
				waiting?.resolve((message['type'] === 'result' ? message['result'] : message['status']) as never);
				break;
			}

			case 'error': {
				if (message['fatal'] === true) {
					this.refused = String(message['message']).slice(0, 500);
					this.byeReason = `the server refused this client: ${this.refused}`;
				}

				const id = message['id'];
				const waiting = typeof id === 'number' ? this.pending.get(id) : undefined;
				if (waiting) {
					this.pending.delete(id as number);
					waiting.reject(new Error(String(message['message'])));
				}

				break;
			}

			case 'bye': {
				this.byeReason = String(message['reason']);
				break;
			}

			default: {
				// `event` and types from a newer server: the snapshot carries what the dashboard shows.
				break;
			}
		}
	}

	/**
	 * A snapshot from the server: shown only once every field a view reads is checked (a socket peer
	 * may send anything). One that is refused is never shown: the last good figures stay, marked old
	 * (every row STALE), or none, and the dashboard says whose figures were refused and why.
	 */
	private snapshot(value: unknown, cascadeTarget: unknown): void {
		const whose = {attachedTo: {pid: this.server.pid, host: this.server.host}};
		const snapshot = checkSnapshot(value, Date.now());
		if (typeof snapshot === 'string') {
			this.target = undefined;
			const refused = `REFUSED the figures of ${this.server.mode} pid ${this.server.pid} (${this.server.host}): ${snapshot}`;
			this.store.publish({...refusedSnapshot(this.lastGood, refused, Date.now()), ...whose});
			return;
		}

		this.target = typeof cascadeTarget === 'string' && cascadeTarget.length <= 200 && printable(cascadeTarget) === cascadeTarget ? cascadeTarget : undefined;
		// A standby's figures are its leader's: named only when the server names it as one would.
		const standby = leaderOf((value as {leader?: unknown}).leader);
		this.lastGood = {...snapshot, ...whose, ...(standby ? {leader: standby} : {})};
		this.store.publish(this.lastGood);
	}

	private request<T>(message: ClientMessage & {id: number}): Promise<T> {
		if (this.closedWith !== undefined) {
			return Promise.reject(new Error(`the server went away (${this.closedWith}): nothing sent`));
		}

		return new Promise<T>((resolve, reject) => {
			this.pending.set(message.id, {resolve: resolve as (value: never) => void, reject});
			this.socket.write(encode(message));
		});
	}

	async command(command: Command): Promise<{outcome: string; summary: string} | undefined> {
		const result = await this.request<CommandResult>({v: protocolVersion, type: 'command', id: this.nextId++, command});
		return result ?? undefined;
	}

	async status(): Promise<StatusReport> {
		return this.request<StatusReport>({v: protocolVersion, type: 'status', id: this.nextId++});
	}

	cascadeTarget(): string | undefined {
		return this.target;
	}

	/** The first snapshot (or the current one), waiting up to `timeoutMs` for the server's first poll. */
	async firstSnapshot(timeoutMs: number): Promise<Snapshot | undefined> {
		const current = this.store.getSnapshot();
		if (current) {
			return current;
		}

		return new Promise(resolve => {
			const timer = setTimeout(() => {
				unsubscribe();
				resolve(undefined);
			}, timeoutMs);
			const unsubscribe = this.store.subscribe(() => {
				clearTimeout(timer);
				unsubscribe();
				resolve(this.store.getSnapshot());
			});
		});
	}

	/** `listener(reason)` once the connection ends (the server exited, was killed or said bye). */
	onClose(listener: (reason: string) => void): void {
		if (this.closedWith !== undefined) {
			listener(this.closedWith);
			return;
		}

		this.closeListeners.add(listener);
	}

	closed(reason: string): void {
		if (this.closedWith !== undefined) {
			return;
		}

		this.closedWith = this.byeReason ?? reason;
		for (const waiting of this.pending.values()) {
			waiting.reject(new Error(`the server went away (${this.closedWith}) before answering: check the audit log for what was done`));
		}

		this.pending.clear();
		for (const listener of this.closeListeners) {
			listener(this.closedWith);
		}
	}

	close(): void {
		this.closeListeners.clear();
		this.socket.end();
		this.socket.destroy();
	}
}

/**
 * Connects to the server on `socketPath` and says hello. Resolves once the server has welcomed
 * this client; `none` when no server runs there.
 */
export async function connectServer(socketPath: string, hello: {actor: string; client: ClientKind}, timeoutMs = 3000): Promise<Connection> {
	return new Promise(resolve => {
		let remote: RemoteEngine | undefined;
		let settled = false;
		const settle = (connection: Connection) => {
			if (!settled) {
				settled = true;
				clearTimeout(timer);
				resolve(connection);
			}
		};

		const socket = net.createConnection(socketPath);
		const timer = setTimeout(() => {
			socket.destroy();
			settle({kind: 'silent', message: `${socketPath}: connected, but no answer within ${timeoutMs / 1000}s`});
		}, timeoutMs);
		socket.on('error', (error: NodeJS.ErrnoException) => {
			if (remote) {
				remote.closed(error.code ?? error.message);
				return;
			}

			if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
				settle({kind: 'none'});
			} else if (error.code === 'EACCES' || error.code === 'EPERM') {
				settle({kind: 'denied', message: `${socketPath}: permission denied — ${deniedBecause(socketPath)}`});
			} else {
				settle({kind: 'silent', message: `${socketPath}: ${error.code ?? error.message}`});
			}
		});
		socket.on('close', () => {
			if (remote) {
				remote.closed('the connection closed');
			} else {
				settle({kind: 'silent', message: `${socketPath}: the server closed the connection before saying who it is`});
			}
		});
		// The hello goes after the welcome: first the proof of who this is, the file the welcome names (peer.ts).
		const sayHello = (proof: unknown) => {
			proveIdentity(socketPath, proof);
			socket.write(encode({v: protocolVersion, type: 'hello', actor: hello.actor, client: hello.client, pid: process.pid}));
		};
		const splitter = new LineSplitter(line => {
			let message: unknown;
			try {
				message = JSON.parse(line);
			} catch {
				return;
			}

			if (typeof message !== 'object' || message === null) {
				return;
			}

			const record = message as Record<string, unknown>;
			if (remote) {
				remote.receive(record);
				return;
			}

			if (record['type'] === 'welcome' && record['v'] === protocolVersion) {
				// Nothing of a welcome is shown or trusted before it is checked: a peer may send anything.
				const server = serverInfoOf(record['server']);
				if (typeof server === 'string') {
					socket.destroy();
					settle({kind: 'refused', message: `${socketPath}: refused the server's welcome: ${server} — not an envwatch server (or a damaged one): nothing of it is trusted`});
					return;
				}

				remote = new RemoteEngine(socket, server);
				sayHello(record['proof']);
				settle({kind: 'attached', remote});
			} else if (record['type'] === 'error' && typeof record['message'] === 'string') {
				// Refused before the welcome (too many clients): said, not waited out.
				socket.destroy();
				settle({kind: 'silent', message: `${socketPath}: the server refused the connection: ${record['message'].slice(0, 200)}`});
			} else if (record['type'] === 'welcome' || record['v'] !== protocolVersion) {
				socket.destroy();
				settle({kind: 'silent', message: `${socketPath}: the server speaks protocol version ${JSON.stringify(record['v'] ?? null)}, this envwatch ${protocolVersion}: use the same envwatch version on both sides`});
			}
		}, () => undefined, 64 * 1024 * 1024);
		// Before its welcome a server has no business sending much: an endless first line is refused, not buffered.
		let beforeWelcome = 0;
		socket.on('data', chunk => {
			if (!remote) {
				beforeWelcome += chunk.length;
				if (beforeWelcome > maxWelcomeBytes) {
					socket.destroy();
					settle({kind: 'refused', message: `${socketPath}: refused the server: over ${maxWelcomeBytes / 1024} KB sent before a welcome (an envwatch welcome is one short line) — not an envwatch server: nothing of it is trusted`});
					return;
				}
			}

			splitter.push(chunk);
		});
	});
}

/** Why a socket may not be connected to: it is a group's (ask to join), or its owner's only. */
function deniedBecause(socketPath: string): string {
	try {
		const stat = fs.statSync(socketPath);
		if ((stat.mode & 0o060) === 0o060) {
			return 'the server\'s socket is for the members of its group; ask to be added to it (then log in again)';
		}

		return `the server's socket is its owner's only (uid ${stat.uid}); that user can attach, or the server can give it to a group with --socket-group`;
	} catch {
		return 'the server\'s socket is not this user\'s to use';
	}
}
