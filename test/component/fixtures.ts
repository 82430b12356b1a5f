import type {EnvironmentView, InstanceRow} from '../../source/domain/types.js';
import type {AuditEntry} from '../../source/engine/state/audit.js';
import type {ActionResult} from '../../source/engine/enforcer.js';
import type {Command} from '../../source/engine/monitor.js';
import type {Snapshot} from '../../source/engine/snapshot.js';
import type {Controller} from '../../source/ui/App.js';
import type {SnapshotSource} from '../../source/ui/hooks/use-snapshot.js';

export const t0 = Date.UTC(2026, 10, 27, 5, 0, 0);

export function view(name: string, overrides: Partial<EnvironmentView> = {}): EnvironmentView {
	return {
		name,
		status: 'ACTIVE',
		hourlyUsd: 2.34,
		baselineUsd: 2.31,
		increasePct: 1.2,
		thresholdPct: 2,
		windowMinutes: 30,
		maxHourlyUsd: 5,
		warmingUp: false,
		level: 'ok',
		reasons: [],
		agents: {running: 4, allowed: 'all'},
		monitors: 0,
		unpriced: 0,
		unpricedTypes: [],
		estimated: 0,
		estimatedTypes: [],
		priority: 1,
		policy: {agents: 'all', onBreach: 'stop'},
		stale: null,
		trend: [2.31, 2.31, 2.32, 2.33, 2.34],
		billed: {todayUsd: 40.12, monthToDateUsd: 1203.5},
		agentIds: ['i-0aaa000000000001', 'i-0aaa000000000002', 'i-0aaa000000000003', 'i-0aaa000000000004'],
		agentHourlyUsd: 2.1,
		violation: null,
		...overrides,
	};
}

/** One instance as the detail view lists it. */
export function instance(id: string, overrides: Partial<InstanceRow> = {}): InstanceRow {
	return {id, name: null, type: 't3.micro', region: 'us-east-1', zone: null, lifecycle: null, state: 'running', launchedAt: null, launchedBy: null, role: 'agent', usdPerHour: 0.01, ...overrides};
}

export function event(seq: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
	return {at: new Date(t0 - seq * 1000).toISOString(), seq, type: 'decision', actor: 'auto', kind: 'warn', environments: ['dev'], reason: `event number ${seq}`, instanceIds: [], dryRun: false, ...overrides};
}

/** The seed's picture: dev, staging (limited to 2), production (monitor only). */
export function snapshot(overrides: Partial<Snapshot> = {}): Snapshot {
	const environments = overrides.environments ?? [
		view('dev'),
		view('staging', {status: 'LIMITED', hourlyUsd: 1.85, increasePct: 0.3, thresholdPct: 1.5, windowMinutes: 45, maxHourlyUsd: 10, agents: {running: 2, allowed: 2}, priority: 2, agentIds: ['i-0bbb000000000001', 'i-0bbb000000000002'], agentHourlyUsd: 1.54, billed: {todayUsd: 30, monthToDateUsd: 900}}),
		view('production', {status: 'MONITOR', hourlyUsd: 0.15, increasePct: 0, thresholdPct: 0.5, windowMinutes: 60, maxHourlyUsd: 50, agents: {running: 0, allowed: 'monitor-only'}, priority: 3, policy: {agents: 'monitor-only', onBreach: 'alert'}, agentIds: [], agentHourlyUsd: 0, billed: {todayUsd: 2.5, monthToDateUsd: 80}}),
	];
	return {
		at: t0,
		source: 'SIMULATED',
		regions: ['us-east-1'],
		pollIntervalSeconds: 15,
		polls: 10,
		lastSuccessAt: t0,
		error: null,
		mode: {paused: false, dryRun: false, readOnly: false, warmingUp: false, action: 'stop'},
		environments,
		global: view('global', {status: 'NORMAL', hourlyUsd: 4.34, increasePct: 0.4, thresholdPct: 1, windowMinutes: 60, maxHourlyUsd: 100, agents: {running: 6, allowed: 'all'}, policy: {agents: 'global', onBreach: 'emergency-stop'}}),
		unknown: {instances: 0, hourlyUsd: 0, tagValues: []},
		decisions: [],
		events: [event(2, {actor: 'ops@jump', kind: 'pause', environments: [], reason: 'automatic actions paused'}), event(3)],
		billing: {fetchedAt: t0 - 12 * 60_000, calls: 3, costUsd: 0.03, error: null, enabled: true},
		pending: null,
		lastStop: null,
		...overrides,
	};
}

/** A store tests publish into by hand. */
export class FakeStore implements SnapshotSource {
	private listeners = new Set<() => void>();
	constructor(private current: Snapshot | undefined) {}
	subscribe = (listener: () => void) => {
		this.listeners.add(listener);
		return () => {
			this.listeners.delete(listener);
		};
	};

	getSnapshot = () => this.current;
	publish(next: Snapshot): void {
		this.current = next;
		for (const listener of this.listeners) {
			listener();
		}
	}
}

/** Records commands; answers like the enforcer would. */
export class FakeController implements Controller {
	readonly commands: Command[] = [];
	constructor(private readonly target: string | undefined = 'dev') {}
	cascadeTarget = () => this.target;
	command = async (command: Command): Promise<ActionResult | undefined> => {
		this.commands.push(command);
		if (command.kind === 'stop' || command.kind === 'cascade' || command.kind === 'emergency' || command.kind === 'undo') {
			const environments = command.kind === 'stop' ? [command.environment] : ['dev'];
			return {kind: command.kind, environments, outcome: 'executed', summary: `stopped 4/4 agents in ${environments.join(', ')} (4 stopping; saves $2.10/h)`, results: [], entry: event(99)};
		}

		return undefined;
	};
}
