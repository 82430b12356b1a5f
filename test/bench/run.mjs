// Benchmarks: `npm run bench` (builds first). Prints one line per benchmark; numbers go in docs/development.md ("Benchmarks").
// Each bench file exports `run()` returning lines; this runner executes every test/bench/*.mjs but itself
// (and the opt-in ones below unless named).
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
// `-- ui` runs the ui-* files: in-process bytes and render times, launch, and ui-tmux (the real dashboard in tmux:
// bytes per calm poll and idle CPU, about 2.5 minutes).
// moto-based (about 4 minutes): run only when named (`npm run bench -- aws-fleet`).
const optIn = new Set(['aws-fleet.mjs']);
const files = fs.readdirSync(here).filter(name => name.endsWith('.mjs') && name !== 'run.mjs' && (only.length === 0 ? !optIn.has(name) : only.some(word => name.includes(word)))).sort();
for (const file of files) {
	const module = await import(pathToFileURL(path.join(here, file)).href);
	const lines = await module.run();
	for (const line of lines) {
		console.log(`${file.replace(/\.mjs$/, '')}: ${line}`);
	}
}
