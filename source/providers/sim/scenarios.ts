/**
 * Time-scripted scenarios of the simulated account, named after the example scenarios A-E in
 * docs/design.md. Each one changes the fleet within the first minute, so a person watching `--demo <name>`
 * sees the response at once. Percentages are against the base fleet: dev $2.34/h, staging $1.84/h,
 * production $0.15/h.
 */
export type Launch = {
	/** Simulated environment: dev, staging or production; undefined for untagged instances. */
	environment: 'dev' | 'staging' | 'production' | undefined;
	role: 'agent' | 'monitor' | 'other';
	type: string;
	count: number;
	region: string;
	name: string;
	/** Spot instances are priced from the simulated spot market. */
	lifecycle?: 'spot' | 'on-demand';
	/** EC2's PlatformDetails (default Linux/UNIX). */
	platformDetails?: string;
	/** EBS volumes attached to each instance. */
	volumes?: Array<{type: string; sizeGb: number; iops?: number; throughputMbps?: number}>;
};

export type Scenario = {
	description: string;
	events: Array<{atSeconds: number; launch: Launch[]}>;
};

const agents = (environment: Launch['environment'], type: string, count = 1): Launch => ({environment, role: 'agent', type, count, region: 'us-east-1', name: `${environment}-agent-extra`});

export const scenarios = {
	calm: {
		description: 'nothing changes: every environment stays within its limits',
		events: [],
	},
	'dev-spike': {
		description: 'A: dev +3.6% (a t3.large agent) -> stop dev only, staging and production continue',
		events: [{atSeconds: 20, launch: [agents('dev', 't3.large')]}],
	},
	'staging-spike': {
		description: 'B: staging +2.3%, dev +1.8% -> stop staging, dev continues with a warning',
		events: [{atSeconds: 20, launch: [agents('staging', 't3.medium'), agents('dev', 't3.medium')]}],
	},
	'global-spike': {
		description: 'C: dev +1.8%, staging +1.1%: no environment breaches, the total +1.4% > 1% -> emergency stop',
		events: [{atSeconds: 20, launch: [agents('dev', 't3.medium'), agents('staging', 't3.small')]}],
	},
	cascade: {
		description: 'D: dev +3.6% and staging +2.3% at once -> cascade: dev now, staging on the next poll',
		events: [{atSeconds: 20, launch: [agents('dev', 't3.large'), agents('staging', 't3.medium')]}],
	},
	'prod-spike': {
		description: 'E: production +3.5% -> alert only: production is monitor only',
		events: [{atSeconds: 20, launch: [{environment: 'production', role: 'other', type: 't3.nano', count: 1, region: 'us-east-1', name: 'prod-hotfix'}]}],
	},
	pricing: {
		description: 'live prices: a spot group, a Windows build box with volumes and agents of a type no price list knows join dev -> priced by market, OS and volume; the unknown type at a conservative estimate (~) breaches and is stopped',
		events: [{atSeconds: 20, launch: [
			{environment: 'dev', role: 'other', type: 'm5.large', count: 3, region: 'us-west-2', name: 'dev-spot-ci', lifecycle: 'spot'},
			{environment: 'dev', role: 'other', type: 'm5.large', count: 1, region: 'us-east-1', name: 'dev-windows-build', platformDetails: 'Windows', volumes: [{type: 'gp3', sizeGb: 500, iops: 6000, throughputMbps: 250}, {type: 'st1', sizeGb: 1000}]},
			{environment: 'dev', role: 'agent', type: 'zz9.xlarge', count: 2, region: 'us-east-1', name: 'dev-agent-new-type'},
		]}],
	},
	unwatched: {
		description: 'three dev agents run in eu-west-1 from the start, a region --demo does not watch -> the region sweep finds them: "dev: 3 agents in eu-west-1, not watched"',
		events: [{atSeconds: 0, launch: [{environment: 'dev', role: 'agent', type: 't3.large', count: 3, region: 'eu-west-1', name: 'dev-agent-elsewhere'}]}],
	},
	'rogue-agent': {
		description: 'a rogue agent appears in production (monitor only) -> a policy violation; stopped when policy.stopViolations is set',
		events: [{atSeconds: 20, launch: [{environment: 'production', role: 'agent', type: 't3.micro', count: 1, region: 'us-east-1', name: 'rogue-agent'}]}],
	},
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof scenarios;

export const scenarioNames = Object.keys(scenarios) as ScenarioName[];

export function isScenario(name: string): name is ScenarioName {
	return Object.hasOwn(scenarios, name);
}
