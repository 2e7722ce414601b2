/**
 * Stream routes of a TLS, TCP or UDP socket (IR Listener.streamRoutes), compiled once per
 * apply: per Gateway listener a map of exact hostnames, wildcard suffixes and the catch-all,
 * each with a weighted picker over its backendRefs and round-robin over the endpoints.
 *
 * The Gateway listener is chosen first (by SNI on TLS sockets; the only one on TCP and UDP
 * sockets), then the route among that listener's hostnames only: a connection never falls
 * through to another listener's routes (Gateway API listener isolation).
 */
import type { Backend, Endpoint, StreamRoute } from '../ir/index.ts';
import { createWeightedPicker, RoundRobin, type WeightedPicker } from './balancer.ts';

export type StreamTarget =
  | { readonly kind: 'backend'; readonly backendId: string; readonly endpoints: RoundRobin<Endpoint> }
  /** A share that rejects its connections: an unresolved backendRef, or a backend missing from the table. */
  | { readonly kind: 'invalid'; readonly code: string };

export interface CompiledStreamRoute {
  readonly id: string;
  readonly hostname: string;
  readonly listenerId: string;
  /** `<listenerId> <route id>`: a connection keeps running across applies while this key exists. */
  readonly key: string;
  /** Undefined when the route has no backendRefs: every connection is closed. */
  readonly picker: WeightedPicker<StreamTarget> | undefined;
}

interface HostMap {
  readonly exact: Map<string, CompiledStreamRoute>;
  /** By suffix including the leading dot (`.example.com`). */
  readonly wildcard: Map<string, CompiledStreamRoute>;
  catchAll: CompiledStreamRoute | undefined;
}

export class CompiledStreams {
  readonly #byListener = new Map<string, HostMap>();
  /** Keys of every route (see CompiledStreamRoute.key). */
  readonly keys = new Set<string>();

  constructor(routes: readonly StreamRoute[], backends: ReadonlyMap<string, Backend>) {
    // Endpoints cycle per backend, shared by every route of this socket that uses it.
    const cursors = new Map<string, RoundRobin<Endpoint>>();
    const cursor = (b: Backend): RoundRobin<Endpoint> => {
      let c = cursors.get(b.id);
      if (c === undefined) cursors.set(b.id, (c = new RoundRobin(b.endpoints)));
      return c;
    };
    for (const r of routes) {
      const targets: StreamTarget[] = r.backendRefs.map((ref) => {
        if (ref.kind === 'invalid') return { kind: 'invalid', code: ref.code };
        const b = backends.get(ref.backendId);
        return b === undefined ? { kind: 'invalid', code: 'BACKEND_NOT_FOUND' } : { kind: 'backend', backendId: b.id, endpoints: cursor(b) };
      });
      const compiled: CompiledStreamRoute = {
        id: r.id, hostname: r.hostname, listenerId: r.listenerId, key: `${r.listenerId} ${r.id}`,
        picker: createWeightedPicker(targets, r.backendRefs.map((b) => b.weight)),
      };
      this.keys.add(compiled.key);
      let m = this.#byListener.get(r.listenerId);
      if (m === undefined) this.#byListener.set(r.listenerId, (m = { exact: new Map(), wildcard: new Map(), catchAll: undefined }));
      const h = r.hostname.toLowerCase();
      // First one wins on duplicates: the table is sorted by specificity already.
      if (h === '*') m.catchAll ??= compiled;
      else if (h.startsWith('*.')) {
        if (!m.wildcard.has(h.slice(1))) m.wildcard.set(h.slice(1), compiled);
      } else if (!m.exact.has(h)) m.exact.set(h, compiled);
    }
  }

  /**
   * The route of Gateway listener `listenerId` for server name `host` (lower case; undefined
   * without SNI, which only the catch-all serves): exact, else the longest wildcard suffix,
   * else `*`.
   */
  select(listenerId: string, host: string | undefined): CompiledStreamRoute | undefined {
    const m = this.#byListener.get(listenerId);
    if (m === undefined) return undefined;
    if (host === undefined) return m.catchAll;
    const e = m.exact.get(host);
    if (e !== undefined) return e;
    if (m.wildcard.size > 0) {
      let i = host.indexOf('.');
      while (i !== -1) {
        const w = m.wildcard.get(host.slice(i));
        if (w !== undefined) return w;
        i = host.indexOf('.', i + 1);
      }
    }
    return m.catchAll;
  }
}
