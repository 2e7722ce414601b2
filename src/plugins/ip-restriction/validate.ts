// Pure validation of `TrafficPolicy.spec.ipRestriction`: allow and deny lists of CIDRs.
import { parseCidr } from '../core/cidr.ts';
import { obj, optStrings, Problems } from '../core/read.ts';
import type { ValidateContext, ValidateResult } from '../types.ts';

export interface IpRestrictionConfig {
  /** When non-empty, only these addresses pass. */
  readonly allow: readonly string[];
  /** Checked first: a denied address never passes, even when also allowed. */
  readonly deny: readonly string[];
  readonly trustedProxies: readonly string[];
}

export function validateIpRestriction(raw: unknown, ctx: ValidateContext): ValidateResult {
  const p = new Problems(ctx.field);
  const o = obj(raw);
  if (o === undefined) return { ok: false, errors: [{ field: ctx.field, message: 'must be an object' }] };
  const lists: Record<'allow' | 'deny' | 'trustedProxies', string[]> = { allow: [], deny: [], trustedProxies: [] };
  for (const k of ['allow', 'deny', 'trustedProxies'] as const) {
    const l = optStrings(o, k, p) ?? [];
    l.forEach((c, i) => {
      if (parseCidr(c) === undefined) p.add(`${k}[${i}]`, `"${c}" is not an IP address or CIDR`);
    });
    lists[k] = l;
  }
  if (lists.allow.length === 0 && lists.deny.length === 0 && p.ok) p.add('', 'set allow or deny');
  for (const k of Object.keys(o)) if (!['allow', 'deny', 'trustedProxies'].includes(k)) p.add(k, 'unknown field');
  if (!p.ok) return { ok: false, errors: p.list };
  return { ok: true, config: lists satisfies IpRestrictionConfig };
}
