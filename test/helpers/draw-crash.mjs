// Preloaded into the built CLI (`node --import`) by the tmux test of a crash while the dashboard
// draws: once the file named by ENVWATCH_TEST_CRASH_FLAG exists, Date.prototype.toTimeString throws.
// Only the dashboard calls it (an event's time on the events pane), so the next frame that draws
// an event throws inside React's render, as a real drawing bug would. A test fault, never shipped.
import fs from 'node:fs';

const flag = process.env.ENVWATCH_TEST_CRASH_FLAG;
const original = Date.prototype.toTimeString;
Date.prototype.toTimeString = function () {
	if (flag && fs.existsSync(flag)) {
		throw new Error('drawing failed (a test fault)');
	}

	return original.call(this);
};
