// Gateway and listener conditions (Gateway API v1 GatewayConditionType, ListenerConditionType
// and their reasons).
import { condition, type ConditionInput } from './conditions.ts';

export type GatewayConditionType = 'Accepted' | 'Programmed';
export type GatewayReason =
  | 'Accepted' | 'ListenersNotValid' | 'Invalid' | 'NotReconciled' | 'UnsupportedAddress' | 'Pending'
  | 'Programmed' | 'NoResources' | 'AddressNotAssigned' | 'AddressNotUsable' | 'InvalidParameters';
type G = ConditionInput<GatewayConditionType, GatewayReason>;

export type ListenerConditionType = 'Accepted' | 'Conflicted' | 'ResolvedRefs' | 'Programmed';
export type ListenerReason =
  | 'Accepted' | 'PortUnavailable' | 'UnsupportedProtocol' | 'UnsupportedValue' | 'Pending'
  | 'HostnameConflict' | 'ProtocolConflict' | 'NoConflicts'
  | 'ResolvedRefs' | 'InvalidCertificateRef' | 'InvalidRouteKinds' | 'RefNotPermitted'
  | 'Programmed' | 'Invalid';
type L = ConditionInput<ListenerConditionType, ListenerReason>;

export function gatewayAccepted(): G {
  return condition('Accepted', 'True', 'Accepted', 'Gateway is accepted');
}
/** Gateway API: ListenersNotValid is used with Accepted=True when only some listeners are invalid. */
export function gatewaySomeListenersNotValid(message: string): G {
  return condition('Accepted', 'True', 'ListenersNotValid', message);
}
export function gatewayNoValidListeners(message: string): G {
  return condition('Accepted', 'False', 'ListenersNotValid', message);
}
export function gatewayUnsupportedAddress(message: string): G {
  return condition('Accepted', 'False', 'UnsupportedAddress', message);
}
/** Gateway API: spec.infrastructure.parametersRef missing, unsupported or malformed. */
export function gatewayInvalidParameters(message: string): G {
  return condition('Accepted', 'False', 'InvalidParameters', message);
}
export function gatewayProgrammedPending(message = 'Waiting for the proxy to apply the configuration'): G {
  return condition('Programmed', 'False', 'Pending', message);
}
export function gatewayProgrammed(): G {
  return condition('Programmed', 'True', 'Programmed', 'Gateway is programmed');
}
export function gatewayNotProgrammedInvalid(message: string): G {
  return condition('Programmed', 'False', 'Invalid', message);
}
export function gatewayAddressNotUsable(message: string): G {
  return condition('Programmed', 'False', 'AddressNotUsable', message);
}

export function listenerAccepted(): L {
  return condition('Accepted', 'True', 'Accepted', 'Listener is accepted');
}
export function listenerNoConflicts(): L {
  return condition('Conflicted', 'False', 'NoConflicts', 'No conflicts');
}
export function listenerResolvedRefs(): L {
  return condition('ResolvedRefs', 'True', 'ResolvedRefs', 'All references are resolved');
}
export function listenerProgrammedPending(): L {
  return condition('Programmed', 'False', 'Pending', 'Waiting for the proxy to apply the configuration');
}
export function listenerUnsupportedProtocol(message: string): L {
  return condition('Accepted', 'False', 'UnsupportedProtocol', message);
}
export function listenerUnsupportedValue(message: string): L {
  return condition('Accepted', 'False', 'UnsupportedValue', message);
}
export function listenerPortUnavailable(message: string): L {
  return condition('Accepted', 'False', 'PortUnavailable', message);
}
export function listenerHostnameConflict(message: string): L {
  return condition('Conflicted', 'True', 'HostnameConflict', message);
}
export function listenerProtocolConflict(message: string): L {
  return condition('Conflicted', 'True', 'ProtocolConflict', message);
}
export function listenerInvalidRouteKinds(message: string): L {
  return condition('ResolvedRefs', 'False', 'InvalidRouteKinds', message);
}
export function listenerInvalidCertificateRef(message: string): L {
  return condition('ResolvedRefs', 'False', 'InvalidCertificateRef', message);
}
export function listenerCertificateRefNotPermitted(message: string): L {
  return condition('ResolvedRefs', 'False', 'RefNotPermitted', message);
}
export function listenerProgrammed(): L {
  return condition('Programmed', 'True', 'Programmed', 'Listener is programmed');
}
export function listenerNotProgrammedInvalid(message: string): L {
  return condition('Programmed', 'False', 'Invalid', message);
}
export function listenerNotProgrammedPending(message: string): L {
  return condition('Programmed', 'False', 'Pending', message);
}
