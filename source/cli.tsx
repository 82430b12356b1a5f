#!/usr/bin/env node
import module from 'node:module';
import process from 'node:process';

// Node 22.1 and later keep V8's compiled code of the bundle on disk (NODE_COMPILE_CACHE or the
// system's temp dir; NODE_DISABLE_COMPILE_CACHE=1 turns it off), so later starts skip most of the
// compiling: it must be on before main and its chunks load. Node 20 has no such cache.
(module as {enableCompileCache?: () => unknown}).enableCompileCache?.();
// In ps and top as envwatch, not node (a supervisor's pgrep finds it by that name).
process.title = 'envwatch';
const {main} = await import('./main.js');

const code = await main(process.argv.slice(2), {stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env});
process.exitCode = code;
// Open handles (a prompt, a socket) must not keep a finished run alive.
setTimeout(() => process.exit(code), 200).unref();
