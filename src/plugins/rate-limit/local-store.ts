// Exact in-process counters: one entry per key holding, for each window, the start of the
// window it counts and the count. Check-then-increment runs without yielding, so it is atomic
// in one process; a rejected request consumes nothing. Stale keys are swept once per longest
// window, so memory follows the number of keys active in that window.

export interface Decision {
  readonly allowed: boolean;
  /** Count per window after this request (before it, when rejected). */
  readonly counts: readonly number[];
  /** Start of each window counted, ms since the epoch. */
  readonly starts: readonly number[];
}

interface Entry {
  readonly starts: number[];
  readonly counts: number[];
}

export class LocalCounters {
  readonly windows: readonly number[];
  readonly limits: readonly number[];
  private readonly entries = new Map<string, Entry>();
  private nextSweep = 0;
  private readonly longest: number;
  /** Reused result object: the caller reads it before the next call (no allocation per request). */
  private readonly result: { allowed: boolean; counts: number[]; starts: number[] };

  constructor(windows: readonly number[], limits: readonly number[]) {
    this.windows = windows;
    this.limits = limits;
    this.longest = Math.max(...windows);
    this.result = { allowed: true, counts: new Array<number>(windows.length).fill(0), starts: new Array<number>(windows.length).fill(0) };
  }

  get size(): number {
    return this.entries.size;
  }

  /** Counts one request for `key` at time `now` if every window has room. */
  take(key: string, now: number): Decision {
    if (now >= this.nextSweep) this.sweep(now);
    const ws = this.windows, ls = this.limits, n = ws.length;
    let e = this.entries.get(key);
    if (e === undefined) {
      e = { starts: new Array<number>(n).fill(-1), counts: new Array<number>(n).fill(0) };
      this.entries.set(key, e);
    }
    const r = this.result;
    let allowed = true;
    for (let i = 0; i < n; i++) {
      const w = ws[i]!;
      const start = now - (now % w);
      if (e.starts[i] !== start) {
        e.starts[i] = start;
        e.counts[i] = 0;
      }
      if (e.counts[i]! >= ls[i]!) allowed = false;
    }
    for (let i = 0; i < n; i++) {
      if (allowed) e.counts[i]!++;
      r.counts[i] = e.counts[i]!;
      r.starts[i] = e.starts[i]!;
    }
    r.allowed = allowed;
    return r;
  }

  private sweep(now: number): void {
    this.nextSweep = now + this.longest;
    for (const [k, e] of this.entries) {
      let live = false;
      for (let i = 0; i < this.windows.length && !live; i++) live = e.starts[i]! + this.windows[i]! > now;
      if (!live) this.entries.delete(k);
    }
  }
}
