import {describe, expect, it} from 'vitest';
import {LineSplitter, parseClientMessage, parseCommand} from '../../source/serve/protocol.js';

describe('LineSplitter', () => {
	it('joins lines split across chunks and splits several lines in one chunk', () => {
		const lines: string[] = [];
		const splitter = new LineSplitter(line => lines.push(line), () => undefined, 100);
		splitter.push(Buffer.from('{"a":'));
		splitter.push(Buffer.from('1}\n{"b":2}\n{"c"'));
		splitter.push(Buffer.from(':3}\n'));
		expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
	});

	it('reports an oversized line once, drops it up to its newline, and reads the next line whole', () => {
		const lines: string[] = [];
		const oversized: number[] = [];
		const splitter = new LineSplitter(line => lines.push(line), bytes => oversized.push(bytes), 10);
		splitter.push(Buffer.from('x'.repeat(8)));
		splitter.push(Buffer.from('x'.repeat(8)));
		splitter.push(Buffer.from('x'.repeat(50)));
		splitter.push(Buffer.from('xx\n{"ok":1}\n'));
		expect(oversized).toEqual([16]);
		expect(lines).toEqual(['{"ok":1}']);
	});
});

describe('parseClientMessage', () => {
	it('takes a hello and a command, `constructor` being a valid environment name', () => {
		expect(parseClientMessage('{"v":2,"type":"hello","actor":"ana@jump","client":"dashboard","pid":7}')).toEqual({v: 2, type: 'hello', actor: 'ana@jump', client: 'dashboard', pid: 7});
		expect(parseClientMessage('{"v":2,"type":"command","id":3,"command":{"kind":"stop","environment":"constructor"}}')).toEqual({v: 2, type: 'command', id: 3, command: {kind: 'stop', environment: 'constructor'}});
	});

	it('names what is wrong: not JSON, another version, an unknown type, a bad actor, a bad command', () => {
		expect(parseClientMessage('{nope')).toBe('not JSON');
		expect(parseClientMessage('[1]')).toBe('expected a JSON object');
		expect(parseClientMessage('{"v":1,"type":"hello"}')).toContain('protocol version 1: this server speaks version 2');
		expect(parseClientMessage('{"v":2,"type":"shutdown"}')).toContain('unknown message type "shutdown"');
		expect(parseClientMessage('{"v":2,"type":"hello","actor":"a b\\nc","client":"dashboard","pid":1}')).toContain('hello: expected "actor"');
		expect(parseClientMessage('{"v":2,"type":"command","id":"1","command":{"kind":"refresh"}}')).toContain('whole-number "id"');
	});
});

describe('parseCommand', () => {
	it('checks each kind\'s fields', () => {
		expect(parseCommand({kind: 'start', environment: 'dev', count: 2})).toEqual({kind: 'start', environment: 'dev', count: 2});
		expect(parseCommand({kind: 'start', environment: 'dev', count: 0})).toContain('whole number from 1 to 10000');
		expect(parseCommand({kind: 'start', environment: 'dev', count: 1.5})).toContain('whole number');
		expect(parseCommand({kind: 'stop'})).toContain('stop: expected "environment"');
		expect(parseCommand({kind: 'stop', environment: 'dev', confirm: 5})).toContain('"confirm" must be a string');
		expect(parseCommand({kind: 'undo', stopAt: 'yesterday'})).toContain('"stopAt" must be a number');
		expect(parseCommand({kind: 'cascade', environment: 'staging'})).toEqual({kind: 'cascade', environment: 'staging'});
		expect(parseCommand({kind: 'emergency', environments: ['x']})).toEqual({kind: 'emergency'});
		expect(parseCommand({kind: 'reset', environment: 'dev'})).toEqual({kind: 'reset', environment: 'dev'});
		expect(parseCommand({kind: 'pause-env', environment: 'staging'})).toEqual({kind: 'pause-env', environment: 'staging'});
		expect(parseCommand({kind: 'resume-env', environment: 'staging', extra: 1})).toEqual({kind: 'resume-env', environment: 'staging'});
		expect(parseCommand({kind: 'pause-env'})).toBe('pause-env: expected "environment", an environment name');
		expect(parseCommand({kind: 'resume-env', environment: ['dev']})).toBe('resume-env: expected "environment", an environment name');
		expect(parseCommand({kind: 'rm -rf'})).toContain('unknown kind "rm -rf"');
		expect(parseCommand(null)).toContain('expected an object');
	});
});
