// Hostname matching and intersection between listeners and routes.
// Gateway API: a wildcard `*.example.com` matches one or more DNS labels in front of the
// suffix (`a.example.com`, `a.b.example.com`) but not `example.com` itself; `*` (or no
// hostname) matches everything.

export function isWildcard(h: string): boolean {
  return h.startsWith('*.');
}

/** Does pattern (exact, `*.suffix` or `*`) match every name matched by `h`? (h ⊆ pattern) */
export function covers(pattern: string, h: string): boolean {
  if (pattern === '*') return true;
  if (h === '*') return false;
  if (!isWildcard(pattern)) return pattern === h;
  const suffix = pattern.slice(1); // ".example.com"
  if (isWildcard(h)) return h === pattern || h.slice(1).endsWith(suffix);
  return h.endsWith(suffix) && h.length > suffix.length;
}

/**
 * Intersection of a listener hostname and a route hostname (Gateway API HTTPRoute.hostnames):
 * the more specific of the two when one covers the other, else undefined. A listener without
 * hostname is `*`.
 */
export function intersectHostname(listener: string, route: string): string | undefined {
  if (covers(listener, route)) return route;
  if (covers(route, listener)) return listener;
  return undefined;
}

/**
 * The hostnames a route serves on a listener. A route without hostnames takes the listener's;
 * otherwise each route hostname that intersects the listener's contributes the intersection.
 * Sorted and deduplicated.
 */
export function routeHostnamesOnListener(listener: string, routeHostnames: readonly string[]): string[] {
  if (routeHostnames.length === 0) return [listener];
  const out = new Set<string>();
  for (const h of routeHostnames) {
    const i = intersectHostname(listener, h);
    if (i !== undefined) out.add(i);
  }
  return [...out].sort();
}

/**
 * Specificity order of virtual hosts (and of listener hostnames): exact names first
 * (alphabetical), then wildcards with the longest suffix first, then `*`.
 */
export function compareHostnameSpecificity(a: string, b: string): number {
  const rank = (h: string): number => (h === '*' ? 2 : isWildcard(h) ? 1 : 0);
  const ra = rank(a), rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1 && a.length !== b.length) return b.length - a.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Is `a` strictly more specific than `b` as a listener hostname? */
export function moreSpecific(a: string, b: string): boolean {
  return a !== b && covers(b, a);
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Gateway API Hostname: a DNS name, optionally with a leading `*.` label; no IPs, no port. */
export function isValidHostname(h: string): boolean {
  if (h.length === 0 || h.length > 253) return false;
  const labels = (isWildcard(h) ? h.slice(2) : h).split('.');
  if (labels.every((l) => /^[0-9]+$/.test(l))) return false;
  return labels.every((l) => l.length <= 63 && LABEL.test(l));
}
