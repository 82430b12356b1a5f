import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {Options} from './args.js';
import {UsageError} from '../domain/index.js';
import type {Io} from './io.js';

// The state dir of a run: where it is, and a probe that it can be written before anything polls.

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
	if (env['ENVWATCH_STATE_DIR']) {
		return env['ENVWATCH_STATE_DIR'];
	}

	if (process.platform === 'darwin') {
		return path.join(os.homedir(), 'Library', 'Application Support', 'envwatch', 'state');
	}

	if (process.platform === 'win32') {
		return path.join(env['LOCALAPPDATA'] ?? path.join(os.homedir(), 'AppData', 'Local'), 'envwatch', 'State');
	}

	return path.join(env['XDG_STATE_HOME'] || path.join(os.homedir(), '.local', 'state'), 'envwatch');
}

/** Creates `dir` one level at a time (Node 20's recursive mkdir spins forever under /proc). */
function makeDirectory(dir: string): void {
	const missing: string[] = [];
	for (let at = path.resolve(dir); ; at = path.dirname(at)) {
		let stat: fs.Stats | undefined;
		try {
			stat = fs.statSync(at);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
				throw error;
			}
		}

		if (stat) {
			if (!stat.isDirectory()) {
				throw Object.assign(new Error(`ENOTDIR: not a directory, ${at}`), {code: 'ENOTDIR'});
			}

			break;
		}

		missing.unshift(at);
		if (path.dirname(at) === at) {
			break;
		}
	}

	for (const at of missing) {
		fs.mkdirSync(at);
	}
}

/** Creates `dir` and writes and removes a small file in it; throws the OS error when it cannot. */
function probeDirectory(dir: string): void {
	makeDirectory(dir);
	const probe = path.join(dir, `.envwatch-probe-${process.pid}`);
	try {
		fs.writeFileSync(probe, 'envwatch write check\n', {flag: 'wx'});
	} finally {
		// Also when the write failed after creating it (a full disk): no probe is left behind.
		fs.rmSync(probe, {force: true});
	}
}

/**
 * A full disk is not a wrong path: the guard still runs (stopping spend comes first) and reports
 * every record it cannot write. Only a path that can never work is refused.
 */
function diskFull(error: unknown): boolean {
	const code = (error as NodeJS.ErrnoException).code;
	return code === 'ENOSPC' || code === 'EDQUOT';
}

export function osError(error: unknown): string {
	const {code, message} = error as NodeJS.ErrnoException;
	return code ? `${code}: ${message.replace(`${code}: `, '')}` : String(error);
}

/** The state dir must be writable (also before the engine lock is taken in it); returns where its path came from. */
function checkStateDir(options: Options, io: Io, stateDir: string): string {
	const stateSource = options.stateDir !== undefined ? '--state-dir' : io.env['ENVWATCH_STATE_DIR'] ? 'ENVWATCH_STATE_DIR' : 'the state dir';
	try {
		probeDirectory(stateDir);
	} catch (error) {
		if (!diskFull(error)) {
			throw new UsageError(`${stateSource} ${stateDir}: cannot create or write it (${osError(error)}) — expected a writable directory`);
		}

		io.stderr.write(`envwatch: ${stateSource} ${stateDir}: the disk is full (${osError(error)}); envwatch runs and acts, and reports every record it cannot write\n`);
	}

	return stateSource;
}

/**
 * The state dir check of one start: before the engine lock is taken (again on each retry while
 * another holder finishes) and when the engine is built, it probes the dir and warns only once.
 */
export function stateDirCheck(options: Options, io: Io, stateDir: string): () => string {
	let stateSource: string | undefined;
	return () => (stateSource ??= checkStateDir(options, io, stateDir));
}

/**
 * The state dir and the audit log must be writable before anything polls: a guard that cannot
 * record what it did must not act. The problem names where the path came from.
 */
export function checkWritable(options: Options, io: Io, checkState: () => string, auditFile: string): void {
	const stateSource = checkState();

	const auditSource = options.auditLog !== undefined ? '--audit-log' : `the audit log (in ${stateSource})`;
	try {
		// Opening for append is the check (a device such as /dev/full opens, then fails each write: that
		// is reported as it happens); its directory is made first when it does not exist yet.
		if (!fs.existsSync(path.dirname(auditFile))) {
			makeDirectory(path.dirname(auditFile));
		}

		fs.closeSync(fs.openSync(auditFile, 'a', 0o600));
	} catch (error) {
		if (!diskFull(error)) {
			throw new UsageError(`${auditSource} ${auditFile}: cannot create or append to it (${osError(error)}) — expected a writable file path`);
		}

		io.stderr.write(`envwatch: ${auditSource} ${auditFile}: the disk is full (${osError(error)}); envwatch runs and acts, and reports every record it cannot write\n`);
	}
}

/**
 * A fresh state dir for a demo run (its audit log stays there to read afterwards); demo dirs
 * older than a day are removed, so demos do not pile up in the temporary directory.
 */
function demoStateDir(): string {
	const dayAgo = Date.now() - 86_400_000;
	for (const name of fs.readdirSync(os.tmpdir())) {
		if (name.startsWith('envwatch-demo-')) {
			const dir = path.join(os.tmpdir(), name);
			try {
				if (fs.statSync(dir).mtimeMs < dayAgo) {
					fs.rmSync(dir, {recursive: true, force: true});
				}
			} catch {
				// Another user's, or already gone: not ours to worry about.
			}
		}
	}

	return fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-demo-'));
}

/** The state dir of this run: --state-dir, else a fresh one for a demo, else the user's. */
export function resolveStateDir(options: Options, io: Io): string {
	return options.stateDir ?? (options.demo ? demoStateDir() : defaultStateDir(io.env));
}
