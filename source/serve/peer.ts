import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {AuditPeer} from '../engine/index.js';

/**
 * Who is at the other end of the socket, as the kernel says, not as the client says. Node has no
 * SO_PEERCRED, and listing sockets (sock_diag, `ss`) needs netlink, which the service's sandbox
 * does not allow. So the server asks for a proof the kernel signs: each connection is told the
 * name of a file to create in `<state-dir>/envwatch.peers/` (random, 128 bits, new each time); the
 * file's owner is the client's uid, which no one but root can forge. The directory is sticky and
 * not readable by the socket's group (mode 1730; 1700 without --socket-group): members can create a
 * file there, but not list, read or remove the others'. A client that does not prove who it is is
 * recorded as unverified, and may not act, unless the socket is its owner's only (mode 0600:
 * nobody but that user, or root, can connect at all).
 */
export const peersDirName = 'envwatch.peers';

/**
 * The identity recorded with what a socket client did (the audit log's `peer`): `uid` (null when
 * the client did not prove it), `user` where /etc/passwd has one for the uid, `pid` as the client
 * gave it when that process belongs to the uid (Linux: /proc/<pid>), and `by`: how the uid is
 * known (`proof file`, `owner-only socket ...`, `unverified: ...`).
 */
export type Peer = AuditPeer;

const nonceOk = /^[0-9a-f]{32}$/;

/** The peers dir of the socket at `socketPath`. */
export function peersDirOf(socketPath: string): string {
	return path.join(path.dirname(socketPath), peersDirName);
}

/**
 * Makes the peers dir (emptied, owned by this process, not a link) with the socket's group, mode
 * 1730 (or 1700 for an owner-only socket). Throws an OS error when it cannot.
 */
export function preparePeersDir(socketPath: string, gid: number | undefined): string {
	const dir = peersDirOf(socketPath);
	let stat: fs.Stats | undefined;
	try {
		stat = fs.lstatSync(dir);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
			throw error;
		}
	}

	if (stat && (!stat.isDirectory() || stat.uid !== process.getuid?.())) {
		// Not ours (a link, a file, another user's dir): it could lend a forged proof. Start afresh.
		fs.rmSync(dir, {recursive: true, force: true});
		stat = undefined;
	}

	if (!stat) {
		fs.mkdirSync(dir, {mode: 0o700});
	}

	for (const name of fs.readdirSync(dir)) {
		fs.rmSync(path.join(dir, name), {recursive: true, force: true});
	}

	// chmod, not the mode of mkdir: the umask (0027 under the shipped unit) must not take the group's write away.
	fs.chmodSync(dir, gid === undefined ? 0o1700 : 0o1730);
	if (gid !== undefined) {
		fs.chownSync(dir, -1, gid);
	}

	return dir;
}

/** A fresh proof file name for one connection. */
export function newProof(dir: string): string {
	return path.join(dir, crypto.randomBytes(16).toString('hex'));
}

/**
 * The client's side: creates the proof file the server named, only if it is where a server of
 * this socket would ask for it (a server cannot make a client create a file anywhere else).
 * Returns whether it was created.
 */
export function proveIdentity(socketPath: string, proof: unknown): boolean {
	if (typeof proof !== 'string' || path.dirname(proof) !== peersDirOf(socketPath) || !nonceOk.test(path.basename(proof))) {
		return false;
	}

	try {
		fs.closeSync(fs.openSync(proof, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW, 0o600));
		return true;
	} catch {
		return false;
	}
}

/**
 * The server's side: the uid that owns the proof file (a regular file with one link: a hard link
 * to someone else's file proves nothing), then the file is removed. A string says why there is none.
 */
export function readProof(file: string): {uid: number} | string {
	let stat: fs.Stats;
	try {
		stat = fs.lstatSync(file);
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it did not create its proof file' : `its proof file cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
	} finally {
		fs.rmSync(file, {force: true, recursive: true});
	}

	return stat.isFile() && stat.nlink === 1 ? {uid: stat.uid} : 'its proof file is not a plain file of its own';
}

let passwd: Map<number, string> | undefined;

/** The user name of `uid` from /etc/passwd (read once), undefined when it has none (LDAP, a container). */
export function userName(uid: number): string | undefined {
	if (!passwd) {
		passwd = new Map();
		try {
			for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
				const [name, , id] = line.split(':');
				if (name && id !== undefined && /^\d+$/.test(id) && !passwd.has(Number(id))) {
					passwd.set(Number(id), name);
				}
			}
		} catch {
			// No /etc/passwd: uids only.
		}
	}

	return passwd.get(uid);
}

/** Whether process `pid` runs as `uid` (Linux's /proc; false where it cannot be told). */
function pidOf(pid: number, uid: number): boolean {
	try {
		return Number.isInteger(pid) && pid > 0 && fs.statSync(`/proc/${pid}`).uid === uid;
	} catch {
		return false;
	}
}

/** This process's own identity, for a connection to an owner-only socket. */
function owner(): {uid: number; user?: string} {
	const uid = process.getuid?.() ?? -1;
	let user: string | undefined;
	try {
		user = os.userInfo().username;
	} catch {
		user = userName(uid);
	}

	return user === undefined ? {uid} : {uid, user};
}

/**
 * The identity of a connection: from its proof file when it made one, else the socket's owner for
 * an owner-only socket (only that user, or root, could connect), else unverified.
 */
export function identify(proof: string | undefined, claimedPid: number | undefined, socket: {ownerOnly: boolean; group: string | undefined}): Peer {
	const proved = proof === undefined ? 'it did not say hello' : readProof(proof);
	if (typeof proved !== 'string') {
		const user = userName(proved.uid);
		return {uid: proved.uid, ...(user === undefined ? {} : {user}), ...(claimedPid !== undefined && pidOf(claimedPid, proved.uid) ? {pid: claimedPid} : {}), by: 'proof file'};
	}

	if (socket.ownerOnly) {
		const me = owner();
		return {...me, ...(claimedPid !== undefined && pidOf(claimedPid, me.uid) ? {pid: claimedPid} : {}), by: 'owner-only socket (its owner, or root)'};
	}

	return {uid: null, by: `unverified: ${proved}; a member of group ${socket.group ?? '?'}`};
}

/** How a peer is named in the log and as the actor of what is recorded about it. */
export function describePeer(peer: Peer): string {
	return peer.uid === null ? `an unverified peer (${peer.by})` : `uid ${peer.uid}${peer.user === undefined ? '' : ` (${peer.user})`}${peer.pid === undefined ? '' : `, pid ${peer.pid}`}, by its ${peer.by}`;
}
