import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import {describe, expect, test} from 'vitest';

// The answers layer is the only code that reads pages: every paginated AWS call in source/ goes
// through `paginate` (or `firstPage`, a one-page probe) in source/providers/aws/answers.ts, and no
// other code names a page token. A hand-written NextToken loop is how an endless or repeating answer
// went unnoticed; this test makes writing one fail `npm test`.
const root = path.resolve(import.meta.dirname, '../..');
/** Where page tokens may be named: the paginator, and the lean decoder that reads one out of the XML. */
const allowed = new Set(['source/providers/aws/answers.ts', 'source/providers/aws/describe.ts', 'source/providers/aws/lean-xml.ts']);
const tokenNames = new Set(['NextToken', 'NextPageToken', 'nextToken']);
const pagers = new Set(['paginate', 'firstPage']);

/**
 * The SDK's paginated operations, from its own models: a request with a `NextToken` or
 * `NextPageToken` member (GetCostAndUsage has no SDK paginator, but pages all the same).
 */
function paginatedCommands(): Set<string> {
	const commands = new Set<string>();
	const sdk = path.join(root, 'node_modules', '@aws-sdk');
	for (const client of fs.readdirSync(sdk).filter(name => name.startsWith('client-'))) {
		const models = path.join(sdk, client, 'dist-types', 'models');
		for (const file of fs.existsSync(models) ? fs.readdirSync(models).filter(name => name.endsWith('.d.ts')) : []) {
			const text = fs.readFileSync(path.join(models, file), 'utf8');
			for (const match of text.matchAll(/export interface (\w+)Request \{([\s\S]*?)\n\}/g)) {
				if (/\n\s+(NextToken|NextPageToken)\?: /.test(match[2]!)) {
					commands.add(`${match[1]!}Command`);
				}
			}
		}
	}

	return commands;
}

/** Where `text` (a TypeScript file called `file`) reads pages or names a page token outside the layer. */
function violations(file: string, text: string, commands: ReadonlySet<string>): string[] {
	const found: string[] = [];
	const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
	const where = (node: ts.Node) => `${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
	const insidePager = (node: ts.Node): boolean => {
		for (let parent = node.parent; parent; parent = parent.parent) {
			if (ts.isCallExpression(parent) && ts.isIdentifier(parent.expression) && pagers.has(parent.expression.text)) {
				return true;
			}
		}

		return false;
	};

	const visit = (node: ts.Node): void => {
		if (!allowed.has(file)) {
			if (ts.isIdentifier(node) && tokenNames.has(node.text)) {
				found.push(`${where(node)}: names the page token ${node.text}`);
			}

			if (ts.isElementAccessExpression(node) && ts.isStringLiteral(node.argumentExpression) && tokenNames.has(node.argumentExpression.text)) {
				found.push(`${where(node)}: reads the page token ['${node.argumentExpression.text}']`);
			}
		}

		if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && commands.has(node.expression.text) && !insidePager(node)) {
			found.push(`${where(node)}: sends ${node.expression.text} (a paginated call) outside paginate/firstPage`);
		}

		ts.forEachChild(node, visit);
	};

	visit(source);
	return found;
}

function sourceFiles(dir: string): string[] {
	return fs.readdirSync(path.join(root, dir), {withFileTypes: true}).flatMap(entry => {
		const relative = `${dir}/${entry.name}`;
		return entry.isDirectory() ? sourceFiles(relative) : /\.tsx?$/.test(entry.name) ? [relative] : [];
	});
}

describe('one answers layer for every AWS call', () => {
	const commands = paginatedCommands();

	test('the SDK\'s paginated calls are known, the ones envwatch makes among them', () => {
		for (const command of ['DescribeInstancesCommand', 'DescribeVolumesCommand', 'DescribeSpotPriceHistoryCommand', 'DescribeLaunchTemplateVersionsCommand', 'GetProductsCommand', 'GetCostAndUsageCommand', 'ListCostAllocationTagsCommand']) {
			expect(commands, command).toContain(command);
		}

		expect(commands).not.toContain('StopInstancesCommand');
		expect(commands).not.toContain('GetCallerIdentityCommand');
	});

	test('no code in source/ reads an SDK page directly: every paginated call goes through paginate or firstPage, and no page token is named elsewhere', () => {
		const found = sourceFiles('source').flatMap(file => violations(file, fs.readFileSync(path.join(root, file), 'utf8'), commands));
		expect(found).toEqual([]);
	});

	test('the check catches a hand-written NextToken loop (it is not a check that cannot fail)', () => {
		const loop = [
			'let token: string | undefined;',
			'do {',
			'	const page = await client.send(new DescribeInstancesCommand({MaxResults: 1000, NextToken: token}));',
			'	token = page.NextToken;',
			'	const other = page[\'NextPageToken\'];',
			'} while (token);',
			'const fine = paginate({send: async (paging, options) => client.send(new DescribeVolumesCommand({...paging}), options)});',
		].join('\n');
		expect(violations('source/providers/aws/fleet.ts', loop, commands)).toEqual([
			'source/providers/aws/fleet.ts:3: sends DescribeInstancesCommand (a paginated call) outside paginate/firstPage',
			'source/providers/aws/fleet.ts:3: names the page token NextToken',
			'source/providers/aws/fleet.ts:4: names the page token NextToken',
			'source/providers/aws/fleet.ts:5: reads the page token [\'NextPageToken\']',
		]);
	});
});
