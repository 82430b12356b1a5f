// The command line's words and flags as written: --help's text, each flag's spec, and meow reading
// them (with every unknown flag named first). What they mean is app/args.ts.

import meow from 'meow';
import {closest} from '../config/index.js';
import {isScenario, scenarioNames} from '../providers/index.js';

export const help = `
  Usage
    $ envwatch [--environments dev staging] [options]     live dashboard (headless when not a terminal)
    $ envwatch --once [--json]                           one poll, print the status, exit 0 (3 on breach)
    $ envwatch --stop-env NAME [--yes]                   stop that environment's agents and exit
    $ envwatch stop --environments NAME... [--yes]       the same, as a subcommand
    $ envwatch reset --environments NAME... [--yes]      reset a tripped breaker: re-spawns are no longer stopped
    $ envwatch start --environments NAME [--count N] [--yes]   start agents within the policy
    $ envwatch undo [--environments NAME...] [--yes]     start exactly the instances the last stop stopped
    $ envwatch config path | show                        where the user's store is / the effective configuration
    $ envwatch config get | set | unset KEY [VALUE]      read a key / change it in the user's store (checked first)
    $ envwatch config edit                               edit the user's store in $VISUAL or $EDITOR (checked after)
    $ envwatch doctor                                    preflight checks against the AWS account
    $ envwatch notify test [--target N]                  send a test message to each notify target (exit 1 if one fails)
    $ envwatch serve [--socket-group GROUP]              run the engine as a service; dashboards attach to it
    $ envwatch status                                    who runs the engine on the state dir, who is attached

  A config KEY is dotted: environments.dev.maxHourlyUsd, prices.m5.large. A VALUE is read as JSON where it
  parses (7 a number, true, null, '["a","b"]' a list, '"7"' the text 7) and as text otherwise (Environment).

  Options
    --environments, -e  Environments to monitor (names or dev,staging)   [default: all configured]
    --demo [scenario]   Use the built-in simulated account               [default scenario: dev-spike]
                        scenarios: ${scenarioNames.join(', ')}
    --config FILE       A team configuration file (JSON), over the user's store
    --interval SECONDS  Poll interval, 1 or more                        [default: 15; 5 with --demo]
    --dry-run           Act with EC2's DryRun flag: check permissions, stop nothing
    --read-only         Make no stop or start call at all
    --headless          No dashboard: one line per poll and per decision or action
    --json              With --headless, --once or config show: JSON (NDJSON) output
    --once              One poll using the persisted windows, then exit
    --stop-env NAME     Stop NAME's agents (asks first unless --yes)
    --pause-env NAME    Start with automatic actions paused for NAME only (repeatable or a,b):
                        still polled, shown and alerted on, never stopped automatically
    --count N           Agents to start (start)                          [default: launchTemplate.count or 1]
    --yes, -y           Confirm --stop-env / stop / start / reset / undo without asking
    --confirm NAME      With stop: confirm stopping NAME by its name (repeatable or a,b);
                        a monitor-only environment (production) needs it: --yes alone is refused
    --state-dir DIR     Where sample history, last stop and billing cache live
    --audit-log FILE    The audit log (JSON lines)                       [default: <state-dir>/audit.log]
    --socket-group G    Group of <state-dir>/envwatch.sock (mode 0660): who may attach and act
    --profile NAME      AWS profile
    --region REGION     AWS region (repeatable; overrides configured regions); all: every enabled one
    --endpoint-url URL  AWS endpoint (LocalStack, moto); AWS_ENDPOINT_URL* work too
    --metrics-listen ADDR  Serve Prometheus /metrics and /healthz on HOST:PORT [off; a bare PORT: loopback]
    --no-color          No colour (NO_COLOR is honoured too)
    --ascii             No box drawing or block glyphs
    --help, --version

  Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error, 3 breach found by --once
`;

export const flagSpec = {
	environments: {type: 'string', shortFlag: 'e', isMultiple: true},
	demo: {type: 'string'},
	config: {type: 'string'},
	interval: {type: 'string'},
	dryRun: {type: 'boolean', default: false},
	readOnly: {type: 'boolean', default: false},
	headless: {type: 'boolean', default: false},
	json: {type: 'boolean', default: false},
	once: {type: 'boolean', default: false},
	stopEnv: {type: 'string', isMultiple: true},
	pauseEnv: {type: 'string', isMultiple: true},
	yes: {type: 'boolean', shortFlag: 'y', default: false},
	confirm: {type: 'string', isMultiple: true},
	count: {type: 'string'},
	stateDir: {type: 'string'},
	auditLog: {type: 'string'},
	socketGroup: {type: 'string'},
	profile: {type: 'string'},
	region: {type: 'string', isMultiple: true},
	endpointUrl: {type: 'string'},
	metricsListen: {type: 'string'},
	target: {type: 'string'},
	color: {type: 'boolean', default: true},
	ascii: {type: 'boolean', default: false},
	help: {type: 'boolean', default: false},
	version: {type: 'boolean', default: false},
} as const;

export const subcommands = ['config', 'doctor', 'notify', 'reset', 'serve', 'start', 'status', 'stop', 'undo'] as const;

const kebab = (name: string) => name.replaceAll(/[A-Z]/g, letter => `-${letter.toLowerCase()}`);

/** `--regions` is `--region` too (`--regions all`, `--regions us-east-1 eu-west-1`). */
const longFlags = [...Object.keys(flagSpec).map(name => kebab(name)), 'no-color', 'regions'];

const shortFlags = new Map(Object.entries(flagSpec).flatMap(([name, spec]) => ('shortFlag' in spec ? [[spec.shortFlag as string, kebab(name)] as const] : [])));

/** Flags that take one value: given twice, which one was meant is a guess. */
const singleValueFlags = new Set(Object.entries(flagSpec).filter(([, spec]) => spec.type === 'string' && !('isMultiple' in spec)).map(([name]) => `--${kebab(name)}`));

/** The unknown flags of argv, each with the real spelling it is nearest to. */
export function unknownFlags(argv: readonly string[]): string[] {
	const problems: string[] = [];
	for (const token of argv) {
		if (token === '--') {
			break;
		}

		const match = /^(--?)([^=]+)/.exec(token);
		if (!match || token === '-' || /^-\d/.test(token)) {
			continue;
		}

		const [, dashes, name] = match as unknown as [string, string, string];
		if (dashes === '--') {
			if (!longFlags.includes(name)) {
				// --e: the short flag -e with two dashes; otherwise the nearest long flag.
				const short = shortFlags.get(name);
				const near = short ? undefined : closest(name, longFlags);
				problems.push(`${token}: unknown flag${short ? ` — did you mean -${name} (--${short})?` : near ? ` — did you mean --${near}?` : ''} (see --help)`);
			}

			continue;
		}

		// -ey: short flags together; -interval: a long flag with one dash.
		const unknown = [...name].filter(letter => !shortFlags.has(letter));
		if (unknown.length === 0) {
			continue;
		}

		const near = name.length > 1 ? closest(name, longFlags) : undefined;
		const shorts = [...shortFlags].map(([letter, long]) => `-${letter} (--${long})`).join(', ');
		problems.push(`${token}: unknown flag — ${near ? `did you mean --${near}?` : `the short flags are ${shorts}`} (see --help)`);
	}

	return problems;
}

/**
 * Before the flags are read: a single-value flag given twice is a problem (its later copies are
 * dropped), and `--demo WORD` takes WORD as the scenario only when it is not a subcommand.
 */
export function prepare(argv: readonly string[]): {argv: string[]; problems: string[]; environmentsFlag: string} {
	const result: string[] = [];
	const problems: string[] = [];
	const seen = new Map<string, string>();
	let environmentsFlag: string | undefined;
	for (let index = 0; index < argv.length; index++) {
		const token = argv[index]!;
		if (token === '--') {
			result.push(...argv.slice(index));
			break;
		}

		const name = token.split('=', 1)[0]!;
		const inline = token.includes('=');
		const next = argv[index + 1];
		const takesNext = !inline && next !== undefined && !next.startsWith('-');
		if (['--environments', '-e', '--stop-env'].includes(name)) {
			environmentsFlag ??= name;
		}

		if (singleValueFlags.has(name)) {
			const value = inline ? token.slice(name.length + 1) : takesNext ? next : '';
			const first = seen.get(name);
			if (first !== undefined) {
				problems.push(`${name}: given more than once (${name} ${first || '(no value)'}, ${name} ${value || '(no value)'}) — expected it once`);
				index += takesNext && !(name === '--demo' && isSubcommand(next)) ? 1 : 0;
				continue;
			}

			seen.set(name, value);
		}

		if (name === '--demo' && takesNext && isSubcommand(next)) {
			// `--demo start -e staging`: the default scenario, and start is the subcommand.
			result.push('--demo=');
			continue;
		}

		result.push(token);
	}

	return {argv: result, problems, environmentsFlag: environmentsFlag ?? '--environments'};
}

function isSubcommand(word: string): boolean {
	return (subcommands as readonly string[]).includes(word) && !isScenario(word);
}

/**
 * `--environments dev staging` takes every following word up to the next flag (a flag alone would
 * take only the first), and `dev,staging` splits on commas.
 */
export function spreadEnvironments(argv: readonly string[]): string[] {
	const result: string[] = [];
	for (let index = 0; index < argv.length; index++) {
		const token = argv[index]!;
		result.push(token);
		if (token === '--environments' || token === '-e' || token === '--region' || token === '--regions' || token === '--pause-env') {
			while (index + 1 < argv.length && !argv[index + 1]!.startsWith('-')) {
				index++;
				result.push(argv[index]!);
				if (index + 1 < argv.length && !argv[index + 1]!.startsWith('-')) {
					result.push(token);
				}
			}
		}
	}

	return result;
}

type FlagSpec = (typeof flagSpec)[keyof typeof flagSpec];

type FlagValue<Spec extends FlagSpec> = Spec extends {type: 'boolean'} ? boolean : Spec extends {isMultiple: true} ? string[] | undefined : string | undefined;

export type Flags = {-readonly [Name in keyof typeof flagSpec]: FlagValue<(typeof flagSpec)[Name]>};

const specOf = new Map<string, [keyof typeof flagSpec, FlagSpec]>([...Object.entries(flagSpec).map(([name, spec]): [string, [keyof typeof flagSpec, FlagSpec]] => [kebab(name), [name as keyof typeof flagSpec, spec]]), ['regions', ['region', flagSpec.region]]]);

const isValue = (word: string | undefined): word is string => word !== undefined && (!word.startsWith('-') || /^-\d/.test(word));

/**
 * argv as meow is to read it, and the repeatable flags given with no value. meow reads a boolean
 * flag's inline value other than true as false, where envwatch reads anything but `false` as true
 * (`--read-only=1` is read-only, never a run that acts): such a flag is passed bare. And meow reads
 * a repeatable flag given with no value (`--stop-env` alone, `-e --once`, `--environments=`, `-ey`)
 * as an empty list, the same as a flag not given at all, so `--stop-env` alone would open the
 * dashboard and stop nothing: each is given an empty value after meow, which the checks of
 * app/args.ts name ("--stop-env: missing ...").
 */
function forMeow(argv: readonly string[]): {argv: string[]; empty: Array<keyof typeof flagSpec>} {
	const result: string[] = [];
	const empty: Array<keyof typeof flagSpec> = [];
	for (const [index, token] of argv.entries()) {
		if (token === '--') {
			result.push(...argv.slice(index));
			break;
		}

		const inline = token.indexOf('=');
		const long = token.startsWith('--') ? specOf.get(token.slice(2, inline === -1 ? undefined : inline)) : undefined;
		if (long?.[1].type === 'boolean' && inline !== -1) {
			result.push(token.slice(inline + 1) === 'false' ? token : token.slice(0, inline));
			continue;
		}

		result.push(token);
		if (long && 'isMultiple' in long[1] && !(inline === -1 ? isValue(argv[index + 1]) : token.length > inline + 1)) {
			empty.push(long[0]);
		}

		// -ey: every letter but the last has no value; the last takes the next word.
		const letters = /^-[a-z]+$/i.test(token) ? [...token.slice(1)] : [];
		if (letters.every(letter => shortFlags.has(letter))) {
			for (const [position, letter] of letters.entries()) {
				const [name, spec] = specOf.get(shortFlags.get(letter)!)!;
				if ('isMultiple' in spec && (position < letters.length - 1 || !isValue(argv[index + 1]))) {
					empty.push(name);
				}
			}
		}
	}

	return {argv: result, empty};
}

/**
 * A value of meow's as its flag's type. `--no-environments` (reported by unknownFlags) is `false`
 * to meow: not given, here. meow's empty list for a repeatable flag not given is undefined, as it
 * always was.
 */
function typed(spec: FlagSpec, value: unknown): boolean | string | string[] | undefined {
	if (spec.type === 'boolean') {
		return typeof value === 'boolean' ? value : spec.default;
	}

	if ('isMultiple' in spec) {
		const list = Array.isArray(value) ? value.filter(item => typeof item === 'string') : [];
		return list.length > 0 ? list : undefined;
	}

	return typeof value === 'string' ? value : undefined;
}

/** flagSpec as meow takes it: `--regions` is an alias of `--region`. */
const meowFlags = {...flagSpec, region: {...flagSpec.region, aliases: ['regions']}};

/**
 * The flags and words of argv (after prepare and spreadEnvironments), read by meow, as Ink's own CLI
 * template does; its help text too. Unknown flags were reported already (unknownFlags); here they
 * only take their value, so it is not read as a word. A flag that takes a value takes the next word
 * unless that is a flag (a negative number is a value); `--name=value` always. `--no-color` negates;
 * `--yes=false` (and `--yes false`) too. `-ey`: short flags together.
 */
export function parseFlags(argv: readonly string[]): {flags: Flags; input: string[]; help: string} {
	const prepared = forMeow(argv);
	const cli = meow(help, {
		importMeta: import.meta,
		argv: prepared.argv,
		flags: meowFlags,
		// Given, so meow reads no package.json as envwatch starts; its bin's name is the process title.
		pkg: {name: 'envwatch', bin: {envwatch: 'dist/bin/cli.js'}},
		description: false,
		allowUnknownFlags: true,
		autoHelp: false,
		autoVersion: false,
	});
	const values = cli.flags as Record<string, unknown>;
	const flags = Object.fromEntries(Object.entries(flagSpec).map(([name, spec]) => [name, typed(spec, values[name])])) as Flags;
	const lists = flags as unknown as Record<string, string[] | undefined>;
	for (const name of prepared.empty) {
		lists[name] = [...lists[name] ?? [], ''];
	}

	return {flags, input: cli.input.map(String), help: cli.help};
}
