import {array, finite, object, samplePairs, shape, ShapeError, string} from './validate.js';
import {describeError} from './record.js';

// samples.log: the appends since the last compaction of samples.json, replayed onto its series on load.

export type Series = Map<string, Array<[number, number]>>;

/** Where a series stood when last written: its last sample time and how many samples had it. */
export type Mark = {at: number; same: number};

export function lastMarks(series: Series): Map<string, Mark> {
	return new Map([...series].map(([key, pairs]) => {
		const at = pairs.at(-1)?.[0] ?? Number.NEGATIVE_INFINITY;
		let same = 0;
		for (let index = pairs.length - 1; index >= 0 && pairs[index]![0] === at; index--) {
			same++;
		}

		return [key, {at, same}];
	}));
}

/** The samples recorded after `mark` (two polls may share a time: counted, not compared). */
export function since(pairs: Array<[number, number]>, mark: Mark | undefined): Array<[number, number]> {
	if (!mark) {
		return pairs;
	}

	let index = pairs.length;
	while (index > 0 && pairs[index - 1]![0] > mark.at) {
		index--;
	}

	let same = 0;
	while (index - same > 0 && pairs[index - same - 1]![0] === mark.at) {
		same++;
	}

	return pairs.slice(index - Math.max(0, same - mark.same));
}

/**
 * Applies samples.log's lines to the series of samples.json. The first line, `{after}`, names the
 * samples.json the log continues: another one's log is `stale` and not replayed. Each further line
 * is `{from, add, drop?}`: `from` the first sample time kept per series (null: none kept), `add`
 * the new samples per series, `drop` the series removed. The last line without its newline was
 * cut short by a crash: ignored (`torn`). Any other bad line throws.
 */
export function replayLog(text: string, series: Series, snapshotId: string | undefined): {torn: boolean; stale: boolean} {
	const lines = text.split('\n');
	const tail = lines.pop();
	const torn = tail !== undefined && tail !== '';
	const first = lines.shift();
	if (first === undefined) {
		// Not even its first line complete: nothing to replay.
		return {torn, stale: false};
	}

	let header: unknown;
	try {
		header = JSON.parse(first);
	} catch (error) {
		throw new ShapeError(`line 1: malformed JSON (${describeError(error)})`);
	}

	const after = string(object(header, 'line 1', ['after'])['after'], 'line 1.after');
	if (after !== (snapshotId ?? '')) {
		return {torn, stale: true};
	}

	// Each series as its samples and the index of the first one kept: dropping from the front is
	// a step of the index, not a copy (a poll drops one sample of an hour's worth).
	const kept = new Map([...series].map(([key, pairs]) => [key, {pairs, start: 0}]));
	lines.forEach((line, index) => {
		const where = `line ${index + 2}`;
		let value: unknown;
		try {
			value = JSON.parse(line);
		} catch (error) {
			throw new ShapeError(`${where}: malformed JSON (${describeError(error)})`);
		}

		const top = object(value, where, typeof value === 'object' && value !== null && Object.hasOwn(value, 'drop') ? ['from', 'add', 'drop'] : ['from', 'add']);
		const from = top['from'];
		const add = top['add'];
		const drop = top['drop'] === undefined ? [] : array(top['drop'], `${where}.drop`, 'an array of series names').map((key, index) => string(key, `${where}.drop[${index}]`));
		for (const key of drop) {
			kept.delete(key);
		}

		if (typeof from !== 'object' || from === null || Array.isArray(from)) {
			throw shape(`${where}.from`, from, 'an object of first sample times by series');
		}

		if (typeof add !== 'object' || add === null || Array.isArray(add)) {
			throw shape(`${where}.add`, add, 'an object of sample series');
		}

		for (const [key, first] of Object.entries(from)) {
			if (first !== null) {
				finite(first, `${where}.from[${JSON.stringify(key)}]`, 'a time in ms or null');
			}

			const entry = kept.get(key) ?? {pairs: [], start: 0};
			if (first === null) {
				entry.pairs = [];
				entry.start = 0;
			} else {
				while (entry.start < entry.pairs.length && entry.pairs[entry.start]![0] < (first as number)) {
					entry.start++;
				}
			}

			kept.set(key, entry);
		}

		for (const [key, pairs] of Object.entries(add)) {
			const checked = samplePairs(pairs, `${where}.add[${JSON.stringify(key)}]`);
			const entry = kept.get(key) ?? {pairs: [], start: 0};
			for (const pair of checked) {
				// In time order (two polls may share a time); anything older is not this series'.
				if (entry.pairs.length === entry.start || pair[0] >= entry.pairs.at(-1)![0]) {
					entry.pairs.push(pair);
				}
			}

			kept.set(key, entry);
		}
	});
	series.clear();
	for (const [key, {pairs, start}] of kept) {
		series.set(key, start === 0 ? pairs : pairs.slice(start));
	}

	return {torn, stale: false};
}
