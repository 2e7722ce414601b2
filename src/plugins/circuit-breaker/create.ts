// The breaker's state is shared per attachment and survives reloads of the same config. The
// request hook is synchronous; outcomes come back through a response hook, which the proxy
// also calls for its own error answers (a refused connection counts as a failure).
import { answer } from '../core/answers.ts';
import type { CreateContext, PluginHooks, ResponseHook } from '../types.ts';
import type { CircuitBreakerConfig } from './validate.ts';

interface Breaker {
  failures: number;
  /** 0 while closed; while open, when the next probe may go. */
  openUntil: number;
  /** A probe is in flight (half-open) until this time. */
  probeUntil: number;
}

export function createCircuitBreaker(raw: unknown, ctx: CreateContext): PluginHooks {
  const c = raw as CircuitBreakerConfig;
  const state = ctx.shared(`circuit-breaker|${ctx.id}|${JSON.stringify(c)}`, (): Breaker => ({ failures: 0, openUntil: 0, probeUntil: 0 }));
  const failing = new Set(c.failureStatuses);
  const openMs = c.openSeconds * 1000;
  const open = answer(503, 'CIRCUIT_OPEN', 'the backend is failing; retry later', { 'retry-after': String(c.openSeconds) });
  const record = (probe: boolean): ResponseHook => (status) => {
    if (failing.has(status)) {
      state.failures++;
      if (probe || state.failures >= c.consecutiveFailures) {
        state.openUntil = ctx.now() + openMs;
        if (!probe) ctx.logger.warn({ plugin: ctx.id, failures: state.failures }, 'circuit opened');
      }
    } else {
      state.failures = 0;
      state.openUntil = 0;
    }
    if (probe) state.probeUntil = 0;
  };
  const normal = record(false), probe = record(true);
  return {
    onRequest(req) {
      if (state.openUntil !== 0) {
        const now = ctx.now();
        if (now < state.openUntil || now < state.probeUntil) return open;
        // Half-open: this request is the probe; the others keep getting 503 until it ends.
        state.probeUntil = now + openMs;
        (req.pluginResHooks ??= []).push(probe);
        return undefined;
      }
      (req.pluginResHooks ??= []).push(normal);
      return undefined;
    },
  };
}
