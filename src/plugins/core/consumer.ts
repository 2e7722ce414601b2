// What an authentication plugin does once it knows who is calling: the rate limiter and later
// plugins read `req.consumer`, the upstream gets the identity in headers it can trust, because
// whatever the client sent under those names is overwritten or removed here.
import type { PluginRequest } from '../types.ts';

export interface ConsumerIdentity {
  readonly username: string;
  readonly customId?: string;
}

export function setConsumer(req: PluginRequest, who: ConsumerIdentity): void {
  req.consumer = who.username;
  const h = req.headers;
  if (h['x-consumer-username'] === undefined && h['x-consumer-custom-id'] === undefined) {
    // The common case: nothing to overwrite, so the proxy keeps its fast header path.
    req.addUpstreamHeader('x-consumer-username', who.username);
    if (who.customId !== undefined) req.addUpstreamHeader('x-consumer-custom-id', who.customId);
    return;
  }
  const up = req.upHeaders;
  up['x-consumer-username'] = who.username;
  if (who.customId !== undefined) up['x-consumer-custom-id'] = who.customId;
  else if (up['x-consumer-custom-id'] !== undefined) delete up['x-consumer-custom-id'];
}

/** A header value as one string (first of repeated headers). */
export function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Value of query parameter `name` in a raw query, decoded; undefined when absent. */
export function queryParam(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  let i = 0;
  while (i <= query.length) {
    let amp = query.indexOf('&', i);
    if (amp === -1) amp = query.length;
    const eq = query.indexOf('=', i);
    const keyEnd = eq !== -1 && eq < amp ? eq : amp;
    if (keyEnd - i === name.length && query.startsWith(name, i)) {
      const raw = eq !== -1 && eq < amp ? query.slice(eq + 1, amp) : '';
      try {
        return decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        return raw;
      }
    }
    i = amp + 1;
  }
  return undefined;
}

/** The raw query without parameter `name`. */
export function withoutQueryParam(query: string, name: string): string {
  return query.split('&').filter((p) => p !== name && !p.startsWith(`${name}=`)).join('&');
}
