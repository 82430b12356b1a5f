// The configuration's face: its schema (the Config type), loading and layers, the notify targets'
// configured shape, where the package lives, and a loader for the user's writable store.
export {loadConfig, loadConfigText, openStore, parseJsonText, readConfigText, readJsonFile} from './load.js';
export {closest} from './closest.js';
export {describeValue, pollInterval, regionPattern, type Config, type EnvironmentConfig} from './schema.js';
export type {StoreChange, StoreOptions} from './user-store.js';
import type * as UserStore from './user-store.js';
export {endpointEnvProblems, endpointProblem} from './endpoint.js';
export {defaultEvents, heartbeatDefaultMinutes, notifyEvents, redactNotify, targetName, targetTypes, topicArnPattern, type NotifyEvent, type NotifyTargetConfig, type Secret, type TargetType} from './notify.js';
export {packageRoot} from './package-root.js';
export {accountNamePattern, roleArnPattern, type AccountEntry, type AccountsConfig, type OrganizationEntry} from './accounts.js';

/** The user's store, changed through conf (`envwatch config get|set|unset|edit`): loaded only by those commands. */
export async function loadUserStore(): Promise<typeof UserStore> {
	return import('./user-store.js');
}
