import fs from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {isolatedEnv, runCli, tempDir} from '../helpers/cli.js';
import {builtCli, prompt, useTerminals} from '../helpers/tmux.js';

/**
 * `envwatch config get|set|unset|path|edit` as a person runs them: the built CLI as a process, with
 * its own config dir (ENVWATCH_CONFIG_DIR, never the user's). What is set is what the next run
 * reads, and a change that would make the configuration invalid writes nothing.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function setup(extra: Record<string, string> = {}): {env: NodeJS.ProcessEnv; file: string; dir: string} {
	const env = isolatedEnv(extra);
	return {env, dir: env['ENVWATCH_CONFIG_DIR']!, file: path.join(env['ENVWATCH_CONFIG_DIR']!, 'config.json')};
}

/**
 * An editor for `config edit`: each call saves what it was given as seen-N.json and writes
 * edit-N.json (or exits with the code in exit-N) over it, N counting its calls.
 */
function editorIn(dir: string): string {
	const script = path.join(dir, 'editor.sh');
	fs.writeFileSync(script, [
		'#!/bin/sh',
		`d=${JSON.stringify(dir)}`,
		'n=$(($(cat "$d/count" 2>/dev/null || echo 0) + 1)); echo $n > "$d/count"',
		'cp "$1" "$d/seen-$n.json"',
		'if [ -f "$d/exit-$n" ]; then exit "$(cat "$d/exit-$n")"; fi',
		'cat "$d/edit-$n.json" > "$1"',
		'',
	].join('\n'), {mode: 0o755});
	return script;
}

describe('config set, get, unset and path', () => {
	it('set writes the user\'s store, which config path names and the next run reads; get reads it back', {tags: ['nodes']}, async () => {
		const {env, file} = setup();
		const where = await runCli(['config', 'path'], {env});
		expect(where).toMatchObject({code: 0, stdout: `${file}\n`});

		const set = await runCli(['config', 'set', 'environments.dev.maxHourlyUsd', '7'], {env});
		expect(set.stderr).toBe('');
		expect(set.code).toBe(0);
		expect(set.stdout).toBe(`environments.dev.maxHourlyUsd: 7 (was 5), written to ${file}\n`);
		expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({environments: {dev: {maxHourlyUsd: 7}}});
		expect(fs.statSync(file).mode & 0o777).toBe(0o600);

		const get = await runCli(['config', 'get', 'environments.dev.maxHourlyUsd'], {env});
		expect(get).toMatchObject({code: 0, stdout: '7\n'});
		const run = await runCli(['--demo', 'calm', '--once', '--json'], {env});
		expect(run.code).toBe(0);
		const dev = (JSON.parse(run.stdout) as Json)['environments'].find((view: Json) => view['name'] === 'dev') as Json;
		expect(dev['maxHourlyUsd']).toBe(7);
	});

	it('values are JSON where they parse and text otherwise', async () => {
		const {env, file} = setup();
		for (const [key, value] of [['policy.stopViolations', 'true'], ['regions', '["us-east-1", "eu-west-1"]'], ['envTagKey', 'Env'], ['roleTag.agent', '"7"'], ['breaker.resetAfterMinutes', '90']]) {
			const result = await runCli(['config', 'set', key!, value!], {env});
			expect(result.code, `${key} ${value}: ${result.stderr}`).toBe(0);
		}

		expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({policy: {stopViolations: true}, regions: ['us-east-1', 'eu-west-1'], envTagKey: 'Env', roleTag: {agent: '7'}, breaker: {resetAfterMinutes: 90}});
		const list = await runCli(['config', 'get', 'regions'], {env});
		expect(JSON.parse(list.stdout)).toEqual(['us-east-1', 'eu-west-1']);
	});

	it('a set that makes the configuration invalid is refused, exit 2, naming the key and what is expected; nothing is written', async () => {
		const {env, file} = setup();
		const invalid = await runCli(['config', 'set', 'environments.dev.maxHourlyUsd', '-1'], {env});
		expect(invalid.code).toBe(2);
		expect(invalid.stderr).toContain('environments.dev.maxHourlyUsd: -1 — expected a number greater than 0');
		expect(invalid.stderr).toContain(`nothing was written: ${file} is as it was`);
		expect(invalid.stdout).toBe('');
		expect(fs.existsSync(file)).toBe(false);

		await runCli(['config', 'set', 'pollIntervalSeconds', '20'], {env});
		const before = fs.readFileSync(file, 'utf8');
		const word = await runCli(['config', 'set', 'pollIntervalSeconds', 'often'], {env});
		expect(word.code).toBe(2);
		expect(word.stderr).toContain('pollIntervalSeconds: "often" — expected a number from 1 to 86400');
		const typo = await runCli(['config', 'set', 'environments.dev.maxHourly', '7'], {env});
		expect(typo.code).toBe(2);
		expect(typo.stderr).toContain('environments.dev.maxHourly: unknown key — did you mean environments.dev.maxHourlyUsd?');
		const missing = await runCli(['config', 'set', 'environments.dev.maxHourlyUsd'], {env});
		expect(missing.code).toBe(2);
		expect(missing.stderr).toContain('config set environments.dev.maxHourlyUsd: no value — expected a value after the key');
		expect(fs.readFileSync(file, 'utf8')).toBe(before);
	});

	it('unset takes a key out of the store; a typo that breaks every run can be unset, and path works while it is broken', async () => {
		const {env, file} = setup();
		fs.mkdirSync(path.dirname(file), {recursive: true});
		fs.writeFileSync(file, JSON.stringify({environments: {dev: {maxHourlyUsd: 7, windowMinuts: 20}}}));
		const broken = await runCli(['config', 'show'], {env});
		expect(broken.code).toBe(2);
		expect(broken.stderr).toContain('environments.dev.windowMinuts: unknown key — did you mean "windowMinutes"?');
		expect(await runCli(['config', 'path'], {env})).toMatchObject({code: 0, stdout: `${file}\n`});

		const typo = await runCli(['config', 'unset', 'environments.dev.windowMinuts'], {env});
		expect(typo.code).toBe(0);
		const cap = await runCli(['config', 'unset', 'environments.dev.maxHourlyUsd'], {env});
		expect(cap.stdout).toBe(`environments.dev.maxHourlyUsd: removed from ${file}; now 5 (from the layer below)\n`);
		expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({});
		expect(await runCli(['config', 'get', 'environments.dev.maxHourlyUsd'], {env})).toMatchObject({code: 0, stdout: '5\n'});
		const again = await runCli(['config', 'unset', 'environments.dev.maxHourlyUsd'], {env});
		expect(again).toMatchObject({code: 0, stdout: `environments.dev.maxHourlyUsd: not in ${file}; nothing to unset (it is 5)\n`});
	});

	it('get names a key no layer sets (exit 1) and refuses an unknown one (exit 2)', async () => {
		const {env} = setup();
		const unset = await runCli(['config', 'get', 'environments.dev.launchTemplate'], {env});
		expect(unset).toMatchObject({code: 1, stdout: ''});
		expect(unset.stderr).toContain('environments.dev.launchTemplate: not set — no layer sets it');
		const unknown = await runCli(['config', 'get', 'pollInterval'], {env});
		expect(unknown.code).toBe(2);
		expect(unknown.stderr).toContain('pollInterval: unknown key — did you mean pollIntervalSeconds?');
	});
});

describe('config edit', () => {
	it('opens $EDITOR on the store; a valid edit is written as typed', {tags: ['nodes']}, async () => {
		const dir = tempDir('envwatch-editor-');
		const {env, file} = setup({EDITOR: editorIn(dir)});
		await runCli(['config', 'set', 'pollIntervalSeconds', '20'], {env});
		const edited = '{\n\t"pollIntervalSeconds": 30,\n\t"environments": {"dev": {"maxHourlyUsd": 6}}\n}\n';
		fs.writeFileSync(path.join(dir, 'edit-1.json'), edited);
		const result = await runCli(['config', 'edit'], {env});
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(result.stdout).toBe(`${file}: written (checked with every layer)\n`);
		expect(JSON.parse(fs.readFileSync(path.join(dir, 'seen-1.json'), 'utf8'))).toEqual({pollIntervalSeconds: 20});
		expect(fs.readFileSync(file, 'utf8')).toBe(edited);
		expect(fs.statSync(file).mode & 0o777).toBe(0o600);
		// The draft lived in a private temporary dir, removed after.
		expect(fs.readdirSync(path.dirname(dir)).filter(name => name.startsWith('envwatch-edit-'))).toEqual([]);
	});

	it('an invalid edit is refused with every problem, exit 2, and the old file is kept; so is one whose editor fails', async () => {
		const dir = tempDir('envwatch-editor-');
		const {env, file} = setup({VISUAL: editorIn(dir), EDITOR: 'false'});
		await runCli(['config', 'set', 'pollIntervalSeconds', '20'], {env});
		const before = fs.readFileSync(file, 'utf8');
		fs.writeFileSync(path.join(dir, 'edit-1.json'), '{"pollIntervalSeconds": 0, "environments": {"dev": {"windowMinuts": 5}}}');
		const invalid = await runCli(['config', 'edit'], {env});
		expect(invalid.code).toBe(2);
		expect(invalid.stderr).toContain('pollIntervalSeconds: 0 — expected a number from 1 to 86400');
		expect(invalid.stderr).toContain('environments.dev.windowMinuts: unknown key — did you mean "windowMinutes"?');
		expect(invalid.stderr).toContain(`nothing was written: ${file} is as it was`);
		expect(fs.readFileSync(file, 'utf8')).toBe(before);

		fs.writeFileSync(path.join(dir, 'edit-2.json'), '{"pollIntervalSeconds": 30,\n  oops}');
		const malformed = await runCli(['config', 'edit'], {env});
		expect(malformed.code).toBe(2);
		expect(malformed.stderr).toContain(`config store (edited) ${file}:2:3: malformed JSON`);
		expect(fs.readFileSync(file, 'utf8')).toBe(before);

		fs.writeFileSync(path.join(dir, 'exit-3'), '1');
		const failed = await runCli(['config', 'edit'], {env});
		expect(failed.code).toBe(1);
		expect(failed.stderr).toContain(`exited with 1 — nothing was written: ${file} is as it was`);
		expect(fs.readFileSync(file, 'utf8')).toBe(before);
		expect(fs.readdirSync(path.dirname(dir)).filter(name => name.startsWith('envwatch-edit-'))).toEqual([]);
	});
});

const terminals = useTerminals();

describe('config edit on a terminal', () => {
	it('after an invalid edit, asks to edit again, and writes the corrected one', async () => {
		const dir = terminals.dir('envwatch-editor-');
		const config = terminals.dir('envwatch-config-');
		fs.writeFileSync(path.join(dir, 'edit-1.json'), '{"environments": {"dev": {"maxHourlyUsd": -3}}}\n');
		fs.writeFileSync(path.join(dir, 'edit-2.json'), '{"environments": {"dev": {"maxHourlyUsd": 3}}}\n');
		const session = await terminals.open(80, 24, {env: {ENVWATCH_CONFIG_DIR: config, EDITOR: editorIn(dir)}});
		session.run(`node ${builtCli} config edit`);
		await session.waitFor('Edit it again? [Y/n]');
		expect(session.capture()).toContain('environments.dev.maxHourlyUsd: -3 — expected a number greater than 0');
		expect(fs.existsSync(path.join(config, 'config.json'))).toBe(false);
		session.key('Enter');
		// The path is long: the line wraps at 80 columns. Then the shell's prompt is back.
		const screen = await session.waitFor(/: written \(checked[\s\S]*\n\S*envwatch-e2e\$ *\n/, 20_000);
		expect(screen.trimEnd().endsWith(prompt.trim())).toBe(true);
		// The second call was given the rejected edit, to correct rather than retype.
		expect(fs.readFileSync(path.join(dir, 'seen-2.json'), 'utf8')).toBe('{"environments": {"dev": {"maxHourlyUsd": -3}}}\n');
		expect(JSON.parse(fs.readFileSync(path.join(config, 'config.json'), 'utf8'))).toEqual({environments: {dev: {maxHourlyUsd: 3}}});
	});
});
