// backendRefs → data-plane backends: Service lookup, ReferenceGrant check, Service port,
// appProtocol, and ready endpoints from EndpointSlices.
import type { Backend, BackendProtocol, Endpoint } from '../ir/index.ts';
import * as st from '../status/index.ts';
import type { BackendRefFailureReason } from '../status/index.ts';
import type { Graph } from './graph.ts';
import { key } from './graph.ts';
import type { RouteKind } from './listeners.ts';
import { GATEWAY_GROUP, referenceAllowed } from './reference-grants.ts';
import { compareStrings, int, obj, objs, str, strs, type Obj } from './safe.ts';

export interface RefFailure { readonly reason: BackendRefFailureReason; readonly message: string }

/** A resolved Service port, materialised into a Backend only if a served route uses it. */
export interface BackendSource {
  readonly id: string;
  readonly namespace: string;
  readonly service: string;
  /** The Service port object (spec.ports[i]). */
  readonly servicePort: Obj;
}

export type BackendResolution = { readonly ok: true; readonly source: BackendSource } | { readonly ok: false; readonly failure: RefFailure };

/**
 * Resolves a BackendObjectReference (Gateway API): core Service only; cross-namespace needs a
 * ReferenceGrant from the route's kind and namespace; port must name a Service port.
 */
export function resolveBackendRef(graph: Graph, ref: Obj, field: string, routeKind: RouteKind, routeNs: string): BackendResolution {
  const group = str(ref.group) ?? '';
  const kind = str(ref.kind) ?? 'Service';
  const name = str(ref.name) ?? '';
  const ns = str(ref.namespace) ?? routeNs;
  if (group !== '' || kind !== 'Service') {
    return { ok: false, failure: st.backendInvalidKind(field, `${group === '' ? 'core' : group}/${kind}`) };
  }
  if (!referenceAllowed(graph.resources.referenceGrants, { group: GATEWAY_GROUP, kind: routeKind, namespace: routeNs }, { group: '', kind: 'Service', namespace: ns, name })) {
    return { ok: false, failure: st.backendRefNotPermitted(field, `Service ${ns}/${name}`) };
  }
  const label = ns === routeNs ? name : `${ns}/${name}`;
  const service = graph.services.get(key(ns, name));
  if (!service) return { ok: false, failure: st.backendNotFound(field, label) };
  const port = int(ref.port);
  const servicePort = port === undefined ? undefined : objs(obj(obj(service)?.spec)?.ports).find((p) => int(p.port) === port);
  if (!servicePort) return { ok: false, failure: st.backendPortNotFound(field, label, port) };
  return { ok: true, source: { id: `backend/${ns}/${name}/${port}`, namespace: ns, service: name, servicePort } };
}

/** appProtocol (KEP-3726 standard values) → the protocol spoken to endpoints. */
export function backendProtocol(servicePort: Obj): BackendProtocol {
  switch (str(servicePort.appProtocol)) {
    case 'kubernetes.io/h2c': return 'h2c';
    case 'kubernetes.io/ws':
    case 'kubernetes.io/wss': return 'websocket';
    default: return 'http1';
  }
}

/**
 * Ready endpoints of a Service port. EndpointSlice ports are matched by the Service port's
 * name (both empty for an unnamed port); an endpoint is ready unless conditions.ready is
 * false (EndpointSlice API: nil means ready).
 */
export function buildEndpoints(graph: Graph, source: BackendSource): Endpoint[] {
  const portName = str(source.servicePort.name) ?? '';
  const seen = new Set<string>();
  const out: Endpoint[] = [];
  for (const slice of graph.endpointSlices.get(key(source.namespace, source.service)) ?? []) {
    const s = obj(slice)!;
    const addressType = str(s.addressType) ?? 'IPv4';
    if (addressType !== 'IPv4' && addressType !== 'IPv6') continue;
    const port = int(objs(s.ports).find((p) => (str(p.name) ?? '') === portName)?.port);
    if (port === undefined || port < 1 || port > 65535) continue;
    for (const e of objs(s.endpoints)) {
      if (obj(e.conditions)?.ready === false) continue;
      for (const address of strs(e.addresses)) {
        const k = `${address} ${port}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push({ address, port });
      }
    }
  }
  return out.sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port);
}

export function buildBackend(graph: Graph, source: BackendSource, forceH2c: boolean): Backend {
  // gRPC always runs over HTTP/2; a GRPCRoute backend is h2c whatever appProtocol says.
  const protocol = forceH2c ? 'h2c' : backendProtocol(source.servicePort);
  return { id: source.id, protocol, endpoints: buildEndpoints(graph, source) };
}
