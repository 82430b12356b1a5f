import {describe, expect, it} from 'vitest';
import {refusedSnapshot} from '../../source/engine/snapshot-check.js';
import {FakeController, FakeStore, snapshot, t0} from './fixtures.js';
import {linesOf, useApps} from './harness.js';

const app = useApps();

describe('the header of a dashboard attached to envwatch serve', () => {
	it.each([80, 60])('at %i columns says whose engine it is, after the server\'s mode badges', async columns => {
		const store = new FakeStore(snapshot({attachedTo: {pid: 4242, host: 'jump'}, mode: {paused: false, dryRun: true, readOnly: false, warmingUp: false, action: 'stop'}}));
		const open = await app({store, controller: new FakeController(), columns, rows: 24});
		const header = linesOf(open.lastFrame())[0]!;
		expect(header).toMatch(/^envwatch AUTO DRY-RUN attached to serve pid 4242 \(jump\)/);
	});

	it('says nothing of the kind when the engine runs in this process', async () => {
		const open = await app({store: new FakeStore(snapshot()), controller: new FakeController(), columns: 80, rows: 24});
		expect(open.lastFrame()).not.toContain('attached to');
	});
});

describe('a dashboard whose server\'s figures were refused (a snapshot that cannot be true)', () => {
	const why = 'REFUSED the figures of serve pid 4242 (jump): environments[0].hourlyUsd is -5, expected an amount from $0 to $416,667/h';

	it('says so on the status line, naming the field, over the last good figures shown STALE', async () => {
		const store = new FakeStore(refusedSnapshot(snapshot({attachedTo: {pid: 4242, host: 'jump'}}), why, t0 + 60_000));
		const open = await app({store, controller: new FakeController(), columns: 80, rows: 24});
		const lines = linesOf(open.lastFrame());
		expect(lines.filter(line => /^. (dev|staging|production) +STALE/.test(line))).toHaveLength(3);
		expect(lines).toContainEqual(expect.stringMatching(/^REFUSED the figures of serve pid 4242 \(jump\): environments\[0\]\.hourlyUsd is -5/));
		expect(open.lastFrame()).not.toContain('last poll failed');
	});

	it('with no good figures before, shows none: only why', async () => {
		const open = await app({store: new FakeStore({...refusedSnapshot(undefined, why, t0), attachedTo: {pid: 4242, host: 'jump'}}), controller: new FakeController(), columns: 80, rows: 24});
		const words = (text: string) => text.replaceAll(/\s+/g, '');
		expect(words(open.lastFrame()!)).toBe(words(`envwatch: ${why}; no figures shown`));
	});
});
