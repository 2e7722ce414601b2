import { GatewayClass } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass';
import { Gateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { GRPCRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GRPCRoute';
import { TLSRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/TLSRoute';
import { TCPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/TCPRoute';
import { UDPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/UDPRoute';
import { ReferenceGrant } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/ReferenceGrant';
import { ListenerSet } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/ListenerSet';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { Secret } from 'kubernetes-models/v1/Secret';
import { EndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1/EndpointSlice';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { BackendTLSPolicy } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/BackendTLSPolicy';
import { isObject } from './parse-documents.ts';
import { validateFluxgateObject } from '../plugins/crds/validate.ts';

/** fluxgate.io kinds have no kubernetes-models class: the same validate() shape over their CRD schema. */
function fluxgateModel(kind: string): new (o: never) => { validate(): void } {
  return class {
    readonly object: unknown;
    constructor(o: never) {
      this.object = o;
    }
    validate(): void {
      const errors = validateFluxgateObject(kind, this.object);
      if (errors !== undefined) throw Object.assign(new Error(`${kind} is invalid`), { errors });
    }
  };
}

/**
 * The models know TCPRoute and UDPRoute only as v1alpha2, whose schema v1 kept: check the
 * object under that apiVersion.
 */
function asAlpha2(model: new (o: never) => { validate(): void }): new (o: never) => { validate(): void } {
  return class {
    readonly inner: { validate(): void };
    constructor(o: never) {
      this.inner = new model({ ...(o as object), apiVersion: 'gateway.networking.k8s.io/v1alpha2' } as never);
    }
    validate(): void {
      this.inner.validate();
    }
  };
}

/** The kinds standalone mode reads, keyed by `group/kind`, with their schema-checking model. */
const KINDS = {
  'gateway.networking.k8s.io/GatewayClass': { model: GatewayClass, list: 'gatewayClasses', namespaced: false },
  'gateway.networking.k8s.io/Gateway': { model: Gateway, list: 'gateways', namespaced: true },
  'gateway.networking.k8s.io/HTTPRoute': { model: HTTPRoute, list: 'httpRoutes', namespaced: true },
  'gateway.networking.k8s.io/GRPCRoute': { model: GRPCRoute, list: 'grpcRoutes', namespaced: true },
  'gateway.networking.k8s.io/TLSRoute': { model: TLSRoute, list: 'tlsRoutes', namespaced: true },
  'gateway.networking.k8s.io/TCPRoute': { model: asAlpha2(TCPRoute), list: 'tcpRoutes', namespaced: true },
  'gateway.networking.k8s.io/UDPRoute': { model: asAlpha2(UDPRoute), list: 'udpRoutes', namespaced: true },
  'gateway.networking.k8s.io/ReferenceGrant': { model: ReferenceGrant, list: 'referenceGrants', namespaced: true },
  'gateway.networking.k8s.io/ListenerSet': { model: ListenerSet, list: 'listenerSets', namespaced: true },
  '/Namespace': { model: Namespace, list: 'namespaces', namespaced: false },
  '/Service': { model: Service, list: 'services', namespaced: true },
  '/Secret': { model: Secret, list: 'secrets', namespaced: true },
  'discovery.k8s.io/EndpointSlice': { model: EndpointSlice, list: 'endpointSlices', namespaced: true },
  // CA bundles (key ca.crt) for client certificate validation and BackendTLSPolicy.
  '/ConfigMap': { model: ConfigMap, list: 'configMaps', namespaced: true },
  'gateway.networking.k8s.io/BackendTLSPolicy': { model: BackendTLSPolicy, list: 'backendTLSPolicies', namespaced: true },
  'fluxgate.io/TrafficPolicy': { model: fluxgateModel('TrafficPolicy'), list: 'trafficPolicies', namespaced: true },
  'fluxgate.io/AuthPolicy': { model: fluxgateModel('AuthPolicy'), list: 'authPolicies', namespaced: true },
  'fluxgate.io/Consumer': { model: fluxgateModel('Consumer'), list: 'consumers', namespaced: true },
} as const;

export type KindInfo = (typeof KINDS)[keyof typeof KINDS];

/** Versions accepted per group; v1beta1 Gateway API objects have the v1 shape. */
const VERSIONS: Record<string, readonly string[]> = {
  'gateway.networking.k8s.io': ['v1', 'v1beta1'],
  '': ['v1'],
  'discovery.k8s.io': ['v1'],
  'fluxgate.io': ['v1alpha1'],
};

/** Kinds that older clusters and documents still spell with an alpha version of the same shape. */
const KIND_VERSIONS: Record<string, readonly string[]> = {
  'gateway.networking.k8s.io/TLSRoute': ['v1', 'v1alpha3', 'v1alpha2'],
  'gateway.networking.k8s.io/TCPRoute': ['v1', 'v1alpha2'],
  'gateway.networking.k8s.io/UDPRoute': ['v1', 'v1alpha2'],
};

export interface FieldError {
  /** `kind` or `schema`. */
  readonly kind: 'kind' | 'schema';
  /** Kubernetes-style path, e.g. `spec.rules[0].matches[0].path.type`. */
  readonly field?: string;
  readonly message: string;
}

export type Validated =
  | { readonly ok: true; readonly info: KindInfo; readonly object: Record<string, unknown> }
  | { readonly ok: false; readonly errors: readonly FieldError[] };

// RFC 1123 subdomain, as Kubernetes requires of most object names.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Checks one document against the Gateway API / Kubernetes schema of its kind. Returns the
 * object normalised to the v1 apiVersion of its group, or every schema error with its path.
 */
export function validateDocument(value: unknown): Validated {
  if (!isObject(value)) return fail('kind', undefined, 'a document must be a Kubernetes object (a YAML mapping)');
  const apiVersion = value.apiVersion, kind = value.kind;
  if (typeof apiVersion !== 'string' || apiVersion === '') return fail('kind', 'apiVersion', 'required');
  if (typeof kind !== 'string' || kind === '') return fail('kind', 'kind', 'required');
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const info = (KINDS as Record<string, KindInfo>)[`${group}/${kind}`];
  if (info === undefined) {
    return fail('kind', 'kind', `unsupported kind "${kind}" of "${apiVersion}" (supported: ${supportedKinds()})`);
  }
  const versions = KIND_VERSIONS[`${group}/${kind}`] ?? VERSIONS[group] ?? [];
  if (!versions.includes(version)) {
    return fail('kind', 'apiVersion', `unsupported version "${apiVersion}" for ${kind} (supported: ${versions.map((v) => (group ? `${group}/${v}` : v)).join(', ')})`);
  }
  const metadata = isObject(value.metadata) ? value.metadata : undefined;
  const name = metadata?.name;
  if (typeof name !== 'string' || name === '') return fail('schema', 'metadata.name', 'required');
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return fail('schema', 'metadata.name', `"${name}" is not a valid name (lower-case RFC 1123 subdomain)`);
  }
  const ns = metadata?.namespace;
  if (ns !== undefined && (typeof ns !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) || ns.length > 63)) {
    return fail('schema', 'metadata.namespace', `${JSON.stringify(ns)} is not a valid namespace name`);
  }
  const normalised = { ...value, apiVersion: group === '' ? 'v1' : group === 'fluxgate.io' ? apiVersion : `${group}/v1` };
  try {
    new info.model(normalised as never).validate();
  } catch (err) {
    const errors = schemaErrors(err);
    if (errors.length > 0) return { ok: false, errors };
    throw err;
  }
  return { ok: true, info, object: normalised };
}

function supportedKinds(): string {
  return Object.keys(KINDS).map((k) => k.slice(k.indexOf('/') + 1)).join(', ');
}

function fail(kind: FieldError['kind'], field: string | undefined, message: string): Validated {
  return { ok: false, errors: [field === undefined ? { kind, message } : { kind, field, message }] };
}

interface AjvError { instancePath?: string; message?: string; params?: Record<string, unknown>; keyword?: string }

function schemaErrors(err: unknown): FieldError[] {
  const raw = isObject(err) && Array.isArray(err.errors) ? (err.errors as AjvError[]) : [];
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of raw) {
    let field = toFieldPath(e.instancePath ?? '');
    let message = e.message ?? 'invalid';
    if (e.keyword === 'required' && typeof e.params?.missingProperty === 'string') {
      field = field ? `${field}.${e.params.missingProperty}` : e.params.missingProperty;
      message = 'required';
    } else if (e.keyword === 'enum' && Array.isArray(e.params?.allowedValues)) {
      message = `must be one of ${e.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    const key = `${field}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ kind: 'schema', field: field || '(root)', message });
  }
  return out;
}

/** `/spec/rules/0/matches/1/path` → `spec.rules[0].matches[1].path`. */
export function toFieldPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}
