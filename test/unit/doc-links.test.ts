import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';

// Every relative link in readme.md and docs/*.md names a file that exists, and a heading there when
// it has an #anchor (GitHub's anchors: lower case, punctuation dropped, spaces to hyphens, -1 -2 for repeats).
const root = fileURLToPath(new URL('../..', import.meta.url));
const documents = ['readme.md', ...fs.readdirSync(path.join(root, 'docs')).filter(name => name.endsWith('.md')).map(name => `docs/${name}`)];
const withoutFences = (text: string) => text.replaceAll(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '');
const prose = (text: string) => withoutFences(text).replaceAll(/`[^`\n]*`/g, '');

function anchorsOf(file: string): string[] {
	const seen = new Map<string, number>();
	return withoutFences(fs.readFileSync(file, 'utf8')).split('\n').flatMap(line => {
		const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)?.[1];
		if (heading === undefined) {
			return [];
		}

		const slug = heading.replaceAll('`', '').toLowerCase().replaceAll(/[^\p{L}\p{N}\s_-]/gu, '').replaceAll(/\s/g, '-');
		const count = seen.get(slug) ?? 0;
		seen.set(slug, count + 1);
		return [count === 0 ? slug : `${slug}-${count}`];
	});
}

describe('documentation links', () => {
	it.each(documents)('%s: every relative link resolves, anchors included', document => {
		const broken: string[] = [];
		for (const [, target] of prose(fs.readFileSync(path.join(root, document), 'utf8')).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
			if (/^[a-z][a-z+.-]*:/i.test(target!)) {
				continue;
			}

			const [file, anchor] = target!.split('#') as [string, string | undefined];
			const resolved = file === '' ? path.join(root, document) : path.join(root, path.dirname(document), file);
			if (!fs.existsSync(resolved)) {
				broken.push(`${target}: no such file`);
			} else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).includes(anchor)) {
				broken.push(`${target}: no such heading in ${path.relative(root, resolved)}`);
			}
		}

		expect(broken).toEqual([]);
	});
});
