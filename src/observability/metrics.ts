import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly configReloads: Counter<'result'>;
  readonly configLastSuccess: Gauge;
  readonly tableRoutes: Gauge;
  readonly tableListeners: Gauge;
}

/** One registry per process (not prom-client's global one), so tests can run several. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fluxgate_' });
  return {
    registry,
    configReloads: new Counter({
      name: 'fluxgate_config_reloads_total', help: 'Configuration reloads by result (applied, unchanged, rejected).',
      labelNames: ['result'], registers: [registry],
    }),
    configLastSuccess: new Gauge({
      name: 'fluxgate_config_last_reload_success_timestamp_seconds', help: 'When a configuration was last applied.',
      registers: [registry],
    }),
    tableRoutes: new Gauge({ name: 'fluxgate_routes', help: 'Routes in the serving routing table.', registers: [registry] }),
    tableListeners: new Gauge({ name: 'fluxgate_listeners', help: 'Sockets in the serving routing table.', registers: [registry] }),
  };
}
