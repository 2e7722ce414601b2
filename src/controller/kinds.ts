// The kinds the controller watches, and where each lands in the translator's Resources.
import type { Resources } from '../translate/resources.ts';

export type ResourceList = keyof Resources;

export interface WatchedKind {
  /** Kubernetes kind, also the store key prefix. */
  readonly kind: string;
  readonly group: string;
  /** Versions to try in order: the first one the API serves wins (older clusters lack v1). */
  readonly versions: readonly string[];
  readonly plural: string;
  readonly namespaced: boolean;
  readonly list: ResourceList;
  /** Server-side filter for list and watch: objects FluxGate can never use stay out of memory. */
  readonly fieldSelector?: string;
  /**
   * A kind from FluxGate's own CRDs (plugins and policies): a cluster without them is a normal
   * setup, logged once, and everything else keeps serving without plugins.
   */
  readonly optional?: boolean;
}

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const FLUXGATE_GROUP = 'fluxgate.io';

export const WATCHED_KINDS: readonly WatchedKind[] = [
  { kind: 'GatewayClass', group: GATEWAY_GROUP, versions: ['v1'], plural: 'gatewayclasses', namespaced: false, list: 'gatewayClasses' },
  { kind: 'Gateway', group: GATEWAY_GROUP, versions: ['v1'], plural: 'gateways', namespaced: true, list: 'gateways' },
  { kind: 'HTTPRoute', group: GATEWAY_GROUP, versions: ['v1'], plural: 'httproutes', namespaced: true, list: 'httpRoutes' },
  { kind: 'GRPCRoute', group: GATEWAY_GROUP, versions: ['v1'], plural: 'grpcroutes', namespaced: true, list: 'grpcRoutes' },
  // Stream routes: v1 since Gateway API v1.5 (same shape as the alpha versions older clusters
  // serve). Optional: a cluster without their CRDs is a normal HTTP-only setup.
  { kind: 'TLSRoute', group: GATEWAY_GROUP, versions: ['v1', 'v1alpha3', 'v1alpha2'], plural: 'tlsroutes', namespaced: true, list: 'tlsRoutes', optional: true },
  { kind: 'TCPRoute', group: GATEWAY_GROUP, versions: ['v1', 'v1alpha2'], plural: 'tcproutes', namespaced: true, list: 'tcpRoutes', optional: true },
  { kind: 'UDPRoute', group: GATEWAY_GROUP, versions: ['v1', 'v1alpha2'], plural: 'udproutes', namespaced: true, list: 'udpRoutes', optional: true },
  // ReferenceGrant is served as v1 since Gateway API v1.5; v1beta1 has the same shape.
  { kind: 'ReferenceGrant', group: GATEWAY_GROUP, versions: ['v1', 'v1beta1'], plural: 'referencegrants', namespaced: true, list: 'referenceGrants' },
  // GEP-1713 ListenerSet, v1 since Gateway API v1.5: optional, so a cluster with older CRDs
  // keeps working without it.
  { kind: 'ListenerSet', group: GATEWAY_GROUP, versions: ['v1'], plural: 'listenersets', namespaced: true, list: 'listenerSets', optional: true },
  { kind: 'Namespace', group: '', versions: ['v1'], plural: 'namespaces', namespaced: false, list: 'namespaces' },
  { kind: 'Service', group: '', versions: ['v1'], plural: 'services', namespaced: true, list: 'services' },
  { kind: 'EndpointSlice', group: 'discovery.k8s.io', versions: ['v1'], plural: 'endpointslices', namespaced: true, list: 'endpointSlices' },
  // Helm release records can be megabytes each and service-account tokens are never a
  // certificate or a credential a route references: neither is kept.
  { kind: 'Secret', group: '', versions: ['v1'], plural: 'secrets', namespaced: true, list: 'secrets', fieldSelector: 'type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token' },
  // CA bundles for frontend and backend TLS validation. ConfigMaps can only be filtered by name
  // on the server; relevance keeps unreferenced ones from causing rebuilds.
  { kind: 'ConfigMap', group: '', versions: ['v1'], plural: 'configmaps', namespaced: true, list: 'configMaps' },
  { kind: 'BackendTLSPolicy', group: GATEWAY_GROUP, versions: ['v1', 'v1alpha3'], plural: 'backendtlspolicies', namespaced: true, list: 'backendTLSPolicies', optional: true },
  // Plugins and policies (manifests/crds).
  { kind: 'TrafficPolicy', group: FLUXGATE_GROUP, versions: ['v1alpha1'], plural: 'trafficpolicies', namespaced: true, list: 'trafficPolicies', optional: true },
  { kind: 'AuthPolicy', group: FLUXGATE_GROUP, versions: ['v1alpha1'], plural: 'authpolicies', namespaced: true, list: 'authPolicies', optional: true },
  { kind: 'Consumer', group: FLUXGATE_GROUP, versions: ['v1alpha1'], plural: 'consumers', namespaced: true, list: 'consumers', optional: true },
];

/** The fluxgate.io kinds whose status the controller writes (GEP-713 policy status, Consumers). */
export const POLICY_KINDS: ReadonlySet<string> = new Set(['TrafficPolicy', 'AuthPolicy']);
export const PLUGIN_KINDS: ReadonlySet<string> = new Set(['TrafficPolicy', 'AuthPolicy', 'Consumer']);

export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** The collection path, e.g. `/apis/gateway.networking.k8s.io/v1/gateways` (all namespaces). */
export function collectionPath(k: Pick<WatchedKind, 'group' | 'plural'>, version: string, namespace?: string): string {
  const base = k.group === '' ? `/api/${version}` : `/apis/${k.group}/${version}`;
  return namespace === undefined ? `${base}/${k.plural}` : `${base}/namespaces/${encodeURIComponent(namespace)}/${k.plural}`;
}

export function objectPath(k: Pick<WatchedKind, 'group' | 'plural'>, version: string, namespace: string | undefined, name: string): string {
  return `${collectionPath(k, version, namespace)}/${encodeURIComponent(name)}`;
}

export function kindByName(kind: string): WatchedKind | undefined {
  return WATCHED_KINDS.find((k) => k.kind === kind);
}
