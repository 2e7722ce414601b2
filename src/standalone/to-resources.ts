import type { Resources } from '../translate/resources.ts';
import type { ConfigError } from './config-error.ts';
import type { KindInfo } from './validate-document.ts';

/** A validated object and where it came from. */
export interface LocatedObject {
  readonly file: string;
  readonly document: number;
  readonly info: KindInfo;
  readonly object: Record<string, unknown>;
}

/**
 * Files have no creation time. Every object without one gets this same instant, so Gateway API
 * precedence, which breaks ties by age, falls through to its next rule: namespace and name.
 * (Deriving an age from document order would make one edit reorder unrelated routes.) Set
 * `metadata.creationTimestamp` to choose an order explicitly.
 */
export const DEFAULT_CREATION_TIMESTAMP = '2020-01-01T00:00:00Z';

type Meta = {
  name: string;
  namespace?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  [key: string]: unknown;
};

export interface ResourceBuilder {
  /**
   * Turns validated documents into Resources the way the API server would store them:
   * namespace defaulted to `default`, generation 1, a creation timestamp, Secret `stringData`
   * folded into `data`, Namespace objects (with their `kubernetes.io/metadata.name` label) for
   * every namespace used. Duplicate objects are errors. The same validated object always
   * yields the same resource object, so unchanged documents stay identical across reloads.
   */
  build(objects: readonly LocatedObject[]): { resources: Resources; errors: ConfigError[] };
}

export function createResourceBuilder(): ResourceBuilder {
  let normalised = new WeakMap<object, Record<string, unknown>>();
  let implicitNamespaces = new Map<string, Record<string, unknown>>();
  return {
    build(objects) {
      const lists: Record<string, Record<string, unknown>[]> = {};
      const errors: ConfigError[] = [];
      const seen = new Map<string, LocatedObject>();
      const usedNamespaces = new Set<string>();
      const nextNormalised = new WeakMap<object, Record<string, unknown>>();
      for (const located of objects) {
        const object = normalised.get(located.object) ?? normalise(located);
        nextNormalised.set(located.object, object);
        const meta = object.metadata as Meta;
        if (meta.namespace !== undefined) usedNamespaces.add(meta.namespace);
        const key = `${String(object.kind)}/${meta.namespace ?? ''}/${meta.name}`;
        const first = seen.get(key);
        if (first !== undefined) {
          errors.push({
            code: 'CONFIG_DUPLICATE', file: located.file, document: located.document, field: 'metadata.name',
            message: `${String(object.kind)} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name} is already defined in ${first.file} document ${first.document}`,
          });
          continue;
        }
        seen.set(key, located);
        (lists[located.info.list] ??= []).push(object);
      }
      normalised = nextNormalised;
      const declared = new Set((lists.namespaces ?? []).map((n) => (n.metadata as Meta).name));
      const nextImplicit = new Map<string, Record<string, unknown>>();
      for (const name of [...usedNamespaces].sort()) {
        if (declared.has(name)) continue;
        const ns = implicitNamespaces.get(name) ?? {
          apiVersion: 'v1', kind: 'Namespace',
          metadata: { name, generation: 1, creationTimestamp: DEFAULT_CREATION_TIMESTAMP, labels: { 'kubernetes.io/metadata.name': name } },
        };
        nextImplicit.set(name, ns);
        (lists.namespaces ??= []).push(ns);
      }
      implicitNamespaces = nextImplicit;
      const resources = {
        gatewayClasses: lists.gatewayClasses ?? [], gateways: lists.gateways ?? [], httpRoutes: lists.httpRoutes ?? [],
        grpcRoutes: lists.grpcRoutes ?? [], referenceGrants: lists.referenceGrants ?? [], namespaces: lists.namespaces ?? [],
        services: lists.services ?? [], endpointSlices: lists.endpointSlices ?? [], secrets: lists.secrets ?? [],
        listenerSets: lists.listenerSets ?? [],
        trafficPolicies: lists.trafficPolicies ?? [], authPolicies: lists.authPolicies ?? [], consumers: lists.consumers ?? [],
        tlsRoutes: lists.tlsRoutes ?? [], tcpRoutes: lists.tcpRoutes ?? [], udpRoutes: lists.udpRoutes ?? [],
        configMaps: lists.configMaps ?? [], backendTLSPolicies: lists.backendTLSPolicies ?? [],
      } as unknown as Resources;
      return { resources, errors };
    },
  };
}

function normalise(located: LocatedObject): Record<string, unknown> {
  const src = located.object;
  const meta = { ...(src.metadata as Meta) };
  if (located.info.namespaced) meta.namespace ??= 'default';
  else delete meta.namespace;
  meta.generation ??= 1;
  meta.creationTimestamp ??= DEFAULT_CREATION_TIMESTAMP;
  if (src.kind === 'Namespace') meta.labels = { ...meta.labels, 'kubernetes.io/metadata.name': meta.name };
  const object: Record<string, unknown> = { ...src, metadata: meta };
  return src.kind === 'Secret' ? foldStringData(object) : object;
}

/** The API server merges `stringData` into base64 `data` on write; do the same. */
function foldStringData(secret: Record<string, unknown>): Record<string, unknown> {
  const stringData = secret.stringData as Record<string, string> | undefined;
  if (stringData === undefined) return secret;
  const data: Record<string, string> = { ...(secret.data as Record<string, string> | undefined) };
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
  const { stringData: _dropped, ...rest } = secret;
  return { ...rest, data };
}
