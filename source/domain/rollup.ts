/**
 * The hourly rollup of each environment's live spend: dollars per UTC hour, integrated from the
 * $/h of each poll over the time to the next. 35 days of it is a few KB; it is what the live figure
 * is checked against the bill with. Pure: times come in as arguments.
 */

/** Per key (environment name): `[hour start (epoch ms), dollars spent in that hour]`, oldest first. */
export type Rollup = Record<string, Array<[number, number]>>;

export const hourMs = 3_600_000;
export const dayMs = 24 * hourMs;
/** How long the rollup is kept. */
export const rollupKeepMs = 35 * dayMs;

export function newRollup(): Rollup {
	return Object.create(null) as Rollup;
}

/** Adds `usdPerHour` over [from, to) to the hours it spans. */
export function accrue(rollup: Rollup, key: string, from: number, to: number, usdPerHour: number): void {
	if (!(to > from) || !Number.isFinite(usdPerHour) || usdPerHour < 0) {
		return;
	}

	const series = Object.hasOwn(rollup, key) ? rollup[key]! : (rollup[key] = []);
	for (let start = from; start < to;) {
		const hour = Math.floor(start / hourMs) * hourMs;
		const end = Math.min(to, hour + hourMs);
		const usd = usdPerHour * (end - start) / hourMs;
		const last = series.at(-1);
		if (last && last[0] === hour) {
			last[1] += usd;
		} else if (!last || last[0] < hour) {
			series.push([hour, usd]);
		}

		start = end;
	}
}

export function pruneRollup(rollup: Rollup, now: number, keepMs = rollupKeepMs): void {
	for (const key of Object.keys(rollup)) {
		rollup[key] = rollup[key]!.filter(([hour]) => hour > now - keepMs && hour <= now);
	}
}

/** The live dollars of one UTC day, and how many of its hours the rollup covers at all. */
export function liveDay(rollup: Rollup, key: string, dayStart: number): {usd: number; hours: number} {
	const series = Object.hasOwn(rollup, key) ? rollup[key]! : [];
	let usd = 0;
	let hours = 0;
	for (const [hour, dollars] of series) {
		if (hour >= dayStart && hour < dayStart + dayMs) {
			usd += dollars;
			hours++;
		}
	}

	return {usd, hours};
}

/**
 * The most one group (one tag value, or cost without the tag) can be billed in a day: $10,000,000,
 * $3.65 billion a year under one tag value of one account, more than any AWS customer's whole bill
 * is known to be (AWS's own revenue is about $300 million a day). An amount above it is no bill but
 * a broken answer: believed, it would bury every real figure (month to date, the check against the
 * bill). Fixed rather than drawn from the configured caps: the bill holds more than what envwatch
 * guards (volumes, data transfer, other services under the same tag), so no cap bounds it.
 */
export const maxDailyUsdPerGroup = 10_000_000;

export type BillCheck = {liveUsd: number; billedUsd: number; pct: number | null; hours: number; causes: string[]};

/** Beyond this, the live figure and the bill disagree enough to say why. */
export const billMismatchPct = 25;

/**
 * The live estimate of a day against its bill: `pct` is (live - billed) / billed, null when nothing
 * was billed. When they differ by more than 25% (or the rollup does not cover the day), the likely
 * causes, in words.
 */
export function checkAgainstBill(live: {usd: number; hours: number}, billedUsd: number, estimated: boolean): BillCheck {
	const pct = billedUsd > 0 ? (live.usd - billedUsd) / billedUsd * 100 : null;
	const causes: string[] = [];
	if (live.hours < 23) {
		causes.push(`envwatch watched ${live.hours}h of the day's 24`);
	}

	if (pct === null ? live.usd > 0 : Math.abs(pct) > billMismatchPct) {
		if (pct === null || pct > 0) {
			causes.push('savings plans, reserved instances or credits lower the bill', 'the tag missing from the bill (an inactive cost allocation tag)');
			if (estimated) {
				causes.push('estimates (~) above the real price');
			}
		} else {
			causes.push('untagged or unattached volumes, snapshots, data transfer and other services in the bill', 'instances outside the configured regions');
		}
	}

	return {liveUsd: live.usd, billedUsd, pct, hours: live.hours, causes};
}

/** `live vs billed yesterday: dev -3%, staging +41%` (environments without a bill for the day left out); undefined when none has one. */
export function billCheckLine(views: ReadonlyArray<{name: string; billed?: {yesterday?: {pct: number | null}} | null}>): {text: string; mismatch: boolean} | undefined {
	const parts: string[] = [];
	let mismatch = false;
	for (const view of views) {
		const pct = view.billed?.yesterday?.pct;
		if (pct === undefined || pct === null) {
			continue;
		}

		mismatch ||= Math.abs(pct) > billMismatchPct;
		const rounded = Math.round(pct);
		parts.push(`${view.name} ${rounded > 0 ? '+' : ''}${rounded === 0 ? 0 : rounded}%`);
	}

	return parts.length > 0 ? {text: `live vs billed yesterday: ${parts.join(', ')}`, mismatch} : undefined;
}
