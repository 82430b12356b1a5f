// The dashboard's face. Its static part is cheap (no Ink, no React): a headless run may import it.
// The Ink dashboard itself (ui/run.ts) loads when a loader below is called.
import type {DashboardOptions} from './run.js';

export {dashboardSupported} from './terminal.js';
export type {DashboardOptions} from './run.js';

/** Loads the Ink dashboard (Ink and React with it) and hands out its runner. */
export async function loadDashboard(): Promise<(options: DashboardOptions) => Promise<number>> {
	return (await import('./run.js')).runDashboard;
}

/** The Ink dashboard until it ends; resolves to the exit code. */
export async function runDashboard(options: DashboardOptions): Promise<number> {
	return (await loadDashboard())(options);
}
