// Debounces relevant changes into full rebuilds: a burst of events (a kubectl apply of ten
// objects, an EndpointSlice churn) becomes one rebuild. Hold-off after the last change, but
// never longer than the maximum after the first, so a steady trickle still gets applied
// (Contour's hold-off loop does the same).
export interface BatcherOptions {
  readonly holdOffMs?: number;
  readonly maxDelayMs?: number;
  /** Called with no arguments when a batch is due; errors are the caller's to log. */
  readonly flush: () => void;
}

export interface Batcher {
  /** A relevant change happened. */
  trigger(): void;
  /** Number of triggers since the last flush (0 when idle). */
  pending(): number;
  close(): void;
}

export function createBatcher(options: BatcherOptions): Batcher {
  const holdOff = options.holdOffMs ?? 100;
  const maxDelay = options.maxDelayMs ?? 500;
  let timer: NodeJS.Timeout | undefined;
  let firstAt = 0;
  let count = 0;
  let closed = false;

  const fire = (): void => {
    timer = undefined;
    count = 0;
    options.flush();
  };

  return {
    trigger() {
      if (closed) return;
      const now = Date.now();
      if (count === 0) firstAt = now;
      count++;
      if (timer !== undefined) clearTimeout(timer);
      const wait = Math.max(0, Math.min(holdOff, firstAt + maxDelay - now));
      timer = setTimeout(fire, wait);
    },
    pending: () => count,
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
