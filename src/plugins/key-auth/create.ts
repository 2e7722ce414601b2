// Key authentication per request: find the key (headers, then query), look its digest up.
// Digests make the lookup independent of how much of a key matches (no timing oracle on the
// key itself) and keep keys out of memory dumps of the table.
import { answer } from '../core/answers.ts';
import { firstHeader, queryParam, setConsumer, withoutQueryParam, type ConsumerIdentity } from '../core/consumer.ts';
import type { CreateContext, PluginHooks } from '../types.ts';
import { digestKey, type KeyAuthConfig } from './validate.ts';

const CHALLENGE = { 'www-authenticate': 'Key realm="fluxgate"' };
const MISSING = answer(401, 'AUTH_MISSING_CREDENTIALS', 'no API key found in the request', CHALLENGE);
const KNOWN_MAX = 10_000;
const INVALID = answer(401, 'AUTH_INVALID_CREDENTIALS', 'invalid authentication credentials', CHALLENGE);

export function createKeyAuth(raw: unknown, _ctx: CreateContext): PluginHooks {
  const config = raw as KeyAuthConfig;
  const byDigest = new Map<string, ConsumerIdentity>();
  for (const c of config.credentials) byDigest.set(c.keySha256, { username: c.username, ...(c.customId !== undefined ? { customId: c.customId } : {}) });
  const headers = config.headerNames, queries = config.queryNames, hide = config.hideCredentials;
  // Keys that verified, so a returning client costs one Map lookup instead of a SHA-256.
  // Runtime memory only (never logged, never in the table); bounded, and rebuilt with the table.
  const known = new Map<string, ConsumerIdentity>();
  return {
    onRequest(req) {
      let key: string | undefined;
      let fromHeader: string | undefined, fromQuery: string | undefined;
      for (let i = 0; i < headers.length && key === undefined; i++) {
        key = firstHeader(req.headers[headers[i]!]);
        if (key !== undefined) fromHeader = headers[i];
      }
      for (let i = 0; i < queries.length && key === undefined; i++) {
        key = queryParam(req.query, queries[i]!);
        if (key !== undefined) fromQuery = queries[i];
      }
      if (key === undefined || key === '') return MISSING;
      let who = known.get(key);
      if (who === undefined) {
        who = byDigest.get(digestKey(key));
        if (who === undefined) return INVALID;
        if (known.size >= KNOWN_MAX) known.clear();
        known.set(key, who);
      }
      setConsumer(req, who);
      if (hide) {
        if (fromHeader !== undefined) delete req.upHeaders[fromHeader];
        if (fromQuery !== undefined) req.query = withoutQueryParam(req.query, fromQuery);
      }
      return undefined;
    },
  };
}
