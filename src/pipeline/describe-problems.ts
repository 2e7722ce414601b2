import type { ObjectStatus } from '../translate/index.ts';

// Conditions whose healthy status is False; for every other type True is healthy.
const NEGATIVE_POLARITY = new Set(['Conflicted', 'PartiallyInvalid']);

interface Condition { type?: string; status?: string; reason?: string; message?: string }

/**
 * One line per unhealthy condition anywhere in the statuses, e.g.
 * `HTTPRoute default/web parent Gateway default/gw: Accepted=False NotAllowedByListeners: ...`.
 * Programmed=False with reason Pending is not a problem: it only means "not applied yet".
 */
export function describeProblems(statuses: readonly ObjectStatus[]): string[] {
  const out: string[] = [];
  for (const s of statuses) {
    let lines = memo.get(s);
    if (lines === undefined) {
      const found: string[] = [];
      walk(s.status, `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}`, found);
      lines = found.length === 0 ? NONE : found;
      memo.set(s, lines);
    }
    for (const line of lines) out.push(line);
  }
  return out;
}

/**
 * Lines per status object. Statuses are immutable and the translator hands back the same
 * object for an unchanged route, so a reload of 10,000 routes walks only the changed ones.
 */
const memo = new WeakMap<ObjectStatus, readonly string[]>();
const NONE: readonly string[] = [];

function walk(value: unknown, where: string, out: string[]): void {
  if (typeof value !== 'object' || value === null) return;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v.conditions)) {
    for (const c of v.conditions as Condition[]) {
      if (c.type === undefined || c.status === undefined) continue;
      const healthy = NEGATIVE_POLARITY.has(c.type) ? c.status === 'False' : c.status === 'True';
      if (healthy || (c.type === 'Programmed' && c.reason === 'Pending')) continue;
      out.push(`${where}: ${c.type}=${c.status} ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`);
    }
  }
  if (Array.isArray(v.listeners)) {
    for (const l of v.listeners as Record<string, unknown>[]) walk(l, `${where} listener ${String(l.name)}`, out);
  }
  if (Array.isArray(v.parents)) {
    for (const p of v.parents as Record<string, unknown>[]) {
      const ref = (p.parentRef ?? {}) as Record<string, unknown>;
      const name = `${ref.namespace ? `${String(ref.namespace)}/` : ''}${String(ref.name)}${ref.sectionName ? `/${String(ref.sectionName)}` : ''}`;
      walk(p, `${where} parent ${String(ref.kind ?? 'Gateway')} ${name}`, out);
    }
  }
}
