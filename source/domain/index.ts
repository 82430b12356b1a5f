// The domain's face: pure vocabulary (types, spend, windows, policy, pricing, the price table,
// format, errors), all of it public. No I/O, no clock, no UI, no AWS.
export * from './accounts.js';
export * from './agents.js';
export * from './classify.js';
export * from './errors.js';
export * from './format.js';
export * from './history.js';
export * from './policy.js';
export * from './price-table.js';
export * from './pricing.js';
export * from './rollup.js';
export * from './shape.js';
export * from './spend-history.js';
export * from './types.js';
