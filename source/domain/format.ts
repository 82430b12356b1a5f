/** Number formatting shared by every view, so the dashboard, headless lines and audit agree. */
export function money(usd: number): string {
	if (Math.abs(usd) >= 1000) {
		return `$${Math.round(usd).toLocaleString('en-US')}`;
	}

	return `$${usd.toFixed(2)}`;
}

export function pct(value: number): string {
	return `${value.toFixed(Math.abs(value) >= 10 ? 0 : 1)}%`;
}

export function signedPct(value: number): string {
	return `${value > 0 ? '+' : ''}${pct(value)}`;
}

export function duration(ms: number): string {
	const seconds = Math.max(0, Math.round(ms / 1000));
	if (seconds < 60) {
		return `${seconds}s`;
	}

	const minutes = Math.floor(seconds / 60);
	if (minutes < 60) {
		return `${minutes}m`;
	}

	const hours = Math.floor(minutes / 60);
	return `${hours}h${minutes % 60 ? `${minutes % 60}m` : ''}`;
}
