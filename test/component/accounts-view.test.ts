import {describe, expect, it} from 'vitest';
import type {AccountView} from '../../source/engine/accounts.js';
import type {Snapshot} from '../../source/engine/snapshot.js';
import {initialState, reducePress, type DashboardState, type KeyEnv} from '../../source/ui/dashboard-reducer.js';
import {pressesOf} from '../../source/ui/key-presses.js';
import {helpRows} from '../../source/ui/keymap.js';
import {makeTheme} from '../../source/ui/theme.js';
import {viewLines} from '../../source/ui/views/lines.js';
import {detailView} from '../../source/ui/views/state.js';
import {instance, snapshot, t0, view} from './fixtures.js';

const glyphs = makeTheme({colour: false}).glyphs;
const account = (name: string, id: string, stale: string | null = null): AccountView => ({name, id, via: 'role', through: `arn:aws:iam::${id}:role/envwatch-member`, regions: ['us-east-1'], stale, status: stale === null ? 'OK' : 'STALE', instances: stale === null ? 0 : null, agents: stale === null ? 0 : null, hourlyUsd: stale === null ? 0 : null});

/** dev over three accounts: sandbox-b's role cannot be assumed. */
function accounts(): Snapshot {
	const rows = [
		instance('i-0a1', {usdPerHour: 0.0832, account: '111111111111', accountName: 'sandbox-a', type: 't3.large'}),
		instance('i-0a2', {usdPerHour: 0.0832, account: '111111111111', accountName: 'sandbox-a', type: 't3.large'}),
		instance('i-0c1', {usdPerHour: 0.096, account: '333333333333', accountName: 'staging', type: 'm5.large', role: 'monitor'}),
	];
	return snapshot({
		environments: [view('dev', {instances: rows, stale: 'account sandbox-b (222222222222): us-east-1: cannot assume arn:aws:iam::222222222222:role/envwatch-member (AccessDenied)', status: 'STALE'}), view('staging')],
		accounts: [account('sandbox-a', '111111111111'), account('sandbox-b', '222222222222', 'us-east-1: cannot assume arn:aws:iam::222222222222:role/envwatch-member (AccessDenied)'), account('staging', '333333333333')],
	});
}

function env(shot: Snapshot): KeyEnv {
	return {snapshot: shot, now: t0 + 1000, columns: 80, rows: 24, cascadeTarget: () => 'dev', confirmRefusal: () => undefined};
}

function type(keys: string[], shot: Snapshot, from: DashboardState = initialState): DashboardState {
	let state = from;
	for (const chunk of keys) {
		for (const press of pressesOf(chunk, chunk === '\r' ? {return: true} : {}, chunk)) {
			state = reducePress(state, press, env(shot)).state;
		}
	}

	return state;
}

const text = (lines: ReturnType<typeof viewLines>) => lines.map(line => line.map(segment => segment.text).join(''));

describe('the by-account view (A) and the account column', () => {
	it('A opens the selected environment by account: each account\'s $/h, agents and instances, the STALE one first and why; ↓ moves to the next environment', () => {
		const shot = accounts();
		const state = type(['A'], shot);
		expect(state.view).toEqual({kind: 'account', environment: 'dev'});
		const lines = text(viewLines({view: state.view!, snapshot: shot, now: t0, columns: 80, height: 12, glyphs, ascii: false}));
		expect(lines[0]).toMatch(/^── by account: dev STALE \(last good poll\)/);
		expect(lines.slice(1, 6).map(line => line.trimEnd())).toEqual([
			'  ACCOUNT                       $/H  AGENTS  INSTANCES SHARE',
			'  sandbox-b                   STALE       ?          ?',
			`  sandbox-a                   $0.17       2          2 ${glyphs.gaugeFull.repeat(16)}`,
			`  staging                     $0.10       0          1 ${glyphs.gaugeFull.repeat(9)}`,
			'  total                      $0.26+       2          3 , 1 STALE: unknown',
		]);
		expect(lines[6]).toBe(`  sandbox-b (222222222222): us-east-1: cannot assume arn:aws:iam::222222222222${glyphs.ellipsis}`);
		expect(type(['A', 'j'], shot).view).toEqual({kind: 'account', environment: 'staging'});
	});

	it('without accounts, A is not bound and the instances have no account column; with them, the detail view has one (C sorts by it)', () => {
		const single = snapshot();
		expect(type(['A'], single).view).toBeUndefined();
		expect(helpRows({readOnly: false, pending: false}, 'table').some(row => row.keys === 'A')).toBe(false);
		expect(helpRows({readOnly: false, pending: false, accounts: true}, 'table').find(row => row.keys === 'A')?.text).toMatch(/^the selected environment by account/);
		const shot = accounts();
		const heads = (shown: Snapshot) => text(viewLines({view: detailView('dev'), snapshot: shown, now: t0, columns: 80, height: 10, glyphs, ascii: false}))[1]!;
		expect(heads(shot)).toMatch(/^ {2}ID +NAME +TYPE +ACCOUNT /);
		expect(heads(snapshot({environments: [view('dev', {instances: [instance('i-0a1')]})]}))).not.toContain('ACCOUNT');
		const sorted = type(['\r', 'C'], shot);
		expect(sorted.view).toMatchObject({kind: 'detail', sort: {column: 'account', descending: false}});
		const rows = text(viewLines({view: sorted.view!, snapshot: shot, now: t0, columns: 80, height: 10, glyphs, ascii: false})).slice(2, 5);
		expect(rows.map(line => /sandbox-a|staging/.exec(line)?.[0])).toEqual(['sandbox-a', 'sandbox-a', 'staging']);
	});
});
