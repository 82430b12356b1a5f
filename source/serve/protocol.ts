import {maxInstanceStop, maxSnapshotRows, type AuditEntry, type Command, type Snapshot} from '../engine/index.js';
import {isPlainObject, printable} from '../domain/index.js';

/**
 * The wire protocol between `envwatch serve` (or a dashboard that runs the engine) and its
 * clients: newline-delimited JSON over the Unix socket `envwatch.sock` in the state dir. Every
 * message carries `v` (this version); see docs/protocol.md.
 */
export const protocolVersion = 2;
export const socketFileName = 'envwatch.sock';
/** A line longer than this is rejected (and skipped up to its newline), never buffered whole. */
export const maxLineBytes = 1024 * 1024;

export type ClientKind = 'dashboard' | 'once' | 'stop' | 'start' | 'reset' | 'status';

export type ClientMessage =
	| {v: typeof protocolVersion; type: 'hello'; actor: string; client: ClientKind; pid: number}
	| {v: typeof protocolVersion; type: 'command'; id: number; command: Command}
	| {v: typeof protocolVersion; type: 'status'; id: number};

export type ServerInfo = {pid: number; host: string; since: number; mode: string; stateDir: string; version: string};

/** `uid`: the client's uid as the kernel says (see peer.ts), null when it was not proved. */
export type ClientInfo = {actor: string; client: ClientKind; pid: number; connectedAt: number; uid?: number | null};

export type StatusReport = ServerInfo & {clients: ClientInfo[]; lastPoll: number | null; lastSuccessAt: number | null; error: string | null; polls: number};

export type CommandResult = {outcome: string; summary: string} | null;

export type ServerMessage =
	/** `proof`: the file the client creates before its hello, so the server learns its uid (peer.ts). */
	| {v: typeof protocolVersion; type: 'welcome'; server: ServerInfo; proof?: string}
	| {v: typeof protocolVersion; type: 'snapshot'; snapshot: Snapshot; cascadeTarget: string | null}
	| {v: typeof protocolVersion; type: 'event'; entry: AuditEntry}
	| {v: typeof protocolVersion; type: 'result'; id: number; result: CommandResult}
	| {v: typeof protocolVersion; type: 'status'; id: number; status: StatusReport}
	/** `fatal`: the server closes the connection after it (a refused hello, too many bad lines, too many clients). */
	| {v: typeof protocolVersion; type: 'error'; id?: number; message: string; fatal?: true}
	/** The server is going away (shutdown): the engine is free to be taken over. */
	| {v: typeof protocolVersion; type: 'bye'; reason: string};

export function encode(message: ClientMessage | ServerMessage): string {
	return `${JSON.stringify(message)}\n`;
}

/**
 * Splits a byte stream into lines. A line over `maxBytes` is reported once through `onOversized`
 * and its bytes are dropped as they arrive, up to its newline: a 10 MB line never sits in memory.
 */
export class LineSplitter {
	private parts: Buffer[] = [];
	private size = 0;
	private skipping = false;

	constructor(private readonly onLine: (line: string) => void, private readonly onOversized: (bytes: number) => void, private readonly maxBytes = maxLineBytes) {}

	push(chunk: Buffer): void {
		let start = 0;
		while (start < chunk.length) {
			const newline = chunk.indexOf(10, start);
			const end = newline === -1 ? chunk.length : newline;
			if (!this.skipping) {
				this.size += end - start;
				if (this.size > this.maxBytes) {
					this.skipping = true;
					this.parts = [];
					this.onOversized(this.size);
				} else {
					this.parts.push(chunk.subarray(start, end));
				}
			}

			if (newline === -1) {
				return;
			}

			if (!this.skipping) {
				const line = Buffer.concat(this.parts).toString('utf8');
				this.parts = [];
				if (line.trim() !== '') {
					this.onLine(line);
				}
			}

			this.parts = [];
			this.size = 0;
			this.skipping = false;
			start = newline + 1;
		}
	}
}

const nameOk = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 200;

/** A command from the wire, checked field by field (unknown kinds and fields of the wrong type are refused). */
export function parseCommand(value: unknown): Command | string {
	if (!isPlainObject(value) || typeof value['kind'] !== 'string') {
		return 'command: expected an object with a "kind"';
	}

	const kind = value['kind'];
	switch (kind) {
		case 'stop': {
			if (!nameOk(value['environment'])) {
				return 'stop: expected "environment", an environment name';
			}

			if (value['confirm'] !== undefined && typeof value['confirm'] !== 'string') {
				return 'stop: "confirm" must be a string (the typed name)';
			}

			return value['confirm'] === undefined ? {kind, environment: value['environment']} : {kind, environment: value['environment'], confirm: value['confirm'] as string};
		}

		case 'stop-instances': {
			const ids = value['ids'];
			if (!nameOk(value['environment']) || !Array.isArray(ids) || ids.length === 0 || ids.length > maxInstanceStop || !ids.every(id => typeof id === 'string' && /^i-[0-9a-f]{1,32}$/.test(id))) {
				return `stop-instances: expected "environment" (a name) and "ids" (1 to ${maxInstanceStop} instance IDs, i- and hex digits)`;
			}

			if (value['confirm'] !== undefined && typeof value['confirm'] !== 'string') {
				return 'stop-instances: "confirm" must be a string (the typed name)';
			}

			return {kind, environment: value['environment'], ids: ids as string[], ...(value['confirm'] === undefined ? {} : {confirm: value['confirm'] as string})};
		}

		case 'guard': {
			const names = value['environments'];
			if (!Array.isArray(names) || names.length === 0 || names.length > maxSnapshotRows || !names.every(name => nameOk(name))) {
				return 'guard: expected "environments", a list of one or more environment names';
			}

			const expected = value['expected'];
			if (expected !== undefined && (!Array.isArray(expected) || expected.length > maxSnapshotRows || !expected.every(name => nameOk(name)))) {
				return 'guard: "expected" must be a list of environment names (the guarded set confirmed against)';
			}

			return {kind, environments: names as string[], ...(expected === undefined ? {} : {expected: expected as string[]})};
		}

		case 'reset':
		case 'pause-env':
		case 'resume-env': {
			return nameOk(value['environment']) ? {kind, environment: value['environment']} : `${kind}: expected "environment", an environment name`;
		}

		case 'start': {
			const count = value['count'];
			if (!nameOk(value['environment']) || typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 10_000) {
				return 'start: expected "environment" (a name) and "count" (a whole number from 1 to 10000)';
			}

			return {kind, environment: value['environment'], count};
		}

		case 'cascade': {
			if (value['environment'] !== undefined && !nameOk(value['environment'])) {
				return 'cascade: "environment" must be an environment name when given';
			}

			return value['environment'] === undefined ? {kind} : {kind, environment: value['environment'] as string};
		}

		case 'undo': {
			if (value['stopAt'] !== undefined && !Number.isFinite(value['stopAt'])) {
				return 'undo: "stopAt" must be a number (epoch ms) when given';
			}

			return value['stopAt'] === undefined ? {kind} : {kind, stopAt: value['stopAt'] as number};
		}

		case 'emergency':
		case 'pause':
		case 'resume':
		case 'cancel-pending':
		case 'refresh': {
			return {kind};
		}

		default: {
			return `command: unknown kind ${JSON.stringify(kind).slice(0, 60)} — expected one of: stop, stop-instances, cascade, emergency, undo, reset, pause, resume, pause-env, resume-env, cancel-pending, refresh, start, guard`;
		}
	}
}

const clientKinds = new Set<ClientKind>(['dashboard', 'once', 'stop', 'start', 'reset', 'status']);

/** A message from a client: parsed and checked; a string says what is wrong with it. */
export function parseClientMessage(line: string): ClientMessage | string {
	let value: unknown;
	try {
		value = JSON.parse(line);
	} catch {
		return 'not JSON';
	}

	if (!isPlainObject(value)) {
		return 'expected a JSON object';
	}

	if (value['v'] !== protocolVersion) {
		return `protocol version ${JSON.stringify(value['v'] ?? null)}: this server speaks version ${protocolVersion}`;
	}

	switch (value['type']) {
		case 'hello': {
			const actor = value['actor'];
			if (typeof actor !== 'string' || !/^[\w.@+-]{1,200}$/.test(actor) || !clientKinds.has(value['client'] as ClientKind) || !Number.isInteger(value['pid'])) {
				return 'hello: expected "actor" (user@host), "client" (dashboard, once, stop, start, reset, status) and "pid"';
			}

			return {v: protocolVersion, type: 'hello', actor, client: value['client'] as ClientKind, pid: value['pid'] as number};
		}

		case 'command': {
			if (!Number.isInteger(value['id'])) {
				return 'command: expected a whole-number "id"';
			}

			const command = parseCommand(value['command']);
			return typeof command === 'string' ? command : {v: protocolVersion, type: 'command', id: value['id'] as number, command};
		}

		case 'status': {
			return Number.isInteger(value['id']) ? {v: protocolVersion, type: 'status', id: value['id'] as number} : 'status: expected a whole-number "id"';
		}

		default: {
			return `unknown message type ${JSON.stringify(value['type'] ?? null).slice(0, 60)} — expected hello, command or status`;
		}
	}
}

/** The most a welcome line may be: a server's first line longer than this is no envwatch welcome. */
export const maxWelcomeBytes = 64 * 1024;

/** Text from a socket peer a person will read: 1 to `max` characters, none of them a control character. */
const peerText = (value: unknown, max: number): value is string => typeof value === 'string' && value.length > 0 && value.length <= max && printable(value) === value;

/**
 * The server a welcome names, checked field by field before anything of it is shown or trusted
 * (a socket peer may be anything): a string says what is wrong and what was expected.
 */
export function serverInfoOf(value: unknown, now = Date.now()): ServerInfo | string {
	if (!isPlainObject(value)) {
		return '"server" is not an object';
	}

	const {pid, host, since, mode, stateDir, version} = value;
	// What it sent, quoted for a message: cut short, every control character escaped.
	const quoted = (field: unknown, max: number) => printable((JSON.stringify(field) ?? 'null').slice(0, max));
	if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid < 1 || pid > 4_194_304) {
		return `its pid ${quoted(pid, 40)} is not a process id (a whole number from 1 to 4194304)`;
	}

	// Its start, by this host's clock (the socket is local): not before 2001, not more than a day ahead.
	if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 978_307_200_000 || since > now + 86_400_000) {
		return `its start time ${quoted(since, 40)} is not a time this host could have seen (epoch ms)`;
	}

	for (const [name, text, max] of [['host', host, 255], ['mode', mode, 100], ['stateDir', stateDir, 4096], ['version', version, 100]] as const) {
		if (!peerText(text, max)) {
			return `its ${name} ${quoted(text, 60)} is not 1 to ${max} printable characters`;
		}
	}

	return {pid, since, host: host as string, mode: mode as string, stateDir: stateDir as string, version: version as string};
}

/** A standby's leader as a snapshot on the wire names it, or undefined when it is not one (dropped, never shown). */
export function leaderOf(value: unknown): {pid: number; host: string; mode: string} | undefined {
	if (!isPlainObject(value)) {
		return undefined;
	}

	const {pid, host, mode} = value;
	return typeof pid === 'number' && Number.isSafeInteger(pid) && pid >= 0 && peerText(host, 300) && peerText(mode, 100) ? {pid, host, mode} : undefined;
}
