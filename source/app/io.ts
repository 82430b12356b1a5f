import os from 'node:os';
import path from 'node:path';
import {packageRoot, readJsonFile} from '../config/index.js';
import type {ProcessEvents} from '../serve/index.js';

// What a run knows of its process: its streams and environment, the package version, who runs it.

export type Io = {
	stdout: NodeJS.WriteStream;
	stderr: NodeJS.WriteStream;
	stdin: NodeJS.ReadStream;
	env: NodeJS.ProcessEnv;
	/** Where signals and crashes are heard. @default process */
	events?: ProcessEvents;
};

const packageJson = readJsonFile(path.join(packageRoot, 'package.json'), 'package.json');

export const version = String(packageJson['version']);

export function actorName(): string {
	try {
		return `${os.userInfo().username}@${os.hostname()}`;
	} catch {
		return `uid${process.getuid?.() ?? '?'}@${os.hostname()}`;
	}
}
