/**
 * RequestRedirect (Gateway API HTTPRequestRedirectFilter): answered by the proxy, never
 * forwarded. Port rules per the spec: an explicit port wins; else, when the filter sets a
 * scheme, the well-known port of that scheme; else the listener's port. A port equal to the
 * scheme's well-known port is left out of Location.
 */
import type { RequestRedirect } from '../../ir/index.ts';
import { applyPathModifier } from './path-modifier.ts';

function wellKnownPort(scheme: string): number {
  return scheme === 'https' ? 443 : 80;
}

export function buildLocation(
  r: RequestRedirect,
  requestScheme: 'http' | 'https',
  requestHost: string,
  listenerPort: number,
  path: string,
  query: string,
): string {
  const scheme = r.scheme ?? requestScheme;
  const host = r.hostname ?? requestHost;
  const port = r.port ?? (r.scheme !== undefined ? wellKnownPort(scheme) : listenerPort);
  const portPart = port === wellKnownPort(scheme) ? '' : `:${port}`;
  const p = r.path === undefined ? path : applyPathModifier(path, r.path);
  return `${scheme}://${host}${portPart}${p}${query === '' ? '' : `?${query}`}`;
}
