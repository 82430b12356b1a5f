import type {CoordinationTable, TableCondition, TableItem, TableWrite} from '../../providers/index.js';
import {lazyZlib} from './lazy-zlib.js';
import {describeError, writeFailed, type RecordNotice} from './record.js';
import {DamagedDocument, type StateMedium} from './medium.js';

/** The state's partition: documents (`doc#`), their parts (`part#`) and appended lines (`log#`). */
export const statePartition = 'state';
/** A document's gzip is kept in its head item up to this size, else in parts of this size. */
const partBytes = 300 * 1024;
/** What one transaction may carry (DynamoDB: 4 MB), with room for the keys. */
const transactionBytes = 3.5 * 1024 * 1024;
/** Writes per transaction: 99, and the fence's condition check makes 100. */
const perTransaction = 99;
/** The largest document envwatch reads back (its head's `bytes`): a body may not inflate past it. */
const maxDocumentBytes = 64 * 1024 * 1024;
/** A line's key: `log#<name>#<n, ten digits>`. */
const lineKeyPattern = /^log#(.+)#(\d{10})$/;

/**
 * What the table holds for a name: its head and parts, its lines by number, and `kept`: items
 * written (or found) under keys of their own, a damaged copy's items as the table had them or an
 * item whose key envwatch would never write, each removed when the name is written anew.
 */
type Stored = {head: boolean; parts: Set<string>; lines: Set<number>; kept: Set<string>};
type Line = {n: number; text: string};
type Damaged = {damaged: string; raw: TableItem[]};

const docKey = (name: string) => `doc#${name}`;
const partKey = (name: string, gen: string, index: number) => `part#${name}#${gen}#${String(index).padStart(4, '0')}`;
const lineKey = (name: string, n: number) => `log#${name}#${String(n).padStart(10, '0')}`;

export type TableMediumOptions = {
	/**
	 * The condition every state write holds to (this engine still holds the lease: its token and
	 * holder); undefined writes unfenced (a look only, or a test of the medium alone).
	 */
	fence?: () => TableCondition | undefined;
	/** A write was refused by the fence: another engine holds the lease now. Nothing more is written. */
	onFenced?: (why: string) => void;
};

/**
 * The engine's state in the coordination table (`coordination.dynamodb`). `open` reads the state
 * partition once (one consistent query); from then on the documents are kept here and each change
 * is written behind, in the order of the changes (a compaction before the removal of the log it
 * replaces): a document whole (gzip, in its head item or in parts, in one transaction), an
 * appended line as one item. Every write is a transaction fenced by the lease, so an engine that
 * lost it changes nothing. A write that fails is said once (`takeNotices`), kept in `error`, and
 * tried again, in the same order, with the next change, `retry` or `flush`.
 */
export class TableMedium implements StateMedium {
	readonly where: string;
	private readonly documents = new Map<string, string | Damaged>();
	private readonly logs = new Map<string, Line[]>();
	private readonly stored = new Map<string, Stored>();
	private readonly nextLine = new Map<string, number>();
	/** Names changed since they were last written, in the order of their last change. */
	private dirty: string[] = [];
	private running: Promise<void> | undefined;
	private failure: string | null = null;
	private fenced: string | undefined;
	private notices: RecordNotice[] = [];

	private constructor(private readonly table: CoordinationTable, private readonly options: TableMediumOptions) {
		this.where = table.name;
	}

	/** Reads the state partition of `table` (rejects when it cannot: the engine must not start on no state). */
	static async open(table: CoordinationTable, options: TableMediumOptions = {}): Promise<TableMedium> {
		const medium = new TableMedium(table, options);
		medium.load(await table.query(statePartition));
		return medium;
	}

	private storedOf(name: string): Stored {
		let stored = this.stored.get(name);
		if (!stored) {
			stored = {head: false, parts: new Set(), lines: new Set(), kept: new Set()};
			this.stored.set(name, stored);
		}

		return stored;
	}

	private load(items: TableItem[]): void {
		const heads = new Map<string, TableItem>();
		const parts = new Map<string, TableItem>();
		for (const item of items) {
			const [kind] = item.sk.split('#', 1);
			if (kind === 'doc') {
				const name = item.sk.slice(4);
				heads.set(name, item);
				this.storedOf(name).head = true;
			} else if (kind === 'part') {
				const name = item.sk.slice(5, item.sk.lastIndexOf('#', item.sk.lastIndexOf('#') - 1));
				parts.set(item.sk, item);
				this.storedOf(name).parts.add(item.sk);
			} else if (kind === 'log') {
				const key = lineKeyPattern.exec(item.sk);
				// A key envwatch would not write (not ten digits: "x", "12"): the log is damaged, and the
				// item is removed by its own key when the log is moved aside (never renumbered, never reused).
				const name = key?.[1] ?? item.sk.slice(4, Math.max(4, item.sk.lastIndexOf('#')));
				const n = key ? Number(key[2]) : Number.NaN;
				const text = item['text'];
				const damaged = key ? typeof text === 'string' ? undefined : `the line ${item.sk} has no text` : `the line key ${item.sk} is not one envwatch writes (log#<name>#<ten digits>)`;
				if (key) {
					this.storedOf(name).lines.add(n);
					this.nextLine.set(name, Math.max(this.nextLine.get(name) ?? 1, n + 1));
				} else {
					this.storedOf(name).kept.add(item.sk);
				}

				if (damaged !== undefined || typeof text !== 'string') {
					this.documents.set(name, {damaged: damaged ?? `the line ${item.sk} has no text`, raw: items.filter(line => line.sk.startsWith(`log#${name}#`))});
					continue;
				}

				const lines = this.logs.get(name) ?? [];
				lines.push({n, text});
				this.logs.set(name, lines);
			}
		}

		for (const lines of this.logs.values()) {
			lines.sort((a, b) => a.n - b.n);
		}

		for (const [name, head] of heads) {
			this.documents.set(name, documentOf(name, head, parts));
		}
	}

	describe(name: string): string {
		return `the ${this.locate(name)}`;
	}

	locate(name: string): string {
		return `state item ${name} in ${this.where}`;
	}

	read(name: string): string | undefined {
		const document = this.documents.get(name);
		if (typeof document === 'object') {
			throw new DamagedDocument(document.damaged);
		}

		const lines = this.logs.get(name);
		if (lines && document === undefined) {
			return lines.map(line => line.text).join('');
		}

		return document;
	}

	write(name: string, text: string): void {
		this.logs.delete(name);
		this.documents.set(name, text);
		this.changed(name);
	}

	append(name: string, text: string): void {
		if (typeof this.documents.get(name) === 'string') {
			// A document written whole, appended to: its text first, then the line, as a file would be.
			const before = this.documents.get(name) as string;
			this.documents.delete(name);
			this.logs.set(name, [{n: this.take(name), text: before}]);
		}

		const lines = this.logs.get(name) ?? [];
		lines.push({n: this.take(name), text});
		this.logs.set(name, lines);
		this.changed(name);
	}

	truncate(name: string, bytes: number): void {
		const text = this.read(name) ?? '';
		const cut = Buffer.from(text, 'utf8').subarray(0, bytes).toString('utf8');
		if (this.logs.has(name)) {
			this.logs.set(name, cut === '' ? [] : [{n: this.take(name), text: cut}]);
		} else {
			this.documents.set(name, cut);
		}

		this.changed(name);
	}

	remove(name: string): void {
		this.documents.delete(name);
		this.logs.delete(name);
		this.changed(name);
	}

	rename(name: string, to: string): void {
		const document = this.documents.get(name);
		if (typeof document === 'object') {
			// Kept as the table had it, under the new name, for a person to look at.
			this.documents.set(to, {damaged: document.damaged, raw: document.raw.map(item => ({...item, sk: item.sk.replace(`#${name}#`, `#${to}#`).replace(new RegExp(`^doc#${escape(name)}$`), docKey(to))}))});
		} else {
			this.documents.set(to, this.read(name) ?? '');
		}

		this.remove(name);
		this.changed(to);
	}

	size(name: string): number | undefined {
		const text = this.documents.has(name) || this.logs.has(name) ? this.read(name) : undefined;
		return text === undefined ? undefined : Buffer.byteLength(text);
	}

	get error(): string | null {
		return this.failure;
	}

	takeNotices(): RecordNotice[] {
		return this.notices.splice(0);
	}

	retry(): void {
		this.schedule();
	}

	async flush(): Promise<void> {
		await this.running;
		if (this.dirty.length > 0) {
			this.schedule();
			await this.running;
		}
	}

	private take(name: string): number {
		const n = this.nextLine.get(name) ?? 1;
		this.nextLine.set(name, n + 1);
		return n;
	}

	private changed(name: string): void {
		this.again ||= name === this.syncing;
		this.dirty = [...this.dirty.filter(other => other !== name), name];
		this.schedule();
	}

	private schedule(): void {
		if (this.running || this.fenced !== undefined || this.dirty.length === 0) {
			return;
		}

		this.running = (async () => {
			// Changes made in the same turn go out together.
			await new Promise(resolve => {
				setImmediate(resolve);
			});
			try {
				while (this.dirty.length > 0 && this.fenced === undefined) {
					const name = this.dirty[0]!;
					this.syncing = name;
					try {
						await this.sync(name);
					} catch (error) {
						if (this.fenced === undefined) {
							if (this.failure === null) {
								this.notices.push(writeFailed(this.describe(name), error));
							}

							this.failure = `cannot write ${this.describe(name)}: ${describeError(error)}`;
						}

						return;
					} finally {
						this.syncing = undefined;
					}

					if (!this.again) {
						this.dirty = this.dirty.filter(other => other !== name);
					}

					this.again = false;
				}

				if (this.fenced === undefined) {
					this.failure = null;
				}
			} finally {
				this.running = undefined;
			}
		})();
	}

	/** The name being written now, and whether it changed again meanwhile (then it is written again). */
	private syncing: string | undefined;
	private again = false;

	/** Writes what the table should hold for `name` now, and removes what it should no longer hold. */
	private async sync(name: string): Promise<void> {
		const stored = this.storedOf(name);
		const document = this.documents.get(name);
		const forgetKept = (writes: TableWrite[]) => {
			for (const write of writes) {
				stored.kept.delete('delete' in write ? write.delete.sk : write.put.sk);
			}
		};

		if (typeof document === 'object') {
			// A damaged copy (moved aside for a person to look at): its items as the table had them, in
			// as many transactions as they take (a log of hundreds of lines is hundreds of items).
			const keep = new Set(document.raw.map(item => item.sk));
			await this.inChunks(document.raw.filter(item => !stored.kept.has(item.sk)).map(item => ({put: item})), writes => {
				for (const write of writes) {
					stored.kept.add('put' in write ? write.put.sk : '');
				}
			});
			await this.inChunks(deletes([...stored.kept].filter(key => !keep.has(key))), forgetKept);
			return;
		}

		// Items under keys of their own go first: the name is written anew.
		await this.inChunks(deletes([...stored.kept]), forgetKept);
		const whole: TableItem[] = typeof document === 'string' ? itemsOf(name, document) : [];
		const rewritten = new Set(whole.map(item => item.sk));
		const lines = this.logs.get(name) ?? [];
		const wanted = new Set(lines.map(line => line.n));
		const staleDocument = [...(stored.head && !rewritten.has(docKey(name)) ? [docKey(name)] : []), ...[...stored.parts].filter(key => !rewritten.has(key))];
		// Lines removed last first, so a log cut short by a failure still starts with its first line.
		const staleLines = [...stored.lines].filter(n => !wanted.has(n)).sort((a, b) => b - a).map(n => lineKey(name, n));
		const newLines: TableItem[] = lines.filter(line => !stored.lines.has(line.n)).map(line => ({pk: statePartition, sk: lineKey(name, line.n), text: line.text}));
		let left = staleDocument;
		if (whole.length > 0) {
			// A document is written whole, with its parts, in one transaction (its old parts removed with it when they fit).
			const bytes = whole.reduce((sum, item) => sum + sizeOf(item), 0);
			if (bytes > transactionBytes || whole.length > perTransaction) {
				throw new Error(`${name} is ${Math.round(bytes / 1024)} KiB compressed in ${whole.length} items: more than one transaction of ${this.where} can hold (3.5 MiB, ${perTransaction} items)`);
			}

			const room = perTransaction - whole.length;
			await this.transact([...whole.map(item => ({put: item})), ...deletes(staleDocument.slice(0, room))]);
			stored.head = rewritten.has(docKey(name));
			for (const key of rewritten) {
				if (key.startsWith('part#')) {
					stored.parts.add(key);
				}
			}

			this.forget(stored, staleDocument.slice(0, room));
			left = staleDocument.slice(room);
		}

		await this.inChunks(deletes([...left, ...staleLines]), writes => this.forget(stored, writes.map(write => ('delete' in write ? write.delete.sk : ''))));
		await this.inChunks(newLines.map(item => ({put: item})), writes => {
			for (const write of writes) {
				if ('put' in write) {
					stored.lines.add(Number(write.put.sk.slice(write.put.sk.lastIndexOf('#') + 1)));
				}
			}
		});
	}

	private forget(stored: Stored, keys: string[]): void {
		for (const key of keys) {
			if (key.startsWith('doc#')) {
				stored.head = false;
			} else if (key.startsWith('part#')) {
				stored.parts.delete(key);
			} else if (key.startsWith('log#')) {
				stored.lines.delete(Number(key.slice(key.lastIndexOf('#') + 1)));
			}
		}
	}

	private async inChunks(writes: TableWrite[], done: (writes: TableWrite[]) => void): Promise<void> {
		for (let index = 0; index < writes.length; index += perTransaction) {
			const chunk = writes.slice(index, index + perTransaction);
			await this.transact(chunk);
			done(chunk);
		}
	}

	private async transact(writes: TableWrite[]): Promise<void> {
		if (writes.length === 0) {
			return;
		}

		const when = this.options.fence?.();
		const written = await this.table.transact(writes, when);
		if (!written.written) {
			const holder = written.current?.['holder'];
			const why = `the state was not written: this engine no longer holds the lease of ${this.where}${typeof holder === 'string' ? ` (held by ${holder}, token ${String(written.current?.['token'])})` : ''}`;
			this.fenced = why;
			this.failure = why;
			this.notices.push({message: why, damaged: false});
			this.options.onFenced?.(why);
			throw new Error(why);
		}
	}
}

function deletes(keys: string[]): TableWrite[] {
	return keys.map(sk => ({delete: {pk: statePartition, sk}}));
}

function escape(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sizeOf(item: TableItem): number {
	let bytes = 0;
	for (const [name, value] of Object.entries(item)) {
		bytes += name.length + (value instanceof Uint8Array ? value.length : String(value).length);
	}

	return bytes;
}

/** A document's items: its head (with the gzip in it when small, else how many parts), and its parts. */
function itemsOf(name: string, text: string): TableItem[] {
	const body = lazyZlib().gzipSync(text);
	const bytes = Buffer.byteLength(text);
	if (body.length <= partBytes) {
		return [{pk: statePartition, sk: docKey(name), gen: '', parts: 0, bytes, body}];
	}

	const gen = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
	const items: TableItem[] = [];
	for (let index = 0; index * partBytes < body.length; index++) {
		items.push({pk: statePartition, sk: partKey(name, gen, index), body: body.subarray(index * partBytes, (index + 1) * partBytes)});
	}

	return [...items, {pk: statePartition, sk: docKey(name), gen, parts: items.length, bytes}];
}

/** The text of a document's head (and parts), or why it cannot be read. */
function documentOf(name: string, head: TableItem, parts: ReadonlyMap<string, TableItem>): string | Damaged {
	const raw = [head];
	const damaged = (why: string): Damaged => ({damaged: `${why}: not a document envwatch wrote`, raw});
	const {gen, parts: count, bytes} = head;
	if (typeof gen !== 'string' || typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count > 1000 || typeof bytes !== 'number'
		|| !Number.isSafeInteger(bytes) || bytes < 0 || bytes > maxDocumentBytes) {
		return damaged(`its head item has no gen, parts or bytes (at most ${maxDocumentBytes / 1024 / 1024} MiB)`);
	}

	let body: Uint8Array;
	if (count === 0) {
		if (!(head['body'] instanceof Uint8Array)) {
			return damaged('its head item has no body');
		}

		body = head['body'];
	} else {
		const pieces: Uint8Array[] = [];
		for (let index = 0; index < count; index++) {
			const part = parts.get(partKey(name, gen, index));
			if (!part || !(part['body'] instanceof Uint8Array)) {
				return damaged(`part ${index + 1} of ${count} is missing`);
			}

			raw.push(part);
			pieces.push(part['body']);
		}

		body = Buffer.concat(pieces);
	}

	let text: string;
	try {
		// Never inflated past what its head says it holds (a small gzip can inflate to gigabytes).
		text = lazyZlib().gunzipSync(body, {maxOutputLength: Math.max(1, bytes)}).toString('utf8');
	} catch (error) {
		return damaged(`its body is not gzip of at most ${bytes} bytes (${describeError(error)})`);
	}

	return Buffer.byteLength(text) === bytes ? text : damaged(`its body holds ${Buffer.byteLength(text)} bytes, its head says ${bytes}`);
}
