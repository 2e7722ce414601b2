// TLS from the proxy to backends: BackendTLSPolicy (Gateway API v1, GEP-1897) attached to
// Services (optionally one port by sectionName), and the client certificate a Gateway presents
// to its backends (spec.tls.backend.clientCertificateRef). Runs after the table is built: a
// policy changes how backends are reached, never which routes exist.
import type { BackendTls, Certificate, RoutingTable, SubjectAltName, WeightedBackendRef } from '../ir/index.ts';
import { condition, mergeConditions, type ConditionInput } from '../status/index.ts';
import { resolveCaCertificates } from './ca-certificates.ts';
import { canonicalJson, sha256Hex } from './canonical-json.ts';
import { resolveCertificates } from './certificates.ts';
import type { Graph } from './graph.ts';
import { key } from './graph.ts';
import type { GatewayInfo } from './listeners.ts';
import { GATEWAY_GROUP } from './reference-grants.ts';
import type { BackendTLSPolicy, Gateway } from './resources.ts';
import { compareStrings, indexed, int, meta, obj, objs, str } from './safe.ts';
import type { ObjectStatus } from './types.ts';

/** Stable code of the 500 answered for a backend whose policy cannot be applied. */
export const BACKEND_TLS_INVALID = 'BACKEND_TLS_INVALID';
const POLICY_API_VERSION = 'gateway.networking.k8s.io/v1';

// ---- Gateway spec.tls.backend -----------------------------------------------------------------

export interface GatewayBackendTls {
  readonly certificate?: Certificate;
  /** Gateway ResolvedRefs (set only on Gateways with spec.tls.backend). */
  readonly condition: ConditionInput;
}

/** Resolves spec.tls.backend.clientCertificateRef; undefined when the Gateway has none. */
export function resolveGatewayBackendTls(graph: Graph, gateway: Gateway): GatewayBackendTls | undefined {
  const backend = obj(obj(obj(obj(gateway)?.spec)?.tls)?.backend);
  const ref = obj(backend?.clientCertificateRef);
  if (ref === undefined) return undefined;
  const field = 'spec.tls.backend.clientCertificateRef';
  const res = resolveCertificates(graph, gateway, { certificateRefs: [ref] }, field);
  const failure = res.failures[0];
  if (failure !== undefined || res.certificates.length === 0) {
    const message = (failure?.message ?? `${field}: no certificate`).replace(`${field}.certificateRefs[0]`, field);
    // Gateway API: RefNotPermitted for a cross-namespace ref without a grant, else InvalidClientCertificateRef.
    const reason = failure?.reason === 'RefNotPermitted' ? 'RefNotPermitted' : 'InvalidClientCertificateRef';
    return { condition: condition('ResolvedRefs', 'False', reason, message) };
  }
  return { certificate: res.certificates[0]!, condition: condition('ResolvedRefs', 'True', 'ResolvedRefs', 'All references are resolved') };
}

// ---- BackendTLSPolicy ---------------------------------------------------------------------------

interface PolicyInfo {
  readonly policy: BackendTLSPolicy;
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly generation?: number;
  readonly creationTimestamp: string;
  /** Targets: `ns/service` and the sectionName ('' for the whole Service). */
  readonly targets: readonly { readonly service: string; readonly section: string }[];
  /** Undefined when the policy cannot be applied (see `accepted`). */
  readonly tls?: Omit<BackendTls, 'clientCertificate'>;
  /** Accepted failure (NoValidCACertificate, Invalid) or undefined. */
  readonly notAccepted?: ConditionInput;
  readonly resolvedRefs: ConditionInput;
  /** Accepted=False Conflicted, set by conflict resolution. */
  conflicted?: ConditionInput;
}

function buildPolicy(graph: Graph, policy: BackendTLSPolicy): PolicyInfo {
  const m = meta(policy);
  const spec = obj(obj(policy)?.spec);
  const validation = obj(spec?.validation);
  const targets = objs(spec?.targetRefs)
    .filter((t) => (str(t.group) ?? '') === '' && str(t.kind) === 'Service' && str(t.name) !== undefined)
    .map((t) => ({ service: key(m.namespace, str(t.name)!), section: str(t.sectionName) ?? '' }));
  const base = {
    policy, id: `backendtlspolicy/${m.namespace}/${m.name}`, namespace: m.namespace, name: m.name,
    ...(m.generation === undefined ? {} : { generation: m.generation }), creationTimestamp: m.creationTimestamp, targets,
  };
  const hostname = (str(validation?.hostname) ?? '').toLowerCase();
  const subjectAltNames: SubjectAltName[] = [];
  for (const san of objs(validation?.subjectAltNames)) {
    if (str(san.type) === 'Hostname' && str(san.hostname)) subjectAltNames.push({ type: 'Hostname', value: str(san.hostname)!.toLowerCase() });
    else if (str(san.type) === 'URI' && str(san.uri)) subjectAltNames.push({ type: 'URI', value: str(san.uri)! });
  }
  const refs = indexed(validation?.caCertificateRefs);
  const wellKnown = str(validation?.wellKnownCACertificates);
  const resolvedOk = condition('ResolvedRefs', 'True', 'ResolvedRefs', 'All references are resolved');
  if (refs.length === 0) {
    if (wellKnown === 'System') return { ...base, tls: { policyId: base.id, serverName: hostname, subjectAltNames }, resolvedRefs: resolvedOk };
    // Gateway API: an unsupported or unrecognised wellKnownCACertificates → Accepted=False Invalid.
    const message = wellKnown === undefined
      ? 'spec.validation: neither caCertificateRefs nor wellKnownCACertificates is set'
      : `spec.validation.wellKnownCACertificates: "${wellKnown}" is not supported (only System)`;
    return { ...base, notAccepted: condition('Accepted', 'False', 'Invalid', message), resolvedRefs: resolvedOk };
  }
  const from = { group: GATEWAY_GROUP, kind: 'BackendTLSPolicy', namespace: m.namespace };
  const res = resolveCaCertificates(graph, from, validation?.caCertificateRefs, 'spec.validation.caCertificateRefs');
  // BackendTLSPolicy names an unsupported kind InvalidKind (listeners say InvalidCACertificateKind).
  const failures = res.failures.map((f) => condition('ResolvedRefs', 'False', f.reason === 'InvalidCACertificateKind' ? 'InvalidKind' : f.reason, f.message));
  const resolvedRefs = failures.at(-1) ?? resolvedOk;
  if (res.caPem === undefined) {
    return { ...base, notAccepted: condition('Accepted', 'False', 'NoValidCACertificate', 'spec.validation.caCertificateRefs: no valid CA certificate; connections to the backend fail'), resolvedRefs };
  }
  return { ...base, tls: { policyId: base.id, serverName: hostname, caPem: res.caPem, subjectAltNames }, resolvedRefs };
}

/**
 * Gateway API: of policies with the same target and sectionName, the oldest wins, then the
 * first by namespace/name; the others are Accepted=False Conflicted. A policy for a port
 * (sectionName) and one for the whole Service do not conflict: the port's is more specific.
 */
function resolveConflicts(policies: readonly PolicyInfo[]): Map<string, PolicyInfo> {
  const winners = new Map<string, PolicyInfo>();
  const ordered = [...policies].sort((a, b) => compareStrings(a.creationTimestamp, b.creationTimestamp) || compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));
  for (const p of ordered) {
    for (const t of p.targets) {
      const k = `${t.service}|${t.section}`;
      const w = winners.get(k);
      if (w === undefined) winners.set(k, p);
      else if (w !== p) p.conflicted = condition('Accepted', 'False', 'Conflicted', `spec.targetRefs: ${w.namespace}/${w.name} is older and targets the same ${t.section === '' ? 'Service' : 'Service port'}`);
    }
  }
  return winners;
}

/** `backend/<ns>/<service>/<port>` → the Service port's name ('' when unnamed), or undefined. */
function servicePortName(graph: Graph, backendId: string): { service: string; portName: string } | undefined {
  const parts = backendId.split('/');
  if (parts.length !== 4 || parts[0] !== 'backend') return undefined;
  const service = key(parts[1]!, parts[2]!);
  const port = Number(parts[3]);
  const sp = objs(obj(obj(graph.services.get(service))?.spec)?.ports).find((p) => int(p.port) === port);
  return sp === undefined ? undefined : { service, portName: str(sp.name) ?? '' };
}

export interface BackendTlsResult {
  readonly table: RoutingTable;
  readonly statuses: readonly ObjectStatus[];
}

/**
 * Adds `tls` to the table's backends that a BackendTLSPolicy targets, routes the traffic of a
 * backend whose policy cannot be applied to a 500 (Gateway API: connections using an invalid
 * CACertificateRef MUST fail with a 5xx), and computes the policies' status: one ancestor per
 * Gateway of ours whose routes send traffic to a targeted Service.
 */
export function withBackendTls(base: RoutingTable, graph: Graph, gateways: readonly GatewayInfo[], controllerName: string): BackendTlsResult {
  const list = graph.resources.backendTLSPolicies ?? [];
  if (list.length === 0) return { table: base, statuses: [] };
  const policies = list.map((p) => buildPolicy(graph, p));
  const winners = resolveConflicts(policies);

  // Which Gateways send traffic to each backend (from the virtual hosts' listener ids).
  const gatewaysOf = new Map<string, Set<string>>();
  for (const l of base.listeners) {
    for (const v of l.virtualHosts) {
      const gw = v.listenerId.split('/').slice(1, 3).join('/');
      for (const r of v.routes) {
        for (const ref of r.backendRefs) {
          if (ref.kind !== 'backend') continue;
          let s = gatewaysOf.get(ref.backendId);
          if (s === undefined) gatewaysOf.set(ref.backendId, (s = new Set()));
          s.add(gw);
        }
      }
    }
  }
  const clientCerts = new Map<string, Certificate>();
  for (const g of gateways) if (g.backendTls?.certificate !== undefined) clientCerts.set(key(g.meta.namespace, g.meta.name), g.backendTls.certificate);

  const invalid = new Set<string>();
  const tlsOf = new Map<string, BackendTls>();
  for (const b of base.backends) {
    const sp = servicePortName(graph, b.id);
    if (sp === undefined) continue;
    const policy = (sp.portName === '' ? undefined : winners.get(`${sp.service}|${sp.portName}`)) ?? winners.get(`${sp.service}|`);
    if (policy === undefined) continue;
    const gws = [...(gatewaysOf.get(b.id) ?? [])].sort(compareStrings);
    // The proxy speaks TLS to HTTP/1.1 backends only: h2c (gRPC), WebSocket and stream
    // backends under a policy fail closed rather than be reached in plaintext.
    if (policy.tls === undefined || b.protocol !== 'http1') {
      invalid.add(b.id);
      continue;
    }
    // A backend is one pool whichever Gateway uses it: the client certificate of the first
    // Gateway (by namespace/name) that has one is presented.
    const cert = gws.map((g) => clientCerts.get(g)).find((c) => c !== undefined);
    tlsOf.set(b.id, cert === undefined ? policy.tls : { ...policy.tls, clientCertificate: cert });
  }
  // Every policy reports on the Gateways whose routes use a Service (port) it targets, also
  // when it lost a conflict or a more specific policy covers the port.
  const ancestors = new Map<PolicyInfo, Set<string>>();
  for (const p of policies) {
    const a = new Set<string>();
    for (const [backendId, gws] of gatewaysOf) {
      const sp = servicePortName(graph, backendId);
      if (sp !== undefined && p.targets.some((t) => t.service === sp.service && (t.section === '' || t.section === sp.portName))) for (const g of gws) a.add(g);
    }
    ancestors.set(p, a);
  }

  const table = tlsOf.size === 0 && invalid.size === 0 ? base : applyToTable(base, tlsOf, invalid);
  const statuses: ObjectStatus[] = [];
  for (const p of policies) {
    const gws = [...(ancestors.get(p) ?? [])].sort(compareStrings);
    // Nothing of ours to say and nothing of ours to remove: no status.
    if (gws.length === 0 && !hasOurAncestors(p.policy, controllerName)) continue;
    const conditions = mergeConditions([
      condition('Accepted', 'True', 'Accepted', 'Policy is accepted'),
      p.resolvedRefs,
      ...(p.notAccepted === undefined ? [] : [p.notAccepted]),
      ...(p.conflicted === undefined ? [] : [p.conflicted]),
    ], p.generation);
    statuses.push({
      apiVersion: POLICY_API_VERSION, kind: 'BackendTLSPolicy', namespace: p.namespace, name: p.name,
      status: {
        ancestors: gws.map((g) => {
          const [namespace, name] = g.split('/');
          return { ancestorRef: { group: GATEWAY_GROUP, kind: 'Gateway', namespace, name }, controllerName, conditions };
        }),
      },
    });
  }
  return { table, statuses };
}

function hasOurAncestors(policy: BackendTLSPolicy, controllerName: string): boolean {
  const ancestors = obj(obj(policy)?.status)?.ancestors;
  return Array.isArray(ancestors) && ancestors.some((a) => obj(a)?.controllerName === controllerName);
}

function applyToTable(base: RoutingTable, tlsOf: ReadonlyMap<string, BackendTls>, invalid: ReadonlySet<string>): RoutingTable {
  const backends = base.backends.map((b) => {
    const tls = tlsOf.get(b.id);
    return tls === undefined ? b : { ...b, tls };
  });
  const rewrite = (ref: WeightedBackendRef): WeightedBackendRef =>
    ref.kind === 'backend' && invalid.has(ref.backendId) ? { kind: 'invalid', weight: ref.weight, status: 500, code: BACKEND_TLS_INVALID } : ref;
  const listeners = invalid.size === 0 ? base.listeners : base.listeners.map((l) => ({
    ...l,
    virtualHosts: l.virtualHosts.map((v) => ({
      ...v,
      routes: v.routes.map((r) => (r.backendRefs.some((x) => x.kind === 'backend' && invalid.has(x.backendId)) ? { ...r, backendRefs: r.backendRefs.map(rewrite) } : r)),
    })),
  }));
  const version = sha256Hex(canonicalJson({ base: base.version, tls: [...tlsOf].sort(([a], [b]) => compareStrings(a, b)), invalid: [...invalid].sort(compareStrings) }));
  return { version, listeners, backends };
}
