// No Ink or React here: the CLI asks this before it decides to load the dashboard.

/**
 * Whether the interactive dashboard can run here. A non-TTY stdin or stdout means the headless
 * output instead, with `note` printed once on stderr; raw mode is never attempted.
 */
export function dashboardSupported(stdin: {isTTY?: boolean} = process.stdin, stdout: {isTTY?: boolean} = process.stdout): {ok: true} | {ok: false; note: string} {
	if (stdin.isTTY && stdout.isTTY) {
		return {ok: true};
	}

	const which = !stdout.isTTY ? 'stdout is not a terminal' : 'stdin is not a terminal';
	return {ok: false, note: `envwatch: ${which}; printing headless output instead of the dashboard`};
}
