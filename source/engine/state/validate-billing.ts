import type {BilledCost} from '../../providers/index.js';
import {array, at, finite, object, shape, string, type BillingCache} from './validate.js';

// billing.json, and accounts.json (many accounts): checked as validate.ts checks the rest of the state dir.

export function checkBilling(value: unknown): BillingCache {
	const hasSpent = typeof value === 'object' && value !== null && Object.hasOwn(value, 'spent');
	const top = object(value, '', hasSpent ? ['cost', 'calls', 'costUsd', 'spent'] : ['cost', 'calls', 'costUsd']);
	const count = (raw: unknown, where: string) => {
		const n = finite(raw, where, 'a count of requests');
		if (!Number.isInteger(n) || n < 0) {
			throw shape(where, n, 'a count of requests');
		}

		return n;
	};

	const calls = count(top['calls'], 'calls');
	let spent: BillingCache['spent'];
	if (hasSpent) {
		const item = object(top['spent'], 'spent', ['day', 'requests']);
		const day = string(item['day'], 'spent.day');
		if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
			throw shape('spent.day', day, 'a day like 2026-11-27');
		}

		spent = {day, requests: count(item['requests'], 'spent.requests')};
	}

	return {cost: top['cost'] === null ? null : checkCost(top['cost']), calls, costUsd: finite(top['costUsd'], 'costUsd', 'a cost in $'), ...(spent ? {spent} : {})};
}

export function checkCost(value: unknown): BilledCost {
	const hasYesterday = typeof value === 'object' && value !== null && Object.hasOwn(value, 'yesterday');
	const hasAccounts = typeof value === 'object' && value !== null && Object.hasOwn(value, 'byAccount');
	const cost = object(value, 'cost', ['todayUsd', 'monthToDateUsd', 'fetchedAt', ...(hasYesterday ? ['yesterday'] : []), ...(hasAccounts ? ['byAccount'] : [])]);
	const table = (key: string, raw = cost[key], where = at('cost', key)): Record<string, number> => {
		if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
			throw shape(where, raw, 'an object of costs per tag value');
		}

		// Keys are tag values from the bill: a null-prototype object keeps `constructor` a plain key.
		const result = Object.create(null) as Record<string, number>;
		for (const [tag, usd] of Object.entries(raw)) {
			result[tag] = finite(usd, `${where}[${JSON.stringify(tag)}]`, 'a cost in $');
		}

		return result;
	};

	let yesterday: BilledCost['yesterday'];
	if (hasYesterday) {
		const item = object(cost['yesterday'], 'cost.yesterday', ['date', 'usd']);
		yesterday = {date: string(item['date'], 'cost.yesterday.date'), usd: table('usd', item['usd'], 'cost.yesterday.usd')};
	}

	const byAccount = hasAccounts ? checkCostByAccount(cost['byAccount'], table) : undefined;
	return {todayUsd: table('todayUsd'), monthToDateUsd: table('monthToDateUsd'), fetchedAt: finite(cost['fetchedAt'], 'cost.fetchedAt', 'a time in ms'), ...(yesterday ? {yesterday} : {}), ...(byAccount ? {byAccount} : {})};
}

/** `accounts.json`: the accounts the sample history was recorded over (with `accounts`). */
export function checkAccountsFile(value: unknown): Array<{name: string; id: string | null}> {
	const top = object(value, '', ['version', 'accounts']);
	if (top['version'] !== 1) {
		throw shape('version', top['version'], '1');
	}

	return array(top['accounts'], 'accounts', 'a list of accounts').map((item, index) => {
		const account = object(item, `accounts[${index}]`, ['name', 'id']);
		const id = account['id'];
		if (id !== null && (typeof id !== 'string' || !/^\d{12}$/.test(id))) {
			throw shape(`accounts[${index}].id`, id, 'a 12-digit account ID or null');
		}

		return {name: string(account['name'], `accounts[${index}].name`), id};
	});
}

/** Each linked account's share (with `accounts`), keyed by its 12-digit ID. */
export function checkCostByAccount(raw: unknown, table: (key: string, raw: unknown, where: string) => Record<string, number>): NonNullable<BilledCost['byAccount']> {
	if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
		throw shape('cost.byAccount', raw, 'an object of shares per account ID');
	}

	const byAccount = Object.create(null) as NonNullable<BilledCost['byAccount']>;
	for (const [account, share] of Object.entries(raw)) {
		const where = `cost.byAccount[${JSON.stringify(account)}]`;
		if (!/^\d{12}$/.test(account)) {
			throw shape(where, account, 'a 12-digit account ID');
		}

		const item = object(share, where, typeof share === 'object' && share !== null && Object.hasOwn(share, 'yesterdayUsd') ? ['todayUsd', 'monthToDateUsd', 'yesterdayUsd'] : ['todayUsd', 'monthToDateUsd']);
		byAccount[account] = {
			todayUsd: table('todayUsd', item['todayUsd'], `${where}.todayUsd`),
			monthToDateUsd: table('monthToDateUsd', item['monthToDateUsd'], `${where}.monthToDateUsd`),
			...(item['yesterdayUsd'] === undefined ? {} : {yesterdayUsd: table('yesterdayUsd', item['yesterdayUsd'], `${where}.yesterdayUsd`)}),
		};
	}

	return byAccount;
}
