// Writes config/envwatch.schema.json from the zod schema (built into dist/ by `npm run schema`).
import fs from 'node:fs';
import {configJsonSchema} from '../dist/config/schema.js';

const file = new URL('../config/envwatch.schema.json', import.meta.url);
fs.writeFileSync(file, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log(`wrote ${file.pathname}`);
