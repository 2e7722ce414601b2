// ReferenceGrant (Gateway API v1): a cross-namespace reference from `from` (group, kind,
// namespace) to `to` (group, kind, optional name) is allowed only when a ReferenceGrant in the
// target's namespace lists both.
import type { ReferenceGrant } from './resources.ts';
import { meta, objs, str } from './safe.ts';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface RefFrom { readonly group: string; readonly kind: string; readonly namespace: string }
export interface RefTo { readonly group: string; readonly kind: string; readonly namespace: string; readonly name: string }

export function referenceAllowed(grants: readonly ReferenceGrant[], from: RefFrom, to: RefTo): boolean {
  // Gateway API: references within one namespace never need a grant.
  if (from.namespace === to.namespace) return true;
  for (const g of grants) {
    if (meta(g).namespace !== to.namespace) continue;
    const spec = (g as { spec?: unknown }).spec as { from?: unknown; to?: unknown } | undefined;
    const fromOk = objs(spec?.from).some((f) =>
      (str(f.group) ?? '') === from.group && str(f.kind) === from.kind && str(f.namespace) === from.namespace);
    if (!fromOk) continue;
    const toOk = objs(spec?.to).some((t) => {
      const name = str(t.name);
      return (str(t.group) ?? '') === to.group && str(t.kind) === to.kind && (name === undefined || name === '' || name === to.name);
    });
    if (toOk) return true;
  }
  return false;
}
