import {fileURLToPath} from 'node:url';
import {ESLint} from 'eslint';
import {beforeAll, describe, expect, it} from 'vitest';

// The house's direction is an ESLint rule (eslint.config.js, `layers`); these keep the rule honest:
// each forbidden import below must fail lint, each allowed one must pass. lintText lints the text as
// if it were at filePath: nothing is written to the repository.
const root = fileURLToPath(new URL('../..', import.meta.url));
let eslint: ESLint;
beforeAll(() => {
	eslint = new ESLint({cwd: root});
});

async function problems(filePath: string, text: string, rules: readonly string[]): Promise<string[]> {
	const [result] = await eslint.lintText(text, {filePath: `${root}${filePath}`});
	return result!.messages.filter(message => rules.includes(message.ruleId ?? '')).map(message => message.message);
}

async function layeringProblems(filePath: string, text: string): Promise<string[]> {
	return problems(filePath, text, ['@typescript-eslint/no-restricted-imports', 'no-restricted-syntax']);
}

describe('the layering that lint enforces', () => {
	it.each([
		['a view importing the AWS provider', 'source/ui/components/Probe.tsx', 'import {AwsFleet} from \'../../providers/aws/fleet.js\';\nexport const probe = AwsFleet;\n'],
		['the engine importing a view', 'source/engine/probe.ts', 'import {Dashboard} from \'../ui/components/Dashboard.js\';\nexport const probe = Dashboard;\n'],
		['the domain importing the engine', 'source/domain/probe.ts', 'import {Monitor} from \'../engine/index.js\';\nexport const probe = Monitor;\n'],
		['a view reaching past the engine\'s face', 'source/ui/probe.ts', 'import type {Snapshot} from \'../engine/snapshot.js\';\nexport type Probe = Snapshot;\n'],
		['a lazy import against the direction', 'source/ui/probe.ts', 'export const probe = async () => import(\'../providers/index.js\');\n'],
		['notify importing the AWS clients', 'source/notify/probe.ts', 'import {clientConfig} from \'../providers/aws/clients.js\';\nexport const probe = clientConfig;\n'],
		['an engine file importing its own face', 'source/engine/state/probe.ts', 'import {Monitor} from \'../index.js\';\nexport const probe = Monitor;\n'],
		['the domain doing I/O', 'source/domain/probe.ts', 'import fs from \'node:fs\';\nexport const probe = fs;\n'],
	])('rejects %s', async (_name, filePath, text) => {
		expect(await layeringProblems(filePath, text)).not.toEqual([]);
	});

	it.each([
		['a view importing the engine\'s face', 'source/ui/components/Probe.tsx', 'import type {Snapshot} from \'../../engine/index.js\';\nexport type Probe = Snapshot;\n'],
		['the app loading the dashboard through its face', 'source/app/probe.ts', 'export const probe = async () => import(\'../ui/index.js\');\n'],
		['metrics taking a type from notify', 'source/metrics/probe.ts', 'import type {Notifier} from \'../notify/index.js\';\nexport type Probe = Notifier;\n'],
		['an engine file importing the domain\'s face', 'source/engine/state/probe.ts', 'import {messageOf} from \'../../domain/index.js\';\nexport const probe = messageOf;\n'],
	])('accepts %s', async (_name, filePath, text) => {
		expect(await layeringProblems(filePath, text)).toEqual([]);
	});
});

// The size limits are lint rules too (no file in source/ over 500 lines, no function over 120).
describe('the size limits that lint enforces in source/', () => {
	const body = (lines: number) => Array.from({length: lines}, (_, index) => `\tconst value${index} = ${index};`).join('\n');
	const sizeProblems = async (filePath: string, text: string) => problems(filePath, text, ['max-lines', 'max-lines-per-function']);

	it('rejects a function of 121 lines, accepts one of 120', async () => {
		expect(await sizeProblems('source/engine/probe.ts', `export function probe(): void {\n${body(119)}\n}\n`)).toEqual([expect.stringContaining('has too many lines (121)') as unknown]);
		expect(await sizeProblems('source/engine/probe.ts', `export function probe(): void {\n${body(118)}\n}\n`)).toEqual([]);
	});

	it('rejects a file of 501 lines, accepts one of 500', async () => {
		const file = (lines: number) => Array.from({length: lines}, (_, index) => `export const value${index} = ${index};`).join('\n');
		expect(await sizeProblems('source/domain/probe.ts', file(501))).toEqual([expect.stringContaining('Maximum allowed is 500') as unknown]);
		expect(await sizeProblems('source/domain/probe.ts', file(500))).toEqual([]);
	});
});
