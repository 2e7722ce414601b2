// Decides whether a store change can change what the translator produces for us. Irrelevant
// changes (a Secret no Gateway of ours references, a route on another controller's Gateway,
// an EndpointSlice of an unrelated Service) cause no rebuild. The snapshot handed to the
// translator is still the whole store, so a change skipped here is picked up by the next
// relevant one: relevance only decides *when* to rebuild, never *what* the translator sees.
import type { KubeObject, Store, StoreChange } from './store.ts';
import { GATEWAY_GROUP, PLUGIN_KINDS } from './kinds.ts';

export interface Relevance {
  isRelevant(change: StoreChange): boolean;
  /**
   * Whether a namespace holds a Gateway of ours or a route attached to one: fluxgate.io
   * policies and Consumers there are ours to report on (they can only act on objects of their
   * own namespace).
   */
  servesNamespace(namespace: string): boolean;
}

interface Ref {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

interface Index {
  ourClasses: Set<string>;
  /** `ns/name` of our Gateways. */
  ourGateways: Set<string>;
  /** Namespaces holding our Gateways or routes attached to them. */
  namespacesInUse: Set<string>;
  /** `ns/name` of Services that our routes reference. */
  services: Set<string>;
  /** `ns/name` of Secrets that our Gateways reference. */
  secrets: Set<string>;
  /** `ns/name` of ConfigMaps that our Gateways or any BackendTLSPolicy reference (CA bundles). */
  configMaps: Set<string>;
  /** True when a listener of ours selects route namespaces by label. */
  namespaceSelectors: boolean;
  /** `ns/name` of Secrets that fluxgate.io objects in our namespaces reference (credentials, OIDC). */
  pluginSecrets: Set<string>;
}

const ROUTE_KINDS = new Set(['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute']);
const INDEX_KINDS = new Set(['GatewayClass', 'Gateway', 'ListenerSet', ...ROUTE_KINDS, ...PLUGIN_KINDS]);

export function createRelevance(store: Store, controllerName: string): Relevance {
  let index: Index | undefined;

  const build = (): Index => {
    const ourClasses = new Set<string>();
    for (const c of store.list('GatewayClass')) {
      if (spec(c).controllerName === controllerName && c.metadata?.name !== undefined) ourClasses.add(c.metadata.name);
    }
    const idx: Index = { ourClasses, ourGateways: new Set(), namespacesInUse: new Set(), services: new Set(), secrets: new Set(), configMaps: new Set(), namespaceSelectors: false, pluginSecrets: new Set() };
    for (const gw of store.list('Gateway')) {
      if (!ourClasses.has(String(spec(gw).gatewayClassName))) continue;
      const ns = gw.metadata?.namespace ?? '';
      idx.ourGateways.add(`${ns}/${gw.metadata?.name ?? ''}`);
      idx.namespacesInUse.add(ns);
      collectRefs(spec(gw), ns, CERT_KEYS, 'Secret', idx.secrets);
      collectRefs(spec(gw), ns, CERT_KEYS, 'ConfigMap', idx.configMaps);
      for (const l of asArray(spec(gw).listeners)) {
        const from = ((l as Record<string, unknown>).allowedRoutes as { namespaces?: { from?: string } } | undefined)?.namespaces?.from;
        if (from === 'Selector') idx.namespaceSelectors = true;
      }
      // GEP-1713: which namespaces' ListenerSets attach can hang on namespace labels too.
      if ((spec(gw).allowedListeners as { namespaces?: { from?: string } } | undefined)?.namespaces?.from === 'Selector') idx.namespaceSelectors = true;
    }
    // A ListenerSet's certificates; whether its parent is ours is the translator's question.
    for (const set of store.list('ListenerSet')) {
      collectRefs(spec(set), set.metadata?.namespace ?? '', CERT_KEYS, 'Secret', idx.secrets);
      for (const l of asArray(spec(set).listeners)) {
        if (((l as Record<string, unknown>).allowedRoutes as { namespaces?: { from?: string } } | undefined)?.namespaces?.from === 'Selector') idx.namespaceSelectors = true;
      }
    }
    for (const kind of ROUTE_KINDS) {
      for (const route of store.list(kind)) {
        if (!attachesToOurs(route, idx.ourGateways)) continue;
        const ns = route.metadata?.namespace ?? '';
        idx.namespacesInUse.add(ns);
        collectRefs(spec(route), ns, BACKEND_KEYS, 'Service', idx.services);
      }
    }
    // Policies are few; whether one targets a Service of ours is the translator's question.
    for (const p of store.list('BackendTLSPolicy')) collectRefs(spec(p), p.metadata?.namespace ?? '', CERT_KEYS, 'ConfigMap', idx.configMaps);
    for (const kind of PLUGIN_KINDS) {
      for (const o of store.list(kind)) {
        const ns = o.metadata?.namespace ?? '';
        if (idx.namespacesInUse.has(ns)) collectSecretRefs(spec(o), ns, idx.pluginSecrets);
      }
    }
    return idx;
  };

  const current = (): Index => (index ??= build());

  const isOurGateway = (gw: KubeObject | undefined): boolean =>
    gw !== undefined && current().ourClasses.has(String(spec(gw).gatewayClassName));

  function relevant(change: StoreChange): boolean {
    const either = [change.old, change.new].filter((o): o is KubeObject => o !== undefined);
    switch (change.kind) {
      case 'GatewayClass':
        return either.some((c) => spec(c).controllerName === controllerName);
      case 'Gateway':
        return either.some(isOurGateway);
      case 'HTTPRoute':
      case 'GRPCRoute':
      case 'TLSRoute':
      case 'TCPRoute':
      case 'UDPRoute':
        return either.some((r) => attachesToOurs(r, current().ourGateways) || hasOurParentStatus(r, controllerName));
      case 'ReferenceGrant':
        return either.some((g) => asArray(spec(g).from).some((f) => current().namespacesInUse.has(String((f as Ref).namespace))));
      case 'Service':
        return either.some((s) => current().services.has(nsName(s)) || s.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'fluxgate');
      case 'EndpointSlice':
        return either.some((e) => current().services.has(`${e.metadata?.namespace ?? ''}/${e.metadata?.labels?.['kubernetes.io/service-name'] ?? ''}`));
      case 'ConfigMap':
        return either.some((c) => current().configMaps.has(nsName(c)));
      case 'BackendTLSPolicy':
        return either.some((p) => asArray(spec(p).targetRefs).some((t) => current().services.has(`${p.metadata?.namespace ?? ''}/${(t as Ref).name ?? ''}`)) || hasOurAncestorStatus(p, controllerName));
      case 'Secret':
        return either.some((s) => current().secrets.has(nsName(s)) || current().pluginSecrets.has(nsName(s)));
      case 'TrafficPolicy':
      case 'AuthPolicy':
      case 'Consumer':
        // Policies act only in their own namespace; one that still carries our ancestors must
        // be rebuilt too, so that they are removed.
        return either.some((o) => current().namespacesInUse.has(o.metadata?.namespace ?? '') || hasOurAncestorStatus(o, controllerName));
      case 'Namespace':
        return current().namespaceSelectors && JSON.stringify(change.old?.metadata?.labels ?? null) !== JSON.stringify(change.new?.metadata?.labels ?? null);
      default:
        return true;
    }
  }

  return {
    isRelevant(change) {
      // The index is built from the store after the change; the change's old object is judged
      // too, so leaving our class or our Gateway counts as relevant.
      if (INDEX_KINDS.has(change.kind) || change.kind === 'BackendTLSPolicy') index = undefined;
      return relevant(change);
    },
    servesNamespace: (namespace) => current().namespacesInUse.has(namespace),
  };
}

function hasOurAncestorStatus(policy: KubeObject, controllerName: string): boolean {
  const ancestors = (policy.status as { ancestors?: { controllerName?: string }[] } | undefined)?.ancestors;
  return Array.isArray(ancestors) && ancestors.some((a) => a.controllerName === controllerName);
}

/** Secret names under any `secretRef` / `<something>SecretRef` key (Consumer credentials, OIDC). */
function collectSecretRefs(value: unknown, namespace: string, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectSecretRefs(v, namespace, out);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [k, v] of Object.entries(value)) {
    if (/secretRef$/i.test(k) && typeof v === 'object' && v !== null && typeof (v as Ref).name === 'string') {
      // fluxgate.io references are local: a Secret of the object's own namespace.
      out.add(`${namespace}/${(v as Ref).name ?? ''}`);
    }
    collectSecretRefs(v, namespace, out);
  }
}

function spec(o: KubeObject): Record<string, unknown> {
  return (o.spec ?? {}) as Record<string, unknown>;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function nsName(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

export function attachesToOurs(route: KubeObject, ourGateways: ReadonlySet<string>): boolean {
  const ns = route.metadata?.namespace ?? '';
  return asArray(spec(route).parentRefs).some((p) => {
    const ref = p as Ref;
    // ListenerSets are few: a route attached to one is treated as possibly ours.
    if ((ref.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && ref.kind === 'ListenerSet') return true;
    if ((ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') return false;
    return ourGateways.has(`${ref.namespace ?? ns}/${ref.name ?? ''}`);
  });
}

function hasOurParentStatus(route: KubeObject, controllerName: string): boolean {
  const parents = (route.status as { parents?: { controllerName?: string }[] } | undefined)?.parents;
  return Array.isArray(parents) && parents.some((p) => p.controllerName === controllerName);
}

const BACKEND_KEYS = new Set(['backendRefs', 'backendRef']);
const CERT_KEYS = new Set(['certificateRefs', 'certificateRef', 'caCertificateRefs', 'clientCertificateRef']);

/**
 * Collects `ns/name` of every reference of `defaultKind` found under any of `keys`, anywhere in
 * the spec: new Gateway API fields that hold references are then covered without a change here.
 */
function collectRefs(value: unknown, namespace: string, keys: ReadonlySet<string>, defaultKind: string, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, namespace, keys, defaultKind, out);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [k, v] of Object.entries(value)) {
    if (keys.has(k)) {
      for (const ref of Array.isArray(v) ? v : [v]) {
        const r = ref as Ref;
        if (typeof r !== 'object' || r === null || typeof r.name !== 'string') continue;
        if ((r.kind ?? defaultKind) !== defaultKind || (r.group ?? '') !== '') continue;
        out.add(`${r.namespace ?? namespace}/${r.name}`);
      }
    }
    collectRefs(v, namespace, keys, defaultKind, out);
  }
}
