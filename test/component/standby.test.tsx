import {describe, expect, it} from 'vitest';
import type {Command} from '../../source/engine/index.js';
import type {Controller, StandbyLeader} from '../../source/ui/hooks/use-commands.js';
import {FakeStore, snapshot} from './fixtures.js';
import {linesOf, useApps} from './harness.js';

const app = useApps();
const leader = {pid: 4242, host: 'jump-1', mode: 'serve'};

/** A standby's answers: every command that acts is refused, naming the leader; `standing` says whether it still stands by. */
function standbyController(standing: () => StandbyLeader | undefined): Controller & {commands: Command[]} {
	const commands: Command[] = [];
	return {
		commands,
		cascadeTarget: () => undefined,
		standingBy: standing,
		command: async command => {
			commands.push(command);
			return {outcome: 'refused', summary: 'refused: this is a standby; the engine runs on jump-1 (serve pid 4242): act there, or wait for it to hand over'};
		},
	};
}

describe('a dashboard standing by', () => {
	it('before the leader\'s first figures it says STANDBY and whose it waits for; then the figures, marked whose they are', async () => {
		const store = new FakeStore(undefined);
		const ui = await app({store, controller: standbyController(() => leader)});
		expect(linesOf(ui.lastFrame())[0]).toBe('envwatch STANDBY waiting for the leader\'s first figures: serve pid 4242 (jump-1)');
		store.publish(snapshot({leader}));
		await ui.waitFor(/^envwatch AUTO STANDBY figures of serve pid 4242 \(jump-1\)/);
		// A dashboard running its own engine says only that it waits for the first poll.
		const own = await app({store: new FakeStore(undefined), controller: standbyController(() => undefined)});
		expect(linesOf(own.lastFrame())).toEqual(['envwatch: waiting for the first poll...']);
	});

	it('a refusal of the standby goes from the status line once the header stops saying STANDBY (the engine taken over)', async () => {
		const store = new FakeStore(snapshot({leader}));
		const controller = standbyController(() => leader);
		const ui = await app({store, controller});
		await ui.press('p');
		expect(controller.commands).toEqual([{kind: 'pause'}]);
		await ui.waitFor('refused: this is a standby');
		// Taken over (the clock has not moved: the flash's own time is not up).
		store.publish(snapshot());
		const frame = await ui.waitFor(/^(?![\s\S]*STANDBY)/);
		expect(linesOf(frame)[0]).toMatch(/^envwatch SIMULATED every 15s/);
		expect(frame).not.toContain('refused: this is a standby');
	});
});
