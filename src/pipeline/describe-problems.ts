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
  return createProblemTracker().describe(statuses);
}

export interface ProblemTracker {
  /** describeProblems, reusing the lines of statuses seen in the previous call. */
  describe(statuses: readonly ObjectStatus[]): string[];
}

/**
 * Statuses are immutable and the translator hands back the same object for an unchanged route,
 * in the same sorted order: walking the previous list alongside finds most of them by identity,
 * the rest through a memo, so a reload of 10,000 routes describes only the changed ones.
 */
export function createProblemTracker(): ProblemTracker {
  let before: readonly ObjectStatus[] = [];
  let beforeLines: (readonly string[])[] = [];
  return {
    describe(statuses) {
      const out: string[] = [];
      const lines: (readonly string[])[] = new Array(statuses.length);
      let j = 0;
      for (let i = 0; i < statuses.length; i++) {
        const s = statuses[i]!;
        let found: readonly string[] | undefined;
        // Same place, or one or two further on (statuses removed before this one).
        for (let k = j; k < j + 3 && k < before.length; k++) {
          if (before[k] !== s) continue;
          found = beforeLines[k];
          j = k + 1;
          break;
        }
        found ??= linesOf(s);
        lines[i] = found;
        for (const line of found) out.push(line);
      }
      before = statuses;
      beforeLines = lines;
      return out;
    },
  };
}

function linesOf(s: ObjectStatus): readonly string[] {
  let lines = memo.get(s);
  if (lines === undefined) {
    const found: string[] = [];
    walk(s.status, `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}`, found);
    lines = found.length === 0 ? NONE : found;
    memo.set(s, lines);
  }
  return lines;
}

/** Lines per status object (statuses are immutable). */
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
