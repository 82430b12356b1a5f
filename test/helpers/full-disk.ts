import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import {expect} from 'vitest';

/**
 * A real full disk: a 64 KiB tmpfs mounted on `dir`. Mounting needs root, which these tests run
 * as; a failure to mount fails the test, loudly.
 */
export function mountSmallDisk(dir: string): void {
	execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
}

/** Lazy: a file a failing test left open must not keep the mount behind. */
export function unmountSmallDisk(dir: string): void {
	execFileSync('umount', ['--lazy', dir]);
}

/** Appends to `file` until the disk it is on is full. */
export function fillUp(file: string): void {
	const fd = fs.openSync(file, 'a');
	try {
		for (;;) {
			fs.writeSync(fd, Buffer.alloc(1024));
		}
	} catch (error) {
		expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
	} finally {
		fs.closeSync(fd);
	}
}
