// Pure validation of `AuthPolicy.spec.keyAuth` (Kong's key-auth fields). The keys themselves
// come from the KeyAuth credentials of Consumers; only their SHA-256 digests reach the
// routing table, so the table (and the admin endpoint that shows it) never holds a key.
import { hash } from 'node:crypto';
import { headerName, obj, optBool, optStrings, Problems } from '../core/read.ts';
import type { ValidateContext, ValidateResult } from '../types.ts';

export interface KeyAuthConfig {
  /** Lower-case header names, tried in order. */
  readonly headerNames: readonly string[];
  /** Query parameter names (case-sensitive), tried after the headers. */
  readonly queryNames: readonly string[];
  readonly hideCredentials: boolean;
  /** Sorted by digest. */
  readonly credentials: readonly { readonly keySha256: string; readonly username: string; readonly customId?: string }[];
}

export function digestKey(key: string): string {
  return hash('sha256', key, 'base64');
}

export function validateKeyAuth(raw: unknown, ctx: ValidateContext): ValidateResult {
  const p = new Problems(ctx.field);
  const o = obj(raw) ?? {};
  if (raw !== undefined && obj(raw) === undefined) p.add('', 'must be an object');
  const keyNames = optStrings(o, 'keyNames', p) ?? ['apikey'];
  const inHeader = optBool(o, 'keyInHeader', p) ?? true;
  const inQuery = optBool(o, 'keyInQuery', p) ?? false;
  if (!inHeader && !inQuery) p.add('keyInHeader', 'keyInHeader and keyInQuery cannot both be false');
  const headerNames: string[] = [];
  keyNames.forEach((k, i) => {
    const h = headerName(k, `keyNames[${i}]`, p);
    if (h !== undefined && inHeader) headerNames.push(h);
  });
  const hideCredentials = optBool(o, 'hideCredentials', p) ?? false;
  for (const k of Object.keys(o)) if (!['keyNames', 'keyInHeader', 'keyInQuery', 'hideCredentials'].includes(k)) p.add(k, 'unknown field');
  const credentials: { keySha256: string; username: string; customId?: string }[] = [];
  const owner = new Map<string, string>();
  for (const c of ctx.consumers) {
    for (const cred of c.credentials) {
      if (cred.type !== 'KeyAuth') continue;
      const key = cred.data.key;
      if (key === undefined || key === '') {
        p.list.push({ field: cred.source, message: 'the KeyAuth Secret has no "key" entry' });
        continue;
      }
      const d = digestKey(key);
      const prev = owner.get(d);
      if (prev !== undefined) {
        // Never say which key: only that two credentials share one.
        p.list.push({ field: cred.source, message: `the same key is also a credential of ${prev}` });
        continue;
      }
      owner.set(d, c.id);
      credentials.push({ keySha256: d, username: c.username, ...(c.customId !== undefined ? { customId: c.customId } : {}) });
    }
  }
  if (!p.ok) return { ok: false, errors: p.list };
  credentials.sort((a, b) => (a.keySha256 < b.keySha256 ? -1 : a.keySha256 > b.keySha256 ? 1 : 0));
  const config: KeyAuthConfig = { headerNames, queryNames: inQuery ? keyNames : [], hideCredentials, credentials };
  return { ok: true, config };
}
