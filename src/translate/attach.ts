// Route attachment (Gateway API CommonRouteSpec.parentRefs, Listener.allowedRoutes): which of
// our listeners each parentRef selects, whether the listener allows the route, and the
// hostnames the route serves there.
import * as st from '../status/index.ts';
import type { ConditionInput } from '../status/index.ts';
import type { Graph } from './graph.ts';
import { routeHostnamesOnListener } from './hostnames.ts';
import { selectorMatches } from './label-selector.ts';
import type { GatewayInfo, ListenerInfo, RouteKind } from './listeners.ts';
import { listenerNamespace, type ListenerSetIndex } from './listener-sets.ts';
import { GATEWAY_GROUP } from './reference-grants.ts';
import { indexed, int, obj, str, strs, type Obj } from './safe.ts';

export interface ListenerAttachment {
  readonly listener: ListenerInfo;
  /** Hostnames after intersection with the listener's; empty when none intersect. */
  readonly hostnames: readonly string[];
}

export interface ParentAttachment {
  /**
   * The parentRef as the user wrote it, with the namespace filled in (the route's, when
   * omitted), echoed in RouteParentStatus.parentRef: the conformance suite requires the
   * namespace there (ListenerSetRouteStatusScopedToParentRef, TCPRoute parentRef tests).
   */
  readonly parentRef: Obj;
  readonly gateway: GatewayInfo;
  /** Listeners that accepted the route with at least one hostname in common. */
  readonly listeners: readonly ListenerAttachment[];
  /** The Accepted=False condition when the route did not attach, else undefined. */
  readonly failure?: ConditionInput;
}

/** Gateway API allowedRoutes.namespaces: Same (default), All, or Selector. */
export function namespaceAllowed(graph: Graph, listener: ListenerInfo, routeNs: string): boolean {
  const namespaces = obj(obj(listener.allowedRoutes)?.namespaces);
  const from = str(namespaces?.from) ?? 'Same';
  switch (from) {
    case 'All': return true;
    // A ListenerSet's listener: its own namespace (GEP-1713).
    case 'Same': return routeNs === listenerNamespace(listener);
    case 'Selector': return selectorMatches(namespaces?.selector, graph.namespaceLabels(routeNs));
    default: return false;
  }
}

function parentKey(p: Obj, routeNs: string): string {
  return JSON.stringify([str(p.group) ?? GATEWAY_GROUP, str(p.kind) ?? 'Gateway', str(p.namespace) ?? routeNs,
    str(p.name) ?? '', str(p.sectionName) ?? '', int(p.port) ?? 0]);
}

/**
 * Attaches one route to our Gateways. Parents that are not our Gateways are skipped: their
 * status belongs to other controllers. Increments attachedRoutes on every listener that the
 * parentRef selects, whose allowedRoutes admit the route and whose hostname intersects the
 * route's hostnames; route validity (bad rules, unresolved backends) does not matter.
 */
export function attachRoute(
  graph: Graph, gateways: ReadonlyMap<string, GatewayInfo>, route: unknown, kind: RouteKind, routeNs: string, routeKey: string,
  /** Receives every listener whose attachedRoutes this route counts in (for replay from a cache). */
  countedOn?: ListenerInfo[],
  /** Our ListenerSets by `<ns>/<name>`, for parentRefs of kind ListenerSet. */
  listenerSets?: ListenerSetIndex,
): ParentAttachment[] {
  const spec = obj(obj(route)?.spec);
  const routeHostnames = [...new Set(strs(spec?.hostnames).map((h) => h.toLowerCase()))];
  const seen = new Set<string>();
  const out: ParentAttachment[] = [];
  for (const [p] of indexed(spec?.parentRefs)) {
    if ((str(p.group) ?? GATEWAY_GROUP) !== GATEWAY_GROUP) continue;
    const echoed: Obj = str(p.namespace) === undefined ? { ...p, namespace: routeNs } : p;
    const parentKind = str(p.kind) ?? 'Gateway';
    const parentName = `${str(p.namespace) ?? routeNs}/${str(p.name) ?? ''}`;
    let gw: GatewayInfo | undefined;
    let candidates: readonly ListenerInfo[];
    let what: string;
    if (parentKind === 'Gateway') {
      gw = gateways.get(parentName);
      // A Gateway parentRef reaches the Gateway's own listeners only, never its ListenerSets'.
      candidates = gw?.listeners ?? [];
      what = `Gateway ${parentName}`;
    } else if (parentKind === 'ListenerSet') {
      const set = listenerSets?.get(parentName);
      gw = set?.gateway;
      candidates = set?.listeners ?? [];
      what = `ListenerSet ${parentName}`;
      if (set?.rejection) {
        const k = parentKey(p, routeNs);
        if (seen.has(k)) continue;
        seen.add(k);
        out.push({ parentRef: echoed, gateway: set.gateway, listeners: [], failure: st.routeNotAllowedByListeners(`${what} is not attached to its Gateway: ${set.rejection.message}`) });
        continue;
      }
    } else {
      continue;
    }
    if (!gw) continue;
    const k = parentKey(p, routeNs);
    if (seen.has(k)) continue;
    seen.add(k);
    const sectionName = str(p.sectionName);
    const port = int(p.port);
    const selected = candidates.filter((l) =>
      (sectionName === undefined || l.name === sectionName) && (port === undefined || l.port === port));
    if (selected.length === 0) {
      const which = [sectionName !== undefined ? `sectionName "${sectionName}"` : '', port !== undefined ? `port ${port}` : '']
        .filter(Boolean).join(' and ');
      out.push({ parentRef: echoed, gateway: gw, listeners: [],
        failure: st.routeNoMatchingParent(`${what} has no listener with ${which || 'any name'}`) });
      continue;
    }
    const attached: ListenerAttachment[] = [];
    const refusals: string[] = [];
    let allowedAnywhere = false;
    for (const l of selected) {
      if (!l.supportedKinds.some((gk) => gk.kind === kind)) {
        refusals.push(`listener "${l.name}" does not allow kind ${kind}`);
        continue;
      }
      if (!namespaceAllowed(graph, l, routeNs)) {
        refusals.push(`listener "${l.name}" does not allow routes from namespace "${routeNs}"`);
        continue;
      }
      allowedAnywhere = true;
      const hostnames = routeHostnamesOnListener(l.hostname, routeHostnames);
      if (hostnames.length === 0) continue;
      // A route whose hostnames miss the listener's is not attached to it (Accepted=False,
      // NoMatchingListenerHostname) and is not counted (conformance GatewayWithAttachedRoutes).
      l.attached.add(routeKey);
      countedOn?.push(l);
      attached.push({ listener: l, hostnames });
    }
    let failure: ConditionInput | undefined;
    if (!allowedAnywhere) {
      failure = st.routeNotAllowedByListeners(refusals.join('; '));
    } else if (attached.length === 0) {
      // GEP-1364 / Gateway API HTTPRoute.hostnames: no intersecting hostname → not Accepted.
      failure = st.routeNoMatchingListenerHostname(
        `no listener hostname of ${what} intersects spec.hostnames ${JSON.stringify(routeHostnames)}`);
    }
    out.push({ parentRef: echoed, gateway: gw, listeners: attached, failure });
  }
  return out;
}
