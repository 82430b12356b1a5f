import type {Command, Snapshot} from '../engine/index.js';

// What `stop`, `start` and `reset` need of the engine, whether it runs in this process
// (commands/local.ts) or behind the socket (commands/remote.ts), and of the person at the terminal.

/** The streams a command writes to and asks on. */
export type CommandIo = {stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; stdin?: NodeJS.ReadableStream};
export type Confirm = (question: string, refusal: string) => Promise<boolean>;
export type Prompts = {confirm: Confirm; ask: (question: string) => Promise<string>};

/** The engine's side of `stop`, `start` and `reset`, whether it runs in this process or behind the socket. */
export type CommandSide = {
	/** `[dry run]`: this run's --dry-run when the engine runs here, the server's mode when attached. */
	dryRun: boolean;
	/** Where the figures in the questions come from ('' when counted afresh here). */
	asOf: string;
	monitorOnly: (name: string) => boolean;
	/**
	 * Runs after the monitor-only refusal and before the first question: a poll when the engine
	 * runs here, the server's snapshot (fetched once) when attached. Resolves to that snapshot.
	 */
	prepare: () => Promise<Snapshot>;
	/** What stopping `name` stops: its agents, the $/h they cost (null: unpriced), its total (null: stale, with why). */
	stopTargets: (name: string) => Promise<{ids: string[]; savesUsd: number | null; totalUsd: number | null; stale: string | null} | {error: string}>;
	/** The start check of `count` (undefined: the launch template's) more agents in `name`. */
	planStart: (name: string, count: number | undefined) => Promise<StartPlan | {refused: string; counted: boolean}>;
	command: (command: Command) => Promise<{outcome: string; summary: string} | undefined>;
};

export type StartPlan = {count: number; running: number; cap: number | undefined; type: string | undefined; cost: string};

export function isTerminal(io: CommandIo): boolean {
	return Boolean((io.stdin as NodeJS.ReadStream | undefined)?.isTTY && (io.stdout as NodeJS.WriteStream).isTTY);
}
