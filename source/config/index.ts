// The configuration's face: its schema (the Config type), loading and layers, the notify targets'
// configured shape, and where the package lives.
export {loadConfig, readJsonFile} from './load.js';
export {closest} from './closest.js';
export {pollInterval, regionPattern, type Config, type EnvironmentConfig} from './schema.js';
export {endpointEnvProblems, endpointProblem} from './endpoint.js';
export {defaultEvents, heartbeatDefaultMinutes, notifyEvents, redactNotify, targetName, targetTypes, topicArnPattern, type NotifyEvent, type NotifyTargetConfig, type Secret, type TargetType} from './notify.js';
export {packageRoot} from './package-root.js';
export {accountNamePattern, roleArnPattern, type AccountEntry, type AccountsConfig, type OrganizationEntry} from './accounts.js';
