import fs from 'node:fs';
import net from 'node:net';
import type {Command} from '../engine/monitor.js';
import {UsageError} from '../errors.js';
import {wireSnapshot, type Snapshot} from '../engine/snapshot.js';
import {withOrigin} from './origin.js';
import {encode, LineSplitter, parseClientMessage, type ClientInfo, type CommandResult, type ServerInfo, type ServerMessage, type StatusReport} from './protocol.js';

/** What the server needs of the engine (the `Monitor` and its `SnapshotStore`). */
export type Engine = {
	store: {subscribe(listener: () => void): () => void; getSnapshot(): Snapshot | undefined};
	command(command: Command, actor: string): Promise<{outcome: string; summary: string} | undefined>;
	cascadeTarget(): string | undefined;
};

export type ServerOptions = {
	socketPath: string;
	/** A group name or numeric gid the socket is given to (mode 0660: its members may connect, and act). */
	group?: string | undefined;
	engine: Engine;
	info: ServerInfo;
	/** Where the server says what it rejected or who came and went. */
	log: (line: string) => void;
};

/** A client sending more than this many bad lines is disconnected. */
const maxBadLines = 20;
/** A client that reads nothing while this much waits for it is disconnected. */
const maxBacklogBytes = 16 * 1024 * 1024;

type Client = {socket: net.Socket; info: ClientInfo | undefined; bad: number; label: string};

/** A group name from /etc/group, or a number, as a gid; undefined when there is no such group. */
export function resolveGroup(group: string): number | undefined {
	if (/^\d+$/.test(group)) {
		return Number(group);
	}

	try {
		for (const line of fs.readFileSync('/etc/group', 'utf8').split('\n')) {
			const [name, , gid] = line.split(':');
			if (name === group && gid !== undefined && /^\d+$/.test(gid)) {
				return Number(gid);
			}
		}
	} catch {
		// No /etc/group: only numeric gids.
	}

	return undefined;
}

/**
 * The engine's socket: streams snapshots and audit events to every client, and carries out the
 * commands clients send, each recorded with the client's actor and `via: "socket"`. A malformed or
 * oversized line is answered with an error and logged; it never takes the server down.
 */
export class EngineServer {
	private readonly clients = new Set<Client>();
	private readonly inFlight = new Set<Promise<unknown>>();
	private unsubscribe: (() => void) | undefined;
	private lastSeq = 0;
	private closing = false;
	private closed = false;
	/** The socket file this server made: removed on close only if it is still that one. */
	private inode = 0;

	private constructor(private readonly server: net.Server, private readonly options: ServerOptions) {}

	/**
	 * Listens on `socketPath` (a socket file left there by a process that died is removed: the
	 * caller holds the engine lock, so nobody else serves it). Throws a message naming the problem.
	 */
	static async listen(options: ServerOptions): Promise<EngineServer> {
		const gid = options.group === undefined ? undefined : resolveGroup(options.group);
		if (options.group !== undefined && gid === undefined) {
			throw new UsageError(`--socket-group ${options.group}: no such group on this host — expected a group name from /etc/group or a numeric gid`);
		}

		fs.rmSync(options.socketPath, {force: true});
		const server = net.createServer();
		const instance = new EngineServer(server, options);
		server.on('connection', socket => instance.accept(socket));
		// The socket is created 0660 (no moment with wider permissions), then given to its group.
		const umask = process.umask(0o117);
		try {
			await new Promise<void>((resolve, reject) => {
				server.once('error', reject);
				server.listen(options.socketPath, () => {
					server.off('error', reject);
					resolve();
				});
			});
		} finally {
			process.umask(umask);
		}

		server.on('error', error => options.log(`socket error: ${error.message}`));
		fs.chmodSync(options.socketPath, 0o660);
		instance.inode = fs.statSync(options.socketPath).ino;
		if (gid !== undefined) {
			try {
				fs.chownSync(options.socketPath, -1, gid);
			} catch (error) {
				await instance.close('could not set the socket group');
				throw new UsageError(`--socket-group ${options.group}: cannot give ${options.socketPath} to it (${(error as NodeJS.ErrnoException).code ?? String(error)}) — the user running envwatch must be a member of that group`);
			}
		}

		instance.lastSeq = Math.max(0, ...(options.engine.store.getSnapshot()?.events.map(entry => entry.seq) ?? []));
		instance.unsubscribe = options.engine.store.subscribe(() => instance.broadcast());
		return instance;
	}

	/** The clients that said hello, for `envwatch status`. */
	list(): ClientInfo[] {
		return [...this.clients].flatMap(client => (client.info ? [client.info] : []));
	}

	private accept(socket: net.Socket): void {
		if (this.closing) {
			socket.destroy();
			return;
		}

		const client: Client = {socket, info: undefined, bad: 0, label: 'a client'};
		this.clients.add(client);
		const splitter = new LineSplitter(line => this.receive(client, line), bytes => this.reject(client, `a line over 1 MiB (${bytes} bytes so far): skipped up to its end`));
		socket.on('data', chunk => splitter.push(chunk));
		socket.on('error', () => undefined);
		socket.on('close', () => {
			this.clients.delete(client);
			if (client.info && client.info.client === 'dashboard') {
				this.options.log(`${client.label} detached`);
			}
		});
		this.send(client, {v: 1, type: 'welcome', server: this.options.info});
	}

	private send(client: Client, message: ServerMessage | string): void {
		if (client.socket.destroyed || !client.socket.writable) {
			return;
		}

		if (client.socket.writableLength > maxBacklogBytes) {
			this.options.log(`${client.label} reads nothing (${client.socket.writableLength} bytes waiting): disconnected`);
			client.socket.destroy();
			return;
		}

		client.socket.write(typeof message === 'string' ? message : encode(message));
	}

	private reject(client: Client, why: string, id?: number): void {
		client.bad++;
		this.options.log(`${client.label}: rejected ${why}`);
		this.send(client, {v: 1, type: 'error', ...(id === undefined ? {} : {id}), message: why});
		if (client.bad >= maxBadLines) {
			this.options.log(`${client.label}: ${client.bad} bad lines: disconnected`);
			client.socket.end();
		}
	}

	private receive(client: Client, line: string): void {
		const message = parseClientMessage(line);
		if (typeof message === 'string') {
			this.reject(client, `a message: ${message}`);
			return;
		}

		if (message.type === 'hello') {
			client.info = {actor: message.actor, client: message.client, pid: message.pid, connectedAt: Date.now()};
			client.label = `${message.actor} (${message.client}, pid ${message.pid})`;
			if (message.client === 'dashboard') {
				this.options.log(`${client.label} attached`);
			}

			const snapshot = this.options.engine.store.getSnapshot();
			if (snapshot) {
				this.send(client, {v: 1, type: 'snapshot', snapshot: wireSnapshot(snapshot), cascadeTarget: this.options.engine.cascadeTarget() ?? null});
			}

			return;
		}

		if (!client.info) {
			this.reject(client, `a ${message.type} before hello: say who you are first`, message.id);
			return;
		}

		if (message.type === 'status') {
			this.send(client, {v: 1, type: 'status', id: message.id, status: this.status()});
			return;
		}

		if (this.closing) {
			this.send(client, {v: 1, type: 'error', id: message.id, message: 'the server is shutting down: nothing done'});
			return;
		}

		const {actor} = client.info;
		const promise = withOrigin({actor, via: 'socket'}, async () => this.options.engine.command(message.command, actor)).then(
			result => {
				const reply: CommandResult = result ? {outcome: result.outcome, summary: result.summary} : null;
				// A client that left meanwhile is fine: the command was carried out and recorded.
				this.send(client, {v: 1, type: 'result', id: message.id, result: reply});
			},
			(error: unknown) => {
				this.options.log(`${client.label}: ${message.command.kind} failed: ${error instanceof Error ? error.message : String(error)}`);
				this.send(client, {v: 1, type: 'error', id: message.id, message: `${message.command.kind} failed: ${error instanceof Error ? error.message : String(error)}`});
			},
		);
		this.inFlight.add(promise);
		void promise.finally(() => this.inFlight.delete(promise));
	}

	status(): StatusReport {
		const snapshot = this.options.engine.store.getSnapshot();
		return {...this.options.info, clients: this.list(), lastPoll: snapshot?.at ?? null, lastSuccessAt: snapshot?.lastSuccessAt ?? null, error: snapshot?.error ?? null, polls: snapshot?.polls ?? 0};
	}

	private broadcast(): void {
		const snapshot = this.options.engine.store.getSnapshot();
		if (!snapshot) {
			return;
		}

		const fresh = snapshot.events.filter(entry => entry.seq > this.lastSeq).sort((a, b) => a.seq - b.seq);
		this.lastSeq = Math.max(this.lastSeq, ...fresh.map(entry => entry.seq));
		if (![...this.clients].some(client => client.info)) {
			return;
		}

		const cascadeTarget = this.options.engine.cascadeTarget() ?? null;
		// Encoded once for every client: a snapshot can carry thousands of instance rows.
		const lines = [...fresh.map(entry => encode({v: 1, type: 'event', entry})), encode({v: 1, type: 'snapshot', snapshot: wireSnapshot(snapshot), cascadeTarget})];
		for (const client of this.clients) {
			if (!client.info) {
				continue;
			}

			for (const line of lines) {
				this.send(client, line);
			}
		}
	}

	/** Waits for the commands clients sent to finish (and be recorded). */
	async drain(): Promise<void> {
		await Promise.allSettled([...this.inFlight]);
	}

	/** From now on commands are refused (nothing done) and new connections hung up. */
	beginShutdown(): void {
		this.closing = true;
	}

	/** Says bye to every client, stops listening and removes the socket file (if still this server's). */
	async close(reason: string): Promise<void> {
		if (this.closed) {
			return;
		}

		this.closed = true;
		this.closing = true;
		this.unsubscribe?.();
		for (const client of this.clients) {
			this.send(client, {v: 1, type: 'bye', reason});
			client.socket.end();
		}

		await new Promise<void>(resolve => {
			this.server.close(() => resolve());
			// Clients that do not hang up are not waited for.
			setTimeout(() => {
				for (const client of this.clients) {
					client.socket.destroy();
				}
			}, 500).unref();
		});
		try {
			if (fs.statSync(this.options.socketPath).ino === this.inode) {
				fs.rmSync(this.options.socketPath, {force: true});
			}
		} catch {
			// Already gone.
		}
	}
}
