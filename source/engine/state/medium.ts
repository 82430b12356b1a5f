import fs from 'node:fs';
import path from 'node:path';
import {inDirectory, type RecordNotice} from './record.js';

/**
 * Where the engine's state documents live: the state dir's files (`DirectoryMedium`), or the
 * coordination table's items (`TableMedium`, table-medium.ts). `StateStore` reads and checks the
 * documents, whatever holds them; a medium only keeps their text. Documents are named as the
 * state dir's files are (`breaker.json`, `samples.log`).
 */
export interface StateMedium {
	/** Where the state is, for messages: the state dir, or `DynamoDB table envwatch (eu-west-1)`. */
	readonly where: string;
	/** A document as a person would find it: `the state file /var/lib/envwatch/breaker.json`. */
	describe(name: string): string;
	/** Where a document is, shorter: `/var/lib/envwatch/breaker.json`, `state item breaker.json in DynamoDB table envwatch (eu-west-1)`. */
	locate(name: string): string;
	/** The document's text; undefined when there is none. Throws when it is there but cannot be read (`damaged` on the error: it can be moved aside). */
	read(name: string): string | undefined;
	/** Replaces the document whole: a reader finds the old text or the new, never part. Throws when it cannot. */
	write(name: string, text: string): void;
	/** Appends to the document. Throws when it cannot (part of `text` may be there: `truncate` cuts it off). */
	append(name: string, text: string): void;
	/** Cuts the document back to its first `bytes` bytes. */
	truncate(name: string, bytes: number): void;
	remove(name: string): void;
	/** Moves a document aside under another name (a damaged one, for a person to look at). */
	rename(name: string, to: string): void;
	/** The document's size in bytes; undefined when there is none. */
	size(name: string): number | undefined;
	/** Why writes made earlier did not reach the medium (written behind), or null. */
	readonly error?: string | null;
	/** Failure streaks of writes made behind, once each. */
	takeNotices?(): RecordNotice[];
	/** Tries again what could not be written. */
	retry?(): void;
	/** Resolves once every write made so far has reached the medium, or failed (then `error` says why). */
	flush?(): Promise<void>;
}

/** A document that is there but cannot be read as text (a table item whose body does not inflate): moved aside like malformed JSON. */
export class DamagedDocument extends Error {
	readonly damaged = true;
}

/**
 * The state dir: one file per document, written whole to a temporary file renamed into place (a
 * crash never leaves half a file), owner-only; appends go straight to the file. The directory is
 * made again if it was removed under a running guard.
 */
export class DirectoryMedium implements StateMedium {
	constructor(readonly where: string) {}

	file(name: string): string {
		return path.join(this.where, name);
	}

	describe(name: string): string {
		return `the state file ${this.file(name)}`;
	}

	locate(name: string): string {
		return this.file(name);
	}

	read(name: string): string | undefined {
		try {
			return fs.readFileSync(this.file(name), 'utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
				return undefined;
			}

			throw error;
		}
	}

	write(name: string, text: string): void {
		const target = this.file(name);
		const temporary = `${target}.${process.pid}.tmp`;
		try {
			inDirectory(this.where, () => fs.writeFileSync(temporary, text, {mode: 0o600}));
			fs.renameSync(temporary, target);
		} catch (error) {
			fs.rmSync(temporary, {force: true});
			throw error;
		}
	}

	append(name: string, text: string): void {
		inDirectory(this.where, () => fs.appendFileSync(this.file(name), text, {mode: 0o600}));
	}

	truncate(name: string, bytes: number): void {
		fs.truncateSync(this.file(name), bytes);
	}

	remove(name: string): void {
		fs.rmSync(this.file(name), {force: true});
	}

	rename(name: string, to: string): void {
		fs.renameSync(this.file(name), this.file(to));
	}

	size(name: string): number | undefined {
		return fs.statSync(this.file(name), {throwIfNoEntry: false})?.size;
	}
}
