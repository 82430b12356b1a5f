import fs from 'node:fs';
import type {AuditEntry} from './audit.js';
import {describeError} from './record.js';

/** What the dashboard's log view reads: the newest entries of the audit log. */
export type AuditTail = {
	/** Newest first. */
	entries: AuditEntry[];
	/** Lines that were not a valid entry (torn, not JSON, wrong shape): skipped, and counted here. */
	skipped: number;
	/** The file holds more lines than were read (the oldest were left out). */
	truncated: boolean;
	/** Why the file could not be read at all; the entries are then empty. */
	error: string | null;
};

/** A read-only view of the audit log for the dashboard: read when asked (the log view opens). */
export type AuditSource = {
	/** Where it reads, to name it in messages. */
	readonly file: string;
	/** The newest entries; `maxLines`: how many of the last lines to read. @default the source's */
	read(maxLines?: number): AuditTail;
};

const types = new Set(['decision', 'action', 'progress', 'notify']);

/** A parsed line, if it has an entry's shape (the file is outside input: a line may be anything). */
export function asEntry(value: unknown): AuditEntry | undefined {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		return undefined;
	}

	const entry = value as Record<string, unknown>;
	const strings = (list: unknown) => Array.isArray(list) && list.every(item => typeof item === 'string');
	if (typeof entry['at'] !== 'string' || typeof entry['seq'] !== 'number' || !types.has(entry['type'] as string) || typeof entry['actor'] !== 'string'
		|| typeof entry['kind'] !== 'string' || typeof entry['reason'] !== 'string' || !strings(entry['environments']) || !strings(entry['instanceIds'])) {
		return undefined;
	}

	if (entry['outcome'] !== undefined && typeof entry['outcome'] !== 'string') {
		return undefined;
	}

	if (entry['lostFrom'] !== undefined && !(Number.isSafeInteger(entry['lostFrom']) && (entry['lostFrom'] as number) > 0)) {
		return undefined;
	}

	if (entry['figures'] !== undefined && (typeof entry['figures'] !== 'object' || entry['figures'] === null || Array.isArray(entry['figures'])
		|| !Object.values(entry['figures']).every(figure => figure === null || typeof figure === 'string' || typeof figure === 'number'))) {
		return undefined;
	}

	if (entry['results'] !== undefined && !(Array.isArray(entry['results']) && entry['results'].every(result => typeof result === 'object' && result !== null
		&& typeof (result as Record<string, unknown>)['id'] === 'string' && typeof (result as Record<string, unknown>)['result'] === 'string'))) {
		return undefined;
	}

	return {...entry, dryRun: entry['dryRun'] === true} as AuditEntry;
}

/**
 * The last `maxLines` lines of the audit log (at most `maxBytes` of it), parsed, newest first. A
 * torn or invalid line is skipped and counted; a file that does not exist yet is an empty log.
 */
export function readAuditTail(file: string, maxLines = 5000, maxBytes = 8 * 1024 * 1024): AuditTail {
	let fd: number | undefined;
	try {
		fd = fs.openSync(file, 'r');
		const size = fs.fstatSync(fd).size;
		// Read backwards in chunks until there are enough lines (or the bytes bound is reached).
		const chunk = 256 * 1024;
		const parts: Buffer[] = [];
		let position = size;
		let newlines = 0;
		while (position > 0 && newlines <= maxLines && size - position < maxBytes) {
			const length = Math.min(chunk, position, maxBytes - (size - position));
			position -= length;
			const buffer = Buffer.alloc(length);
			const read = fs.readSync(fd, buffer, 0, length, position);
			const part = buffer.subarray(0, read);
			parts.unshift(part);
			for (const byte of part) {
				if (byte === 10) {
					newlines++;
				}
			}
		}

		let lines = Buffer.concat(parts).toString('utf8').split('\n');
		// The first line is cut when the read did not start at the file's start: not a line.
		let truncated = false;
		if (position > 0) {
			lines = lines.slice(1);
			truncated = true;
		}

		if (lines.length > 0 && lines.at(-1) === '') {
			lines.pop();
		}

		if (lines.length > maxLines) {
			lines = lines.slice(-maxLines);
			truncated = true;
		}

		const entries: AuditEntry[] = [];
		let skipped = 0;
		for (const line of lines) {
			if (line.trim() === '') {
				continue;
			}

			let parsed: unknown;
			try {
				parsed = JSON.parse(line);
			} catch {
				skipped++;
				continue;
			}

			const entry = asEntry(parsed);
			if (entry) {
				entries.push(entry);
			} else {
				skipped++;
			}
		}

		return {entries: entries.reverse(), skipped, truncated, error: null};
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			return {entries: [], skipped: 0, truncated: false, error: null};
		}

		return {entries: [], skipped: 0, truncated: false, error: `cannot read the audit log ${file}: ${describeError(error)}`};
	} finally {
		if (fd !== undefined) {
			fs.closeSync(fd);
		}
	}
}

/** `file`: the log's path, or a function giving it when read (it may change while the dashboard runs). */
export function auditSource(file: string | (() => string), maxLines = 5000): AuditSource {
	const where = typeof file === 'string' ? () => file : file;
	return {
		get file() {
			return where();
		},
		read: (lines = maxLines) => readAuditTail(where(), lines, Math.min(8 * 1024 * 1024, Math.max(64 * 1024, lines * 2048))),
	};
}
