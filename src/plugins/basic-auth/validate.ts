// Pure validation of `AuthPolicy.spec.basicAuth`. Credentials come from the BasicAuth
// credentials of Consumers: a Secret with `passwordHash` (and optionally `username`, else the
// consumer's username). Plain-text passwords are refused, so none is ever stored or compared.
import { obj, optBool, optString, Problems } from '../core/read.ts';
import type { ValidateContext, ValidateResult } from '../types.ts';
import { checkHash } from './password-hash.ts';

export interface BasicAuthConfig {
  readonly realm: string;
  readonly hideCredentials: boolean;
  /** Sorted by username. */
  readonly credentials: readonly { readonly username: string; readonly passwordHash: string; readonly consumer: string; readonly customId?: string }[];
}

export function validateBasicAuth(raw: unknown, ctx: ValidateContext): ValidateResult {
  const p = new Problems(ctx.field);
  const o = obj(raw) ?? {};
  if (raw !== undefined && obj(raw) === undefined) p.add('', 'must be an object');
  const realm = optString(o, 'realm', p) ?? 'fluxgate';
  if (/["\\\r\n]/.test(realm)) p.add('realm', 'must not contain quotes, backslashes or line breaks');
  const hideCredentials = optBool(o, 'hideCredentials', p) ?? false;
  for (const k of Object.keys(o)) if (!['realm', 'hideCredentials'].includes(k)) p.add(k, 'unknown field');
  const credentials: { username: string; passwordHash: string; consumer: string; customId?: string }[] = [];
  const owner = new Map<string, string>();
  for (const c of ctx.consumers) {
    for (const cred of c.credentials) {
      if (cred.type !== 'BasicAuth') continue;
      const username = cred.data.username ?? c.username;
      const stored = cred.data.passwordHash;
      if (stored === undefined) {
        p.list.push({ field: cred.source, message: cred.data.password !== undefined
          ? 'the BasicAuth Secret holds a plain "password": store a hash in "passwordHash" instead'
          : 'the BasicAuth Secret has no "passwordHash" entry' });
        continue;
      }
      const kind = checkHash(stored);
      if (kind !== 'scrypt' && kind !== 'bcrypt') {
        p.list.push({ field: cred.source, message: `passwordHash: ${kind}` });
        continue;
      }
      if (username.includes(':')) {
        p.list.push({ field: cred.source, message: 'username must not contain ":"' });
        continue;
      }
      const prev = owner.get(username);
      if (prev !== undefined) {
        p.list.push({ field: cred.source, message: `username "${username}" is also a credential of ${prev}` });
        continue;
      }
      owner.set(username, c.id);
      credentials.push({ username, passwordHash: stored, consumer: c.username, ...(c.customId !== undefined ? { customId: c.customId } : {}) });
    }
  }
  if (!p.ok) return { ok: false, errors: p.list };
  credentials.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  const config: BasicAuthConfig = { realm, hideCredentials, credentials };
  return { ok: true, config };
}
