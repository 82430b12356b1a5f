import {closest, endpointProblem, pollInterval, regionPattern} from '../config/index.js';
import {UsageError} from '../domain/index.js';
import {parseListen, type ListenAddress} from '../metrics/index.js';
import {isScenario, scenarioNames, scenarios, type ScenarioName} from '../providers/index.js';
import {parseFlags, prepare, spreadEnvironments, subcommands, unknownFlags, type Flags} from './flags.js';

// What the command line means: the Options of a run, every usage problem at once (flags.ts reads it).

export type CommandName = 'monitor' | 'once' | 'stop' | 'start' | 'reset' | 'undo' | 'config-path' | 'config-show' | 'config-get' | 'config-set' | 'config-unset' | 'config-edit' | 'doctor' | 'notify-test' | 'serve' | 'status';

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
	/** `--interval`: the configuration's pollIntervalSeconds for this run. */
	pollIntervalSeconds: number | undefined;
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
	/** --help's text, as meow lays it out. */
	helpText: string;
	version: boolean;
	/** `config get|set|unset KEY [VALUE]`: the key as typed, and the value as typed (set). */
	configKey?: string;
	configValue?: string;
};

/** The most agents one start may launch: what the serve socket takes (the dashboard's count has 4 digits). */
export const maxStartCount = 10_000;

/** Parses argv into options; every usage problem at once in a UsageError (exit 2). */
export function parseArgs(argv: readonly string[]): Options {
	const prepared = prepare(argv);
	const problems: string[] = [...unknownFlags(argv), ...prepared.problems];
	const {flags, input, help} = parseFlags(spreadEnvironments(prepared.argv));
	const {command: named, word, configKey, configValue} = commandOf(input, problems);
	const {command, environments, confirm, pauseEnv} = targetsOf(flags, named, problems);
	const {count, demo, pollIntervalSeconds, regions} = valuesOf(flags, command, problems);
	const {metricsListen} = combinationsOf(flags, command, word, problems);
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
		pollIntervalSeconds,
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
		helpText: help,
		version: flags.version,
		...(configKey === undefined ? {} : {configKey}),
		...(configValue === undefined ? {} : {configValue}),
	};
}

/** The subcommand the words name (`config show`, `notify test`, ...); anything else is a problem. */
function commandOf(input: string[], problems: string[]): {command: CommandName; word: string | undefined; configKey?: string; configValue?: string} {
	let command: CommandName = 'monitor';
	let configKey: string | undefined;
	let configValue: string | undefined;
	const word = input.shift();
	if (word === 'config') {
		const sub = input.shift();
		if (sub === 'path' || sub === 'show' || sub === 'edit') {
			command = `config-${sub}`;
		} else if (sub === 'get' || sub === 'set' || sub === 'unset') {
			command = `config-${sub}`;
			configKey = input.shift();
			configValue = sub === 'set' ? input.shift() : undefined;
			if (configKey === undefined) {
				problems.push(`config ${sub}: no key — expected a key, e.g. config ${sub} environments.dev.maxHourlyUsd${sub === 'set' ? ' 7' : ''}`);
			} else if (sub === 'set' && configValue === undefined) {
				problems.push(`config set ${configKey}: no value — expected a value after the key, e.g. config set environments.dev.maxHourlyUsd 7`);
			}
		} else if (sub === undefined) {
			problems.push('config: which one? — expected "config path" (where the store is) or "config show" (the effective configuration), or config get, set, unset or edit (the user\'s store)');
		} else {
			problems.push(`config ${sub}: unknown — expected "config path" or "config show", or config get, set, unset or edit`);
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
	} else if (word === 'reset' || word === 'undo' || word === 'serve' || word === 'status') {
		command = word;
	} else if (word !== undefined) {
		const near = closest(word, subcommands);
		problems.push(`${word}: unknown command — expected one of: ${subcommands.join(', ')}${near ? ` (did you mean ${near}?)` : ''}; environments go after --environments`);
	}

	if (input.length > 0) {
		problems.push(`${input.join(' ')}: unexpected argument${input.length > 1 ? 's' : ''} (see --help)`);
	}

	return {command, word, ...(configKey === undefined ? {} : {configKey}), ...(configValue === undefined ? {} : {configValue})};
}

const split = (values: readonly string[] | undefined) => values?.flatMap(value => value.split(',')).map(value => value.trim()).filter(Boolean);

/** The environments named (--environments, --stop-env, which makes the command stop), --confirm and --pause-env. */
function targetsOf(flags: Flags, named: CommandName, problems: string[]): {command: CommandName; environments: string[] | undefined; confirm: string[] | undefined; pauseEnv: string[] | undefined} {
	let command = named;
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

	return {command, environments, confirm, pauseEnv};
}

/** The flags' values: --count, --demo, --interval, --socket-group, the paths, --endpoint-url and --region. */
function valuesOf(flags: Flags, command: CommandName, problems: string[]): {count: number | undefined; demo: ScenarioName | undefined; pollIntervalSeconds: number | undefined; regions: string[] | undefined} {
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

	let pollIntervalSeconds: number | undefined;
	if (flags.interval !== undefined) {
		// Checked here, with every other usage problem, by the configuration's own rule.
		pollIntervalSeconds = Number(flags.interval);
		if (flags.interval.trim() === '' || !Number.isFinite(pollIntervalSeconds) || pollIntervalSeconds < pollInterval.min || pollIntervalSeconds > pollInterval.max) {
			problems.push(`--interval ${flags.interval || '(empty)'}: expected a number of seconds from ${pollInterval.min} to ${pollInterval.max}`);
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

	return {count, demo, pollIntervalSeconds, regions};
}

/** Flags that do not go together, or not with this command: --dry-run with --read-only, --json, --once, --metrics-listen, --target. */
function combinationsOf(flags: Flags, command: CommandName, word: string | undefined, problems: string[]): {metricsListen: ListenAddress | undefined} {
	if (flags.dryRun && flags.readOnly) {
		problems.push('--dry-run with --read-only: choose one — --read-only makes no call at all, --dry-run makes DryRun calls');
	}

	if (flags.json && !(command === 'config-show' || (command === 'monitor' && (flags.headless || flags.once)))) {
		problems.push(`--json: only with --headless, --once or config show${command === 'monitor' ? '' : `, not with ${word === 'config' ? command.replace('-', ' ') : word ?? '--stop-env'}`}`);
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

	return {metricsListen};
}
