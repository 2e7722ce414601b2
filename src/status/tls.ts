// Conditions of TLS validation: a Gateway's frontend (client certificate) validation on its
// listeners and the Gateway itself (Gateway API FrontendTLSValidation).
import { condition, type ConditionInput } from './conditions.ts';

export type CaRefReason = 'InvalidCACertificateRef' | 'InvalidCACertificateKind' | 'RefNotPermitted';

/** ResolvedRefs=False on an HTTPS listener whose frontend caCertificateRefs has a bad entry. */
export function listenerCaRefInvalid(reason: CaRefReason, message: string): ConditionInput<'ResolvedRefs', CaRefReason> {
  return condition('ResolvedRefs', 'False', reason, message);
}
/** Gateway API: every caCertificateRef of the listener's validation is invalid. */
export function listenerNoValidCaCertificate(message: string): ConditionInput<'Accepted', 'NoValidCACertificate'> {
  return condition('Accepted', 'False', 'NoValidCACertificate', message);
}
/** Gateway API: frontend validation in mode AllowInsecureFallback (default or a port). */
export function gatewayInsecureFrontendValidation(message: string): ConditionInput<'InsecureFrontendValidationMode', 'ConfigurationChanged'> {
  return condition('InsecureFrontendValidationMode', 'True', 'ConfigurationChanged', message);
}
