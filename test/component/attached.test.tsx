import {describe, expect, it} from 'vitest';
import {FakeController, FakeStore, snapshot} from './fixtures.js';
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
