import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
	{
		files: ['source/domain/**/*.ts'],
		rules: {
			'no-restricted-imports': ['error', {
				patterns: [
					{group: ['ink', 'ink-*', 'react', '@aws-sdk/*', 'node:*', 'fs', 'path', 'os', 'child_process', 'conf'], message: 'source/domain is pure: no UI, AWS SDK or I/O imports.'},
				],
			}],
			'no-restricted-globals': ['error', {name: 'Date', message: 'source/domain takes time as an argument.'}, {name: 'process', message: 'source/domain does no I/O.'}],
		},
	},
	{
		files: ['**/*.{js,mjs}'],
		languageOptions: {globals: {process: 'readonly', console: 'readonly', setTimeout: 'readonly', URL: 'readonly'}},
	},
);
