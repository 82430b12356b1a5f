import {endpointProblem} from '../config/endpoint.js';
import {closest, regionPattern} from '../config/schema.js';
import {UsageError} from '../domain/errors.js';
import {parseListen, type ListenAddress} from '../metrics/listen.js';
import {isScenario, scenarioNames, scenarios, type ScenarioName} from '../providers/sim/scenarios.js';

export const help = `
  Usage
    $ envwatch [--environments dev staging] [options]     live dashboard (headless when not a terminal)
    $ envwatch --once [--json]                           one poll, print the status, exit 0 (3 on breach)
    $ envwatch --stop-env NAME [--yes]                   stop that environment's agents and exit
    $ envwatch stop --environments NAME... [--yes]       the same, as a subcommand
    $ envwatch reset --environments NAME... [--yes]      reset a tripped breaker: re-spawns are no longer stopped
    $ envwatch start --environments NAME [--count N] [--yes]   start agents within the policy
    $ envwatch config path | show                        where the user's store is / the effective configuration
    $ envwatch doctor                                    preflight checks against the AWS account
    $ envwatch notify test [--target N]                  send a test message to each notify target (exit 1 if one fails)
    $ envwatch serve [--socket-group GROUP]              run the engine as a service; dashboards attach to it
    $ envwatch status                                    who runs the engine on the state dir, who is attached

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
    --yes, -y           Confirm --stop-env / stop / start / reset without asking
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

const flagSpec = {
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

export type CommandName = 'monitor' | 'once' | 'stop' | 'start' | 'reset' | 'config-path' | 'config-show' | 'doctor' | 'notify-test' | 'serve' | 'status';

const subcommands = ['config', 'doctor', 'notify', 'reset', 'serve', 'start', 'status', 'stop'] as const;

export type Options = {
	command: CommandName;
	/** undefined: every configured environment. */
	environments: string[] | undefined;
	/** The flag the environments were given with, as typed (`--environments`, `-e`, `--stop-env`), for messages. */
	environmentsFlag: string;
	/** --confirm: the environments whose stop the user confirms by name. */
	confirm: string[] | undefined;
	/** --pause-env: environments whose automatic actions start paused; undefined: none. */
	pauseEnv: string[] | undefined;
	demo: ScenarioName | undefined;
	configFile: string | undefined;
	intervalSeconds: number | undefined;
	dryRun: boolean;
	readOnly: boolean;
	headless: boolean;
	json: boolean;
	yes: boolean;
	count: number | undefined;
	stateDir: string | undefined;
	auditLog: string | undefined;
	/** `--socket-group`: the group the engine's socket is given to. */
	socketGroup: string | undefined;
	profile: string | undefined;
	regions: string[] | undefined;
	endpointUrl: string | undefined;
	/** `--metrics-listen`: where to serve /metrics and /healthz; undefined: off. */
	metricsListen: ListenAddress | undefined;
	/** `notify test --target N`: the target's position (1-based) or name. */
	target: string | undefined;
	color: boolean;
	ascii: boolean;
	help: boolean;
	version: boolean;
};

/** The most agents one start may launch: what the serve socket takes (the dashboard's count has 4 digits). */
export const maxStartCount = 10_000;

const kebab = (name: string) => name.replaceAll(/[A-Z]/g, letter => `-${letter.toLowerCase()}`);

/** `--regions` is `--region` too (`--regions all`, `--regions us-east-1 eu-west-1`). */
const longFlags = [...Object.keys(flagSpec).map(name => kebab(name)), 'no-color', 'regions'];
const shortFlags = new Map(Object.entries(flagSpec).flatMap(([name, spec]) => ('shortFlag' in spec ? [[spec.shortFlag as string, kebab(name)] as const] : [])));

/** Flags that take one value: given twice, which one was meant is a guess. */
const singleValueFlags = new Set(Object.entries(flagSpec).filter(([, spec]) => spec.type === 'string' && !('isMultiple' in spec)).map(([name]) => `--${kebab(name)}`));

/** The unknown flags of argv, each with the real spelling it is nearest to. */
function unknownFlags(argv: readonly string[]): string[] {
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
function prepare(argv: readonly string[]): {argv: string[]; problems: string[]; environmentsFlag: string} {
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
function spreadEnvironments(argv: readonly string[]): string[] {
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
type Flags = {-readonly [Name in keyof typeof flagSpec]: FlagValue<(typeof flagSpec)[Name]>};

const specOf = new Map<string, [keyof typeof flagSpec, FlagSpec]>([...Object.entries(flagSpec).map(([name, spec]): [string, [keyof typeof flagSpec, FlagSpec]] => [kebab(name), [name as keyof typeof flagSpec, spec]]), ['regions', ['region', flagSpec.region]]]);

/**
 * The flags and words of argv (after prepare and spreadEnvironments). Unknown flags were reported
 * already (unknownFlags); here they only take their value, so it is not read as a word. A flag
 * that takes a value takes the next word unless that is a flag (a negative number is a value);
 * `--name=value` always. `--no-color` negates; `--yes=false` too. `-ey`: short flags together.
 */
function parseFlags(argv: readonly string[]): {flags: Flags; input: string[]} {
	const flags = Object.fromEntries(Object.entries(flagSpec).map(([name, spec]) => [name, 'default' in spec ? spec.default : undefined])) as Flags;
	const values = flags as Record<string, boolean | string | string[] | undefined>;
	const input: string[] = [];
	const isValue = (word: string | undefined): word is string => word !== undefined && (!word.startsWith('-') || /^-\d/.test(word));
	const set = (name: string, spec: FlagSpec, value: string | undefined): void => {
		if (spec.type === 'boolean') {
			values[name] = value === undefined || value !== 'false';
		} else if ('isMultiple' in spec) {
			values[name] = [...(values[name] as string[] | undefined) ?? [], value ?? ''];
		} else {
			values[name] = value ?? '';
		}
	};

	for (let index = 0; index < argv.length; index++) {
		const token = argv[index]!;
		if (token === '--') {
			input.push(...argv.slice(index + 1));
			break;
		}

		if (token.startsWith('--')) {
			const equals = token.indexOf('=');
			const name = token.slice(2, equals === -1 ? undefined : equals);
			let inline = equals === -1 ? undefined : token.slice(equals + 1);
			const negated = name.startsWith('no-') ? specOf.get(name.slice(3)) : undefined;
			if (negated?.[1].type === 'boolean' && inline === undefined) {
				values[negated[0]] = false;
				continue;
			}

			const known = specOf.get(name);
			if (inline === undefined && known?.[1].type !== 'boolean' && isValue(argv[index + 1])) {
				inline = argv[++index];
			}

			if (known) {
				set(known[0], known[1], inline);
			}

			continue;
		}

		if (token.length > 1 && token.startsWith('-') && !/^-\d/.test(token)) {
			const letters = [...token.slice(1)];
			if (!letters.every(letter => shortFlags.has(letter))) {
				// An unknown flag (reported already): it takes its value, as an unknown long one does.
				index += isValue(argv[index + 1]) ? 1 : 0;
				continue;
			}

			for (const [position, letter] of letters.entries()) {
				const [name, spec] = specOf.get(shortFlags.get(letter)!)!;
				const last = position === letters.length - 1;
				set(name, spec, spec.type !== 'boolean' && last && isValue(argv[index + 1]) ? argv[++index] : undefined);
			}

			continue;
		}

		input.push(token);
	}

	return {flags, input};
}

/** Parses argv into options; every usage problem at once in a UsageError (exit 2). */
export function parseArgs(argv: readonly string[]): Options {
	const prepared = prepare(argv);
	const problems: string[] = [...unknownFlags(argv), ...prepared.problems];
	const {flags, input} = parseFlags(spreadEnvironments(prepared.argv));
	let command: CommandName = 'monitor';
	const word = input.shift();
	if (word === 'config') {
		const sub = input.shift();
		if (sub === 'path') {
			command = 'config-path';
		} else if (sub === 'show') {
			command = 'config-show';
		} else if (sub === undefined) {
			problems.push('config: which one? — expected "config path" (where the store is) or "config show" (the effective configuration)');
		} else {
			problems.push(`config ${sub}: unknown — expected "config path" or "config show"`);
		}
	} else if (word === 'doctor') {
		command = 'doctor';
	} else if (word === 'notify') {
		const sub = input.shift();
		if (sub === 'test') {
			command = 'notify-test';
		} else {
			problems.push(`notify ${sub ?? ''}: unknown — expected "notify test"`.replace('  ', ' '));
		}
	} else if (word === 'stop') {
		command = 'stop';
	} else if (word === 'start') {
		command = 'start';
	} else if (word === 'reset' || word === 'serve' || word === 'status') {
		command = word;
	} else if (word !== undefined) {
		const near = closest(word, subcommands);
		problems.push(`${word}: unknown command — expected one of: ${subcommands.join(', ')}${near ? ` (did you mean ${near}?)` : ''}; environments go after --environments`);
	}

	if (input.length > 0) {
		problems.push(`${input.join(' ')}: unexpected argument${input.length > 1 ? 's' : ''} (see --help)`);
	}

	const split = (values: readonly string[] | undefined) => values?.flatMap(value => value.split(',')).map(value => value.trim()).filter(Boolean);
	let environments = flags.environments && flags.environments.length > 0 ? split(flags.environments) : undefined;
	if (flags.environments && flags.environments.length > 0 && environments?.length === 0) {
		problems.push('--environments: empty — expected one or more environment names');
	}

	const stopEnv = split(flags.stopEnv);
	if (flags.stopEnv !== undefined && flags.stopEnv.length > 0) {
		if (stopEnv?.length === 0) {
			problems.push('--stop-env: missing — expected an environment name, e.g. --stop-env dev');
		}

		if (command !== 'monitor') {
			problems.push('--stop-env: cannot be combined with a subcommand');
		}

		if (environments !== undefined) {
			problems.push(`--stop-env with --environments: choose one — --stop-env ${stopEnv?.join(',') ?? ''} stops exactly those; or use "stop --environments ..."`);
		}

		command = 'stop';
		environments = [...new Set(stopEnv ?? [])];
	}

	if (command === 'stop' && (environments === undefined || environments.length === 0)) {
		problems.push('stop: no environment — expected --environments NAME (or --stop-env NAME)');
	}

	if (command === 'start' && (environments === undefined || environments.length === 0)) {
		problems.push('start: no environment — expected --environments NAME');
	}

	if (command === 'reset' && (environments === undefined || environments.length === 0)) {
		problems.push('reset: no environment — expected --environments NAME (the environments whose breaker to reset)');
	}

	let confirm: string[] | undefined;
	if (flags.confirm !== undefined && flags.confirm.length > 0) {
		confirm = [...new Set(split(flags.confirm) ?? [])];
		if (confirm.length === 0) {
			problems.push('--confirm: missing — expected an environment name, e.g. --confirm production');
		}

		if (command !== 'stop') {
			problems.push('--confirm: only with stop or --stop-env (it confirms a stop by the environment\'s name)');
		}
	}

	let pauseEnv: string[] | undefined;
	if (flags.pauseEnv !== undefined && flags.pauseEnv.length > 0) {
		pauseEnv = [...new Set(split(flags.pauseEnv) ?? [])];
		if (pauseEnv.length === 0) {
			problems.push('--pause-env: missing — expected an environment name, e.g. --pause-env staging');
		}

		if (flags.once || (command !== 'monitor' && command !== 'serve')) {
			problems.push('--pause-env: only with a running engine (the dashboard, --headless or serve), not with --once, --stop-env or another subcommand');
		}
	}

	let count: number | undefined;
	if (flags.count !== undefined) {
		// Digits only (`1e3`, `0x10` and ` 5` are not counts a person types), and bounded:
		// 99999999999999999999 used to end in a RangeError, exit 1.
		count = /^\d{1,6}$/.test(flags.count) ? Number(flags.count) : Number.NaN;
		if (!Number.isInteger(count) || count < 1 || count > maxStartCount) {
			problems.push(`--count ${flags.count || '(empty)'}: expected a whole number of agents from 1 to ${maxStartCount}`);
		}

		if (command !== 'start') {
			problems.push('--count: only with start');
		}
	}

	let demo: ScenarioName | undefined;
	if (flags.demo !== undefined) {
		const name = flags.demo === '' ? 'dev-spike' : flags.demo;
		if (isScenario(name)) {
			demo = name;
		} else {
			problems.push(`--demo ${flags.demo}: unknown scenario — expected one of: ${scenarioNames.map(s => `${s} (${scenarios[s].description.split(':')[0]})`).join(', ')}`);
		}
	}

	let intervalSeconds: number | undefined;
	if (flags.interval !== undefined) {
		intervalSeconds = Number(flags.interval);
		if (flags.interval.trim() === '' || !Number.isFinite(intervalSeconds) || intervalSeconds < 1 || intervalSeconds > 86_400) {
			problems.push(`--interval ${flags.interval || '(empty)'}: expected a number of seconds from 1 to 86400`);
		}
	}

	if (flags.socketGroup !== undefined && command !== 'serve' && command !== 'monitor') {
		problems.push('--socket-group: only with serve or the dashboard (the processes that serve the socket)');
	}

	for (const [flag, value] of [['--config', flags.config], ['--state-dir', flags.stateDir], ['--audit-log', flags.auditLog], ['--socket-group', flags.socketGroup], ['--profile', flags.profile], ['--endpoint-url', flags.endpointUrl]] as const) {
		if (value !== undefined && value.trim() === '') {
			problems.push(`${flag}: missing value — expected ${flag === '--endpoint-url' ? 'a URL' : flag === '--profile' ? 'a profile name' : flag === '--socket-group' ? 'a group name or gid' : 'a path'}`);
		}
	}

	if (flags.endpointUrl?.trim()) {
		const problem = endpointProblem('--endpoint-url', flags.endpointUrl);
		if (problem) {
			problems.push(problem);
		}
	}

	const regions = flags.region && flags.region.length > 0 ? split(flags.region) : undefined;
	for (const region of regions ?? []) {
		if (region === 'all' ? regions!.length > 1 : !regionPattern.test(region)) {
			problems.push(`--region ${region}: expected a region name like us-east-1${region === 'all' ? ' — "all" (every region enabled for the account) goes alone' : ', or all'}`);
		}
	}

	if (flags.region && flags.region.length > 0 && regions?.length === 0) {
		problems.push('--region: missing — expected a region name like us-east-1');
	}

	if (flags.dryRun && flags.readOnly) {
		problems.push('--dry-run with --read-only: choose one — --read-only makes no call at all, --dry-run makes DryRun calls');
	}

	if (flags.json && !(command === 'config-show' || (command === 'monitor' && (flags.headless || flags.once)))) {
		problems.push(`--json: only with --headless, --once or config show${command === 'monitor' ? '' : `, not with ${word === 'config' ? 'config path' : word ?? '--stop-env'}`}`);
	}

	if (flags.once && command !== 'monitor') {
		problems.push('--once: cannot be combined with a subcommand or --stop-env');
	}

	let metricsListen: ListenAddress | undefined;
	if (flags.metricsListen !== undefined) {
		metricsListen = parseListen(flags.metricsListen, problems);
		if (flags.once || (command !== 'monitor' && command !== 'serve')) {
			problems.push('--metrics-listen: only with a running engine (the dashboard, --headless or serve), not with --once, --stop-env or another subcommand');
		}
	}

	if (flags.target !== undefined && (command !== 'notify-test' || flags.target.trim() === '')) {
		problems.push(command === 'notify-test' ? '--target: missing value — expected a target\'s position (1, 2, ...) or name' : '--target: only with "notify test"');
	}

	if (problems.length > 0) {
		throw new UsageError(problems);
	}

	return {
		command: flags.once ? 'once' : command,
		environments,
		environmentsFlag: prepared.environmentsFlag,
		confirm,
		pauseEnv,
		demo,
		configFile: flags.config,
		intervalSeconds,
		dryRun: flags.dryRun,
		readOnly: flags.readOnly,
		headless: flags.headless,
		json: flags.json,
		yes: flags.yes,
		count,
		stateDir: flags.stateDir,
		auditLog: flags.auditLog,
		socketGroup: flags.socketGroup,
		profile: flags.profile,
		regions,
		endpointUrl: flags.endpointUrl,
		metricsListen,
		target: flags.target,
		color: flags.color && !('NO_COLOR' in process.env && process.env['NO_COLOR'] !== ''),
		ascii: flags.ascii,
		help: flags.help,
		version: flags.version,
	};
}

