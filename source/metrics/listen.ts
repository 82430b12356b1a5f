// The `--metrics-listen` address, apart from the server: parsing flags must not load prom-client.

export type ListenAddress = {host: string; port: number};

const loopback = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * `--metrics-listen`: `PORT`, `HOST:PORT` or `[V6]:PORT`. A bare port listens on loopback only;
 * another interface only when it is named. Problems are pushed for the usage error.
 */
export function parseListen(value: string, problems: string[]): ListenAddress | undefined {
	const match = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(value.trim());
	const port = match ? Number(match[2]) : Number.NaN;
	if (!match || !(port >= 0 && port <= 65_535)) {
		problems.push(`--metrics-listen ${value || '(empty)'}: expected HOST:PORT or PORT, e.g. 127.0.0.1:9464 (a bare port listens on loopback only)`);
		return undefined;
	}

	const host = match[1]?.replace(/^\[(.*)\]$/, '$1') ?? '127.0.0.1';
	return {host, port};
}

export function isLoopback(host: string): boolean {
	return loopback.has(host) || host.startsWith('127.');
}
