import type {MetricsFeed, MetricsSource} from './attach.js';
import {isLoopback, type ListenAddress} from './listen.js';
import type {MetricsServer} from './server.js';

/**
 * `--metrics-listen`: /metrics and /healthz with the figures of `store` (the views' snapshots),
 * counters from an engine running in this process (`feed.attachEngine`). Listening comes before
 * the first poll: a port in use is a usage error with nothing polled.
 */
export async function startMetrics(address: ListenAddress | undefined, store: MetricsSource, reports: (line: string) => void): Promise<{feed: MetricsFeed; close(): Promise<void>} | undefined> {
	if (!address) {
		return undefined;
	}

	// prom-client is loaded only here: a run without --metrics-listen never pays for it.
	const [{attachMetrics}, {serveMetrics}] = await Promise.all([import('./attach.js'), import('./server.js')]);
	const feed = attachMetrics({store});
	let server: MetricsServer;
	try {
		server = await serveMetrics(feed.metrics, store.getSnapshot, address);
	} catch (error) {
		feed.detach();
		throw error;
	}

	reports(`metrics on ${server.url}/metrics, health on ${server.url}/healthz${isLoopback(address.host) ? '' : ' (not loopback: reachable from other hosts)'}`);
	return {
		feed,
		async close() {
			feed.detach();
			await server.close();
		},
	};
}
