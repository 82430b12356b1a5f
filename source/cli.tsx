#!/usr/bin/env node
import process from 'node:process';
import {main} from './main.js';

const code = await main(process.argv.slice(2), {stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env});
process.exitCode = code;
// Open handles (a prompt, a socket) must not keep a finished run alive.
setTimeout(() => process.exit(code), 200).unref();
