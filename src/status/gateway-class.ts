// GatewayClass conditions (Gateway API v1 GatewayClassConditionType / GatewayClassConditionReason).
import { condition, type ConditionInput } from './conditions.ts';

export type GatewayClassConditionType = 'Accepted' | 'SupportedVersion';
export type GatewayClassReason =
  | 'Accepted' | 'InvalidParameters' | 'Pending' | 'Unsupported'
  | 'SupportedVersion' | 'UnsupportedVersion';
type C = ConditionInput<GatewayClassConditionType, GatewayClassReason>;

export function gatewayClassAccepted(): C {
  return condition('Accepted', 'True', 'Accepted', 'GatewayClass is accepted by fluxgate.io/gateway-controller');
}

/**
 * Gateway API: SupportedVersion says whether the installed CRD bundle version is supported.
 * The translator sees objects, not CRDs, so it reports the version it was built against.
 */
export function gatewayClassSupportedVersion(): C {
  return condition('SupportedVersion', 'True', 'SupportedVersion', 'Gateway API v1.6 is supported');
}

export function gatewayClassInvalidParameters(message: string): C {
  return condition('Accepted', 'False', 'InvalidParameters', message);
}
