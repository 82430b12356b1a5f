import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.{ts,tsx}'],
		exclude: ['test/bench/**', 'node_modules/**', 'dist/**'],
		// One temporary root per test file (TMPDIR for it and every process it starts), removed after it.
		setupFiles: ['test/helpers/tmp-root.ts'],
		// `nodes`: the end-to-end subset scripts/test-nodes.mjs runs again with the CLI on Node 22 and 24.
		tags: [{name: 'nodes', description: 'also run with the built CLI on Node 22 and 24 (npm run test:nodes)'}],
		testTimeout: 30_000,
		hookTimeout: 60_000,
		// End-to-end suites start real processes (moto_server, tmux, the built CLI): keep them apart.
		fileParallelism: true,
		maxWorkers: 2,
	},
});
