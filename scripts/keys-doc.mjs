// Writes docs/dashboard.md's key tables from the keymap (source/ui/keymap.ts, built into dist/ by
// `npm run docs:keys`); test/component/keys-doc.test.ts fails while the committed page differs.
import fs from 'node:fs';
import {withKeyTables} from '../dist/ui/keys-doc.js';

const file = new URL('../docs/dashboard.md', import.meta.url);
const page = fs.readFileSync(file, 'utf8');
const next = withKeyTables(page);
if (next === page) {
	console.log(`${file.pathname}: the key tables are up to date`);
} else {
	fs.writeFileSync(file, next);
	console.log(`wrote the key tables of ${file.pathname}`);
}
