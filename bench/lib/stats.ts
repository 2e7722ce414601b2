// Small statistics helpers: medians and percentiles of plain number lists.

export function median(xs: readonly number[]): number | undefined {
  return percentile(xs, 50);
}

/** Nearest-rank percentile; undefined for an empty list. */
export function percentile(xs: readonly number[], p: number): number | undefined {
  const v = xs.filter((x) => Number.isFinite(x)).slice().sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  if (p === 50 && v.length % 2 === 0) return ((v[v.length / 2 - 1] as number) + (v[v.length / 2] as number)) / 2;
  const rank = Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1));
  return v[rank];
}

export function fmt(x: number | undefined, digits = 2): string {
  if (x === undefined || !Number.isFinite(x)) return 'n/a';
  return x.toFixed(digits);
}

export function fmtInt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return 'n/a';
  return Math.round(x).toLocaleString('en-US');
}
