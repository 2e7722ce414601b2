// IPv4/IPv6 CIDR parsing and matching without allocation on the match path: IPv4 addresses
// become one uint32, IPv6 four, and IPv4-mapped IPv6 peers (::ffff:a.b.c.d) match IPv4 ranges.

export interface Cidr {
  readonly v6: boolean;
  /** Network words (1 for IPv4, 4 for IPv6), already masked. */
  readonly words: readonly number[];
  readonly bits: number;
}

/** IPv4 dotted quad to uint32, or -1. */
export function parseV4(s: string, start = 0, end = s.length): number {
  let out = 0, part = -1, dots = 0, digits = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (part < 0 || dots === 3) return -1;
      out = out * 256 + part;
      part = -1;
      dots++;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // no leading zeros (ambiguous octal)
      part = (part < 0 ? 0 : part) * 10 + (c - 48);
      if (part > 255 || ++digits > 3) return -1;
    } else return -1;
  }
  if (dots !== 3 || part < 0) return -1;
  return out * 256 + part;
}

/** IPv6 text to four uint32 words (writes into `out`); false when not an IPv6 address. */
export function parseV6(s: string, out: number[]): boolean {
  let text = s;
  const pct = text.indexOf('%');
  if (pct !== -1) text = text.slice(0, pct);
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const res: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const g = parts[i]!;
      if (i === parts.length - 1 && g.includes('.')) {
        const v4 = parseV4(g);
        if (v4 < 0) return undefined;
        res.push(Math.floor(v4 / 65536), v4 % 65536);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        res.push(parseInt(g, 16));
      }
    }
    return res;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return false;
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) return false;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  for (let i = 0; i < 4; i++) out[i] = all[2 * i]! * 65536 + all[2 * i + 1]!;
  return true;
}

function maskWord(w: number, bits: number): number {
  if (bits >= 32) return w;
  if (bits <= 0) return 0;
  return Math.floor(w / 2 ** (32 - bits)) * 2 ** (32 - bits);
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addr = slash === -1 ? text : text.slice(0, slash);
  const bitsText = slash === -1 ? undefined : text.slice(slash + 1);
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return undefined;
  const v4 = parseV4(addr);
  if (v4 >= 0) {
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    if (bits > 32) return undefined;
    return { v6: false, words: [maskWord(v4, bits)], bits };
  }
  const w: number[] = [0, 0, 0, 0];
  if (!parseV6(addr, w)) return undefined;
  const bits = bitsText === undefined ? 128 : Number(bitsText);
  if (bits > 128) return undefined;
  return { v6: true, words: w.map((x, i) => maskWord(x, bits - 32 * i)), bits };
}

/** A set of CIDRs compiled for matching addresses as the proxy reports them. */
export class CidrSet {
  readonly v4: readonly Cidr[];
  readonly v6: readonly Cidr[];
  readonly size: number;
  private readonly scratch: number[] = [0, 0, 0, 0];

  constructor(cidrs: readonly Cidr[]) {
    this.v4 = cidrs.filter((c) => !c.v6);
    this.v6 = cidrs.filter((c) => c.v6);
    this.size = cidrs.length;
  }

  static of(texts: readonly string[]): CidrSet {
    const out: Cidr[] = [];
    for (const t of texts) {
      const c = parseCidr(t);
      if (c !== undefined) out.push(c);
    }
    return new CidrSet(out);
  }

  has(address: string): boolean {
    if (this.size === 0) return false;
    let v4 = parseV4(address);
    if (v4 < 0 && address.startsWith('::ffff:')) v4 = parseV4(address, 7);
    if (v4 >= 0) {
      for (let i = 0; i < this.v4.length; i++) {
        const c = this.v4[i]!;
        if (maskWord(v4, c.bits) === c.words[0]) return true;
      }
      return false;
    }
    if (this.v6.length === 0 || !parseV6(address, this.scratch)) return false;
    const w = this.scratch;
    for (let i = 0; i < this.v6.length; i++) {
      const c = this.v6[i]!;
      let match = true;
      for (let k = 0; k < 4 && match; k++) match = maskWord(w[k]!, c.bits - 32 * k) === c.words[k];
      if (match) return true;
    }
    return false;
  }
}
