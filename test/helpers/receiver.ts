import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterEach} from 'vitest';

export type Received = {method: string; path: string; headers: http.IncomingHttpHeaders; body: string; json: unknown};

/** What the receiver answers: a reply, or `hang` (never answer, until the receiver closes). */
export type Answer = {status: number; body?: string; contentType?: string; headers?: Record<string, string>} | 'hang';

/**
 * A real HTTP server on loopback standing in for Slack, PagerDuty and a webhook endpoint. Every
 * request is kept (`received`); `answer` decides the reply per request (default: what the real
 * service would answer for its path: Slack `ok`, PagerDuty `{"status":"success"}`, else 200 `{}`).
 */
export class Receiver {
	readonly received: Received[] = [];
	/** Requests held open by a `hang` answer. */
	readonly hanging: http.ServerResponse[] = [];
	/** How many of the held requests the client gave up on (closed its end). */
	released = 0;
	answer: (request: Received, index: number) => Answer = defaultAnswer;
	private readonly server: http.Server;
	private waiters: Array<() => void> = [];

	constructor() {
		this.server = http.createServer((request, response) => {
			const chunks: Buffer[] = [];
			request.on('data', (chunk: Buffer) => chunks.push(chunk));
			request.on('end', () => {
				const body = Buffer.concat(chunks).toString('utf8');
				let json: unknown;
				try {
					json = JSON.parse(body);
				} catch {
					json = undefined;
				}

				const received: Received = {method: request.method ?? '', path: request.url ?? '', headers: request.headers, body, json};
				const index = this.received.push(received) - 1;
				const answer = this.answer(received, index);
				if (answer === 'hang') {
					this.hanging.push(response);
					response.on('close', () => {
						this.released++;
						this.wake();
					});
				} else {
					response.writeHead(answer.status, {'content-type': answer.contentType ?? 'application/json', ...answer.headers});
					response.end(answer.body ?? '');
				}

				this.wake();
			});
		});
	}

	private wake(): void {
		for (const waiter of this.waiters.splice(0)) {
			waiter();
		}
	}

	async listen(): Promise<this> {
		await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve));
		return this;
	}

	get url(): string {
		return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
	}

	/** The requests to `path`. */
	at(path: string): Received[] {
		return this.received.filter(request => request.path === path);
	}

	/** Waits until `predicate` holds for what was received (fails after `deadlineMs` with what came). */
	async waitFor(predicate: (received: Received[], receiver: this) => boolean, deadlineMs = 20_000): Promise<void> {
		const until = Date.now() + deadlineMs;
		while (!predicate(this.received, this)) {
			const left = until - Date.now();
			if (left <= 0) {
				throw new Error(`the receiver did not get what was expected within ${deadlineMs} ms; received:\n${this.received.map(item => `${item.path} ${item.body}`).join('\n')}`);
			}

			await new Promise<void>(resolve => {
				const timer = setTimeout(resolve, Math.min(left, 200));
				this.waiters.push(() => {
					clearTimeout(timer);
					resolve();
				});
			});
		}
	}

	async close(): Promise<void> {
		for (const response of this.hanging) {
			response.destroy();
		}

		this.server.closeAllConnections();
		await new Promise(resolve => this.server.close(resolve));
	}
}

function defaultAnswer(request: Received): Answer {
	if (request.path.startsWith('/slack')) {
		return {status: 200, body: 'ok', contentType: 'text/html'};
	}

	if (request.path.startsWith('/pagerduty')) {
		const key = (request.json as {dedup_key?: string} | undefined)?.dedup_key ?? '';
		return {status: 202, body: JSON.stringify({status: 'success', message: 'Event processed', dedup_key: key})};
	}

	return {status: 200, body: '{}'};
}

/** A receiver per test, closed after it. */
export function useReceivers(): () => Promise<Receiver> {
	let receivers: Receiver[] = [];
	afterEach(async () => {
		for (const receiver of receivers) {
			await receiver.close();
		}

		receivers = [];
	});
	return async () => {
		const receiver = await new Receiver().listen();
		receivers.push(receiver);
		return receiver;
	};
}
