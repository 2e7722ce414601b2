// `fluxgate serve`: wiring of the standalone front end. Files → pipeline → proxy, with the
// admin endpoint and hot reload. Logic lives in the modules wired here.
import { createProxy, validateRegex } from '../proxy/index.ts';
import { createPipeline } from '../pipeline/index.ts';
import { createLogger, createMetrics, startAdminServer } from '../observability/index.ts';
import type { AdminServer, Logger } from '../observability/index.ts';
import { createConfigLoader, watchConfig } from '../standalone/index.ts';
import type { ConfigError, ConfigWatcher } from '../standalone/index.ts';
import { formatConfigError } from '../standalone/config-error.ts';
import type { Pipeline } from '../pipeline/index.ts';
import type { Filter, RoutingTable } from '../ir/index.ts';
import { BUILTIN_PLUGINS, createPluginRuntime, pluginValidators, redactPluginConfig } from '../plugins/index.ts';

export const CONTROLLER_NAME = 'fluxgate.io/gateway-controller';

export interface ServeOptions {
  readonly config: string;
  /** Overrides every Gateway's bind address ('' = all interfaces). */
  readonly bindAddress?: string;
  /** HOST:PORT of the admin endpoint; empty disables it. */
  readonly adminAddress: string;
  readonly watch: boolean;
  readonly logger?: Logger;
}

/** How long a file emptied in place must stay empty before its emptiness applies. */
const EMPTIED_RECHECK_MS = 100;

export interface Serving {
  readonly pipeline: Pipeline;
  readonly admin?: AdminServer;
  /** Errors of the last rejected reload, empty when the files on disk are serving. */
  lastErrors(): readonly ConfigError[];
  /** Reloads now (the watcher calls this too); resolves with the errors, if any. */
  reload(): Promise<readonly ConfigError[]>;
  close(): Promise<void>;
}

export class ConfigInvalidError extends Error {
  readonly errors: readonly ConfigError[];
  constructor(errors: readonly ConfigError[]) {
    super(`configuration has ${errors.length} error(s):\n${errors.map(formatConfigError).join('\n')}`);
    this.errors = errors;
  }
}

export async function startServe(options: ServeOptions): Promise<Serving> {
  const logger = options.logger ?? createLogger();
  const metrics = createMetrics();
  const plugins = createPluginRuntime({ plugins: BUILTIN_PLUGINS, logger });
  const proxy = createProxy({ logger, plugins });
  const bindAddress = options.bindAddress;
  const pipeline = createPipeline({
    proxy, logger, metrics,
    translateOptions: {
      controllerName: CONTROLLER_NAME,
      validateRegex,
      plugins: pluginValidators,
      ...(bindAddress === undefined ? {} : { gatewayAddress: () => bindAddress }),
    },
  });

  const loader = createConfigLoader(options.config);
  const first = await loader.load();
  if (first.errors.length > 0) {
    await proxy.close();
    plugins.close();
    throw new ConfigInvalidError(first.errors);
  }
  await pipeline.update(first.resources);
  let lastErrors: readonly ConfigError[] = [];

  // A file emptied by an in-place rewrite is held back (see LoadOptions.acceptEmptied); if it
  // is still empty after this long, the user meant it and it applies.
  let emptiedTimer: NodeJS.Timeout | undefined;
  const reloadOnce = async (acceptEmptied: boolean): Promise<readonly ConfigError[]> => {
    const loaded = await loader.load({ acceptEmptied });
    clearTimeout(emptiedTimer);
    emptiedTimer = undefined;
    if (loaded.emptied.length > 0) {
      logger.info({ files: loaded.emptied, recheckMs: EMPTIED_RECHECK_MS }, 'file emptied; its previous content keeps serving until it stays empty');
      emptiedTimer = setTimeout(() => {
        emptiedTimer = undefined;
        reload(true).catch((err: unknown) => logger.error({ err }, 'reload failed'));
      }, EMPTIED_RECHECK_MS);
      emptiedTimer.unref();
    }
    if (loaded.errors.length > 0) {
      lastErrors = loaded.errors;
      metrics.configReloads.inc({ result: 'rejected' });
      for (const e of loaded.errors) logger.error({ code: e.code, file: e.file, document: e.document, field: e.field }, formatConfigError(e));
      logger.warn({ errors: loaded.errors.length }, 'configuration rejected; the last good configuration keeps serving');
      return lastErrors;
    }
    lastErrors = [];
    await pipeline.update(loaded.resources);
    return lastErrors;
  };
  // Reloads run one at a time (the loader keeps state between reads); a request for a reload
  // while one runs is folded into a single follow-up, since each reads the files as they are.
  let running: Promise<readonly ConfigError[]> | undefined;
  let queued: Promise<readonly ConfigError[]> | undefined;
  let queuedAccepts = false;
  const reload = (acceptEmptied = false): Promise<readonly ConfigError[]> => {
    if (running === undefined) {
      running = reloadOnce(acceptEmptied).finally(() => { running = undefined; });
      return running;
    }
    queuedAccepts ||= acceptEmptied;
    queued ??= running.catch(() => undefined).then(() => {
      const accept = queuedAccepts;
      queued = undefined;
      queuedAccepts = false;
      return reload(accept);
    });
    return queued;
  };

  let watcher: ConfigWatcher | undefined;
  if (options.watch) {
    watcher = await watchConfig(options.config, () => {
      reload().catch((err: unknown) => logger.error({ err }, 'reload failed'));
    });
  }

  let admin: AdminServer | undefined;
  if (options.adminAddress !== '') {
    admin = await startAdminServer(options.adminAddress, {
      ready: () => pipeline.snapshot().table !== undefined,
      config: () => redactTable(pipeline.snapshot().table),
      status: () => ({ configErrors: lastErrors.map(formatConfigError), objects: pipeline.snapshot().statuses, endpointHealth: proxy.health() }),
    }, metrics.registry);
    logger.info({ url: admin.url }, 'admin endpoint listening');
  }

  return {
    pipeline,
    ...(admin === undefined ? {} : { admin }),
    lastErrors: () => lastErrors,
    reload,
    async close() {
      watcher?.close();
      clearTimeout(emptiedTimer);
      pipeline.close();
      await admin?.close();
      await proxy.close();
      plugins.close();
    },
  };
}

/** The table as the admin endpoint shows it: private keys and plugin secrets never leave the process. */
export function redactTable(table: RoutingTable | undefined): unknown {
  if (table === undefined) return null;
  const filter = (f: Filter): Filter => (f.type === 'Plugin' ? { ...f, plugin: { ...f.plugin, config: redactPluginConfig(f.plugin.config) } } : f);
  return {
    ...table,
    listeners: table.listeners.map((l) => ({
      ...l,
      gatewayListeners: l.gatewayListeners.map((g) => ({
        ...g,
        certificates: g.certificates.map((c) => ({ id: c.id, certPem: c.certPem, keyPem: '[redacted]' })),
      })),
      virtualHosts: l.virtualHosts.map((v) => ({ ...v, routes: v.routes.map((r) => ({ ...r, filters: r.filters.map(filter) })) })),
    })),
  };
}
