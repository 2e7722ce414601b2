// Sealed cookies: AES-256-GCM with a key derived from the configured cookie secret, so a
// session cannot be read or forged by the client. Each cookie carries its own expiry.
import { createCipheriv, createDecipheriv, hash, randomBytes } from 'node:crypto';

export class CookieBox {
  private readonly key: Buffer;
  constructor(secret: string) {
    this.key = Buffer.from(hash('sha256', `fluxgate-oidc-cookie:${secret}`, 'hex'), 'hex');
  }

  seal(value: object, expiresAt: number): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(JSON.stringify({ v: value, e: expiresAt }), 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
  }

  open<T>(sealed: string, now: number): T | undefined {
    try {
      const raw = Buffer.from(sealed, 'base64url');
      if (raw.length < 29) return undefined;
      const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
      const parsed = JSON.parse(text) as { v: T; e: number };
      return typeof parsed.e === 'number' && parsed.e > now ? parsed.v : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const all = Array.isArray(header) ? header.join('; ') : header;
  for (const part of all.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
