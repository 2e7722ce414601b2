/**
 * Weighted choice across a route's backendRefs, and round-robin across a backend's endpoints.
 * Smooth weighted round-robin (as nginx): deterministic, spreads a heavy weight evenly instead of
 * in bursts, and keeps each share exact over every window of sum(weights) requests. State lives
 * in the compiled table, so a new table starts a fresh cycle.
 */

export interface WeightedPicker<T> {
  pick(): T;
}

class Single<T> implements WeightedPicker<T> {
  readonly item: T;
  constructor(item: T) {
    this.item = item;
  }
  pick(): T {
    return this.item;
  }
}

class Smooth<T> implements WeightedPicker<T> {
  readonly items: readonly T[];
  readonly weights: Float64Array;
  readonly current: Float64Array;
  readonly total: number;
  constructor(items: readonly T[], weights: readonly number[]) {
    this.items = items;
    this.weights = Float64Array.from(weights);
    this.current = new Float64Array(items.length);
    let total = 0;
    for (const w of weights) total += w;
    this.total = total;
  }
  pick(): T {
    const { weights, current } = this;
    let best = 0;
    for (let i = 0; i < current.length; i++) {
      current[i]! += weights[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= this.total;
    return this.items[best]!;
  }
}

/** Items with weight <= 0 (or non-finite) never get picked; undefined when nothing is pickable. */
export function createWeightedPicker<T>(items: readonly T[], weights: readonly number[]): WeightedPicker<T> | undefined {
  const keep: T[] = [];
  const w: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const wi = weights[i]!;
    if (Number.isFinite(wi) && wi > 0) {
      keep.push(items[i]!);
      w.push(wi);
    }
  }
  if (keep.length === 0) return undefined;
  if (keep.length === 1) return new Single(keep[0]!);
  return new Smooth(keep, w);
}

/**
 * Round-robin cursor over a fixed list. With `health` (active health checks, aligned with
 * `items`), unhealthy items are skipped; when none is healthy, all are used (panic mode).
 */
export class RoundRobin<T> {
  readonly items: readonly T[];
  next = 0;
  health: readonly { readonly healthy: boolean }[] | undefined;
  constructor(items: readonly T[]) {
    this.items = items;
  }
  pick(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const h = this.health;
    if (h !== undefined) return this.pickHealthy(n, h);
    if (n === 1) return this.items[0];
    const i = this.next;
    this.next = i + 1 === n ? 0 : i + 1;
    return this.items[i];
  }
  private pickHealthy(n: number, h: readonly { readonly healthy: boolean }[]): T | undefined {
    for (let k = 0; k < n; k++) {
      const i = this.next;
      this.next = i + 1 === n ? 0 : i + 1;
      if (h[i]!.healthy) return this.items[i];
    }
    // Panic mode: no endpoint passes its check, so every endpoint gets traffic.
    const i = this.next;
    this.next = i + 1 === n ? 0 : i + 1;
    return this.items[i];
  }
}
