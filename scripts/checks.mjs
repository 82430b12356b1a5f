// `npm test`'s checks before the suites: lint, typecheck and build, run side by side (they do not
// depend on each other, and on two cores that takes about half the time of one after another). Each
// one's output is printed whole when it ends, under its name; the exit code is 1 if any failed.
import {spawn} from 'node:child_process';

const checks = [
	['lint', ['run', '-s', 'lint']],
	['typecheck', ['run', '-s', 'typecheck']],
	['build', ['run', '-s', 'build']],
];

const results = await Promise.all(checks.map(([name, args]) => new Promise(resolve => {
	const started = Date.now();
	const child = spawn('npm', args, {stdio: ['ignore', 'pipe', 'pipe']});
	let output = '';
	child.stdout.on('data', chunk => {
		output += chunk;
	});
	child.stderr.on('data', chunk => {
		output += chunk;
	});
	child.on('error', error => resolve({name, ok: false, output: `${error.message}\n`}));
	child.on('close', code => {
		const seconds = ((Date.now() - started) / 1000).toFixed(1);
		process.stdout.write(`${code === 0 ? 'ok' : 'FAILED'}: ${name} (${seconds} s)\n${output}`);
		resolve({name, ok: code === 0});
	});
})));

const failed = results.filter(result => !result.ok).map(result => result.name);
if (failed.length > 0) {
	process.stderr.write(`checks failed: ${failed.join(', ')}\n`);
	process.exit(1);
}
