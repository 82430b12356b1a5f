import {describe, expect, it} from 'vitest';
import {parseArgs} from '../../source/app/args.js';
import {endpointEnvProblems, endpointProblem} from '../../source/config/endpoint.js';
import {UsageError} from '../../source/domain/errors.js';

function problems(argv: string[]): string[] {
	try {
		parseArgs(argv);
	} catch (error) {
		expect(error).toBeInstanceOf(UsageError);
		return (error as UsageError).problems;
	}

	throw new Error('expected a UsageError');
}

describe('parseArgs', () => {
	it('--confirm is repeatable and takes comma lists, for stop', () => {
		const options = parseArgs(['stop', '-e', 'production', '--confirm', 'production,staging', '--confirm', 'dev', '--confirm=production', '--yes']);
		expect(options).toMatchObject({command: 'stop', environments: ['production'], confirm: ['production', 'staging', 'dev'], yes: true, environmentsFlag: '-e'});
		expect(parseArgs(['--stop-env', 'production', '--confirm', 'production'])).toMatchObject({command: 'stop', confirm: ['production'], environmentsFlag: '--stop-env'});
		expect(parseArgs(['stop', '--environments', 'dev']).confirm).toBeUndefined();
		expect(problems(['stop', '-e', 'dev', '--confirm', ','])).toEqual(['--confirm: missing — expected an environment name, e.g. --confirm production']);
		expect(problems(['start', '-e', 'dev', '--confirm', 'dev'])).toEqual(['--confirm: only with stop or --stop-env (it confirms a stop by the environment\'s name)']);
	});

	it('--pause-env takes names like --environments (several words, a,b, repeated), only where an engine runs', () => {
		expect(parseArgs(['--pause-env', 'staging']).pauseEnv).toEqual(['staging']);
		expect(parseArgs(['--pause-env', 'staging', 'dev', '--headless']).pauseEnv).toEqual(['staging', 'dev']);
		expect(parseArgs(['--pause-env', 'staging,dev', '--pause-env=qa', '--pause-env', 'dev'])).toMatchObject({command: 'monitor', pauseEnv: ['staging', 'dev', 'qa']});
		expect(parseArgs(['serve', '--pause-env', 'staging'])).toMatchObject({command: 'serve', pauseEnv: ['staging']});
		expect(parseArgs([]).pauseEnv).toBeUndefined();
		expect(problems(['--pause-env', ','])).toEqual(['--pause-env: missing — expected an environment name, e.g. --pause-env staging']);
		const elsewhere = '--pause-env: only with a running engine (the dashboard, --headless or serve), not with --once, --stop-env or another subcommand';
		expect(problems(['--once', '--pause-env', 'staging'])).toEqual([elsewhere]);
		expect(problems(['stop', '-e', 'dev', '--pause-env', 'staging'])).toEqual([elsewhere]);
		expect(problems(['--pause-nev', 'staging'])[0]).toBe('--pause-nev: unknown flag — did you mean --pause-env? (see --help)');
	});

	it('reset takes --environments (and --yes), like stop', () => {
		expect(parseArgs(['reset', '--environments', 'dev', 'staging', '--yes'])).toMatchObject({command: 'reset', environments: ['dev', 'staging'], yes: true});
		expect(problems(['reset'])).toEqual(['reset: no environment — expected --environments NAME (the environments whose breaker to reset)']);
		expect(problems(['reset', '-e', 'dev', '--once'])).toEqual(['--once: cannot be combined with a subcommand or --stop-env']);
	});

	it('a word after --demo is the scenario unless it is a subcommand', () => {
		expect(parseArgs(['--demo', 'start', '-e', 'staging'])).toMatchObject({command: 'start', demo: 'dev-spike', environments: ['staging']});
		expect(parseArgs(['--demo', 'calm', 'stop', '-e', 'dev'])).toMatchObject({command: 'stop', demo: 'calm'});
		expect(parseArgs(['--demo', 'reset', '-e', 'dev'])).toMatchObject({command: 'reset', demo: 'dev-spike'});
		expect(parseArgs(['--demo'])).toMatchObject({command: 'monitor', demo: 'dev-spike'});
		expect(problems(['--demo', 'nope'])[0]).toMatch(/^--demo nope: unknown scenario/);
	});

	it('a repeated single-value flag is a problem even when the values agree', () => {
		expect(problems(['--demo', 'calm', '--demo', 'calm'])).toEqual(['--demo: given more than once (--demo calm, --demo calm) — expected it once']);
		expect(problems(['--state-dir=/a', '--state-dir', '/b'])).toEqual(['--state-dir: given more than once (--state-dir /a, --state-dir /b) — expected it once']);
		// Repeatable flags stay repeatable.
		expect(parseArgs(['-e', 'dev', '--environments', 'staging', '--region', 'us-east-1', '--region', 'eu-west-1'])).toMatchObject({environments: ['dev', 'staging'], regions: ['us-east-1', 'eu-west-1']});
		// `--regions` is `--region` too; `all`: every region enabled for the account, alone.
		expect(parseArgs(['--regions', 'all'])).toMatchObject({regions: ['all']});
		expect(parseArgs(['--regions', 'us-east-1', 'eu-west-1'])).toMatchObject({regions: ['us-east-1', 'eu-west-1']});
		expect(() => parseArgs(['--region', 'all', '--region', 'us-east-1'])).toThrow('--region all: expected a region name like us-east-1 — "all" (every region enabled for the account) goes alone');
	});

	it('unknown flags are answered with real spellings', () => {
		expect(problems(['--enviroment', 'dev'])).toEqual(['--enviroment: unknown flag — did you mean --environments? (see --help)']);
		expect(problems(['-interval', '5'])[0]).toBe('-interval: unknown flag — did you mean --interval? (see --help)');
		expect(problems(['--e', 'dev', '--y'])).toEqual([
			'--e: unknown flag — did you mean -e (--environments)? (see --help)',
			'--y: unknown flag — did you mean -y (--yes)? (see --help)',
		]);
	});

	it('a flag that needs a value and has none is a problem, never ignored', () => {
		// --stop-env alone used to open the dashboard, stopping nothing, without a word.
		expect(problems(['--stop-env'])[0]).toBe('--stop-env: missing — expected an environment name, e.g. --stop-env dev');
		expect(problems(['-e', '--once'])).toEqual(['--environments: empty — expected one or more environment names']);
		expect(problems(['--environments='])).toEqual(['--environments: empty — expected one or more environment names']);
		expect(problems(['--interval', '--once'])).toEqual(['--interval (empty): expected a number of seconds from 1 to 86400']);
		expect(problems(['--interval', '-5'])).toEqual(['--interval -5: expected a number of seconds from 1 to 86400']);
		// Each repeatable flag: meow reads one given empty as one not given, an empty list.
		expect(problems(['stop', '-e', 'dev', '--confirm'])).toEqual(['--confirm: missing — expected an environment name, e.g. --confirm production']);
		expect(problems(['--pause-env', '--headless'])).toEqual(['--pause-env: missing — expected an environment name, e.g. --pause-env staging']);
		expect(problems(['--regions='])).toEqual(['--region: missing — expected a region name like us-east-1']);
		expect(problems(['stop', '-ye'])).toEqual(['--environments: empty — expected one or more environment names', 'stop: no environment — expected --environments NAME (or --stop-env NAME)']);
	});

	it('reads flags as the help shows them: --name value, --name=value, short flags together, --no-color', () => {
		expect(parseArgs(['-ye', 'dev,staging', '--interval=5', '--no-color', '--ascii'])).toMatchObject({yes: true, environments: ['dev', 'staging'], pollIntervalSeconds: 5, color: false, ascii: true});
		expect(parseArgs(['--yes=false', '--once', '--json'])).toMatchObject({yes: false, command: 'once', json: true});
		// After --, a word that looks like a flag is a word.
		expect(problems(['--', '--once'])[0]).toMatch(/^--once: unknown command/);
		// An unknown flag takes its value with it: one problem, not a second about a stray word.
		expect(problems(['--bogus', 'x', '--once'])).toEqual(['--bogus: unknown flag (see --help)']);
		// Anything but false is true: --read-only=1 never becomes a run that acts (meow alone reads it as false).
		expect(parseArgs(['--read-only=1', '--dry-run=false'])).toMatchObject({readOnly: true, dryRun: false});
		// --no-X of a flag that takes a value is an unknown flag, exit 2, not a TypeError later.
		expect(problems(['--no-environments', '--no-stop-env'])).toEqual([
			'--no-environments: unknown flag — did you mean --environments? (see --help)',
			'--no-stop-env: unknown flag — did you mean --stop-env? (see --help)',
		]);
	});
});

describe('bad input is named, escaped and bounded', () => {
	it('--count past what can be started is refused by parseArgs, not a RangeError later', () => {
		expect(problems(['start', '-e', 'dev', '--count', '99999999999999999999'])).toEqual(['--count 99999999999999999999: expected a whole number of agents from 1 to 10000']);
		expect(problems(['start', '-e', 'dev', '--count', '1e3'])).toEqual(['--count 1e3: expected a whole number of agents from 1 to 10000']);
		expect(problems(['start', '-e', 'dev', '--count', '0x10'])).toEqual(['--count 0x10: expected a whole number of agents from 1 to 10000']);
		expect(parseArgs(['start', '-e', 'dev', '--count', '10000']).count).toBe(10_000);
	});

	it('control characters a user typed are shown escaped in every problem (an ESC sequence would clear the screen)', () => {
		const [problem] = problems(['--interval', '\u001B[2J\u001B[H5', '--headless']);
		expect(problem).toBe('--interval \\x1b[2J\\x1b[H5: expected a number of seconds from 1 to 86400');
		expect(problems(['bad\u0007\u009Bword'])[0]).toMatch(/^bad\\x07\\x9bword: unknown command/);
		// One helper for all messages: the error itself escapes, whoever builds it.
		const error = new UsageError(['--state-dir /tmp/\u001B]0;owned\u0007: cannot create it'], 'read from \u001B[31mred');
		expect(error.problems).toEqual(['--state-dir /tmp/\\x1b]0;owned\\x07: cannot create it']);
		expect(error.hint).toBe('read from \\x1b[31mred');
		// eslint-disable-next-line no-control-regex -- no control character may be left
		expect(error.message).not.toMatch(/[\u0000-\u001F\u007F-\u009F]/);
		// Bidirectional overrides, which reorder what is shown, too; ordinary text (é, ∞, —) is left alone.
		expect(new UsageError('a\u202Eb é ∞ —').problems).toEqual(['a\\u202eb é ∞ —']);
	});

	it('the endpoint check is one, for --endpoint-url and the AWS_ENDPOINT_URL* variables alike', () => {
		expect(problems(['--endpoint-url', 'ftp://x'])).toEqual(['--endpoint-url ftp://x: expected an http(s) URL with a host, e.g. http://127.0.0.1:5000']);
		expect(endpointProblem('AWS_ENDPOINT_URL', 'ftp://x')).toBe('AWS_ENDPOINT_URL ftp://x: expected an http(s) URL with a host, e.g. http://127.0.0.1:5000');
		expect(endpointEnvProblems({AWS_ENDPOINT_URL_EC2: 'http://127.0.0.1:5000', AWS_ENDPOINT_URL: 'ftp://x', AWS_ENDPOINT_URL_STS: 'https://user:pw@sts.example.com'})).toEqual([
			'AWS_ENDPOINT_URL ftp://x: expected an http(s) URL with a host, e.g. http://127.0.0.1:5000',
			'AWS_ENDPOINT_URL_STS: has a user name or password in it — expected an endpoint URL without credentials (use --profile or the AWS_* variables)',
		]);
		expect(endpointEnvProblems({AWS_ENDPOINT_URL: ''})).toEqual([]);
	});
});
