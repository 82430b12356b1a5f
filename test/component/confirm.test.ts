import {describe, expect, it} from 'vitest';
import {buildConfirmation, reduceConfirm, type ConfirmRequest} from '../../source/ui/confirm.js';
import {snapshot} from './fixtures.js';

function request(kind: Parameters<typeof buildConfirmation>[0], selected = 'dev', cascadeTarget: string | undefined = 'dev'): ConfirmRequest {
	const built = buildConfirmation(kind, {snapshot: snapshot({lastStop: {at: 0, environments: ['dev'], count: 4}}), selected, cascadeTarget});
	if ('refused' in built) {
		throw new Error(built.refused);
	}

	return built;
}

describe('buildConfirmation states the blast radius', () => {
	it('stop: environment, agents, first instance IDs, $/h saved', () => {
		const stop = request('stop');
		expect(stop.command).toEqual({kind: 'stop', environment: 'dev'});
		expect(stop.title).toBe('Stop dev\'s agents?');
		expect(stop.details).toContain('4 agents running');
		expect(stop.details).toContain('instances: i-0aaa000000000001, i-0aaa000000000002, i-0aaa000000000003 +1\u00A0more');
		expect(stop.details.join('\n')).toContain('saves $2.10/h');
		expect(stop.typed).toBeUndefined();
	});

	it('a monitor-only environment needs its name typed', () => {
		expect(request('stop', 'production').typed).toBe('production');
	});

	it('emergency needs "stop all" and lists every environment with agents', () => {
		const emergency = request('emergency');
		expect(emergency.typed).toBe('stop all');
		expect(emergency.details[0]).toBe('environments: dev, staging');
		expect(emergency.details[1]).toContain('6 agents running');
	});

	it('cascade names its target; without one it is refused', () => {
		expect(request('cascade', 'dev', 'staging').title).toContain('staging');
		expect(buildConfirmation('cascade', {snapshot: snapshot(), selected: 'dev', cascadeTarget: undefined})).toHaveProperty('refused');
	});

	it('undo needs a last stop', () => {
		expect(request('undo').title).toContain('4 agents stopped in dev');
		expect(buildConfirmation('undo', {snapshot: snapshot(), selected: 'dev', cascadeTarget: undefined})).toHaveProperty('refused');
	});

	it('undo states the instance IDs it starts again and the $/h they add back, and says when that is unknown', () => {
		const ids = ['i-0aaa000000000001', 'i-0aaa000000000002', 'i-0aaa000000000003', 'i-0aaa000000000004'];
		const undo = (lastStop: NonNullable<Parameters<typeof snapshot>[0]>['lastStop']) => {
			const built = buildConfirmation('undo', {snapshot: snapshot({lastStop}), selected: 'dev', cascadeTarget: undefined});
			return 'details' in built ? built.details : [built.refused];
		};

		const priced = undo({at: 0, environments: ['dev'], count: 4, ids, usdPerHour: 2.1});
		expect(priced).toContain('instances: i-0aaa000000000001, i-0aaa000000000002, i-0aaa000000000003 +1\u00A0more');
		expect(priced).toContain('adds $2.10/h back (what the stop saved)');
		// Not known (an agent had no price, or a last stop recorded before prices were kept): never $0.
		const unknown = undo({at: 0, environments: ['dev'], count: 4, ids, usdPerHour: null});
		expect(unknown).toContain('adds: $/h unknown (not recorded with this stop)');
		expect(unknown.join('\n')).not.toContain('$0.00');
		// A large stop: the snapshot carries its first IDs only, and the rest are counted, not dropped.
		const many = Array.from({length: 20}, (_, index) => `i-0ccc${String(index).padStart(12, '0')}`);
		expect(undo({at: 0, environments: ['dev'], count: 50, ids: many, usdPerHour: 26.25})).toContain('instances: i-0ccc000000000000, i-0ccc000000000001, i-0ccc000000000002 +47\u00A0more');
		// From an older server that sends neither: said so, not left out.
		expect(undo({at: 0, environments: ['dev'], count: 4})).toEqual(expect.arrayContaining(['instances: not sent by this server (an older envwatch); exactly those of the last stop', 'adds: $/h unknown (not recorded with this stop)']));
	});

	it('a start over the cap is refused in the words the engine and `envwatch start` use', () => {
		const base = snapshot();
		const limited = {...base, environments: base.environments.map(view => (view.name === 'staging' ? {...view, policy: {...view.policy, agents: 'limited' as const}, launch: {count: 1, instanceType: 't3.large', usdPerHourEach: 0.0832}} : view))};
		expect(buildConfirmation('start', {snapshot: limited, selected: 'staging', cascadeTarget: undefined})).toEqual({refused: 'staging allows at most 2 agents (limited): 2 running + 1 requested = 3'});
	});
});

describe('a start asks how many: typed in its confirmation, bounded by maxAgents', () => {
	// dev: 4 of at most 6 running, 3 per start by default (its launch template), t3.large at $0.0832/h.
	const start = () => {
		const base = snapshot();
		const dev = {...base.environments[0]!, agents: {running: 4, allowed: 6}, launch: {count: 3, instanceType: 't3.large', usdPerHourEach: 0.0832}};
		const built = buildConfirmation('start', {snapshot: {...base, environments: [dev, ...base.environments.slice(1)]}, selected: 'dev', cascadeTarget: undefined});
		if ('refused' in built) {
			throw new Error(built.refused);
		}

		return built;
	};

	const typing = (keys: string[], from = start()) => keys.reduce((request, key) => {
		const step = reduceConfirm(request, key === '\b' ? '' : key, key === '\b' ? {backspace: true} : {});
		return step.kind === 'edit' ? step.request : request;
	}, from);

	it('opens with the default count, and says when it does not fit (2 more at most), naming it', () => {
		const request = start();
		expect(request.count).toMatchObject({input: '', default: 3});
		expect(request.error).toBe('the default 3: dev allows at most 6 agents (all): 4 running + 3 requested = 7; at most 2 more');
		// A bad count is never started: y says why and the question stays open.
		expect(reduceConfirm(request, 'y', {})).toMatchObject({kind: 'edit', request: {error: request.error}});
	});

	it('a typed count sets the title, the $/h it adds and the command; y starts that many', () => {
		const two = typing(['2']);
		expect(two.title).toBe('Start 2 agents in dev?');
		expect(two.details).toContain('adds $0.17/h to $2.34/h');
		expect(two.error).toBeUndefined();
		expect(two.command).toEqual({kind: 'start', environment: 'dev', count: 2});
		expect(reduceConfirm(two, 'y', {})).toEqual({kind: 'confirm'});
		// No is still the default: n, Esc and Enter cancel.
		for (const [input, key] of [['n', {}], ['', {escape: true}], ['\r', {return: true}]] as const) {
			expect(reduceConfirm(two, input, key)).toEqual({kind: 'cancel'});
		}
	});

	it.each([
		[['0'], '"0": start at least 1 agent'],
		[['5'], '"5": dev allows at most 6 agents (all): 4 running + 5 requested = 9; at most 2 more'],
		[['1', '2'], '"12": dev allows at most 6 agents (all): 4 running + 12 requested = 16; at most 2 more'],
	])('a count over the cap or under 1 is refused, naming it: %j', (keys, error) => {
		const request = typing(keys);
		expect(request.error).toBe(error);
		expect(request.title).toBe('Start agents in dev?');
		expect(request.details.join('\n')).not.toContain('adds');
		expect(reduceConfirm(request, 'y', {})).toMatchObject({kind: 'edit', request: {error}});
	});

	it('a key that is not a digit is refused, naming it, and leaves the count; Backspace edits it', () => {
		const request = typing(['1', 'x']);
		expect(request.error).toBe('"x" is not a number: type how many agents to start (digits); y starts, n or Esc cancels');
		expect(request.count?.input).toBe('1');
		expect(request.command).toEqual({kind: 'start', environment: 'dev', count: 1});
		expect(typing(['\b'], request).count?.input).toBe('');
		// Back to the default, which does not fit here: said so again.
		expect(typing(['\b'], request).error).toContain('the default 3: dev allows at most 6 agents');
		expect(typing(['1', '0', '0', '0', '0']).error).toBe('"10000": at most 4 digits; Backspace to change it');
	});

	it('without a cap any count of 1 or more is taken', () => {
		const base = snapshot();
		const dev = {...base.environments[0]!, launch: {count: 1, instanceType: 't3.large', usdPerHourEach: 0.0832}};
		const built = buildConfirmation('start', {snapshot: {...base, environments: [dev, ...base.environments.slice(1)]}, selected: 'dev', cascadeTarget: undefined});
		expect('refused' in built).toBe(false);
		const twenty = typing(['2', '0'], built as ConfirmRequest);
		expect(twenty.command).toEqual({kind: 'start', environment: 'dev', count: 20});
		expect(twenty.details).toContain('adds $1.66/h to $2.34/h');
	});
});

describe('reduceConfirm: No is the default', () => {
	const stop = request('stop');
	it('y confirms; n, Esc and Enter cancel; other keys are ignored', () => {
		expect(reduceConfirm(stop, 'y', {})).toEqual({kind: 'confirm'});
		expect(reduceConfirm(stop, 'n', {})).toEqual({kind: 'cancel'});
		expect(reduceConfirm(stop, '', {escape: true})).toEqual({kind: 'cancel'});
		expect(reduceConfirm(stop, '\r', {return: true})).toEqual({kind: 'cancel'});
		expect(reduceConfirm(stop, 's', {})).toEqual({kind: 'ignore'});
	});

	it('a typed word: y does nothing, a wrong word is refused, the right one confirms', () => {
		let current = request('emergency');
		expect(reduceConfirm(current, 'y', {})).toEqual({kind: 'edit', request: {...current, input: 'y', error: undefined}});
		current = {...current, input: 'stop al'};
		const wrong = reduceConfirm(current, '\r', {return: true});
		expect(wrong.kind).toBe('edit');
		current = (wrong as {request: ConfirmRequest}).request;
		expect(current.input).toBe('');
		expect(current.error).toContain('"stop al" is not "stop all"');
		for (const char of 'stop all') {
			const step = reduceConfirm(current, char, {});
			current = (step as {request: ConfirmRequest}).request;
		}

		expect(reduceConfirm(current, '\r', {return: true})).toEqual({kind: 'confirm'});
	});

	it('backspace edits; Esc cancels a typed confirmation', () => {
		const typed = {...request('emergency'), input: 'stop'};
		expect((reduceConfirm(typed, '', {backspace: true}) as {request: ConfirmRequest}).request.input).toBe('sto');
		expect(reduceConfirm(typed, '', {escape: true})).toEqual({kind: 'cancel'});
	});
});
