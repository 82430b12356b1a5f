import {setFlagsFromString} from 'node:v8';

const set: string[] = [];

/**
 * Sets a V8 flag while the process runs, and remembers it: V8 rejects code cached under other flags,
 * so script-cache.ts keeps the code of each set of flags apart (the dashboard in AWS mode, which
 * sets one, and in demo mode, which sets none, would otherwise replace each other's at every start).
 */
export function setV8Flag(flag: string): void {
	setFlagsFromString(flag);
	set.push(flag);
}

/** The flags set with `setV8Flag`, in order. */
export function v8FlagsSet(): readonly string[] {
	return set;
}
