// Basic authentication per request. Password hashes are slow on purpose, so a verified
// Authorization value is remembered (by its SHA-256 digest, never the password) for the life
// of this compiled table; an unknown username still costs one hash verification, so response
// time does not reveal which usernames exist.
import { hash } from 'node:crypto';
import { answer } from '../core/answers.ts';
import { firstHeader, setConsumer, type ConsumerIdentity } from '../core/consumer.ts';
import type { CreateContext, HookResult, PluginHooks } from '../types.ts';
import { hashPassword, verifyPassword } from './password-hash.ts';
import type { BasicAuthConfig } from './validate.ts';

const CACHE_MAX = 10_000;
let dummyHash: Promise<string> | undefined;

export function createBasicAuth(raw: unknown, _ctx: CreateContext): PluginHooks {
  const config = raw as BasicAuthConfig;
  const challenge = { 'www-authenticate': `Basic realm="${config.realm}", charset="UTF-8"` };
  const missing = answer(401, 'AUTH_MISSING_CREDENTIALS', 'basic authentication required', challenge);
  const invalid = answer(401, 'AUTH_INVALID_CREDENTIALS', 'invalid authentication credentials', challenge);
  const users = new Map<string, { readonly hash: string; readonly who: ConsumerIdentity }>();
  for (const c of config.credentials) {
    users.set(c.username, { hash: c.passwordHash, who: { username: c.consumer, ...(c.customId !== undefined ? { customId: c.customId } : {}) } });
  }
  const verified = new Map<string, ConsumerIdentity>();
  dummyHash ??= hashPassword('fluxgate-dummy-password', 10);
  const hide = config.hideCredentials;

  return {
    onRequest(req) {
      const h = firstHeader(req.headers.authorization);
      if (h === undefined || h.length < 7 || h.slice(0, 6).toLowerCase() !== 'basic ') return missing;
      const token = h.slice(6).trim();
      const digest = hash('sha256', token, 'base64');
      const known = verified.get(digest);
      if (known !== undefined) {
        setConsumer(req, known);
        if (hide) delete req.upHeaders.authorization;
        return undefined;
      }
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) return invalid;
      const user = users.get(decoded.slice(0, colon));
      const password = decoded.slice(colon + 1);
      const check = user !== undefined ? verifyPassword(password, user.hash) : dummyHash!.then((d) => verifyPassword(password, d)).then(() => false);
      return check.then((ok): HookResult => {
        if (!ok || user === undefined) return invalid;
        if (verified.size >= CACHE_MAX) verified.clear();
        verified.set(digest, user.who);
        setConsumer(req, user.who);
        if (hide) delete req.upHeaders.authorization;
        return undefined;
      }, () => invalid);
    },
  };
}
