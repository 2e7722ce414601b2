/**
 * Observability: structured logs (pino), Prometheus metrics (prom-client) and the admin HTTP
 * endpoint (health, readiness, live configuration, statuses, metrics).
 *
 * Must not: translate, or reach into the proxy's internals; it is handed plain data to show.
 */
export { createLogger } from './logger.ts';
export type { Logger } from './logger.ts';
export { createMetrics } from './metrics.ts';
export type { Metrics } from './metrics.ts';
export { startAdminServer } from './admin-server.ts';
export type { AdminServer, AdminState } from './admin-server.ts';
