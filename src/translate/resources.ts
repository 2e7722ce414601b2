// The translator's input: the full state, as plain Kubernetes objects. Front ends (standalone
// files, the controller's informers, golden tests) build this; translate() only reads it.
import type { IGatewayClass } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass';
import type { IGateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import type { IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import type { IGRPCRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GRPCRoute';
import type { ITLSRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/TLSRoute';
import type { ITCPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/TCPRoute';
import type { IUDPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/UDPRoute';
import type { IReferenceGrant } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/ReferenceGrant';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IService } from 'kubernetes-models/v1/Service';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IEndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1/EndpointSlice';
import type { IListenerSet } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/ListenerSet';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IBackendTLSPolicy } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/BackendTLSPolicy';

export type GatewayClass = IGatewayClass;
export type Gateway = IGateway;
export type HTTPRoute = IHTTPRoute;
export type GRPCRoute = IGRPCRoute;
export type TLSRoute = ITLSRoute;
/** Served as v1 since Gateway API v1.5; v1alpha2 has the same shape (the models lack v1). */
export type TCPRoute = Omit<ITCPRoute, 'apiVersion'> & { readonly apiVersion: string };
export type UDPRoute = Omit<IUDPRoute, 'apiVersion'> & { readonly apiVersion: string };
/** Accepted as v1beta1 or v1 by the front ends; normalised to the v1 shape. */
export type ReferenceGrant = IReferenceGrant;
export type Namespace = INamespace;
export type Service = IService;
export type Secret = ISecret;
export type EndpointSlice = IEndpointSlice;
/** GEP-1713: listeners added to a Gateway from another object (v1 since Gateway API v1.5). */
export type ListenerSet = IListenerSet;
export type ConfigMap = IConfigMap;
export type BackendTLSPolicy = IBackendTLSPolicy;

/** A fluxgate.io/v1alpha1 object (TrafficPolicy, AuthPolicy, Consumer); its spec is read defensively. */
export interface FluxgateObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly namespace?: string; readonly name?: string; readonly [key: string]: unknown };
  readonly spec?: unknown;
}
/** fluxgate.io TrafficPolicy: rate limits, IP rules, transforms; ExtensionRef or targetRefs. */
export type TrafficPolicy = FluxgateObject;
/** fluxgate.io AuthPolicy: key-auth, basic-auth, JWT or OIDC; ExtensionRef or targetRefs. */
export type AuthPolicy = FluxgateObject;
/** fluxgate.io Consumer: a username and credentials kept in Secrets. */
export type Consumer = FluxgateObject;

/**
 * The full state the translator sees. Every list is sorted by namespace then name (front ends
 * guarantee it with `sortResources`), and objects are treated as immutable.
 */
export interface Resources {
  readonly gatewayClasses: readonly GatewayClass[];
  readonly gateways: readonly Gateway[];
  readonly httpRoutes: readonly HTTPRoute[];
  readonly grpcRoutes: readonly GRPCRoute[];
  readonly referenceGrants: readonly ReferenceGrant[];
  readonly namespaces: readonly Namespace[];
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly secrets: readonly Secret[];
  /** Optional: ListenerSets (GEP-1713); front ends without them leave them out. */
  readonly listenerSets?: readonly ListenerSet[];
  /** Optional: front ends without plugin support leave them out. */
  readonly trafficPolicies?: readonly TrafficPolicy[];
  readonly authPolicies?: readonly AuthPolicy[];
  readonly consumers?: readonly Consumer[];
  /** Optional: stream routes (TLS, TCP, UDP listeners); front ends without them leave them out. */
  readonly tlsRoutes?: readonly TLSRoute[];
  readonly tcpRoutes?: readonly TCPRoute[];
  readonly udpRoutes?: readonly UDPRoute[];
  /** Optional: CA bundles (key `ca.crt`) for frontend and backend TLS validation. */
  readonly configMaps?: readonly ConfigMap[];
  /** Optional: TLS to backends (Gateway API BackendTLSPolicy). */
  readonly backendTLSPolicies?: readonly BackendTLSPolicy[];
}

/** Every list of Resources (a kind added there must be added here: graph.ts checks it). */
export const RESOURCE_LISTS = [
  'gatewayClasses', 'gateways', 'httpRoutes', 'grpcRoutes', 'referenceGrants', 'namespaces', 'services', 'endpointSlices',
  'secrets', 'listenerSets', 'trafficPolicies', 'authPolicies', 'consumers', 'tlsRoutes', 'tcpRoutes', 'udpRoutes',
  'configMaps', 'backendTLSPolicies',
] as const satisfies readonly (keyof Resources)[];

export function emptyResources(): Resources {
  return {
    gatewayClasses: [], gateways: [], httpRoutes: [], grpcRoutes: [], referenceGrants: [],
    namespaces: [], services: [], endpointSlices: [], secrets: [],
  };
}

type Named = { readonly metadata?: { readonly namespace?: string; readonly name?: string } };

function byNamespaceName(a: Named, b: Named): number {
  const an = a.metadata?.namespace ?? '', bn = b.metadata?.namespace ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  const aa = a.metadata?.name ?? '', bb = b.metadata?.name ?? '';
  return aa < bb ? -1 : aa > bb ? 1 : 0;
}

/** Returns a copy of `r` with every list sorted by namespace then name. */
export function sortResources(r: Resources): Resources {
  const out: Record<string, readonly Named[]> = {};
  for (const [key, list] of Object.entries(r) as [string, readonly Named[]][]) {
    out[key] = [...list].sort(byNamespaceName);
  }
  return out as unknown as Resources;
}
