import fs from 'node:fs';
import {describe, expect, it} from 'vitest';
import {bindings} from '../../source/ui/keymap.js';
import {keysMarkdown, scopeTitles, withKeyTables} from '../../source/ui/keys-doc.js';

const page = fs.readFileSync(new URL('../../docs/dashboard.md', import.meta.url), 'utf8');

describe('docs/dashboard.md\'s key tables', () => {
	it('are the keymap\'s, as committed (run npm run docs:keys after changing a binding)', () => {
		expect(withKeyTables(page)).toBe(page);
	});

	it('have a table for every scope a key is bound in, and a row for every key that is not written with another', () => {
		const scopes = new Set(bindings.flatMap(binding => binding.scopes));
		expect(scopeTitles.map(([scope]) => scope).sort()).toEqual([...scopes].sort());
		const tables = keysMarkdown();
		for (const binding of bindings.filter(item => !item.folded)) {
			expect(tables).toContain(`| \`${binding.keyLabel}\` | ${binding.help}`);
		}
	});

	it('cannot be written into a page without its markers', () => {
		expect(() => withKeyTables('# no markers here\n')).toThrow(/markers .* are missing/);
	});
});
