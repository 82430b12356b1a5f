import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {UsageError} from '../domain/index.js';
import type {Snapshot} from '../engine/index.js';
import {staleReason, type Metrics} from './metrics.js';
import type {ListenAddress} from './listen.js';

export type MetricsServer = {
	/** Where it listens (the port chosen when 0 was asked). */
	url: string;
	close(): Promise<void>;
};

/**
 * Serves `/metrics` (Prometheus text format) and `/healthz` (200 while polls succeed, 503 with the
 * reason once the data is stale). Resolves once listening; a bind failure is a usage error (exit 2)
 * raised before the monitor starts, so nothing is polled or stopped.
 */
export async function serveMetrics(metrics: Metrics, snapshot: () => Snapshot | undefined, address: ListenAddress, clock: () => number = Date.now): Promise<MetricsServer> {
	const server = http.createServer((request, response) => {
		const path = (request.url ?? '/').split('?')[0];
		if (request.method !== 'GET' && request.method !== 'HEAD') {
			response.writeHead(405, {allow: 'GET, HEAD', 'content-type': 'text/plain'}).end('method not allowed: GET /metrics or /healthz\n');
			return;
		}

		if (path === '/metrics') {
			metrics.registry.metrics().then(text => {
				response.writeHead(200, {'content-type': metrics.registry.contentType}).end(request.method === 'HEAD' ? undefined : text);
			}, (error: unknown) => {
				response.writeHead(500, {'content-type': 'text/plain'}).end(`cannot collect the metrics: ${error instanceof Error ? error.message : String(error)}\n`);
			});
			return;
		}

		if (path === '/healthz') {
			const reason = staleReason(snapshot(), clock());
			response.writeHead(reason ? 503 : 200, {'content-type': 'text/plain'}).end(reason ? `stale: ${reason}\n` : 'ok\n');
			return;
		}

		response.writeHead(404, {'content-type': 'text/plain'}).end('not found: envwatch serves /metrics and /healthz\n');
	});
	server.headersTimeout = 10_000;
	server.requestTimeout = 10_000;
	await new Promise<void>((resolve, reject) => {
		server.once('error', (error: NodeJS.ErrnoException) => {
			reject(new UsageError(`--metrics-listen ${address.host}:${address.port}: cannot listen (${error.code ?? error.message}) — expected a free port on an address of this host`));
		});
		server.listen(address.port, address.host, () => resolve());
	});
	server.unref();
	const bound = server.address() as AddressInfo;
	const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
	return {
		url: `http://${host}:${bound.port}`,
		async close() {
			server.closeAllConnections();
			await new Promise(resolve => server.close(resolve));
		},
	};
}
