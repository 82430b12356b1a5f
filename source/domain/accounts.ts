/**
 * Accounts as the policy sees them (with `accounts` configured): names, and the rows of an
 * environment split by account. Pure.
 */

/** The row of environment `environment` for one account: `dev@sandbox-a`. */
export function rowName(environment: string, account: string): string {
	return `${environment}@${account}`;
}

/**
 * An account's name as envwatch writes it, from the name an organization gives it: lower-case
 * letters, digits and -, starting with a letter, at most 32 characters (`Sandbox A (team 3)` ->
 * `sandbox-a-team-3`). A name with nothing of that kind becomes `account`.
 */
export function accountSlug(name: string): string {
	let slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
	if (!/^[a-z]/.test(slug)) {
		slug = slug === '' ? 'account' : `a-${slug}`;
	}

	return slug.slice(0, 32).replace(/-+$/, '');
}

/**
 * The environments with each one that is split by account (`splitBy: "account"`) replaced by one
 * row per account, `dev@<account>`, each a copy of its policy for that account only (`account`),
 * naming what it was split from (`splitOf`). The others stay as they are (they span the accounts).
 * Keys are data: a null-prototype object.
 */
export function splitRows<E extends {splitBy?: string | undefined; splitOf?: string | undefined}>(environments: Readonly<Record<string, E>>, accounts: readonly string[]): Record<string, E & {account?: string; splitOf?: string}> {
	const rows = Object.create(null) as Record<string, E & {account?: string; splitOf?: string}>;
	for (const [name, environment] of Object.entries(environments)) {
		// A row already (split before) stays as it is.
		if (environment.splitBy !== 'account' || environment.splitOf !== undefined || accounts.length === 0) {
			rows[name] = environment;
			continue;
		}

		for (const account of accounts) {
			rows[rowName(name, account)] = {...environment, account, splitOf: name};
		}
	}

	return rows;
}

/**
 * The environments (rows) a list of names means: a name split by account means all of its rows;
 * a row's name or an environment that is not split means itself. Unknown names are left to the caller.
 */
export function expandNames(names: readonly string[], rows: Readonly<Record<string, {splitOf?: string | undefined}>>): string[] {
	const result: string[] = [];
	for (const name of names) {
		const of = Object.entries(rows).filter(([, row]) => row.splitOf === name).map(([row]) => row);
		for (const row of of.length > 0 ? of : [name]) {
			if (!result.includes(row)) {
				result.push(row);
			}
		}
	}

	return result;
}
