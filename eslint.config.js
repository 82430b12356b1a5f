import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The house's direction (docs/design.md, "Where things live"): each folder of source/ and the
 * folders it may import. `:types` allows type-only imports. A folder with a face (index.ts) is
 * imported only through it from outside; its own files never import it (that would be a cycle).
 */
const layers = {
	domain: [],
	boot: [],
	config: ['domain'],
	providers: ['domain', 'config'],
	engine: ['domain', 'config', 'providers'],
	ui: ['domain', 'engine'],
	serve: ['domain', 'engine'],
	notify: ['domain', 'config', 'engine'],
	metrics: ['domain', 'engine', 'notify:types'],
	app: ['domain', 'config', 'providers', 'engine', 'ui', 'serve', 'notify', 'metrics'],
	commands: ['domain', 'config', 'providers', 'engine', 'serve', 'notify', 'app'],
};
const faced = new Set(['domain', 'config', 'providers', 'engine', 'ui', 'serve', 'notify', 'metrics']);
const folders = Object.keys(layers);
const where = 'see docs/design.md, "Where things live"';
const slash = '\\x2F'; // esquery's regex literals cannot hold a "/"

/** no-restricted-imports patterns for the files of `folder` (relative paths: '../engine/x.js'). */
function importPatterns(folder) {
	const allowed = new Map(layers[folder].map(entry => entry.split(':')));
	const patterns = [{group: ['./index.js', '../index.js', '../../index.js'], message: 'a folder\'s own files import each other, never its face (index.ts): that is an import cycle.'}];
	for (const other of folders.filter(name => name !== folder)) {
		if (!allowed.has(other)) {
			patterns.push({group: [`**/${other}/**`, `**/${other}`], message: `source/${folder} may not import source/${other} (${where}).`});
		} else if (allowed.get(other) === 'types') {
			patterns.push({group: [`**/${other}/**`, `!**/${other}/index.js`], message: `source/${other} is used through its face, ${other}/index.ts.`}, {group: [`**/${other}/index.js`], allowTypeImports: true, message: `source/${folder} may import only types from source/${other}.`});
		} else if (faced.has(other)) {
			patterns.push({group: [`**/${other}/**`, `!**/${other}/index.js`], message: `source/${other} is used through its face, ${other}/index.ts (${where}).`});
		}
	}

	return patterns;
}

/** The same direction for import(), which no-restricted-imports does not read. */
function lazyImportSelectors(folder) {
	const allowed = new Set(layers[folder].map(entry => entry.split(':')[0]));
	const banned = folders.filter(name => name !== folder && !allowed.has(name));
	const deep = [...allowed].filter(name => faced.has(name));
	return [
		...(banned.length > 0 ? [{selector: `ImportExpression[source.value=/(^|${slash})(${banned.join('|')})(${slash}|$)/]`, message: `source/${folder} may not import ${banned.join(', ')} (${where}).`}] : []),
		...(deep.length > 0 ? [{selector: `ImportExpression[source.value=/(^|${slash})(${deep.join('|')})${slash}(?!index\\.js$)/]`, message: 'a folder is imported through its face, index.ts; a face hands out a loader for what it loads lazily.'}] : []),
	];
}

const domainPurity = {group: ['ink', 'ink-*', 'react', '@aws-sdk/*', 'node:*', 'fs', 'path', 'os', 'child_process', 'conf', 'zod'], message: 'source/domain is pure: no UI, AWS SDK, I/O or schema library.'};

export default tseslint.config(
	{ignores: ['dist/', 'node_modules/', 'coverage/']},
	js.configs.recommended,
	...tseslint.configs.recommended,
	{
		files: ['**/*.{ts,tsx}'],
		rules: {
			'@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
			'@typescript-eslint/consistent-type-imports': 'error',
		},
	},
	...folders.map(folder => ({
		files: [`source/${folder}/**/*.{ts,tsx}`],
		rules: {
			'no-restricted-imports': 'off',
			'@typescript-eslint/no-restricted-imports': ['error', {patterns: [
				...importPatterns(folder),
				...(folder === 'domain' ? [domainPurity, {group: ['../*', '../**'], message: 'source/domain imports nothing outside source/domain.'}] : []),
			]}],
			'no-restricted-syntax': ['error', ...lazyImportSelectors(folder)],
		},
	})),
	{
		// Sizes a reader can hold in mind; blank lines and comments count. A generated file would be
		// the only exception (with a comment saying why); there is none.
		files: ['source/**/*.{ts,tsx}'],
		rules: {
			'max-lines': ['error', {max: 500, skipBlankLines: false, skipComments: false}],
			'max-lines-per-function': ['error', {max: 120, skipBlankLines: false, skipComments: false, IIFEs: true}],
		},
	},
	{
		files: ['source/cli.tsx'],
		rules: {
			'@typescript-eslint/no-restricted-imports': ['error', {patterns: [{group: ['./*/**', '!./boot/**', '!./commands/main.js'], message: 'cli.tsx is the entry: boot/, then commands/main.ts.'}]}],
		},
	},
	{
		files: ['source/lambda.ts'],
		rules: {
			'@typescript-eslint/no-restricted-imports': ['error', {patterns: [{group: ['./*/**', '!./commands/lambda.js'], message: 'lambda.ts is the Lambda entry: commands/lambda.ts does the rest.'}]}],
		},
	},
	{
		files: ['source/domain/**/*.ts'],
		rules: {
			'no-restricted-globals': ['error', {name: 'Date', message: 'source/domain takes time as an argument.'}, {name: 'process', message: 'source/domain does no I/O.'}],
		},
	},
	{
		files: ['**/*.{js,mjs}'],
		languageOptions: {globals: {process: 'readonly', console: 'readonly', setTimeout: 'readonly', URL: 'readonly'}},
	},
);
