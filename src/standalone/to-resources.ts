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

// Gateway API precedence breaks ties by creation time. Files have none, so document order
// stands in for it: the earlier a document appears (files in path order), the older it is.
const EPOCH_MS = Date.UTC(2020, 0, 1);

type Meta = {
  name: string;
  namespace?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  [key: string]: unknown;
};

/**
 * Turns validated documents into Resources the way the API server would store them: namespace
 * defaulted to `default`, generation 1, a creation timestamp, Secret `stringData` folded into
 * `data`, Namespace objects (with their `kubernetes.io/metadata.name` label) for every namespace
 * used. Duplicate objects are errors.
 */
export function toResources(objects: readonly LocatedObject[]): { resources: Resources; errors: ConfigError[] } {
  const lists: Record<string, Record<string, unknown>[]> = {};
  const errors: ConfigError[] = [];
  const seen = new Map<string, LocatedObject>();
  const usedNamespaces = new Set<string>();
  objects.forEach((located, ordinal) => {
    const { info } = located;
    const src = located.object;
    const meta = { ...(src.metadata as Meta) };
    if (info.namespaced) {
      meta.namespace ??= 'default';
      usedNamespaces.add(meta.namespace);
    } else {
      delete meta.namespace;
    }
    meta.generation ??= 1;
    meta.creationTimestamp ??= new Date(EPOCH_MS + ordinal * 1000).toISOString().replace('.000Z', 'Z');
    const key = `${String(src.kind)}/${meta.namespace ?? ''}/${meta.name}`;
    const first = seen.get(key);
    if (first !== undefined) {
      errors.push({
        code: 'CONFIG_DUPLICATE', file: located.file, document: located.document, field: 'metadata.name',
        message: `${String(src.kind)} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name} is already defined in ${first.file} document ${first.document}`,
      });
      return;
    }
    seen.set(key, located);
    let object: Record<string, unknown> = { ...src, metadata: meta };
    if (src.kind === 'Secret') object = foldStringData(object);
    if (src.kind === 'Namespace') {
      meta.labels = { ...meta.labels, 'kubernetes.io/metadata.name': meta.name };
    }
    (lists[info.list] ??= []).push(object);
  });
  const declared = new Set((lists.namespaces ?? []).map((n) => (n.metadata as Meta).name));
  for (const name of [...usedNamespaces].sort()) {
    if (declared.has(name)) continue;
    (lists.namespaces ??= []).push({
      apiVersion: 'v1', kind: 'Namespace',
      metadata: { name, generation: 1, labels: { 'kubernetes.io/metadata.name': name } },
    });
  }
  const resources = {
    gatewayClasses: lists.gatewayClasses ?? [], gateways: lists.gateways ?? [], httpRoutes: lists.httpRoutes ?? [],
    grpcRoutes: lists.grpcRoutes ?? [], referenceGrants: lists.referenceGrants ?? [], namespaces: lists.namespaces ?? [],
    services: lists.services ?? [], endpointSlices: lists.endpointSlices ?? [], secrets: lists.secrets ?? [],
  } as unknown as Resources;
  return { resources, errors };
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
