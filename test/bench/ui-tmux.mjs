// The dashboard in a real terminal while nothing changes: the built CLI (`--demo calm`, its 5 s interval) in a private
// tmux server at 80x24. Its output is copied with `tmux pipe-pane` into a file and cut into frames (Ink wraps each in
// synchronized-update marks); the engine polls every `interval` seconds, so a poll's share is the window's bytes
// divided by elapsed / interval (the poll's own frame and the clock's ticks until the next). The CPU is the process's own
// (utime + stime from /proc/PID/stat) over the same window.
// The sparklines are full from the start: a first run at a 1 s interval fills the state dir's history (15 samples,
// the TREND column's width at 80 columns), then the measured run reads it. While they fill, each poll adds a glyph,
// which is a real change, not the idle case. The window starts once the billed figures are a minute old (their age
// then changes once a minute, as it does all day), about 70 s after the start.
// Run: npm run build && node test/bench/ui-tmux.mjs [seconds] [interval] (or npm run bench -- ui-tmux); `interval`
// (or ENVWATCH_BENCH_INTERVAL): the measured run's poll interval in seconds, the demo's own 5 s when not given.
import {execFileSync, spawnSync} from 'node:child_process';
import crypto from 'node:crypto';
import {Buffer} from 'node:buffer';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {median} from './ui-fixture.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// ENVWATCH_BENCH_CLI: another build's cli.js (to measure a before and an after on the same machine).
const cli = process.env.ENVWATCH_BENCH_CLI ?? path.join(root, 'dist', 'bin', 'cli.js');
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

function tmux(socket, ...args) {
	return execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'});
}

async function waitFor(socket, test, what, deadlineMs = 60_000) {
	const deadline = Date.now() + deadlineMs;
	for (;;) {
		const screen = tmux(socket, 'capture-pane', '-p', '-t', 'bench');
		if (test(screen)) {
			return screen;
		}

		if (Date.now() > deadline) {
			throw new Error(`ui-tmux: timed out waiting for ${what}; the screen was:\n${screen}`);
		}

		await sleep(200);
	}
}

function alive(socket) {
	return spawnSync('tmux', ['-L', socket, 'has-session', '-t', 'bench']).status === 0;
}

function start(socket, args) {
	// exec: the pane's process is node itself, so its /proc entry is envwatch's CPU and nothing else's.
	const command = `exec env -u CI -u CONTINUOUS_INTEGRATION node ${cli} ${args}`;
	tmux(socket, 'new-session', '-d', '-s', 'bench', '-x', '80', '-y', '24', command);
	tmux(socket, 'set-option', '-t', 'bench', 'status', 'off');
}

const frameReady = screen => /global/.test(screen) && /q quit/.test(screen);
/** CPU ticks (utime + stime) of a process. */
const ticksOf = pid => {
	const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
	return Number(fields[11]) + Number(fields[12]);
};

export async function run(seconds = Number(process.env.ENVWATCH_BENCH_IDLE_SECONDS ?? 60), pollSeconds = process.env.ENVWATCH_BENCH_INTERVAL) {
	if (!fs.existsSync(cli)) {
		throw new Error('run npm run build first');
	}

	const probe = spawnSync('tmux', ['-V'], {encoding: 'utf8'});
	if (probe.error || probe.status !== 0) {
		throw new Error('ui-tmux needs tmux on PATH');
	}

	const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim()) || 100;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envwatch-bench-tmux-'));
	const socket = `envwatch-bench-${crypto.randomBytes(6).toString('hex')}`;
	const state = path.join(dir, 'state');
	const log = path.join(dir, 'pane.out');
	try {
		// 1. Fill the history: 1 s polls until every sparkline is 15 glyphs wide.
		start(socket, `--demo calm --interval 1 --state-dir ${state}`);
		await waitFor(socket, screen => /global .*[▁▂▃▄▅▆▇█]{15}\s*$/m.test(screen), 'full sparklines');
		tmux(socket, 'send-keys', '-t', 'bench', 'q');
		for (let waited = 0; alive(socket); waited += 100) {
			if (waited > 20_000) {
				throw new Error('ui-tmux: the seeding dashboard did not quit on q');
			}

			await sleep(100);
		}

		// 2. The measured run at the demo's own interval (5 s), or the one asked for.
		start(socket, `--demo calm${pollSeconds ? ` --interval ${Number(pollSeconds)}` : ''} --state-dir ${state}`);
		const screen = await waitFor(socket, frameReady, 'the first frame');
		// The interval asked for; else the header's `every Ns` (shown where the width allows), else the demo's 5 s.
		const interval = pollSeconds ? Number(pollSeconds) : Number(/every (\d+)s/.exec(screen)?.[1] ?? 5);
		// Past start-up: a poll after the first has been drawn, and the billed figures (fetched at start) are
		// a minute old, so their age changes once a minute from now on, as it does all day.
		await sleep((interval + 1) * 1000);
		await waitFor(socket, text => !/billed today/.test(text) || /billed today\/MTD, \d+[mh]/.test(text), 'the billed age in minutes', 120_000);
		const pid = Number(tmux(socket, 'display-message', '-p', '-t', 'bench', '#{pane_pid}').trim());
		fs.writeFileSync(log, '');
		tmux(socket, 'pipe-pane', '-o', '-t', 'bench', `cat >> ${log}`);
		const before = ticksOf(pid);
		const started = process.hrtime.bigint();
		await sleep(seconds * 1000);
		const after = ticksOf(pid);
		const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
		tmux(socket, 'pipe-pane', '-t', 'bench');
		await waitFor(socket, frameReady, 'the frame at the end');
		await sleep(300);
		const bytes = fs.readFileSync(log);
		// Frames: each starts with the synchronized-update mark (ESC [?2026h).
		const mark = Buffer.from('\u001B[?2026h');
		const starts = [];
		for (let at = bytes.indexOf(mark); at !== -1; at = bytes.indexOf(mark, at + 1)) {
			starts.push(at);
		}

		const frames = starts.map((at, index) => bytes.subarray(at, starts[index + 1] ?? bytes.length).length);
		// The engine polls on its own timer every `interval` seconds: the window holds elapsed / interval polls.
		const polls = elapsed / interval;
		const perPoll = bytes.length / polls;
		const cpu = ((after - before) / clockTicks) / elapsed * 100;
		return [
			`bytes per calm poll (tmux 80x24, --demo calm every ${interval}s, ${elapsed.toFixed(0)} s): ${perPoll.toFixed(0)} bytes from one poll to the next (${bytes.length} bytes in ${frames.length} frames, median frame ${frames.length > 0 ? median(frames).toFixed(0) : '-'} bytes, largest ${Math.max(0, ...frames)} bytes)`,
			`dashboard CPU while nothing changes (same run, /proc utime+stime over ${elapsed.toFixed(0)} s): ${cpu.toFixed(2)}% of a core (${after - before} ticks at ${clockTicks}/s)`,
		];
	} finally {
		const pid = alive(socket) ? Number(tmux(socket, 'display-message', '-p', '-t', 'bench', '#{pane_pid}').trim()) : undefined;
		spawnSync('tmux', ['-L', socket, 'kill-server']);
		const socketPath = path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid()}`, socket);
		fs.rmSync(socketPath, {force: true});
		// The dashboard, hung up on, saves its state as it exits (making its state dir again were it
		// gone): the dir is removed once it has exited.
		for (let waited = 0; pid && fs.existsSync(`/proc/${pid}`) && waited < 10_000; waited += 100) {
			await sleep(100);
		}

		fs.rmSync(dir, {recursive: true, force: true});
	}
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
	console.log((await run(Number(process.argv[2] ?? process.env.ENVWATCH_BENCH_IDLE_SECONDS ?? 60), process.argv[3] ?? process.env.ENVWATCH_BENCH_INTERVAL)).join('\n'));
}
