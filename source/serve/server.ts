import fs from 'node:fs';
import net from 'node:net';
import {wireSnapshot, type Command, type EntryDraft, type Snapshot} from '../engine/index.js';
import {UsageError} from '../domain/index.js';
import {withOrigin} from './origin.js';
import {describePeer, identify, newProof, peersDirOf, preparePeersDir, type Peer} from './peer.js';
import {encode, LineSplitter, parseClientMessage, protocolVersion, type ClientInfo, type CommandResult, type ServerInfo, type ServerMessage, type StatusReport} from './protocol.js';

/** What the server needs of the engine (the `Monitor` and its `SnapshotStore`). */
export type Engine = {
	store: {subscribe(listener: () => void): () => void; getSnapshot(): Snapshot | undefined};
	command(command: Command, actor: string): Promise<{outcome: string; summary: string} | undefined>;
	cascadeTarget(): string | undefined;
	/** Records an entry in the audit log (a client refused or disconnected, with who it really is). */
	note?(entry: EntryDraft): void;
};

export type ServerOptions = {
	socketPath: string;
	/**
	 * A group name or numeric gid the socket is given to (mode 0660: its members may connect, and
	 * act). Without one the socket is its owner's only (mode 0600).
	 */
	group?: string | undefined;
	engine: Engine;
	info: ServerInfo;
	/** Where the server says what it rejected or who came and went. */
	log: (line: string) => void;
};

/** A client sending this many bad lines is disconnected (for real: nothing more it sent is read). */
export const maxBadLines = 20;
/** A client that reads nothing while this much waits for it is disconnected. */
const maxBacklogBytes = 16 * 1024 * 1024;
/**
 * Clients connected at once; one more is refused (an `error` line, then closed). Each holds a file
 * descriptor: thousands of idle connections once exhausted the process's and made the engine stop.
 */
export const maxClients = 64;
/** A client that has not said hello this long after connecting is disconnected. */
export const helloTimeoutMs = 10_000;
/** Audit lines about refused or disconnected clients, at most this many a minute (the rest counted). */
const clientNotesPerMinute = 10;

type Client = {socket: net.Socket; info: ClientInfo | undefined; bad: number; label: string; proof: string; peer: Peer | undefined; gone: boolean; timer: NodeJS.Timeout};

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
	private peersDir = '';
	/** Connections refused beyond `maxClients` since the last time the server said so. */
	private refused: number | undefined;
	/** Clients that said nothing within `helloTimeoutMs`, disconnected since the server last said so. */
	private silent = 0;
	/** This minute's audit lines about clients, and those left out of it. */
	private notes = {minute: 0, count: 0, left: 0};

	private constructor(private readonly server: net.Server, private readonly options: ServerOptions, private readonly gid: number | undefined) {}

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
		const instance = new EngineServer(server, options, gid);
		try {
			instance.peersDir = preparePeersDir(options.socketPath, gid);
		} catch (error) {
			fs.rmSync(peersDirOf(options.socketPath), {recursive: true, force: true});
			const code = (error as NodeJS.ErrnoException).code ?? String(error);
			throw gid === undefined
				? new Error(`cannot prepare ${options.socketPath}'s peers dir (${code})`)
				: new UsageError(`--socket-group ${options.group}: cannot give the peers dir beside ${options.socketPath} to it (${code}) — the user running envwatch must be a member of that group`);
		}

		server.on('connection', socket => instance.accept(socket));
		// The socket is created 0600 or 0660 (no moment with wider permissions), then given to its group.
		const umask = process.umask(gid === undefined ? 0o177 : 0o117);
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
		fs.chmodSync(options.socketPath, gid === undefined ? 0o600 : 0o660);
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

		if (this.clients.size >= maxClients) {
			this.refuse(socket);
			return;
		}

		if (this.refused !== undefined) {
			this.options.log(`accepting clients again (${this.refused} refused meanwhile, ${this.silent} disconnected for saying nothing)`);
			this.refused = undefined;
			this.silent = 0;
		}

		const client: Client = {socket, info: undefined, bad: 0, label: 'a client', proof: newProof(this.peersDir), peer: undefined, gone: false, timer: setTimeout(() => this.hush(client), helloTimeoutMs)};
		client.timer.unref();
		this.clients.add(client);
		const splitter = new LineSplitter(line => this.receive(client, line), bytes => this.reject(client, `a line over 1 MiB (${bytes} bytes so far): skipped up to its end`));
		socket.on('data', chunk => splitter.push(chunk));
		socket.on('error', () => undefined);
		socket.on('close', () => {
			client.gone = true;
			clearTimeout(client.timer);
			this.clients.delete(client);
			// A proof made without a hello is not left behind.
			fs.rmSync(client.proof, {force: true});
			if (client.info && client.info.client === 'dashboard') {
				this.options.log(`${client.label} detached`);
			}
		});
		this.send(client, {v: protocolVersion, type: 'welcome', server: this.options.info, proof: client.proof});
	}

	/** One connection more than `maxClients`: told why, closed; said once while it lasts. */
	private refuse(socket: net.Socket): void {
		if (this.refused === undefined) {
			this.refused = 0;
			this.options.log(`refusing new clients: ${maxClients} are connected, the most this server takes (envwatch status lists them)`);
		}

		this.refused++;
		socket.on('error', () => undefined);
		const timer = setTimeout(() => socket.destroy(), 1000);
		timer.unref();
		socket.end(encode({v: protocolVersion, type: 'error', message: `too many clients: ${maxClients} are connected, the most this server takes; try again later`, fatal: true}), () => {
			clearTimeout(timer);
			socket.destroy();
		});
	}

	/** A client that said no hello within `helloTimeoutMs`: its descriptor is not held any longer. */
	private hush(client: Client): void {
		if (client.info || client.gone) {
			return;
		}

		this.silent++;
		this.drop(client);
	}

	/**
	 * Closes a client for real: nothing more it sent is read or acted on (a half-close went on
	 * reading, and acting on, what followed); what was written to it is flushed first, for a second.
	 */
	private drop(client: Client): void {
		client.gone = true;
		const {socket} = client;
		socket.removeAllListeners('data');
		socket.pause();
		const timer = setTimeout(() => socket.destroy(), 1000);
		timer.unref();
		socket.end(() => {
			clearTimeout(timer);
			socket.destroy();
		});
	}

	/** Who the client is, as the kernel says (peer.ts); asked once, at its hello or when it is disconnected. */
	private peerOf(client: Client, claimedPid?: number): Peer {
		client.peer ??= identify(client.proof, claimedPid, {ownerOnly: this.gid === undefined, group: this.options.group});
		return client.peer;
	}

	/**
	 * A client refused or disconnected for what it sent: logged, and recorded in the audit log with
	 * who it really is (at most `clientNotesPerMinute` lines a minute; the rest are counted).
	 */
	private record(client: Client, what: string): void {
		const peer = this.peerOf(client);
		this.options.log(`${client.label}: ${what} (${describePeer(peer)})`);
		const minute = Math.floor(Date.now() / 60_000);
		if (this.notes.minute !== minute) {
			this.notes = {minute, count: 0, left: this.notes.left};
		}

		if (++this.notes.count > clientNotesPerMinute) {
			this.notes.left++;
			return;
		}

		const earlier = this.notes.left > 0 ? ` (${this.notes.left} more such clients were not recorded one by one)` : '';
		this.notes.left = 0;
		const actor = peer.uid === null ? 'unverified' : `${peer.user ?? `uid${peer.uid}`}@${this.options.info.host}`;
		this.options.engine.note?.({type: 'decision', actor, kind: 'client', environments: [], reason: `a socket client ${what}; it is ${describePeer(peer)}${earlier}`, instanceIds: [], peer});
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
		if (client.gone) {
			return;
		}

		this.options.log(`${client.label}: rejected ${why}`);
		client.bad++;
		const last = client.bad >= maxBadLines;
		this.send(client, {v: protocolVersion, type: 'error', ...(id === undefined ? {} : {id}), message: last ? `${why}; ${maxBadLines} bad lines: disconnected` : why, ...(last ? {fatal: true as const} : {})});
		if (last) {
			this.drop(client);
			this.record(client, `sent ${client.bad} bad lines (the last: ${why.slice(0, 120)}): disconnected`);
		}
	}

	/** Refuses a hello and closes the connection: what it claimed is recorded beside who it is. */
	private refuseHello(client: Client, why: string): void {
		this.send(client, {v: protocolVersion, type: 'error', message: why, fatal: true});
		this.drop(client);
		this.record(client, `refused: ${why}; disconnected`);
	}

	private receive(client: Client, line: string): void {
		if (client.gone) {
			return;
		}

		const message = parseClientMessage(line);
		if (typeof message === 'string') {
			this.reject(client, `a message: ${message}`);
			return;
		}

		if (message.type === 'hello') {
			if (client.info) {
				this.reject(client, 'a second hello: a client says who it is once');
				return;
			}

			clearTimeout(client.timer);
			const peer = this.peerOf(client, message.pid);
			const claimed = message.actor.split('@')[0]!;
			if (claimed.toLowerCase() === 'auto') {
				this.refuseHello(client, `actor ${JSON.stringify(message.actor)}: "auto" is the engine's own name for what it does by itself; a client is recorded as its user`);
				return;
			}

			if (peer.user !== undefined && claimed !== peer.user) {
				this.refuseHello(client, `actor ${JSON.stringify(message.actor)}: this connection is ${peer.user} (uid ${String(peer.uid)}), not ${claimed}`);
				return;
			}

			client.info = {actor: message.actor, client: message.client, pid: message.pid, connectedAt: Date.now(), uid: peer.uid};
			client.label = `${message.actor} (${message.client}, pid ${message.pid})`;
			if (message.client === 'dashboard') {
				this.options.log(`${client.label} attached`);
			}

			const snapshot = this.options.engine.store.getSnapshot();
			if (snapshot) {
				this.send(client, {v: protocolVersion, type: 'snapshot', snapshot: wireSnapshot(snapshot), cascadeTarget: this.options.engine.cascadeTarget() ?? null});
			}

			return;
		}

		if (!client.info) {
			this.reject(client, `a ${message.type} before hello: say who you are first`, message.id);
			return;
		}

		if (message.type === 'status') {
			this.send(client, {v: protocolVersion, type: 'status', id: message.id, status: this.status()});
			return;
		}

		if (this.closing) {
			this.send(client, {v: protocolVersion, type: 'error', id: message.id, message: 'the server is shutting down: nothing done'});
			return;
		}

		const peer = this.peerOf(client);
		if (peer.uid === null) {
			this.send(client, {v: protocolVersion, type: 'error', id: message.id, message: `${message.command.kind} refused: this server cannot tell who you are (${peer.by}); an envwatch client proves it by creating the file its welcome names`});
			return;
		}

		const {actor} = client.info;
		const promise = withOrigin({actor, via: 'socket', peer}, async () => this.options.engine.command(message.command, actor)).then(
			result => {
				const reply: CommandResult = result ? {outcome: result.outcome, summary: result.summary} : null;
				// A client that left meanwhile is fine: the command was carried out and recorded.
				this.send(client, {v: protocolVersion, type: 'result', id: message.id, result: reply});
			},
			(error: unknown) => {
				this.options.log(`${client.label}: ${message.command.kind} failed: ${error instanceof Error ? error.message : String(error)}`);
				this.send(client, {v: protocolVersion, type: 'error', id: message.id, message: `${message.command.kind} failed: ${error instanceof Error ? error.message : String(error)}`});
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
		const lines = [...fresh.map(entry => encode({v: protocolVersion, type: 'event', entry})), encode({v: protocolVersion, type: 'snapshot', snapshot: wireSnapshot(snapshot), cascadeTarget})];
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
			clearTimeout(client.timer);
			this.send(client, {v: protocolVersion, type: 'bye', reason});
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
		this.removeSocket();
	}

	/** Removes the socket file and the peers dir (if still this server's), at once: also on the way out of a process that cannot wait. */
	removeSocket(): void {
		try {
			if (fs.statSync(this.options.socketPath).ino === this.inode) {
				fs.rmSync(this.options.socketPath, {force: true});
				fs.rmSync(this.peersDir, {recursive: true, force: true});
			}
		} catch {
			// Already gone.
		}
	}
}
