#!/usr/bin/env node
import module from 'node:module';
import process from 'node:process';
import envPaths from 'env-paths';
import {enablePrivateCompileCache} from './boot/compile-cache.js';

// Before main and its chunks load: compiled code from this user's private cache (Node 22.1+).
enablePrivateCompileCache({enable: (module as {enableCompileCache?: (directory: string) => unknown}).enableCompileCache, cacheRoot: envPaths('envwatch').cache, env: process.env, uid: process.getuid?.()});
// In ps and top as envwatch, not node (a supervisor's pgrep finds it by that name).
process.title = 'envwatch';
const {main} = await import('./commands/main.js');

const code = await main(process.argv.slice(2), {stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env});
process.exitCode = code;
// Open handles (a prompt, a socket) must not keep a finished run alive.
setTimeout(() => process.exit(code), 200).unref();
