import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.{ts,tsx}'],
		exclude: ['test/bench/**', 'node_modules/**', 'dist/**'],
		testTimeout: 30_000,
		hookTimeout: 60_000,
		// End-to-end suites start real processes (moto_server, tmux, the built CLI): keep them apart.
		fileParallelism: true,
		maxWorkers: 2,
	},
});
