// Header and query transforms. Order inside one transform: remove, set, add (as Kong's
// transformers: a removed name can be set again).
import type { CreateContext, PluginHooks, ResponseHook } from '../types.ts';
import type { HeaderOps, RequestTransformConfig, ResponseTransformConfig } from './validate.ts';

function applyHeaders(h: Record<string, string | string[]>, ops: HeaderOps): void {
  for (const n of ops.remove) delete h[n];
  for (const [n, v] of ops.set) h[n] = v;
  for (const [n, v] of ops.add) {
    const cur = h[n];
    h[n] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
}

const enc = (s: string): string => encodeURIComponent(s);

export function applyQuery(query: string, ops: RequestTransformConfig['query']): string {
  let parts = query === '' ? [] : query.split('&');
  const drop = new Set([...ops.remove, ...ops.set.map(([n]) => n)]);
  if (drop.size > 0) parts = parts.filter((p) => !drop.has(p.split('=', 1)[0]!));
  for (const [n, v] of ops.set) parts.push(`${enc(n)}=${enc(v)}`);
  for (const [n, v] of ops.add) parts.push(`${enc(n)}=${enc(v)}`);
  return parts.join('&');
}

export function createRequestTransform(raw: unknown, _ctx: CreateContext): PluginHooks {
  const c = raw as RequestTransformConfig;
  const q = c.query;
  const touchesQuery = q.set.length + q.add.length + q.remove.length > 0;
  return {
    onRequest(req) {
      applyHeaders(req.upHeaders, c.headers);
      if (touchesQuery) req.query = applyQuery(req.query, q);
      return undefined;
    },
  };
}

export function createResponseTransform(raw: unknown, _ctx: CreateContext): PluginHooks {
  const c = raw as ResponseTransformConfig;
  const hook: ResponseHook = (_status, headers) => applyHeaders(headers, c.headers);
  return {
    onRequest(req) {
      (req.pluginResHooks ??= []).push(hook);
      return undefined;
    },
  };
}
