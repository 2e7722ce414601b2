// caCertificateRefs → one PEM bundle of trusted CA certificates, shared by Gateway frontend
// validation (spec.tls.frontend) and BackendTLSPolicy (spec.validation). Gateway API core
// support: a ConfigMap with the bundle under the key `ca.crt`.
import type { Graph } from './graph.ts';
import { key } from './graph.ts';
import { referenceAllowed, type RefFrom } from './reference-grants.ts';
import { indexed, obj, str } from './safe.ts';

export type CaRefFailureReason = 'InvalidCACertificateRef' | 'InvalidCACertificateKind' | 'RefNotPermitted';

export interface CaResolution {
  /** Concatenated PEM of every ref that resolved; undefined when none did. */
  readonly caPem?: string;
  /** Number of refs in the list. */
  readonly refs: number;
  readonly failures: { readonly reason: CaRefFailureReason; readonly message: string }[];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Resolves `refs` (ObjectReference or LocalObjectReference list) of an object `from`: a ref
 * without namespace is in `from.namespace`; one to another namespace needs a ReferenceGrant.
 */
export function resolveCaCertificates(graph: Graph, from: RefFrom, refs: unknown, field: string): CaResolution {
  const failures: CaResolution['failures'][number][] = [];
  const pems: string[] = [];
  const list = indexed(refs);
  for (const [ref, i] of list) {
    const f = `${field}[${i}]`;
    const group = str(ref.group) ?? '';
    const kind = str(ref.kind) ?? '';
    const name = str(ref.name) ?? '';
    const ns = str(ref.namespace) ?? from.namespace;
    if (group !== '' || kind !== 'ConfigMap') {
      failures.push({ reason: 'InvalidCACertificateKind', message: `${f}: unsupported kind ${group === '' ? 'core' : group}/${kind || '(empty)'}; only a core ConfigMap is supported` });
      continue;
    }
    if (!referenceAllowed(graph.resources.referenceGrants, from, { group: '', kind: 'ConfigMap', namespace: ns, name })) {
      failures.push({ reason: 'RefNotPermitted', message: `${f}: reference to ConfigMap ${ns}/${name} is not permitted by any ReferenceGrant` });
      continue;
    }
    const cm = graph.configMaps.get(key(ns, name));
    if (cm === undefined) {
      failures.push({ reason: 'InvalidCACertificateRef', message: `${f}: ConfigMap ${ns}/${name} not found` });
      continue;
    }
    const bundle = str(obj(obj(cm)?.data)?.['ca.crt']);
    const certs = bundle?.match(PEM_CERT);
    if (!certs || certs.length === 0) {
      failures.push({ reason: 'InvalidCACertificateRef', message: `${f}: ConfigMap ${ns}/${name} has no PEM certificate under the key ca.crt` });
      continue;
    }
    pems.push(...certs);
  }
  return { ...(pems.length > 0 ? { caPem: `${pems.join('\n')}\n` } : {}), refs: list.length, failures };
}
