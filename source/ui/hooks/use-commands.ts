import {useCallback, useRef, useState} from 'react';
import {useApp} from 'ink';
import type {Command} from '../../engine/index.js';
import type {Flash} from '../components/StatusLine.js';
import {failureText, resultFlash} from '../dashboard-reducer.js';
import type {Clock} from '../ticker.js';

/** What the dashboard needs of the engine's `Monitor`: tests pass a fake. */
export type Controller = {
	/** The result's one-line summary is flashed; its outcome picks the colour. */
	command(command: Command): Promise<{summary: string; outcome: string} | undefined>;
	cascadeTarget(): string | undefined;
	/** Another host's engine leads and this process stands by: that leader (escaped), also before its first figures come. */
	standingBy?(): StandbyLeader | undefined;
};

/** The engine a standby shows the figures of, as the header names it. */
export type StandbyLeader = {pid: number; host: string; mode: string};

export type Commands = {
	/** The line flashed on the status line, until its time is up. */
	flash: Flash | undefined;
	/** What the command in flight is doing ("stopping dev"). */
	busy: string | undefined;
	/** `shorter`: the same in fewer words, longest first, for a status line too narrow for `text`. */
	say(text: string, tone: Flash['tone'], shorter?: readonly string[]): void;
	/** Sends a command, one at a time (a second is refused, and that is said); its outcome is flashed. */
	run(command: Command, label: string): void;
	/** Calls `onQuit` once, then unmounts Ink. */
	quit(): void;
};

/** The reducer's effects that reach outside the dashboard: the engine, the status line, quitting. */
export function useCommands({controller, clock, flashMs, onQuit}: {controller: Controller; clock: Clock; flashMs: number; onQuit: (() => void) | undefined}): Commands {
	const {exit} = useApp();
	const [flash, setFlash] = useState<Flash | undefined>(undefined);
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const busyRef = useRef(false);
	const quitting = useRef(false);

	const say = useCallback((text: string, tone: Flash['tone'], shorter?: readonly string[]) => {
		setFlash({text, tone, until: clock.getSnapshot() + flashMs, ...(shorter && shorter.length > 0 ? {shorter} : {})});
	}, [clock, flashMs]);

	const run = useCallback((command: Command, label: string) => {
		if (busyRef.current) {
			say('busy: wait for the current action to finish', 'warn');
			return;
		}

		busyRef.current = true;
		setBusy(label);
		controller.command(command).then(result => {
			const shown = resultFlash(command, result);
			if (shown) {
				say(shown.text, shown.tone);
			}
		}, (error: unknown) => {
			say(failureText(command, error), 'error');
		}).finally(() => {
			busyRef.current = false;
			setBusy(undefined);
		});
	}, [controller, say]);

	const quit = useCallback(() => {
		if (!quitting.current) {
			quitting.current = true;
			onQuit?.();
			exit();
		}
	}, [exit, onQuit]);

	return {flash, busy, say, run, quit};
}
