// Gateway spec.tls.frontend: client certificate validation for the HTTPS listeners of a
// Gateway, from the per-port entry matching the listener's port, else the default (Gateway API
// FrontendTLSConfig, GEP-91).
import type { ClientValidation } from '../ir/index.ts';
import * as st from '../status/index.ts';
import type { ConditionInput } from '../status/index.ts';
import { resolveCaCertificates } from './ca-certificates.ts';
import type { Graph } from './graph.ts';
import { GATEWAY_GROUP } from './reference-grants.ts';
import type { Gateway } from './resources.ts';
import { indexed, int, meta, obj, str } from './safe.ts';

export interface FrontendValidation {
  /** Absent: no validation configured for this port, or none of its CA refs resolved. */
  readonly validation?: ClientValidation;
  /** ResolvedRefs failures, plus Accepted=False NoValidCACertificate when no ref resolved. */
  readonly failures: ConditionInput[];
  /** False when validation is configured but cannot be enforced: the listener must not serve. */
  readonly usable: boolean;
}

/** The `validation` that applies to `port`, with the field path that names it. */
function validationFor(gateway: Gateway, port: number): { validation: ReturnType<typeof obj>; field: string } | undefined {
  const frontend = obj(obj(obj(obj(gateway)?.spec)?.tls)?.frontend);
  if (frontend === undefined) return undefined;
  for (const [p, i] of indexed(frontend.perPort)) {
    if (int(p.port) === port) return { validation: obj(obj(p.tls)?.validation), field: `spec.tls.frontend.perPort[${i}].tls.validation` };
  }
  return { validation: obj(obj(frontend.default)?.validation), field: 'spec.tls.frontend.default.validation' };
}

export function resolveFrontendValidation(graph: Graph, gateway: Gateway, port: number): FrontendValidation {
  const found = validationFor(gateway, port);
  if (found?.validation === undefined) return { failures: [], usable: true };
  const { validation, field } = found;
  const from = { group: GATEWAY_GROUP, kind: 'Gateway', namespace: meta(gateway).namespace };
  const res = resolveCaCertificates(graph, from, validation.caCertificateRefs, `${field}.caCertificateRefs`);
  const failures: ConditionInput[] = res.failures.map((f) => st.listenerCaRefInvalid(f.reason, f.message));
  if (res.caPem === undefined) {
    // Gateway API: all refs invalid → Accepted=False NoValidCACertificate; failing open (serving
    // without validation) would let in clients the user meant to keep out.
    if (res.refs === 0) failures.push(st.listenerCaRefInvalid('InvalidCACertificateRef', `${field}.caCertificateRefs: no CA certificate reference`));
    failures.push(st.listenerNoValidCaCertificate(`${field}.caCertificateRefs: no valid CA certificate; the listener cannot validate client certificates`));
    return { failures, usable: false };
  }
  const mode = str(validation.mode) === 'AllowInsecureFallback' ? 'AllowInsecureFallback' : 'AllowValidOnly';
  return { validation: { caPem: res.caPem, mode }, failures, usable: true };
}

/** Gateway API InsecureFrontendValidationMode: where AllowInsecureFallback is set, if anywhere. */
export function insecureFrontendValidation(gateway: Gateway): ConditionInput | undefined {
  const frontend = obj(obj(obj(obj(gateway)?.spec)?.tls)?.frontend);
  const fields: string[] = [];
  if (str(obj(obj(frontend?.default)?.validation)?.mode) === 'AllowInsecureFallback') fields.push('spec.tls.frontend.default.validation.mode');
  for (const [p, i] of indexed(frontend?.perPort)) {
    if (str(obj(obj(p.tls)?.validation)?.mode) === 'AllowInsecureFallback') fields.push(`spec.tls.frontend.perPort[${i}].tls.validation.mode`);
  }
  if (fields.length === 0) return undefined;
  return st.gatewayInsecureFrontendValidation(`${fields.join(', ')}: AllowInsecureFallback accepts clients without a valid certificate`);
}
