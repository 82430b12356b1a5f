/**
 * The words of an action's audit lines and summaries: what it was (`cascade stop of dev`) and how
 * its instances came out (`3 stopping, 1 already-stopped`). Pure.
 */
import type {InstanceOutcome} from '../providers/index.js';

export type ActionKind = 'stop' | 'cascade' | 'emergency' | 'undo' | 'violation' | 'respawn';

/**
 * How a person's stop of named instances (the dashboard's instance stop) is told to the breakers
 * and in action.json: it trips no breaker, as a violation stop does not, since the environment
 * keeps the agents not named. Its audit lines are a `stop`'s.
 */
export const partialStopKind = 'stop-instances';

export function tallyOf(results: readonly InstanceOutcome[]): string {
	const counts = new Map<string, number>();
	for (const result of results) {
		counts.set(result.result, (counts.get(result.result) ?? 0) + 1);
	}

	return [...counts].map(([result, count]) => `${count} ${result}`).join(', ');
}

export function describe(kind: ActionKind, environments: string[]): string {
	const names = environments.join(', ');
	switch (kind) {
		case 'emergency': {
			return `emergency stop of ${names}`;
		}

		case 'undo': {
			return `undo: start ${names}`;
		}

		case 'cascade': {
			return `cascade stop of ${names}`;
		}

		case 'violation': {
			return `stop agents over the policy of ${names}`;
		}

		case 'respawn': {
			return `stop re-spawned agents in ${names}`;
		}

		default: {
			return `stop ${names}`;
		}
	}
}

