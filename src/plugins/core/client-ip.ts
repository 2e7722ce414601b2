// The client address for IP rules and rate-limit keys. X-Forwarded-For is attacker-controlled
// unless the peer is a proxy we trust, so it is read only when the socket peer is in
// `trustedProxies`, and then right to left, skipping trusted hops: the first untrusted address
// is the client (the same rule as nginx's real_ip_recursive).
import type { PluginRequest } from '../types.ts';
import type { CidrSet } from './cidr.ts';

export function clientAddress(req: PluginRequest, trusted: CidrSet | undefined): string {
  const peer = req.peerAddress;
  if (trusted === undefined || trusted.size === 0 || !trusted.has(peer)) return peer;
  const raw = req.headers['x-forwarded-for'];
  if (raw === undefined) return peer;
  const xff = Array.isArray(raw) ? raw.join(',') : raw;
  let end = xff.length;
  let candidate = peer;
  while (end > 0) {
    const comma = xff.lastIndexOf(',', end - 1);
    const hop = xff.slice(comma + 1, end).trim();
    end = comma === -1 ? 0 : comma;
    if (hop === '') continue;
    candidate = hop;
    if (!trusted.has(hop)) return hop;
  }
  return candidate;
}
