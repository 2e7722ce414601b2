// Writes the statuses the pipeline computed to the API server. Only the leader calls it. A
// write is skipped when the object's status already says the same; conflicts (409) are
// retried against a fresh read; failures are retried later, so statuses computed while the
// API server was away land once it is back.
import type { Logger } from '../observability/logger.ts';
import type { ObjectStatus } from '../translate/index.ts';
import type { KubeClient } from './kube-client.ts';
import { describeAnswer } from './kube-client.ts';
import { ControllerError } from './errors.ts';
import { kindByName, PLUGIN_KINDS, POLICY_KINDS } from './kinds.ts';
import { objectKey } from './store.ts';
import type { KubeObject, Store } from './store.ts';
import { hasAncestorsOf, kubeTime, mergeOwnedStatus, mergePolicyStatus, mergeRouteStatus, statusEqual } from './status-merge.ts';
import { supportedFeatures } from './supported-features.ts';
import { backoffDelay } from './backoff.ts';

export interface StatusWriterOptions {
  readonly client: KubeClient;
  readonly store: Store;
  readonly controllerName: string;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly concurrency?: number;
  readonly maxConflictRetries?: number;
  /**
   * In-cluster mode: the addresses a Gateway reports (its Service's), replacing the bound
   * addresses the pipeline computed (all interfaces, which say nothing to a client).
   */
  readonly gatewayAddresses?: (namespace: string, name: string) => readonly { type: string; value: string }[];
  /**
   * Namespaces whose fluxgate.io objects this controller reports top-level conditions for
   * (those holding its Gateways or routes); default: every namespace.
   */
  readonly servesNamespace?: (namespace: string) => boolean;
}

export interface StatusWriteStats {
  writes: number;
  skipped: number;
  conflicts: number;
  failures: number;
}

export interface StatusWriter {
  /** Makes the API match `statuses` (coalesced: a newer call supersedes a pending one). */
  sync(statuses: readonly ObjectStatus[]): Promise<void>;
  /** Stops writing: in-flight writes finish, pending and retries are dropped. */
  stop(): void;
  stats(): Readonly<StatusWriteStats>;
}

const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute'];

interface Target {
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
  /** Computes the status to write from the object's current status. */
  readonly merge: (existing: unknown, now: string) => unknown;
}

export function createStatusWriter(options: StatusWriterOptions): StatusWriter {
  const { client, store, controllerName, logger } = options;
  const now = options.now ?? Date.now;
  const log = logger.child({ component: 'status-writer' });
  const stats: StatusWriteStats = { writes: 0, skipped: 0, conflicts: 0, failures: 0 };
  let stopped = false;
  let running: Promise<void> | undefined;
  let pending: readonly ObjectStatus[] | undefined;
  let latest: readonly ObjectStatus[] | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryFailures = 0;

  function targets(statuses: readonly ObjectStatus[]): Target[] {
    const out: Target[] = [];
    const seen = new Set<string>();
    for (const s of statuses) {
      seen.add(objectKey(s.kind, s.namespace, s.name));
      if (s.kind === 'GatewayClass') {
        out.push({ kind: s.kind, namespace: undefined, name: s.name, merge: (e, t) => {
          const merged = mergeOwnedStatus(s.status, e, t);
          // Only an accepted class claims features: a rejected one supports nothing.
          const accepted = (merged.conditions as { type: string; status: string }[]).some((c) => c.type === 'Accepted' && c.status === 'True');
          return accepted ? { ...merged, supportedFeatures: supportedFeatures() } : merged;
        } });
      } else if (s.kind === 'Gateway') {
        out.push({ kind: s.kind, namespace: s.namespace, name: s.name, merge: (e, t) => {
          if (options.gatewayAddresses === undefined) return mergeOwnedStatus(s.status, e, t);
          const addresses = options.gatewayAddresses(s.namespace ?? '', s.name);
          const merged = mergeOwnedStatus(addresses.length > 0 ? s.status : addressNotAssigned(s.status), e, t);
          const { addresses: _bound, ...rest } = merged;
          return addresses.length > 0 ? { ...rest, addresses: [...addresses] } : rest;
        } });
      } else if (s.kind === 'ListenerSet') {
        // GEP-1713: a set of ours (its parent Gateway is ours) is entirely ours, like a Gateway.
        out.push({ kind: s.kind, namespace: s.namespace, name: s.name, merge: (e, t) => mergeOwnedStatus(s.status, e, t) });
      } else if (ROUTE_KINDS.includes(s.kind)) {
        const parents = (s.status as { parents?: unknown } | undefined)?.parents;
        out.push({ kind: s.kind, namespace: s.namespace, name: s.name, merge: (e, t) => mergeRouteStatus(parents, e, controllerName, s.namespace ?? '', t) });
      } else if (s.kind === 'BackendTLSPolicy') {
        // PolicyStatus: ancestors only (no top-level conditions); other controllers' entries kept.
        out.push({ kind: s.kind, namespace: s.namespace, name: s.name, merge: (e, t) => mergePolicyStatus(s.status, e, controllerName, false, t) });
      } else if (PLUGIN_KINDS.has(s.kind)) {
        const served = options.servesNamespace?.(s.namespace ?? '') ?? true;
        const ancestors = (s.status as { ancestors?: unknown[] } | undefined)?.ancestors ?? [];
        const current = store.get(s.kind, s.namespace, s.name);
        // Nothing of ours to say and nothing of ours to remove: leave the object alone.
        if (!served && ancestors.length === 0 && !hasAncestorsOf(current?.status, controllerName)) continue;
        out.push({ kind: s.kind, namespace: s.namespace, name: s.name, merge: (e, t) => mergePolicyStatus(s.status, e, controllerName, served, t) });
      }
    }
    // Policies of a kind whose objects we computed no status for (cannot happen while the
    // translator reports every policy, but a policy must never keep a stale entry of ours).
    for (const kind of POLICY_KINDS) {
      for (const policy of store.list(kind)) {
        const key = objectKey(kind, policy.metadata?.namespace, policy.metadata?.name);
        if (seen.has(key) || !hasAncestorsOf(policy.status, controllerName)) continue;
        out.push({ kind, namespace: policy.metadata?.namespace, name: policy.metadata?.name ?? '', merge: (e, t) => mergePolicyStatus({ ancestors: [] }, e, controllerName, false, t) });
      }
    }
    // Routes that still carry our parent entries but that we no longer computed a status for
    // (they left our Gateways): remove our entries, keep everyone else's.
    for (const kind of ROUTE_KINDS) {
      for (const route of store.list(kind)) {
        const key = objectKey(kind, route.metadata?.namespace, route.metadata?.name);
        if (seen.has(key)) continue;
        const parents = (route.status as { parents?: { controllerName?: string }[] } | undefined)?.parents;
        if (!Array.isArray(parents) || !parents.some((p) => p.controllerName === controllerName)) continue;
        out.push({ kind, namespace: route.metadata?.namespace, name: route.metadata?.name ?? '', merge: (e, t) => mergeRouteStatus([], e, controllerName, route.metadata?.namespace ?? '', t) });
      }
    }
    return out;
  }

  /** Returns false when the write failed in a way worth retrying later. */
  async function writeOne(target: Target): Promise<boolean> {
    let object: KubeObject | undefined = store.get(target.kind, target.namespace, target.name);
    const attempts = (options.maxConflictRetries ?? 5) + 1;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (object === undefined) return true; // deleted: nothing to write
      const desired = target.merge(object.status, kubeTime(now()));
      if (statusEqual(desired, object.status)) {
        stats.skipped++;
        return true;
      }
      const path = statusPath(object, target);
      const res = await client.request('PUT', path, { body: { ...object, status: desired } });
      if (res.status === 200 || res.status === 201) {
        stats.writes++;
        // Keep the store's copy current so the next sync compares against what we wrote; the
        // status is not part of the store's change fingerprint, so this triggers no rebuild.
        // Only while the store still holds the object we wrote against: if a watch event came
        // in meanwhile, the store's copy may be newer than this answer (a spec change that
        // landed just after our write), and putting the answer back would undo that change
        // until the next event. The watch brings our own write too.
        const current = store.get(target.kind, target.namespace, target.name);
        if (current !== undefined && current.metadata?.resourceVersion === object.metadata?.resourceVersion) {
          store.apply(target.kind, 'MODIFIED', res.body as KubeObject);
        }
        log.debug({ kind: target.kind, namespace: target.namespace, name: target.name }, 'status written');
        return true;
      }
      if (res.status === 404) return true;
      if (res.status === 409) {
        stats.conflicts++;
        const fresh = await client.request('GET', objectPathOf(object, target));
        if (fresh.status === 404) return true;
        if (fresh.status !== 200) break;
        object = fresh.body as KubeObject;
        continue;
      }
      stats.failures++;
      log.error({ code: 'KUBE_REQUEST_FAILED', kind: target.kind, namespace: target.namespace, name: target.name }, `status write failed: ${describeAnswer(res)}`);
      // 422 means our status is invalid for the schema: retrying the same body cannot help.
      return res.status === 422;
    }
    stats.failures++;
    log.warn({ code: 'STATUS_CONFLICT_RETRIES_EXHAUSTED', kind: target.kind, namespace: target.namespace, name: target.name }, 'status write kept conflicting; will retry');
    return false;
  }

  async function runOnce(statuses: readonly ObjectStatus[]): Promise<boolean> {
    const queue = targets(statuses);
    let ok = true;
    const worker = async (): Promise<void> => {
      for (let t = queue.shift(); t !== undefined && !stopped; t = queue.shift()) {
        try {
          if (!(await writeOne(t))) ok = false;
        } catch (err) {
          ok = false;
          stats.failures++;
          const code = err instanceof ControllerError ? err.code : 'KUBE_UNREACHABLE';
          log.warn({ code, kind: t.kind, namespace: t.namespace, name: t.name }, `status write failed: ${(err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
    return ok;
  }

  async function drain(): Promise<void> {
    while (pending !== undefined && !stopped) {
      const statuses = pending;
      pending = undefined;
      const ok = await runOnce(statuses);
      if (ok) {
        retryFailures = 0;
      } else if (pending === undefined && !stopped) {
        retryFailures++;
        const delay = backoffDelay(retryFailures, { initialMs: 500, maxMs: 2000 });
        if (retryTimer !== undefined) clearTimeout(retryTimer);
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          if (latest !== undefined) void sync(latest);
        }, delay);
        retryTimer.unref();
      }
    }
    running = undefined;
  }

  function sync(statuses: readonly ObjectStatus[]): Promise<void> {
    if (stopped) return Promise.resolve();
    latest = statuses;
    pending = statuses;
    running ??= drain();
    return running;
  }

  return {
    sync,
    stop() {
      stopped = true;
      pending = undefined;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
    },
    stats: () => ({ ...stats }),
  };
}

function apiVersionParts(object: KubeObject, target: Target): { group: string; version: string } {
  const apiVersion = object.apiVersion ?? `${kindByName(target.kind)?.group}/${kindByName(target.kind)?.versions[0]}`;
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function objectPathOf(object: KubeObject, target: Target): string {
  const k = kindByName(target.kind);
  const { group, version } = apiVersionParts(object, target);
  const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const ns = target.namespace === undefined ? '' : `/namespaces/${encodeURIComponent(target.namespace)}`;
  return `${base}${ns}/${k?.plural ?? ''}/${encodeURIComponent(target.name)}`;
}

function statusPath(object: KubeObject, target: Target): string {
  return `${objectPathOf(object, target)}/status`;
}

/**
 * In-cluster mode, a Gateway whose Service has no address yet (a LoadBalancer still pending):
 * the listeners may be bound, but no client can reach them, so Programmed is False with the
 * Gateway API reason AddressNotAssigned instead of True.
 */
function addressNotAssigned(status: unknown): unknown {
  const st = status as { conditions?: { type: string; status: string }[] } | undefined;
  if (!Array.isArray(st?.conditions)) return status;
  return {
    ...st,
    conditions: st.conditions.map((c) => (c.type === 'Programmed' && c.status === 'True'
      ? { ...c, status: 'False', reason: 'AddressNotAssigned', message: "Waiting for the Gateway's Service to get an address (a LoadBalancer Service needs a load-balancer controller)" }
      : c)),
  };
}
