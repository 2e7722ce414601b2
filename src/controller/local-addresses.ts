// Local mode (no kube-proxy, no load balancer): each Gateway listens on its own loopback
// address, so two Gateways can both use port 80. Linux routes all of 127.0.0.0/8 to lo, so any
// 127.x.y.z can be bound without configuration. Addresses are stable: a Gateway keeps its
// address for as long as it exists and, through status.addresses, across controller restarts.
import type { Gateway } from '../translate/resources.ts';

export interface LocalAddressAllocator {
  /**
   * Assigns addresses to `gateways` (the whole current set, in a stable order) and frees the
   * addresses of Gateways no longer in it. Call before each translation.
   */
  assign(gateways: readonly Gateway[]): void;
  /**
   * The Gateway's automatic address: assigned, or (for one not yet assigned) its hash slot;
   * undefined for a Gateway with static addresses (the translator binds those).
   */
  addressFor(gateway: Gateway): string | undefined;
}

// 127.0.0.0/24 is left alone (127.0.0.1 is everyone's localhost); .0 and .255 are avoided.
const FIRST_OCTET = 1;
const OCTETS = 254;
const SLOTS = OCTETS * OCTETS;

export function slotAddress(slot: number): string {
  const s = ((slot % SLOTS) + SLOTS) % SLOTS;
  return `127.0.${FIRST_OCTET + Math.floor(s / OCTETS)}.${1 + (s % OCTETS)}`;
}

/** FNV-1a: tiny, deterministic across processes and Node versions. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function isLoopbackIPv4(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(value);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

function keyOf(gw: Gateway): string {
  return `${gw.metadata?.namespace ?? ''}/${gw.metadata?.name ?? ''}`;
}

/**
 * The IP addresses the user asked for in spec.addresses (GatewayStaticAddresses). A Gateway
 * with any gets no automatic address: it binds exactly those, and the translator reports the
 * ones this host cannot bind as AddressNotUsable.
 */
function requested(gw: Gateway): string[] {
  const out: string[] = [];
  for (const a of gw.spec?.addresses ?? []) {
    if ((a.type === undefined || a.type === 'IPAddress') && typeof a.value === 'string' && a.value !== '') out.push(a.value);
  }
  return out;
}

/** The loopback address a previous run reported, to keep it across restarts. */
function reported(gw: Gateway): string | undefined {
  const addresses = (gw as { status?: { addresses?: { value?: unknown }[] } }).status?.addresses ?? [];
  return addresses.map((a) => a.value).find(isLoopbackIPv4);
}

export function createLocalAddressAllocator(): LocalAddressAllocator {
  const assigned = new Map<string, string>();

  return {
    assign(gateways) {
      const present = new Set(gateways.map(keyOf));
      for (const key of [...assigned.keys()]) if (!present.has(key)) assigned.delete(key);
      const taken = new Set<string>();
      // Explicit requests first: they are the user's choice and win over automatic ones.
      for (const gw of gateways) {
        const want = requested(gw);
        if (want.length > 0) assigned.delete(keyOf(gw));
        for (const a of want) taken.add(a);
      }
      const automatic = gateways.filter((gw) => requested(gw).length === 0);
      // Keep what each still-present Gateway had, unless an explicit request now claims it.
      for (const gw of automatic) {
        const had = assigned.get(keyOf(gw));
        if (had !== undefined && !taken.has(had)) taken.add(had);
        else assigned.delete(keyOf(gw));
      }
      for (const gw of automatic) {
        const key = keyOf(gw);
        if (assigned.has(key)) continue;
        const before = reported(gw);
        if (before !== undefined && !taken.has(before)) {
          assigned.set(key, before);
          taken.add(before);
          continue;
        }
        const start = hash32(key) % SLOTS;
        for (let i = 0; i < SLOTS; i++) {
          const candidate = slotAddress(start + i);
          if (taken.has(candidate)) continue;
          assigned.set(key, candidate);
          taken.add(candidate);
          break;
        }
      }
    },
    addressFor(gw) {
      if (requested(gw).length > 0) return undefined;
      return assigned.get(keyOf(gw)) ?? slotAddress(hash32(keyOf(gw)) % SLOTS);
    },
  };
}
