import type { ApplyResult, RoutingTable } from '../ir/index.ts';
import { createTranslateCache, translate, withApplyResult } from '../translate/index.ts';
import type { ObjectStatus, Resources, TranslateOptions } from '../translate/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createProblemTracker } from './describe-problems.ts';

export interface PipelineDeps {
  readonly proxy: { apply(table: RoutingTable): Promise<ApplyResult> };
  readonly translateOptions: TranslateOptions;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Backoff of bind retries (tests shorten it). */
  readonly bindRetryMs?: { readonly first: number; readonly max: number };
}

export interface PipelineSnapshot {
  /** The table the proxy is serving, once one was applied. */
  readonly table?: RoutingTable;
  readonly applied?: ApplyResult;
  /** Statuses of the last translation, with Programmed from the last apply. */
  readonly statuses: readonly ObjectStatus[];
}

export interface Pipeline {
  /**
   * Translates and applies `resources`. Calls are serialised and coalesced: while one apply
   * runs, only the newest pending state is kept, since each is the full state.
   */
  update(resources: Resources): Promise<PipelineSnapshot>;
  snapshot(): PipelineSnapshot;
  /** Stops the bind retry timer. */
  close(): void;
}

/** Delay before re-applying a table a listener of which could not bind, doubling to a cap. */
const BIND_RETRY_MS = { first: 1000, max: 30_000 };

export function createPipeline(deps: PipelineDeps): Pipeline {
  let snapshot: PipelineSnapshot = { statuses: [] };
  let running: Promise<void> | undefined;
  let pending: Resources | undefined;
  let waiters: { resolve: (s: PipelineSnapshot) => void; reject: (e: unknown) => void }[] = [];
  let reported = new Set<string>();
  const problemTracker = createProblemTracker();
  let lastResources: Resources | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  const retryMs = deps.bindRetryMs ?? BIND_RETRY_MS;
  let retryDelay = retryMs.first;
  // Each run is a full rebuild in meaning; the cache makes it cost only what changed.
  const translateOptions = { ...deps.translateOptions, cache: createTranslateCache() };

  async function runOnce(resources: Resources): Promise<void> {
    const started = performance.now();
    const { table, statuses } = translate(resources, translateOptions);
    const translatedMs = performance.now() - started;
    // An equal table is not applied again, unless a listener of it failed to bind (a port
    // that was busy may be free now).
    const unchanged = snapshot.table?.version === table.version && snapshot.applied !== undefined
      && snapshot.applied.listeners.every((l) => l.bound);
    const applied = unchanged ? (snapshot.applied as ApplyResult) : await deps.proxy.apply(table);
    // The new table serves from here on. Let requests waiting on the event loop run before
    // the status bookkeeping below (linear in the number of objects), so a reload under load
    // reaches its first request sooner.
    await new Promise<void>((resolve) => setImmediate(resolve));
    snapshot = { table, applied, statuses: withApplyResult(statuses, table, applied) };
    deps.metrics?.configReloads.inc({ result: unchanged ? 'unchanged' : 'applied' });
    deps.metrics?.configLastSuccess.setToCurrentTime();
    deps.metrics?.tableListeners.set(table.listeners.length);
    deps.metrics?.tableRoutes.set(countRoutes(table));
    deps.logger.info(
      { version: table.version.slice(0, 12), listeners: table.listeners.length, routes: countRoutes(table), translateMs: round(translatedMs), totalMs: round(performance.now() - started), unchanged },
      unchanged ? 'configuration unchanged' : 'configuration applied',
    );
    const unbound = applied.listeners.filter((l) => !l.bound);
    for (const l of unbound) deps.logger.error({ listener: l.id, error: l.error, retryInMs: retryDelay }, 'listener not bound; will retry');
    scheduleBindRetry(unbound.length > 0);
    // Log each problem once, when it appears, so a user sees why a route did not attach
    // without the same line repeating on every reload.
    const problems = problemTracker.describe(snapshot.statuses);
    const next = new Set(problems);
    for (const p of problems) if (!reported.has(p)) deps.logger.warn({ problem: p }, 'status problem');
    for (const p of reported) if (!next.has(p)) deps.logger.info({ problem: p }, 'status problem resolved');
    reported = next;
  }

  // A listener that failed to bind (EADDRINUSE, an address not yet configured) is retried with
  // backoff, so the data plane never sits silently without a port it should serve.
  function scheduleBindRetry(needed: boolean): void {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    if (!needed) {
      retryDelay = retryMs.first;
      return;
    }
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (pending === undefined && lastResources !== undefined) void api.update(lastResources).catch(() => undefined);
    }, retryDelay);
    retryTimer.unref();
    retryDelay = Math.min(retryDelay * 2, retryMs.max);
  }

  async function drain(): Promise<void> {
    while (pending !== undefined) {
      const resources = pending;
      const mine = waiters;
      pending = undefined;
      waiters = [];
      try {
        await runOnce(resources);
        for (const w of mine) w.resolve(snapshot);
      } catch (err) {
        deps.metrics?.configReloads.inc({ result: 'failed' });
        deps.logger.error({ err }, 'configuration could not be applied; the last good one keeps serving');
        for (const w of mine) w.reject(err);
      }
    }
    running = undefined;
  }

  const api: Pipeline = {
    update(resources) {
      pending = resources;
      lastResources = resources;
      const done = new Promise<PipelineSnapshot>((resolve, reject) => waiters.push({ resolve, reject }));
      running ??= drain();
      return done;
    },
    snapshot: () => snapshot,
    close() {
      clearTimeout(retryTimer);
      retryTimer = undefined;
    },
  };
  return api;
}

function countRoutes(table: RoutingTable): number {
  let n = 0;
  for (const l of table.listeners) for (const v of l.virtualHosts) n += v.routes.length;
  return n;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
