import type { ApplyResult, RoutingTable } from '../ir/index.ts';
import { createTranslateCache, translate, withApplyResult } from '../translate/index.ts';
import type { ObjectStatus, Resources, TranslateOptions } from '../translate/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { describeProblems } from './describe-problems.ts';

export interface PipelineDeps {
  readonly proxy: { apply(table: RoutingTable): Promise<ApplyResult> };
  readonly translateOptions: TranslateOptions;
  readonly logger: Logger;
  readonly metrics?: Metrics;
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
}

export function createPipeline(deps: PipelineDeps): Pipeline {
  let snapshot: PipelineSnapshot = { statuses: [] };
  let running: Promise<void> | undefined;
  let pending: Resources | undefined;
  let waiters: { resolve: (s: PipelineSnapshot) => void; reject: (e: unknown) => void }[] = [];
  let reported = new Set<string>();
  // Each run is a full rebuild in meaning; the cache makes it cost only what changed.
  const translateOptions = { ...deps.translateOptions, cache: createTranslateCache() };

  async function runOnce(resources: Resources): Promise<void> {
    const started = performance.now();
    const { table, statuses } = translate(resources, translateOptions);
    const translatedMs = performance.now() - started;
    const unchanged = snapshot.table?.version === table.version && snapshot.applied !== undefined;
    const applied = unchanged ? (snapshot.applied as ApplyResult) : await deps.proxy.apply(table);
    snapshot = { table, applied, statuses: withApplyResult(statuses, table, applied) };
    deps.metrics?.configReloads.inc({ result: unchanged ? 'unchanged' : 'applied' });
    deps.metrics?.configLastSuccess.setToCurrentTime();
    deps.metrics?.tableListeners.set(table.listeners.length);
    deps.metrics?.tableRoutes.set(countRoutes(table));
    deps.logger.info(
      { version: table.version.slice(0, 12), listeners: table.listeners.length, routes: countRoutes(table), translateMs: round(translatedMs), totalMs: round(performance.now() - started), unchanged },
      unchanged ? 'configuration unchanged' : 'configuration applied',
    );
    for (const l of applied.listeners) {
      if (!l.bound) deps.logger.error({ listener: l.id, error: l.error }, 'listener not bound');
    }
    // Log each problem once, when it appears, so a user sees why a route did not attach
    // without the same line repeating on every reload.
    const problems = describeProblems(snapshot.statuses);
    const next = new Set(problems);
    for (const p of problems) if (!reported.has(p)) deps.logger.warn({ problem: p }, 'status problem');
    for (const p of reported) if (!next.has(p)) deps.logger.info({ problem: p }, 'status problem resolved');
    reported = next;
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

  return {
    update(resources) {
      pending = resources;
      const done = new Promise<PipelineSnapshot>((resolve, reject) => waiters.push({ resolve, reject }));
      running ??= drain();
      return done;
    },
    snapshot: () => snapshot,
  };
}

function countRoutes(table: RoutingTable): number {
  let n = 0;
  for (const l of table.listeners) for (const v of l.virtualHosts) n += v.routes.length;
  return n;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
