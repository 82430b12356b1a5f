import {useEffect, useRef, type RefObject} from 'react';
import {useStdin} from 'ink';

/**
 * The raw chunk of the last input event, as the terminal sent it. Ink hands some chunks to
 * useInput as less than they were (two Escs in one packet as one Esc, `ESC :` as `:`): this
 * listener, subscribed before useInput's, sees the raw event first, so the keys can be told apart
 * (key-presses.ts). The reader empties it once used.
 */
export function useRawInput(): RefObject<string> {
	const {internal_eventEmitter: inputEvents} = useStdin();
	const raw = useRef('');
	useEffect(() => {
		const listener = (input: unknown) => {
			raw.current = typeof input === 'string' ? input : '';
		};

		inputEvents.on('input', listener);
		return () => {
			inputEvents.off('input', listener);
		};
	}, [inputEvents]);
	return raw;
}
