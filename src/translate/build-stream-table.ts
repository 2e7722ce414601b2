// Completes the RoutingTable for TLS, TCP and UDP sockets: their stream routes (one route per
// Gateway listener and hostname, the oldest attached route winning), the TLS mode of each
// Gateway listener, and the backends only stream routes use. A table without such sockets is
// returned unchanged, so HTTP-only tables (and their versions) do not depend on this module.
import type { Backend, Listener, RoutingTable, StreamRoute } from '../ir/index.ts';
import { buildBackend, type BackendSource } from './backends.ts';
import { canonicalJson, sha256Hex } from './canonical-json.ts';
import type { Graph } from './graph.ts';
import { compareHostnameSpecificity, covers, moreSpecific } from './hostnames.ts';
import { isStreamProtocol, serves, type ListenerInfo } from './listeners.ts';
import { compareStrings } from './safe.ts';
import { compareStreamPlacements, type StreamPlacement } from './stream-routes.ts';

export function withStreamRoutes(
  base: RoutingTable, graph: Graph, listeners: readonly ListenerInfo[], placements: readonly StreamPlacement[],
  sources: ReadonlyMap<string, BackendSource>,
): RoutingTable {
  if (!base.listeners.some((l) => isStreamProtocol(l.protocol))) return base;
  const infoById = new Map<string, ListenerInfo>();
  for (const l of listeners) if (serves(l)) infoById.set(l.id, l);
  const byListener = new Map<string, StreamPlacement[]>();
  for (const p of placements) {
    if (!serves(p.listener)) continue;
    const list = byListener.get(p.listener.id);
    if (list) list.push(p); else byListener.set(p.listener.id, [p]);
  }

  const backendProtocol = new Map<string, 'tcp' | 'udp'>();
  const streamSockets: unknown[] = [];
  const out: Listener[] = base.listeners.map((socket) => {
    if (!isStreamProtocol(socket.protocol)) return socket;
    const own = socket.gatewayListeners.map((gl) => infoById.get(gl.id)).filter((l): l is ListenerInfo => l !== undefined);
    const routes: StreamRoute[] = [];
    for (const l of own) {
      // Oldest first: the first placement of a hostname keeps it.
      const list = [...(byListener.get(l.id) ?? [])].sort(compareStreamPlacements);
      const taken = new Map<string, StreamRoute>();
      for (const p of list) {
        for (const h of p.hostnames) {
          if (taken.has(h)) continue;
          // Gateway API listener isolation: SNI selects the most specific listener first, so a
          // hostname a more specific listener of this socket covers never reaches this one.
          if (own.some((o) => o !== l && moreSpecific(o.hostname, l.hostname) && covers(o.hostname, h))) continue;
          taken.set(h, { id: p.route.id, hostname: h, listenerId: l.id, backendRefs: p.route.backendRefs });
        }
      }
      routes.push(...[...taken.values()].sort((a, b) => compareHostnameSpecificity(a.hostname, b.hostname)));
    }
    routes.sort((a, b) => compareStrings(a.listenerId, b.listenerId) || compareHostnameSpecificity(a.hostname, b.hostname));
    for (const r of routes) {
      for (const ref of r.backendRefs) {
        if (ref.kind !== 'backend') continue;
        if (!backendProtocol.has(ref.backendId)) backendProtocol.set(ref.backendId, socket.protocol === 'UDP' ? 'udp' : 'tcp');
      }
    }
    const gatewayListeners = socket.gatewayListeners.map((gl) => {
      const mode = infoById.get(gl.id)?.tlsMode;
      return mode === undefined ? gl : { ...gl, tlsMode: mode };
    });
    const listener: Listener = { ...socket, gatewayListeners, virtualHosts: [], streamRoutes: routes };
    streamSockets.push({ id: socket.id, gatewayListeners: gatewayListeners.map((gl) => [gl.id, gl.tlsMode ?? '']), streamRoutes: routes });
    return listener;
  });

  // A backend HTTP routes use too keeps its HTTP protocol: stream forwarding ignores it.
  const known = new Set(base.backends.map((b) => b.id));
  const added: Backend[] = [];
  for (const [id, protocol] of backendProtocol) {
    if (known.has(id)) continue;
    const src = sources.get(id);
    if (src !== undefined) added.push({ ...buildBackend(graph, src, false), protocol });
  }
  const backends = added.length === 0 ? base.backends : [...base.backends, ...added].sort((a, b) => compareStrings(a.id, b.id));
  const version = sha256Hex(canonicalJson({ base: base.version, streamSockets, added }));
  return { version, listeners: out, backends };
}
