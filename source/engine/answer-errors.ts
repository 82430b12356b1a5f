import {messageOf} from './state/record.js';

// A provider's failed answer as the engine reports it (the answers layer's errors by their names:
// the engine does not import the provider's classes).

/** The answers layer's errors say all in their message (what came back, what was expected); others get their name too. */
export function reasonOf(error: unknown): string {
	return error instanceof Error && /^(MalformedAnswer|ImplausibleAnswer|PageCap|TimeBudget)$/.test(error.name) ? error.message : messageOf(error);
}

/** An answer of the right shape refused because its values cannot be true. */
export function implausible(error: unknown): boolean {
	return error instanceof Error && error.name === 'ImplausibleAnswer';
}

/** The HTTP attempts the SDK made for a failed call (1 when it does not say). */
export function attempts(error: unknown): number {
	const value = (error as {$metadata?: {attempts?: number}} | undefined)?.$metadata?.attempts;
	return typeof value === 'number' && value > 0 ? value : 1;
}
