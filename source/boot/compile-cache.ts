import fs from 'node:fs';
import path from 'node:path';

/**
 * Node 22.1 and later can keep V8's compiled code of the bundle on disk, so later starts skip most
 * of the compiling. Node's default place for it is the system temp dir, shared by every user of a
 * jump host: another user could put compiled code there for this process to run, with the on-call
 * engineer's AWS credentials. So the cache lives only in a folder of this user's own cache dir that
 * no one else can write (and its parent the same), else it stays off. NODE_COMPILE_CACHE (Node
 * reads it itself) and NODE_DISABLE_COMPILE_CACHE are the user's to set; Node 20 has no such cache.
 * Returns the folder used, or undefined.
 */
export function enablePrivateCompileCache(options: {
	enable: ((directory: string) => unknown) | undefined;
	/** This user's cache dir for envwatch (env-paths). */
	cacheRoot: string;
	env: NodeJS.ProcessEnv;
	uid?: number | undefined;
}): string | undefined {
	const {enable, cacheRoot, env} = options;
	if (!enable || env['NODE_COMPILE_CACHE'] || env['NODE_DISABLE_COMPILE_CACHE']) {
		return undefined;
	}

	const directory = privateDirectory(cacheRoot, 'node-compile-cache', options.uid);
	if (!directory) {
		return undefined;
	}

	enable(directory);
	return directory;
}

/**
 * `root/name`, made if missing, when both are real directories (not links) owned by `uid` that
 * neither their group nor others can write, and no one but this user and root can change a folder
 * above them (where someone could, they could swap `root` for a folder of theirs between this
 * check and a read); else undefined (a cache is then off: only a slower start). A folder that others
 * can write but that has the sticky bit, such as /tmp, is fine: no one else can rename what is ours
 * in it.
 */
export function privateDirectory(root: string, name: string, uid: number | undefined): string | undefined {
	const directory = path.join(root, name);
	try {
		for (const dir of [root, directory]) {
			fs.mkdirSync(dir, {recursive: true, mode: 0o700});
			if (!isPrivate(dir, uid)) {
				return undefined;
			}
		}

		for (let above = path.dirname(fs.realpathSync(root)); ; above = path.dirname(above)) {
			const stat = fs.statSync(above);
			if ((uid !== undefined && stat.uid !== uid && stat.uid !== 0) || ((stat.mode & 0o022) !== 0 && (stat.mode & 0o1000) === 0)) {
				return undefined;
			}

			if (path.dirname(above) === above) {
				break;
			}
		}
	} catch {
		return undefined;
	}

	return directory;
}

/** A real directory (not a link), owned by `uid`, that neither its group nor others can write. */
function isPrivate(dir: string, uid: number | undefined): boolean {
	const stat = fs.lstatSync(dir);
	return stat.isDirectory() && (uid === undefined || stat.uid === uid) && (stat.mode & 0o022) === 0;
}
