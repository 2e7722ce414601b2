// Shared by the golden and property tests: multi-document YAML → Resources, the RE2 regex
// check the proxy supplies, and the golden rendering of a TranslateResult.
import { createHash } from 'node:crypto';
import { parseAllDocuments, stringify } from 'yaml';
import { RE2JS } from 're2js';
import { sortResources, type Resources } from '../../src/translate/resources.ts';
import type { TranslateOptions, TranslateResult } from '../../src/translate/index.ts';
import { pluginValidators } from '../../src/plugins/validators.ts';

const LISTS: Record<string, keyof Resources> = {
  GatewayClass: 'gatewayClasses', Gateway: 'gateways', HTTPRoute: 'httpRoutes', GRPCRoute: 'grpcRoutes',
  ReferenceGrant: 'referenceGrants', Namespace: 'namespaces', Service: 'services',
  EndpointSlice: 'endpointSlices', Secret: 'secrets', ListenerSet: 'listenerSets',
  ConfigMap: 'configMaps', BackendTLSPolicy: 'backendTLSPolicies',
  TrafficPolicy: 'trafficPolicies', AuthPolicy: 'authPolicies', Consumer: 'consumers',
  TLSRoute: 'tlsRoutes', TCPRoute: 'tcpRoutes', UDPRoute: 'udpRoutes',
};

export function parseResources(text: string): Resources {
  const out: Record<string, unknown[]> = {};
  for (const list of Object.values(LISTS)) out[list] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`YAML: ${doc.errors[0]!.message}`);
    const o = doc.toJS() as { kind?: string; apiVersion?: string } | null;
    if (!o || typeof o.kind !== 'string' || !(o.kind in LISTS)) continue;
    // ReferenceGrant v1beta1 and v1 have the same shape: normalise to v1, as the front ends do.
    if (o.kind === 'ReferenceGrant') o.apiVersion = 'gateway.networking.k8s.io/v1';
    out[LISTS[o.kind]!]!.push(o);
  }
  return sortResources(out as unknown as Resources);
}

export function validateRegex(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export const OPTIONS: TranslateOptions = { controllerName: 'fluxgate.io/gateway-controller', validateRegex, plugins: pluginValidators };

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Golden YAML: statuses and table, certificates as fingerprints (never the PEM). */
export function renderGolden(result: TranslateResult): string {
  const table = {
    ...result.table,
    backends: undefined as unknown,
    listeners: result.table.listeners.map((l) => ({
      ...l,
      gatewayListeners: l.gatewayListeners.map((gl) => ({
        ...gl,
        certificates: gl.certificates.map((c) => ({ id: c.id, certSha256: sha256(c.certPem), keySha256: sha256(c.keyPem) })),
        ...(gl.clientValidation ? { clientValidation: { mode: gl.clientValidation.mode, caSha256: sha256(gl.clientValidation.caPem) } } : {}),
      })),
    })),
  };
  const backends = result.table.backends.map((b) => (b.tls === undefined ? b : {
    ...b,
    tls: {
      ...b.tls,
      ...(b.tls.caPem === undefined ? {} : { caPem: `sha256:${sha256(b.tls.caPem)}` }),
      ...(b.tls.clientCertificate === undefined ? {} : { clientCertificate: { id: b.tls.clientCertificate.id, certSha256: sha256(b.tls.clientCertificate.certPem) } as never }),
    },
  }));
  table.backends = backends;
  return stringify({ statuses: result.statuses, table }, { aliasDuplicateObjects: false, lineWidth: 0 });
}
