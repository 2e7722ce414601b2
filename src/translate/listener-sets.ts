// ListenerSet (Gateway API GEP-1713): listeners that other teams add to a Gateway. A set is
// ours when its parentRef names a Gateway of ours; it attaches only when the Gateway's
// spec.allowedListeners admits its namespace. Its listeners are validated like the Gateway's
// own, bind on the Gateway's addresses, and lose every conflict to a listener of higher
// precedence: the Gateway's own listeners first, then sets by creation time, then by
// namespace/name. Routes reach them only through a parentRef of kind ListenerSet.
import { mergeConditions, type ConditionInput } from '../status/index.ts';
import * as ls from '../status/listener-set.ts';
import { listenerIsValid, listenerStatus } from './build-status.ts';
import { buildGraph, sanitize, type Graph } from './graph.ts';
import { selectorMatches } from './label-selector.ts';
import { buildGateways, serves, socketId, type GatewayInfo, type ListenerInfo } from './listeners.ts';
import { GATEWAY_GROUP } from './reference-grants.ts';
import type { Gateway, ListenerSet, Resources } from './resources.ts';
import { compareStrings, meta, obj, str, type Meta } from './safe.ts';
import type { ObjectStatus, TranslateOptions } from './types.ts';

export interface ListenerSetInfo {
  readonly listenerSet: ListenerSet;
  readonly meta: Meta;
  /** The parent Gateway, whose addresses the listeners bind. */
  readonly gateway: GatewayInfo;
  readonly listeners: readonly ListenerInfo[];
  /** Why the whole set is not attached (NotAllowed, ParentNotAccepted); undefined when it is. */
  readonly rejection?: { readonly reason: 'NotAllowed' | 'ParentNotAccepted'; readonly message: string };
}

const owners = new WeakMap<ListenerInfo, ListenerSetInfo>();

/** The ListenerSet a listener comes from; undefined for a Gateway's own listener. */
export function listenerSetOf(l: ListenerInfo): ListenerSetInfo | undefined {
  return owners.get(l);
}

/** The namespace that allowedRoutes `from: Same` means: the set's for its listeners. */
export function listenerNamespace(l: ListenerInfo): string {
  return owners.get(l)?.meta.namespace ?? l.gateway.meta.namespace;
}

/** `ListenerSet` parentRef target of a route, by `<ns>/<name>`. */
export type ListenerSetIndex = ReadonlyMap<string, ListenerSetInfo>;

/** Gateway API AllowedListeners: None (the default), Same, All, or Selector. */
function allowedBy(graph: Graph, gateway: GatewayInfo, setNs: string): { allowed: boolean; from: string } {
  const namespaces = obj(obj(obj(obj(gateway.gateway)?.spec)?.allowedListeners)?.namespaces);
  const from = str(namespaces?.from) ?? 'None';
  switch (from) {
    case 'All': return { allowed: true, from };
    case 'Same': return { allowed: setNs === gateway.meta.namespace, from };
    case 'Selector': return { allowed: selectorMatches(namespaces?.selector, graph.namespaceLabels(setNs)), from };
    default: return { allowed: false, from };
  }
}

/** The Gateway a ListenerSet's spec.parentRef names, when it is one of ours. */
function parentOf(set: ListenerSet, gateways: ReadonlyMap<string, GatewayInfo>): GatewayInfo | undefined {
  const ref = obj(obj(obj(set)?.spec)?.parentRef);
  if (!ref || (str(ref.group) ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (str(ref.kind) ?? 'Gateway') !== 'Gateway') return undefined;
  return gateways.get(`${str(ref.namespace) ?? meta(set).namespace}/${str(ref.name) ?? ''}`);
}

/**
 * The set's listeners, validated by the same code as a Gateway's: the set stands in for a
 * Gateway of its own namespace, so certificateRefs default to that namespace and
 * ReferenceGrants are checked from kind ListenerSet (a Gateway's grants are not inherited).
 */
function buildSetListeners(graph: Graph, set: ListenerSet, parent: GatewayInfo, options: TranslateOptions): ListenerInfo[] {
  const m = meta(set);
  const standIn = {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ListenerSet',
    metadata: { namespace: m.namespace, name: m.name, ...(m.generation === undefined ? {} : { generation: m.generation }) },
    spec: { gatewayClassName: str(obj(obj(parent.gateway)?.spec)?.gatewayClassName) ?? '', listeners: obj(obj(set)?.spec)?.listeners },
  } as unknown as Gateway;
  const built = buildGateways({ ...graph, ourGateways: [standIn] }, { ...options, gatewayAddress: () => '' })[0];
  return (built?.listeners ?? []).map((l) => ({
    ...l, gateway: parent, id: `listenerset/${m.namespace}/${m.name}/${l.name}`, failures: [...l.failures], attached: new Set<string>(),
  }));
}

function precedence(a: ListenerSetInfo, b: ListenerSetInfo): number {
  return compareStrings(a.meta.creationTimestamp, b.meta.creationTimestamp)
    || compareStrings(a.meta.namespace, b.meta.namespace) || compareStrings(a.meta.name, b.meta.name);
}

/**
 * Builds the ListenerSets of our Gateways and resolves their conflicts. Call after
 * markConflicts() on the Gateways' own listeners: those always win.
 */
export function buildListenerSets(graph: Graph, gateways: readonly GatewayInfo[], options: TranslateOptions): ListenerSetInfo[] {
  const byKey = new Map(gateways.map((g) => [`${g.meta.namespace}/${g.meta.name}`, g]));
  const sets: ListenerSetInfo[] = [];
  for (const set of graph.resources.listenerSets ?? []) {
    const m = meta(set);
    const parent = parentOf(set, byKey);
    if (!parent || m.name === '') continue;
    const { allowed, from } = allowedBy(graph, parent, m.namespace);
    let rejection: ListenerSetInfo['rejection'];
    if (!allowed) {
      rejection = { reason: 'NotAllowed', message: `Gateway ${parent.meta.namespace}/${parent.meta.name} does not allow ListenerSets from namespace "${m.namespace}" (spec.allowedListeners.namespaces.from: ${from})` };
    } else if (parent.failures.length > 0) {
      rejection = { reason: 'ParentNotAccepted', message: `Gateway ${parent.meta.namespace}/${parent.meta.name} is not accepted; see its Accepted condition` };
    }
    const listeners = buildSetListeners(graph, set, parent, options);
    if (rejection) for (const l of listeners) l.usable = false;
    const info: ListenerSetInfo = { listenerSet: set, meta: m, gateway: parent, listeners, ...(rejection ? { rejection } : {}) };
    for (const l of listeners) owners.set(l, info);
    sets.push(info);
  }
  sets.sort(precedence);
  resolveConflicts(gateways, sets);
  return sets;
}

/**
 * GEP-1713: the Gateway is treated as having the merged list of its own listeners and its
 * sets' in precedence order; a set listener that shares a socket with an earlier listener of
 * another protocol, or of the same protocol and hostname, is conflicted. The earlier one keeps
 * serving, so adding a set can never break a listener that already works.
 */
function resolveConflicts(gateways: readonly GatewayInfo[], sets: readonly ListenerSetInfo[]): void {
  const sockets = new Map<string, ListenerInfo[]>();
  const add = (l: ListenerInfo): void => {
    for (const address of l.gateway.addresses) {
      const id = socketId(address, l.port, l.protocol);
      const list = sockets.get(id);
      if (list) list.push(l); else sockets.set(id, [l]);
    }
  };
  for (const g of gateways) for (const l of g.listeners) if (serves(l)) add(l);
  for (const set of sets) {
    for (const l of set.listeners) {
      if (!l.usable) continue;
      const on = l.gateway.addresses.flatMap((a) => sockets.get(socketId(a, l.port, l.protocol)) ?? []);
      const otherProtocol = on.find((o) => o.protocol !== l.protocol);
      const sameHost = on.find((o) => o.protocol === l.protocol && o.hostname === l.hostname);
      const winner = otherProtocol ?? sameHost;
      if (winner === undefined) {
        add(l);
        continue;
      }
      l.conflicted = true;
      const field = `spec.listeners[${l.index}]`;
      l.failures.push(...(otherProtocol
        ? ls.listenerEntryConflicted('ProtocolConflict', `${field}: port ${l.port} is already used with protocol ${otherProtocol.protocol} by ${describeOwner(otherProtocol)}, which takes precedence`)
        : ls.listenerEntryConflicted('HostnameConflict', `${field}: hostname "${l.hostname}" on port ${l.port} is already used by ${describeOwner(winner)}, which takes precedence`)));
    }
  }
}

function describeOwner(l: ListenerInfo): string {
  const set = owners.get(l);
  return set ? `listener "${l.name}" of ListenerSet ${set.meta.namespace}/${set.meta.name}` : `listener "${l.name}" of Gateway ${l.gateway.meta.namespace}/${l.gateway.meta.name}`;
}

/** Accepted: not rejected and at least one listener serves (the Gateway API attachment rule). */
export function listenerSetAttached(set: ListenerSetInfo): boolean {
  return set.rejection === undefined && set.listeners.some(listenerIsValid);
}

export function listenerSetStatus(set: ListenerSetInfo): ObjectStatus {
  const gen = set.meta.generation;
  const base = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ListenerSet', namespace: set.meta.namespace, name: set.meta.name };
  if (set.rejection) {
    return { ...base, status: { conditions: mergeConditions(ls.listenerSetRejected(set.rejection.reason, set.rejection.message), gen) } };
  }
  const invalid = set.listeners.filter((l) => !listenerIsValid(l));
  const msg = `${invalid.map((l) => `listener "${l.name}" (spec.listeners[${l.index}])`).join(', ')} ${invalid.length === 1 ? 'is' : 'are'} invalid; see the listener conditions`;
  const conditions: ConditionInput[] = invalid.length === set.listeners.length
    ? ls.listenerSetRejected('ListenersNotValid', set.listeners.length === 0 ? 'spec.listeners is empty' : msg)
    : [invalid.length > 0 ? ls.listenerSetSomeListenersNotValid(msg) : ls.listenerSetAccepted(), ls.listenerSetProgrammedPending()];
  return {
    ...base,
    status: {
      conditions: mergeConditions(conditions, gen),
      listeners: set.listeners.map((l) => listenerStatus(l, gen)),
    },
  };
}

/**
 * Gateway status.attachedListenerSets: the sets that are Accepted. Reported on Gateways that
 * take part in ListenerSets (allowedListeners set, or named by a set) and left out otherwise.
 */
export function withAttachedListenerSets(statuses: readonly ObjectStatus[], gateways: readonly GatewayInfo[], sets: readonly ListenerSetInfo[]): ObjectStatus[] {
  const involved = new Map<string, number>();
  for (const g of gateways) if (obj(obj(g.gateway)?.spec)?.allowedListeners !== undefined) involved.set(`${g.meta.namespace}/${g.meta.name}`, 0);
  for (const s of sets) {
    const k = `${s.gateway.meta.namespace}/${s.gateway.meta.name}`;
    involved.set(k, (involved.get(k) ?? 0) + (listenerSetAttached(s) ? 1 : 0));
  }
  return statuses.map((s) => {
    const n = s.kind === 'Gateway' ? involved.get(`${s.namespace ?? ''}/${s.name}`) : undefined;
    return n === undefined ? s : { ...s, status: { ...(s.status as object), attachedListenerSets: n } };
  });
}

/**
 * For front ends that provision per-Gateway infrastructure (the in-cluster Service): the
 * ListenerSets each of our Gateways admits, by `<ns>/<name>` of the Gateway. Same attachment
 * rules as translate(), without validating the listeners.
 */
export function admittedListenerSets(resources: Resources, controllerName: string): Map<string, ListenerSet[]> {
  const graph = buildGraph(sanitize(resources).resources, controllerName);
  const byKey = new Map<string, GatewayInfo>(graph.ourGateways.map((gateway) => {
    const m = meta(gateway);
    return [`${m.namespace}/${m.name}`, { gateway, meta: m, addresses: [], listeners: [], failures: [] }];
  }));
  const out = new Map<string, ListenerSet[]>();
  for (const set of graph.resources.listenerSets ?? []) {
    const parent = parentOf(set, byKey);
    if (!parent || !allowedBy(graph, parent, meta(set).namespace).allowed) continue;
    const k = `${parent.meta.namespace}/${parent.meta.name}`;
    const list = out.get(k);
    if (list) list.push(set); else out.set(k, [set]);
  }
  return out;
}
