// HTTPS listener certificateRefs → PEM certificates (Gateway API GatewayTLSConfig /
// ListenerTLSConfig.certificateRefs).
import type { Certificate } from '../ir/index.ts';
import type { Graph } from './graph.ts';
import { key } from './graph.ts';
import { GATEWAY_GROUP, referenceAllowed } from './reference-grants.ts';
import { indexed, meta, obj, str } from './safe.ts';
import type { Gateway } from './resources.ts';

export interface CertificateResolution {
  readonly certificates: Certificate[];
  /** Failures, each with the listener ResolvedRefs reason it maps to. */
  readonly failures: { readonly reason: 'InvalidCertificateRef' | 'RefNotPermitted'; readonly message: string }[];
}

function decode(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // Secret data is base64 (RFC 4648); Buffer is a global, not an I/O module.
  return Buffer.from(value, 'base64').toString('utf8');
}

export function resolveCertificates(graph: Graph, gateway: Gateway, tls: unknown, field: string): CertificateResolution {
  const gwNs = meta(gateway).namespace;
  // A ListenerSet's listeners are validated with the set standing in for a Gateway: its own
  // ReferenceGrants apply, not its parent's (GEP-1713).
  const fromKind = str(obj(gateway)?.kind) === 'ListenerSet' ? 'ListenerSet' : 'Gateway';
  const certificates: Certificate[] = [];
  const failures: CertificateResolution['failures'][number][] = [];
  const refs = indexed(obj(tls)?.certificateRefs);
  if (refs.length === 0) {
    failures.push({ reason: 'InvalidCertificateRef', message: `${field}.certificateRefs: a listener that terminates TLS needs at least one certificate` });
  }
  for (const [ref, i] of refs) {
    const f = `${field}.certificateRefs[${i}]`;
    const group = str(ref.group) ?? '';
    const kind = str(ref.kind) ?? 'Secret';
    const name = str(ref.name) ?? '';
    const ns = str(ref.namespace) ?? gwNs;
    if (group !== '' || kind !== 'Secret') {
      failures.push({ reason: 'InvalidCertificateRef', message: `${f}: unsupported kind ${group === '' ? 'core' : group}/${kind}` });
      continue;
    }
    // Gateway API: RefNotPermitted takes precedence; InvalidCertificateRef is only for allowed refs.
    if (!referenceAllowed(graph.resources.referenceGrants, { group: GATEWAY_GROUP, kind: fromKind, namespace: gwNs }, { group: '', kind: 'Secret', namespace: ns, name })) {
      failures.push({ reason: 'RefNotPermitted', message: `${f}: reference to Secret ${ns}/${name} is not permitted by any ReferenceGrant` });
      continue;
    }
    const secret = graph.secrets.get(key(ns, name));
    if (!secret) {
      failures.push({ reason: 'InvalidCertificateRef', message: `${f}: Secret ${ns}/${name} not found` });
      continue;
    }
    const s = obj(secret)!;
    if (str(s.type) !== 'kubernetes.io/tls') {
      failures.push({ reason: 'InvalidCertificateRef', message: `${f}: Secret ${ns}/${name} is not of type kubernetes.io/tls` });
      continue;
    }
    const data = obj(s.data), stringData = obj(s.stringData);
    const certPem = str(stringData?.['tls.crt']) ?? decode(data?.['tls.crt']);
    const keyPem = str(stringData?.['tls.key']) ?? decode(data?.['tls.key']);
    // The proxy parses the PEM for real (ApplyResult.certificateErrors); here we only catch the
    // obviously malformed, so the message can name the Secret.
    if (!certPem?.includes('-----BEGIN CERTIFICATE-----') || !keyPem || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyPem)) {
      failures.push({ reason: 'InvalidCertificateRef', message: `${f}: Secret ${ns}/${name} has no PEM certificate and private key in tls.crt and tls.key` });
      continue;
    }
    certificates.push({ id: `secret/${ns}/${name}`, certPem, keyPem });
  }
  return { certificates, failures };
}
