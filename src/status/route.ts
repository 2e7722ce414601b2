// Route parent conditions (Gateway API v1 RouteConditionType / RouteConditionReason), shared by
// every route kind (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute).
import { condition, type ConditionInput } from './conditions.ts';

export type RouteConditionType = 'Accepted' | 'ResolvedRefs' | 'PartiallyInvalid';
export type RouteReason =
  | 'Accepted' | 'NotAllowedByListeners' | 'NoMatchingListenerHostname' | 'NoMatchingParent'
  | 'UnsupportedValue' | 'Pending' | 'UnsupportedProtocol'
  | 'ResolvedRefs' | 'RefNotPermitted' | 'InvalidKind' | 'BackendNotFound';
type R = ConditionInput<RouteConditionType, RouteReason>;

/** The reasons a backendRef (or mirror backendRef) fails to resolve. */
export type BackendRefFailureReason = 'RefNotPermitted' | 'InvalidKind' | 'BackendNotFound' | 'UnsupportedProtocol';

export function routeAccepted(): R {
  return condition('Accepted', 'True', 'Accepted', 'Route is accepted');
}
export function routeResolvedRefs(): R {
  return condition('ResolvedRefs', 'True', 'ResolvedRefs', 'All references are resolved');
}
export function routeNotAllowedByListeners(message: string): R {
  return condition('Accepted', 'False', 'NotAllowedByListeners', message);
}
export function routeNoMatchingListenerHostname(message: string): R {
  return condition('Accepted', 'False', 'NoMatchingListenerHostname', message);
}
export function routeNoMatchingParent(message: string): R {
  return condition('Accepted', 'False', 'NoMatchingParent', message);
}
/** Every rule of the route is invalid (Gateway API: Accepted=False, reason UnsupportedValue). */
export function routeAllRulesInvalid(message: string): R {
  return condition('Accepted', 'False', 'UnsupportedValue', message);
}
/** Gateway API: some rules were dropped; the route stays Accepted. */
export function routePartiallyInvalid(message: string): R {
  return condition('PartiallyInvalid', 'True', 'UnsupportedValue', message);
}
export function routeRefsNotResolved(reason: BackendRefFailureReason, message: string): R {
  return condition('ResolvedRefs', 'False', reason, message);
}

// Messages for backend failures name the field, e.g.
// `spec.rules[1].backendRefs[0]: Service "x" not found`.
export function backendNotFound(field: string, service: string): { reason: BackendRefFailureReason; message: string } {
  return { reason: 'BackendNotFound', message: `${field}: Service "${service}" not found` };
}
export function backendPortNotFound(field: string, service: string, port: number | undefined): { reason: BackendRefFailureReason; message: string } {
  return port === undefined
    ? { reason: 'BackendNotFound', message: `${field}: port is required for Service "${service}"` }
    : { reason: 'BackendNotFound', message: `${field}: Service "${service}" has no port ${port}` };
}
export function backendRefNotPermitted(field: string, target: string): { reason: BackendRefFailureReason; message: string } {
  return { reason: 'RefNotPermitted', message: `${field}: reference to ${target} is not permitted by any ReferenceGrant` };
}
export function backendInvalidKind(field: string, groupKind: string): { reason: BackendRefFailureReason; message: string } {
  return { reason: 'InvalidKind', message: `${field}: unsupported backend kind ${groupKind}` };
}
