// Gateway spec.infrastructure (GatewayInfrastructure, extended): labels and annotations are
// applied by the controller to the objects it makes per Gateway (src/controller); here only
// parametersRef is validated. FluxGate has no per-Gateway parameters kind, so any reference
// is one it cannot honour, and the Gateway API says such a Gateway SHOULD be rejected.
import * as st from '../status/index.ts';
import type { ConditionInput } from '../status/index.ts';
import type { Gateway } from './resources.ts';
import { obj, str } from './safe.ts';

export function validateInfrastructure(gateway: Gateway): ConditionInput[] {
  const ref = obj(obj(obj(obj(gateway)?.spec)?.infrastructure)?.parametersRef);
  if (ref === undefined) return [];
  const group = str(ref.group) ?? '';
  const kind = str(ref.kind) ?? '';
  const name = str(ref.name) ?? '';
  return [st.gatewayInvalidParameters(
    `spec.infrastructure.parametersRef: ${group === '' ? 'core' : group}/${kind} ${JSON.stringify(name)} is not a supported parameters kind (FluxGate takes no per-Gateway parameters); remove the reference`)];
}
