// Metrics' face: parsing --metrics-listen loads nothing heavy; startMetrics loads prom-client and
// the HTTP server on its call.
export {isLoopback, parseListen, type ListenAddress} from './listen.js';
export {startMetrics} from './start.js';
export type {EngineSources, MetricsFeed, MetricsSource} from './attach.js';
