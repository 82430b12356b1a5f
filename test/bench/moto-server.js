// moto_server for the benchmarks that need it (aws-fleet: EC2; backstop: DynamoDB), on a free
// loopback port, in a process group of its own so `stop` ends it and its workers.
import {spawn, spawnSync} from 'node:child_process';
import net from 'node:net';

async function freePort() {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const {port} = server.address();
			server.close(() => resolve(port));
		});
	});
}

/** A moto_server answering at `url` (reset and ready), and its `stop`. */
export async function startMoto() {
	const binary = spawnSync('sh', ['-c', 'command -v moto_server'], {encoding: 'utf8'}).stdout.trim();
	if (!binary) {
		throw new Error('moto_server is not on PATH: the AWS benchmarks need it (pip install "moto[server]==5.2.*")');
	}

	const port = await freePort();
	const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], {stdio: 'ignore', detached: true});
	const url = `http://127.0.0.1:${port}`;
	const stop = () => {
		try {
			process.kill(-child.pid, 'SIGTERM');
		} catch {
			// Already gone.
		}
	};

	for (let tries = 0; tries < 300; tries++) {
		try {
			if ((await globalThis.fetch(`${url}/moto-api/reset`, {method: 'POST'})).ok) {
				return {url, stop};
			}
		} catch {
			// Not listening yet.
		}

		await new Promise(resolve => setTimeout(resolve, 100));
	}

	stop();
	throw new Error(`moto_server did not answer on ${url} within 30 s`);
}
